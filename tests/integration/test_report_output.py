# -*- coding: utf-8 -*-
"""What credential_report tells about the file it writes, and how its pages tell trusts from credentials:
real playbook runs against the sandbox."""

from __future__ import annotations

import re

from helpers import api, issuer

REPORT = "conductor.principals.credential_report"
PROVIDER = "conductor.principals.federation_provider"
TRUST = "conductor.principals.sp_trust"


def test_the_report_task_says_where_it_wrote_and_reports_changed(fresh, playbook, tmp_path):
    dest = tmp_path / "credentials.md"
    run = playbook([{REPORT: {"dest": str(dest)}, "register": "report"}], keep=["report"])
    assert run.results["report"]["changed"] is True and run.results["report"]["dest"] == str(dest)
    assert "credential_report: wrote the markdown report to %s" % dest in run.stdout
    # Without a file it only reads: nothing changed.
    quiet = playbook([{REPORT: {}, "register": "report"}], keep=["report"])
    assert quiet.results["report"]["changed"] is False and "wrote the" not in quiet.stdout


def test_the_pages_have_a_kind_column_and_a_badge_for_every_flag_of_the_legend(fresh, playbook, tmp_path):
    api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "federated"})
    broad = {"service_principal": "federated", "name": "infra-main", "provider": issuer(fresh),
             "condition": 'claims.ref == "refs/heads/main"', "allow_broad_condition": True, "enabled": False}
    markdown, html = tmp_path / "report.md", tmp_path / "report.html"
    playbook([{PROVIDER: {"issuer_url": issuer(fresh), "type": "github_actions"}}, {TRUST: broad},
              {REPORT: {"dest": str(markdown)}}, {REPORT: {"dest": str(html)}}])
    lines = markdown.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| Service principal"))
    assert [cell.strip() for cell in header.strip("|").split("|")][:3] == ["Service principal", "Kind", "Credential"]
    [trust] = [line for line in lines if "infra-main" in line]
    assert [cell.strip() for cell in trust.strip("|").split("|")][1] == "trust"
    assert trust.rstrip(" |").endswith("broad, disabled")
    admin = next(line for line in lines if line.startswith("| sandbox-admin"))
    assert [cell.strip() for cell in admin.strip("|").split("|")][1] == "credential"
    page = html.read_text()
    assert "<th>Kind</th>" in page and "<td>trust</td>" in page and "<td>credential</td>" in page
    style = page.split("<style>")[1].split("</style>")[0]
    for flag in ("expired", "expiring", "unused", "never_used", "unheld", "overlapping", "broad", "disabled"):
        assert '<span class="flag %s">%s</span>' % (flag, flag) in page.split('class="legend"')[1]
        assert re.search(r"\.flag\.%s\{background:#[0-9a-f]{6}\}" % flag, style), "no badge colour for %s" % flag
