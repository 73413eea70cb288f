# -*- coding: utf-8 -*-
"""credential_report through real ansible-playbook runs over a sandbox tenant aged with its clock."""

from __future__ import annotations

import json
import math
from datetime import datetime
from html.parser import HTMLParser


REPORT = "conductor.principals.credential_report"
DAY = 86400


def seed(tenant):
    """One credential per flag (and one with none), on a timeline of 37 days; returns {label: ID}."""
    payments, build = tenant.principal("Payments"), tenant.principal("Build <nightly> | eu")
    ids = {"expired": tenant.credential(payments, "legacy", days=30, used=False),
           "unused": tenant.credential(build, "stale")}
    tenant.advance(17)
    tenant.use(ids["expired"])  # used while it still worked: only "expired" later
    ids["expiring"] = tenant.credential(payments, "deploy", days=30)
    tenant.advance(20)  # day 37: legacy expired on day 30, deploy expires on day 47, stale last used day 0
    ids["never_used"] = tenant.credential(build, "fresh", used=False)
    ids["overlap_old"] = tenant.credential(payments, "ci")
    ids["overlap_new"] = tenant.credential(payments, "ci")
    ids["fine"] = tenant.credential(build, "fine")
    return ids


EXPECTED = {"expired": ["expired"], "unused": ["unused"], "expiring": ["expiring"], "never_used": ["never_used"],
            "overlap_old": ["overlapping"], "overlap_new": ["overlapping"], "fine": []}


def whole_days(result, stamp):
    seen = datetime.strptime(result["generated_at"], "%Y-%m-%dT%H:%M:%SZ")
    return math.floor((datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ") - seen).total_seconds() / DAY)


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_body, self.rows, self.marks, self.tags = False, [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.in_body = self.in_body or tag == "tbody"
        if tag == "tr" and self.in_body:
            self.rows.append(attrs.get("data-credential-id"))
        if tag == "rect" and "mark" in (attrs.get("class") or "").split():
            self.marks.append(attrs.get("data-credential-id"))

    def handle_endtag(self, tag):
        self.in_body = self.in_body and tag != "tbody"


def test_report_flags_each_seeded_credential_exactly_in_json_markdown_and_html(tenant, playbook, tmp_path):
    ids = seed(tenant)
    dests = {fmt: str(tmp_path / ("report." + suffix)) for fmt, suffix in
             (("json", "json"), ("markdown", "md"), ("html", "html"))}
    run = playbook([{REPORT: {"dest": dests[fmt], "format": fmt}, "register": "report_" + fmt} for fmt in dests],
                   keep=["report_" + fmt for fmt in dests], connection_vars=False, module_defaults=tenant.connection(),
                   check=True)
    result = run.results["report_json"]
    assert result["changed"] is True  # it wrote dest (check mode too: the file is the report itself)
    rows = {row["id"]: row for row in result["credentials"]}
    for label, credential_id in ids.items():
        assert rows[credential_id]["flags"] == EXPECTED[label], label
    (admin,) = [row for row in rows.values() if row["service_principal"] == "sandbox-admin"]
    assert admin["flags"] == []  # used just now for the report's token, never expires
    assert result["summary"] == {"expired": 1, "expiring": 1, "unused": 1, "never_used": 1, "unheld": 0,
                                 "overlapping": 2, "broad": 0, "disabled": 0, "total": 8, "flagged": 6}
    # Whole days on the server's clock (generated_at), rounded down like sp_credential_info.
    assert whole_days(result, rows[ids["expiring"]]["expires_at"]) == rows[ids["expiring"]]["expires_in_days"]
    assert rows[ids["expiring"]]["expires_in_days"] in (9, 10)  # day 47 seen from day 37 and a few seconds
    assert whole_days(result, rows[ids["expired"]]["expires_at"]) == rows[ids["expired"]]["expires_in_days"]
    assert rows[ids["expired"]]["expires_in_days"] in (-8, -7)
    assert rows[ids["unused"]]["days_unused"] == 37 and rows[ids["never_used"]]["last_used_at"] is None
    assert result["principals"] == 3

    written = json.loads(open(dests["json"]).read())
    assert {row["id"]: row["flags"] for row in written["credentials"]} == {i: r["flags"] for i, r in rows.items()}
    markdown = open(dests["markdown"]).read()
    for label, credential_id in ids.items():
        (line,) = [text for text in markdown.splitlines() if credential_id in text]
        assert line.rstrip(" |").endswith(", ".join(EXPECTED[label]) or "ok"), line
    assert "Build &lt;nightly&gt; \\| eu" in markdown
    page = Page()
    page.feed(open(dests["html"]).read())
    assert sorted(page.rows) == sorted(rows) and sorted(page.marks) == sorted(rows)
    assert "nightly" not in page.tags and "script" not in page.tags

    secrets = [secret for dummy, secret in tenant.secrets.values()] + tenant.sandbox.issued()
    for path in dests.values():
        text = open(path).read()
        assert not [s for s in secrets if s in text], "a secret is in %s" % path
    assert not [s for s in secrets if s in json.dumps(run.results)]


def test_report_with_a_store_flags_each_live_credential_whose_secret_it_does_not_hold(tenant, playbook, tmp_path):
    from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
    from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content
    ids = seed(tenant)
    options = {"type": "vault_file", "path": str(tmp_path / "store.vault")}
    store = store_for(dict(options, password="report store password"))
    for label, principal, name in (("fine", "Build <nightly> | eu", "fine"), ("overlap_new", "Payments", "ci"),
                                   ("overlap_old", "Payments", "other-name")):
        key = EntryKey("conductorone", principal, name)
        client_id, secret = tenant.secrets[ids[label]]
        store.write(key, entry_content(key, {"id": ids[label]}, client_id, secret, tenant.sandbox.url))
    run = playbook([{REPORT: {"store": options}, "register": "r"}], keep=["r"], connection_vars=False,
                   module_defaults=tenant.connection(),
                   extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": "report store password"})
    rows = {row["id"]: row["flags"] for row in run.results["r"]["credentials"]}
    held = {"fine", "overlap_new", "expired"}  # the old "ci" is held only under another name; expired needs none
    for label, credential_id in ids.items():
        expected = EXPECTED[label][:1] + ([] if label in held else ["unheld"]) + EXPECTED[label][1:]
        if label.startswith("overlap"):
            expected = ([] if label in held else ["unheld"]) + ["overlapping"]
        assert rows[credential_id] == expected, label
    assert run.results["r"]["summary"]["unheld"] == 5  # 4 seeded and sandbox-admin, held nowhere
    assert run.results["r"]["thresholds"]["store_checked"] is True


def test_report_includes_personal_keys_on_request(tenant, playbook):
    tenant.sandbox.c1_api("POST", "/api/v1/iam/personal_clients", json={"displayName": "laptop"})
    run = playbook([{REPORT: {"include_personal": True}, "register": "with"}, {REPORT: {}, "register": "without"}],
                   keep=["with", "without"])
    personal = [row for row in run.results["with"]["credentials"] if row["personal"]]
    assert [(row["name"], row["service_principal"], row["flags"]) for row in personal] == \
        [("laptop", None, ["never_used"])]
    assert not [row for row in run.results["without"]["credentials"] if row["personal"]]


def test_report_bad_input_fails_in_one_sentence(fresh, playbook):
    run = playbook([{REPORT: {"unused_days": 0}}], expect_rc=2)
    assert "unused_days must be 1 or more, not 0" in run.stdout
    orkes = playbook([{REPORT: {"platform": "orkes", "include_personal": True}}], connection_vars=False,
                     module_defaults={"server_url": fresh.orkes["server_url"], "client_id": fresh.orkes["key_id"],
                                      "client_secret": fresh.orkes["key_secret"]}, expect_rc=2)
    assert "include_personal works only on platform conductorone" in orkes.stdout


def test_the_ready_report_playbook_as_an_awx_job_runs_it(fresh, tmp_path, tmp_path_factory):
    """playbooks/report.yml unchanged: connection from the environment, settings as extra vars."""
    import os
    import subprocess
    import sys
    from conftest import REPO, _collections_path

    sp_id = fresh.c1_api("POST", "/api/v1/service_principals", json={"displayName": "Nightly"})[
        "servicePrincipal"]["id"]
    fresh.c1_api("POST", "/api/v1/service_principals/%s/credentials" % sp_id, json={"displayName": "idle"})
    dest = tmp_path / "weekly.html"

    def run_playbook(fail_on):
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps({"report_dest": str(dest), "report_fail_on": fail_on}))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   CONDUCTORONE_SERVER_URL=fresh.c1["server_url"], CONDUCTORONE_CLIENT_ID=fresh.c1["client_id"],
                   CONDUCTORONE_CLIENT_SECRET=fresh.c1["client_secret"])
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                               "-e", "@" + str(vars_file), str(REPO / "playbooks" / "report.yml")],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        assert not [v for v in fresh.issued() if v in done.stdout + done.stderr], "a secret leaked"
        return done

    quiet = run_playbook(["expired"])
    assert quiet.returncode == 0, quiet.stdout[-3000:]
    page = Page()
    page.feed(dest.read_text())
    assert len(page.rows) == 2 and len(page.marks) == 2  # sandbox-admin and Nightly/idle
    red = run_playbook(["expired", "never_used"])
    assert red.returncode == 2 and "1 credential(s) flagged never_used" in red.stdout


def test_report_on_orkes_flags_two_keys_of_one_application_as_overlapping(fresh, playbook):
    app = fresh.orkes_api("POST", "/applications", json={"name": "Report worker"})
    keys = [fresh.orkes_api("POST", "/applications/%s/accessKeys" % app["id"])["id"] for dummy in range(2)]
    run = playbook([{REPORT: {"platform": "orkes"}, "register": "r"}], keep=["r"], connection_vars=False,
                   module_defaults={"server_url": fresh.orkes["server_url"], "client_id": fresh.orkes["key_id"],
                                    "client_secret": fresh.orkes["key_secret"]})
    rows = {row["id"]: row for row in run.results["r"]["credentials"]}
    assert [rows[key]["flags"] for key in keys] == [["overlapping"], ["overlapping"]]
    assert {row["days_unused"] for row in rows.values()} == {None}  # Orkes keys record no use
    assert run.results["r"]["thresholds"]["use_recorded"] is False
