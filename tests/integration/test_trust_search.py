# -*- coding: utf-8 -*-
"""Trusts across principals are read with SearchTrusts (one search, page by page), never with one listing
per principal: the report, sp_trust_info without a principal and the provider-in-use check, through real
ansible-playbook runs against the sandbox, with its request counters."""

from __future__ import annotations

import math

from helpers import api

PROVIDER = "conductor.principals.federation_provider"
TRUST_INFO = "conductor.principals.sp_trust_info"
REPORT = "conductor.principals.credential_report"
SEARCH = "POST /api/v1/search/workload_federation_trusts"
PER_PRINCIPAL = "GET /api/v1/service_principals/{service_principal_id}/trusts"


def provider(sandbox):
    return api(sandbox, "POST", "/api/v1/workload_federation/providers", json={
        "issuerUrl": sandbox.url + "/_sandbox/oidc", "displayName": "ci", "oidc": {},
        "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"})["provider"]


def principal(sandbox, name):
    return api(sandbox, "POST", "/api/v1/service_principals", json={"displayName": name})["servicePrincipal"]


def trust(sandbox, owner, made_by, name):
    return api(sandbox, "POST", "/api/v1/service_principals/%s/trusts" % owner["id"], json={
        "providerId": made_by["id"], "displayName": name,
        "conditionExpression": 'claims.repository == "acme/%s"' % owner["displayName"]})["trust"]


def requests_since_reset(sandbox):
    """{route: count} of the requests since the counters were reset."""
    return sandbox.counters()["by_route"]


def test_the_report_over_many_principals_searches_the_trusts_instead_of_listing_each(fresh, playbook):
    issuer = provider(fresh)
    owners = [principal(fresh, "svc-%02d" % n) for n in range(12)]
    made = [trust(fresh, owner, issuer, "deploy")["clientId"] for owner in owners[:10]]
    made += [trust(fresh, owner, issuer, "mirror")["clientId"] for owner in owners[:4]]
    fresh.settings(max_page_size=5)  # 14 trusts: three pages of a search
    fresh.control("POST", "/counters/reset")
    report = playbook([{REPORT: {}, "register": "r"}], keep=["r"]).results["r"]
    rows = [row for row in report["credentials"] if row["kind"] == "trust"]
    assert sorted(row["client_id"] for row in rows) == sorted(made)
    by_principal = {owner["id"]: owner["displayName"] for owner in owners}
    assert all(by_principal[row["service_principal_id"]] == row["service_principal"] for row in rows)
    counts = requests_since_reset(fresh)
    assert counts.get(PER_PRINCIPAL, 0) == 0, counts
    assert counts.get(SEARCH) == math.ceil(len(made) / 5), counts


def test_sp_trust_info_without_a_principal_lists_the_trusts_of_every_principal(fresh, playbook):
    issuer = provider(fresh)
    alpha, beta, gamma = (principal(fresh, name) for name in ("alpha", "beta", "gamma"))
    deploys = [trust(fresh, owner, issuer, "deploy")["clientId"] for owner in (alpha, beta, gamma)]
    mirror = trust(fresh, beta, issuer, "mirror")["clientId"]
    fresh.control("POST", "/counters/reset")
    found = playbook([{TRUST_INFO: {}, "register": "every"},
                      {TRUST_INFO: {"name": "deploy"}, "register": "named"}],
                     keep=["every", "named"]).results
    assert sorted(t["client_id"] for t in found["every"]["trusts"]) == sorted(deploys + [mirror])
    assert {t["service_principal_id"] for t in found["every"]["trusts"]} == {alpha["id"], beta["id"], gamma["id"]}
    assert sorted(t["client_id"] for t in found["named"]["trusts"]) == sorted(deploys)
    counts = requests_since_reset(fresh)
    assert counts.get(PER_PRINCIPAL, 0) == 0 and counts.get(SEARCH) == 2, counts
    one = playbook([{TRUST_INFO: {"service_principal": "beta"}, "register": "one"}], keep=["one"]).results["one"]
    assert sorted(t["client_id"] for t in one["trusts"]) == sorted([deploys[1], mirror])


def test_a_provider_used_by_a_trust_of_any_principal_is_not_removed(fresh, playbook):
    issuer = provider(fresh)
    owners = [principal(fresh, "svc-%d" % n) for n in range(5)]
    trust(fresh, owners[-1], issuer, "deploy")  # the last principal listed holds the one trust
    fresh.control("POST", "/counters/reset")
    failed = playbook([{PROVIDER: {"issuer_url": issuer["issuerUrl"], "state": "absent"}, "register": "p",
                        "ignore_errors": True}], keep=["p"]).results["p"]
    assert failed["failed"] and "cannot be removed" in failed["msg"] and "svc-4/deploy" in failed["msg"], failed
    counts = fresh.counters()
    assert counts["writes"] == 0
    assert counts["by_route"].get(PER_PRINCIPAL, 0) == 0 and counts["by_route"].get(SEARCH) == 1, counts
    assert [p["id"] for p in api(fresh, "GET", "/api/v1/workload_federation/providers")["list"]] == [issuer["id"]]
