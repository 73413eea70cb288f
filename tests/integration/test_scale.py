# -*- coding: utf-8 -*-
"""Many principals in one task: the request counts of the report and of service_principals' no-change rerun
against their bounds (N + N/100 + a constant), and the report's per-principal reads on the parallel pool,
through real ansible-playbook runs with the sandbox's counters (counts, never timings)."""

from __future__ import annotations

from helpers import api

REPORT = "conductor.principals.credential_report"
TENANT = "conductor.principals.service_principals"
CREDENTIALS = "GET /api/v1/service_principals/{service_principal_id}/credentials"
TRUSTS_OF_ONE = "GET /api/v1/service_principals/{service_principal_id}/trusts"


def seeded_with_one_credential_each(sandbox, count):
    """``count`` principals (two pages and more), each with one credential made straight through the API."""
    sandbox.control("POST", "/seed", json={"principals": count, "prefix": "scale-"})
    ids, page = [], ""
    while True:
        body = api(sandbox, "GET", "/api/v1/service_principals", params={"page_size": 100, "page_token": page})
        ids += [p["id"] for p in body["list"] if p["displayName"].startswith("scale-")]
        page = body.get("nextPageToken")
        if not page:
            break
    for sp_id in ids:
        api(sandbox, "POST", "/api/v1/service_principals/%s/credentials" % sp_id,
            json={"displayName": "ci", "expires": "2592000s"})
    return len(ids)


def total(counters):
    return counters["reads"] + counters["writes"] + counters["token_requests"]


def test_the_report_over_many_principals_lists_them_on_the_pool_within_its_request_bound(fresh, playbook):
    seeded_with_one_credential_each(fresh, 150)
    principals = 151  # and the sandbox's own
    fresh.settings(latency_seconds=0.02)  # a listing lasts long enough for the pool's to overlap
    fresh.control("POST", "/counters/reset")
    fresh.control("POST", "/in_flight/reset")
    try:
        report = playbook([{REPORT: {}, "register": "r"}], keep=["r"]).results["r"]
    finally:
        fresh.settings(latency_seconds=0)
    counters, in_flight = fresh.counters(), fresh.control("GET", "/in_flight")
    # one credential each, the sandbox's own principal's included
    assert report["principals"] == principals and report["summary"]["total"] == principals
    assert counters["by_route"][CREDENTIALS] == principals  # one listing of credentials per principal
    assert counters["by_route"].get(TRUSTS_OF_ONE, 0) == 0  # trusts: one search, no listing per principal
    assert counters["token_requests"] == 1 and counters["writes"] == 0
    assert total(counters) <= principals + principals // 100 + 20, counters
    assert 2 <= in_flight["max"] <= 8, in_flight  # on the pool (parallelism 8), never more


def test_a_no_change_rerun_over_many_principals_stays_within_its_request_bound(run, fresh, store):
    count = 150
    principals = [{"name": "scale-%03d" % n, "credentials": [{"name": "ci"}]} for n in range(count)]
    task = {TENANT: {"principals": principals, "store": {"path": str(store)}}, "register": "tenant"}
    first = run([task], keep=["tenant"]).results["tenant"]
    assert first["summary"]["credentials"] == {"created": count}
    before = store.read_bytes()
    fresh.control("POST", "/counters/reset")
    again = run([task], keep=["tenant"]).results["tenant"]
    counters = fresh.counters()
    assert again["changed"] is False and again["summary"]["credentials"] == {"unchanged": count}
    assert counters["writes"] == 0 and counters["token_requests"] == 1 and store.read_bytes() == before
    # 1 token + 2 pages of principals (151 with the sandbox's own) + one credential listing per principal
    assert total(counters) == 1 + 2 + count <= count + count // 100 + 5, counters
