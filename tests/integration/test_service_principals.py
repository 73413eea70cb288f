# -*- coding: utf-8 -*-
"""service_principals: a whole tenant in one task, through real ansible-playbook runs.

Counts come from the sandbox (/_sandbox/counters, /_sandbox/in_flight); the store file is read
back with ansible-core's own VaultLib, and every stored secret is proven to obtain a token
straight at the sandbox's token endpoint, independently of the collection.
"""

from __future__ import annotations

import json

import pytest
import requests
from ansible.parsing.vault import VaultLib, VaultSecret

PASSWORD = "store password 4 service_principals"
MODULE = "conductor.principals.service_principals"
CRED_ROUTE = "/api/v1/service_principals/{service_principal_id}/credentials"


@pytest.fixture
def store(tmp_path):
    directory = tmp_path / "store"
    directory.mkdir(mode=0o700)
    return directory / "tenant.vault"


@pytest.fixture
def run(fresh, playbook):
    def go(tasks, **kwargs):
        done = playbook(tasks, extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": PASSWORD}, **kwargs)
        assert PASSWORD not in done.output, "the store password leaked into the output"
        return done
    return go


def entries(path):
    if not path.exists():
        return {}
    data = json.loads(VaultLib([("default", VaultSecret(PASSWORD.encode()))]).decrypt(path.read_bytes()))
    return data["entries"]


def tenant_list(count=30, extra_every=3):
    """``count`` principals, every ``extra_every``-th with a second credential (30 -> 40 credentials)."""
    principals = []
    for n in range(count):
        credentials = [{"name": "ci"}] + ([{"name": "deploy", "expires_days": 30}] if n % extra_every == 0 else [])
        principals.append({"name": "app-%02d" % n, "credentials": credentials})
    return principals


def task(store, principals, register="tenant", **options):
    return {MODULE: dict({"principals": principals, "store": {"path": str(store)}}, **options), "register": register}


def token_works(sandbox, client_id, secret):
    response = requests.post(sandbox.c1["server_url"] + "/auth/v1/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    return response.status_code == 200 and bool(response.json().get("access_token"))


def principals_by_name(sandbox):
    token = sandbox.c1_token()
    found, page = {}, ""
    while True:
        body = sandbox.c1_api("GET", "/api/v1/service_principals", token=token,
                              params={"page_size": 100, "page_token": page})
        for principal in body.get("list") or []:
            found.setdefault(principal["displayName"], []).append(principal["id"])
        page = body.get("nextPageToken")
        if not page:
            return found


def live(sandbox, sp_id):
    return [c for c in sandbox.c1_api("GET", "/api/v1/service_principals/%s/credentials" % sp_id,
                                      params={"page_size": 100}).get("list") or []]


def check_everything_held(sandbox, store, reliability, expect):
    """Every credential alive in the sandbox for the listed principals is the one its entry holds, and works."""
    held = {(e["names"]["principal"], e["names"]["credential"]): e for e in entries(store).values()}
    assert set(held) == set(expect)
    by_name = principals_by_name(sandbox)
    for principal in {p for p, _c in expect}:
        assert len(by_name[principal]) == 1, "principal %s made more than once" % principal
        credentials = live(sandbox, by_name[principal][0])
        names = sorted(c["displayName"] for c in credentials)
        assert names == sorted(c for p, c in expect if p == principal), "unheld or missing credentials"
        for credential in credentials:
            entry = held[(principal, credential["displayName"])]
            assert entry["credential_id"] == credential["id"]
            assert token_works(sandbox, entry["client_id"], entry["client_secret"])
        reliability.received(c["id"] for c in credentials)


def test_thirty_principals_forty_credentials_then_a_rerun_that_writes_nothing(run, fresh, store, reliability):
    principals = tenant_list()
    expect = {(p["name"], c["name"]) for p in principals for c in p["credentials"]}
    assert (len(principals), len(expect)) == (30, 40)
    first = run([task(store, principals, verify=True)], keep=["tenant"]).results["tenant"]
    assert first["changed"] is True and first["failed"] == []
    assert first["summary"]["principals"] == {"created": 30}
    assert first["summary"]["credentials"] == {"created": 40}
    assert "secrets" not in first and "client_secret" not in json.dumps(first)
    assert all(r["stored"].endswith("#conductor-principals/conductorone/%s/%s" % (r["principal"], r["name"]))
               for r in first["credentials"])
    check_everything_held(fresh, store, reliability, expect)
    # One batched store write per wave of parallel creates (8 at a time by default): 40 / 8 waves.
    assert first["summary"]["store_batches"] == 5

    before = store.read_bytes()
    fresh.control("POST", "/counters/reset")
    again = run([task(store, principals, verify=True)], keep=["tenant"]).results["tenant"]
    counters = fresh.counters()
    assert again["changed"] is False and again["failed"] == []
    assert again["summary"]["credentials"] == {"unchanged": 40}
    assert counters["writes"] == 0 and store.read_bytes() == before
    # One page of principals (31 with the sandbox's own), one listing of credentials per principal, one token.
    assert counters["token_requests"] == 1
    assert counters["reads"] == 1 + 30
