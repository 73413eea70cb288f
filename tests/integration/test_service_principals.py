# -*- coding: utf-8 -*-
"""service_principals: a whole tenant in one task, through real ansible-playbook runs.

Counts come from the sandbox (/_sandbox/counters, /_sandbox/in_flight); the store file is read
back with ansible-core's own VaultLib, and every stored secret is proven to obtain a token
straight at the sandbox's token endpoint, independently of the collection.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from conftest import STORE_PASSWORD, entries, rewrite
from helpers import SEALED, one_sentence, orkes, unwritable

MODULE = "conductor.principals.service_principals"
CRED_ROUTE = "/api/v1/service_principals/{service_principal_id}/credentials"


def tenant_list(count=30, extra_every=3):
    """``count`` principals, every ``extra_every``-th with a second credential (30 -> 40 credentials)."""
    principals = []
    for n in range(count):
        second = extra_every and n % extra_every == 0
        credentials = [{"name": "ci"}] + ([{"name": "deploy", "expires_days": 30}] if second else [])
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
    path = "/api/v1/service_principals/%s/credentials" % sp_id
    return list(sandbox.c1_api("GET", path, params={"page_size": 100}).get("list") or [])


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
    assert first["changed"] is True and first["failed_items"] == []
    assert first["summary"]["principals"] == {"created": 30}
    assert first["summary"]["credentials"] == {"created": 40}
    assert "secrets" not in first and "client_secret" not in json.dumps(first)
    assert all(r["stored"].endswith("#conductor-principals/conductorone/%s/%s" % (r["principal"], r["name"]))
               for r in first["credentials"])
    check_everything_held(fresh, store, reliability, expect)
    # One batched store write per wave of creates (4 x parallelism 8 = 32 items a wave): 2 waves for 40.
    assert first["summary"]["store_batches"] == 2

    before = store.read_bytes()
    fresh.control("POST", "/counters/reset")
    again = run([task(store, principals, verify=True)], keep=["tenant"]).results["tenant"]
    counters = fresh.counters()
    assert again["changed"] is False and again["failed_items"] == []
    assert again["summary"]["credentials"] == {"unchanged": 40}
    assert counters["writes"] == 0 and store.read_bytes() == before
    # One page of principals (31 with the sandbox's own), one listing of credentials per principal, one token.
    assert counters["token_requests"] == 1
    assert counters["reads"] == 1 + 30


def test_a_principal_whose_creates_keep_failing_fails_alone(run, fresh, store, reliability):
    principals = tenant_list(6)
    # The principals exist; the credential creates of one of them answer 500 every time.
    run([task(store, [{"name": p["name"]} for p in principals])])
    victim = principals_by_name(fresh)["app-03"][0]
    fresh.control("POST", "/faults", json={"method": "POST", "route": CRED_ROUTE, "mode": "500", "count": 50,
                                           "path": "/api/v1/service_principals/%s/credentials" % victim})
    done = run([dict(task(store, principals, verify=True), ignore_errors=True)], keep=["tenant"])
    fresh.control("DELETE", "/faults")
    result = done.results["tenant"]
    assert result["failed"] is True
    assert sorted((f["principal"], f.get("credential")) for f in result["failed_items"]) == [
        ("app-03", "ci"), ("app-03", "deploy")]
    assert result["msg"].startswith("2 of ") and "principal 'app-03' credential 'deploy'" in result["msg"]
    assert "\n" not in result["msg"]
    assert result["summary"]["credentials"] == {"created": 6}
    assert live(fresh, victim) == []  # nothing made, so nothing unheld
    expect = {(p["name"], c["name"]) for p in principals for c in p["credentials"] if p["name"] != "app-03"}
    check_everything_held(fresh, store, reliability, expect)


def test_prune_removes_only_what_the_store_manages_and_the_list_dropped(run, fresh, store, reliability):
    first = [{"name": "keep-me", "credentials": [{"name": "ci"}, {"name": "old"}]},
             {"name": "drop-me", "credentials": [{"name": "ci"}]}]
    run([task(store, first)])
    outsider = fresh.c1_api("POST", "/api/v1/service_principals", json={"displayName": "not-ours"})[
        "servicePrincipal"]["id"]
    fresh.c1_api("POST", "/api/v1/service_principals/%s/credentials" % outsider,
                 json={"displayName": "theirs", "expires": "%ds" % (30 * 86400)})
    # Without prune, a shorter list removes nothing.
    fresh.control("POST", "/counters/reset")
    run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}]}])])
    assert fresh.counters()["writes"] == 0
    kept_id = {e["names"]["credential"]: e["credential_id"] for e in entries(store).values()
               if e["names"]["principal"] == "keep-me"}["ci"]

    result = run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}]}], prune=True)],
                 keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == [] and result["changed"] is True
    assert {(p["name"], p["action"]) for p in result["principals"]} == {("keep-me", "unchanged"),
                                                                        ("drop-me", "removed")}
    assert {(c["name"], c["action"]) for c in result["credentials"]} == {("ci", "unchanged"), ("old", "revoked")}
    by_name = principals_by_name(fresh)
    assert "drop-me" not in by_name and by_name["not-ours"] == [outsider]
    assert [c["displayName"] for c in live(fresh, outsider)] == ["theirs"]
    assert [c["id"] for c in live(fresh, by_name["keep-me"][0])] == [kept_id]
    assert {(e["names"]["principal"], e["names"]["credential"]) for e in entries(store).values()} == {
        ("keep-me", "ci")}
    check_everything_held(fresh, store, reliability, {("keep-me", "ci")})


def by_hand(sandbox, name, credential=None):
    """A principal made outside the collection (another team), with one credential: (principal ID, its ID)."""
    sp_id = sandbox.c1_api("POST", "/api/v1/service_principals", json={"displayName": name})["servicePrincipal"]["id"]
    return sp_id, credential and by_hand_credential(sandbox, sp_id, credential)


def by_hand_credential(sandbox, sp_id, name):
    return sandbox.c1_api("POST", "/api/v1/service_principals/%s/credentials" % sp_id,
                          json={"displayName": name, "expires": "%ds" % (30 * 86400)})["credential"]["id"]


def held_pairs(store, reliability=None):
    """{(principal, credential): entry} of the store; with ``reliability``, their secrets count as received."""
    held = {(e["names"]["principal"], e["names"]["credential"]): e for e in entries(store).values()}
    if reliability is not None:
        reliability.received(e["credential_id"] for e in held.values())
    return held


def test_prune_never_touches_a_principal_made_by_hand_under_a_pruned_name(run, fresh, store, reliability):
    run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}]},
                      {"name": "remade", "credentials": [{"name": "ci"}]},
                      {"name": "twin", "credentials": [{"name": "ci"}]}])])
    managed = principals_by_name(fresh)
    held_pairs(store, reliability)
    # Out of band: the managed "remade" is deleted and another team makes one of that name; a second "twin" appears.
    fresh.c1_api("DELETE", "/api/v1/service_principals/%s" % managed["remade"][0])
    remade, remade_credential = by_hand(fresh, "remade", "ci")
    twin, twin_credential = by_hand(fresh, "twin", "ci")
    reliability.received([remade_credential, twin_credential])

    result = run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}]}], prune=True)],
                 keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == []
    assert {(p["id"], p["action"]) for p in result["principals"] if p["action"] != "unchanged"} == {
        (managed["twin"][0], "removed")}
    by_name = principals_by_name(fresh)
    assert by_name["remade"] == [remade] and by_name["twin"] == [twin]
    assert [c["id"] for c in live(fresh, remade)] == [remade_credential]
    assert [c["id"] for c in live(fresh, twin)] == [twin_credential]
    assert set(held_pairs(store)) == {("keep-me", "ci")}  # the entries of the managed two are forgotten
    check_everything_held(fresh, store, reliability, {("keep-me", "ci")})


def test_prune_revokes_the_entrys_credential_not_a_hand_made_one_of_its_name(run, fresh, store, reliability):
    run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}, {"name": "old"}]}])])
    sp_id = principals_by_name(fresh)["keep-me"][0]
    managed_old = held_pairs(store, reliability)[("keep-me", "old")]["credential_id"]
    theirs = by_hand_credential(fresh, sp_id, "old")
    reliability.received([theirs])

    result = run([task(store, [{"name": "keep-me", "credentials": [{"name": "ci"}]}], prune=True)],
                 keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == []
    assert [(c["name"], c["action"], c["revoked_ids"]) for c in result["credentials"] if c["name"] == "old"] == [
        ("old", "revoked", [managed_old])]
    assert {c["displayName"]: c["id"] for c in live(fresh, sp_id) if c["displayName"] == "old"} == {"old": theirs}
    assert set(held_pairs(store)) == {("keep-me", "ci")}


@pytest.mark.parametrize("recorded", [True, False], ids=["entry-names-its-principal", "older-entry"])
def test_prune_judges_a_principal_renamed_in_place_by_its_id(run, fresh, store, reliability, recorded):
    run([task(store, [{"name": "before", "credentials": [{"name": "ci"}]}])])
    sp_id = principals_by_name(fresh)["before"][0]
    held = held_pairs(store, reliability)[("before", "ci")]
    assert held["service_principal_id"] == sp_id
    if not recorded:  # an entry written before entries recorded their principal: its credential tells it
        rewrite(store, {path: {k: v for k, v in e.items() if k != "service_principal_id"}
                        for path, e in entries(store).items()})
    run([{"conductor.principals.service_principal": {"id": sp_id, "name": "after"}}])
    theirs, _none = by_hand(fresh, "before")  # and another team's principal now has its old name

    # Listed under its new name: kept, and the entry of its live credential is not forgotten.
    result = run([task(store, [{"name": "after"}], prune=True)], keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == []
    assert [(p["id"], p["action"]) for p in result["principals"]] == [(sp_id, "unchanged")]
    assert [c["id"] for c in live(fresh, sp_id)] == [held["credential_id"]]
    assert held_pairs(store)[("before", "ci")]["credential_id"] == held["credential_id"]
    assert token_works(fresh, held["client_id"], held["client_secret"])

    # Not listed: removed, with its entries (found by its ID, though they are under its old name).
    result = run([task(store, [{"name": "someone-else"}], prune=True)], keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == []
    assert {(p["id"], p["action"]) for p in result["principals"] if p["action"] == "removed"} == {
        (sp_id, "removed")}
    by_name = principals_by_name(fresh)
    assert by_name["before"] == [theirs] and "after" not in by_name
    assert held_pairs(store) == {}
    assert result["summary"]["entries_removed"] == 1


def test_store_entries_forgets_a_principals_entries_only_once_their_credentials_are_gone(
        run, fresh, store, reliability):
    run([task(store, [{"name": "before", "credentials": [{"name": "ci"}]}])])
    sp_id = principals_by_name(fresh)["before"][0]
    held = held_pairs(store, reliability)
    run([{"conductor.principals.service_principal": {"id": sp_id, "name": "after"}}])
    gone = [{"platform": "conductorone", "name": "before"}]
    forget = {"conductor.principals.store_entries": {"store": {"path": str(store)}, "remove_principals": gone},
              "register": "forget"}

    result = run([forget], keep=["forget"]).results["forget"]
    assert result["removed"] == [] and result["changed"] is False and len(result["kept"]) == 1
    assert "still live" in " ".join(result["warnings"])
    assert held_pairs(store) == held  # the secret of a live credential stays held

    run([{"conductor.principals.service_principal": {"id": sp_id, "state": "absent"}}])
    result = run([forget], keep=["forget"]).results["forget"]
    assert len(result["removed"]) == 1 and result["kept"] == [] and held_pairs(store) == {}


def test_parallelism_four_overlaps_and_never_exceeds_four(run, fresh, store, reliability):
    principals = tenant_list(12, extra_every=None)
    fresh.settings(latency_seconds=0.15)
    fresh.control("POST", "/in_flight/reset")
    try:
        result = run([task(store, principals, parallelism=4)], keep=["tenant"]).results["tenant"]
    finally:
        fresh.settings(latency_seconds=0)
    report = fresh.control("GET", "/in_flight")
    assert result["failed_items"] == [] and result["summary"]["credentials"] == {"created": 12}
    assert report["now"] == 0 and 2 <= report["max"] <= 4, report
    creates = report["by_route"]["POST " + CRED_ROUTE]
    assert creates["total"] == 12 and creates["max"] >= 2
    check_everything_held(fresh, store, reliability, {(p["name"], "ci") for p in principals})


def test_a_429_storm_on_creates_duplicates_nothing(run, fresh, store, reliability):
    principals = tenant_list(6, extra_every=None)
    run([task(store, [{"name": p["name"]} for p in principals])])
    fresh.control("POST", "/faults", json={"method": "POST", "route": CRED_ROUTE, "mode": "429", "count": 6,
                                           "retry_after": 1})
    fresh.control("POST", "/counters/reset")
    result = run([task(store, principals, parallelism=4)], keep=["tenant"]).results["tenant"]
    assert result["failed_items"] == [] and result["summary"]["credentials"] == {"created": 6}
    assert fresh.counters()["by_route"]["POST " + CRED_ROUTE] == 12  # 6 refused, then 6 made
    check_everything_held(fresh, store, reliability, {(p["name"], "ci") for p in principals})


def test_check_mode_plans_and_writes_nothing(run, fresh, store):
    principals = tenant_list(4)
    done = run([task(store, principals)], keep=["tenant"], check=True, diff=True)
    result = done.results["tenant"]
    assert fresh.counters()["writes"] == 0 and not store.exists()
    assert result["changed"] is True and result["summary"]["principals"] == {"created": 4}
    assert result["summary"]["credentials"] == {"created": 6}
    assert "app-00/deploy" in done.stdout  # the plan, in the diff

    run([task(store, principals)])
    before = store.read_bytes()
    fresh.control("POST", "/counters/reset")
    result = run([task(store, principals, force_rotate=True)], keep=["tenant"], check=True).results["tenant"]
    assert fresh.counters()["writes"] == 0 and store.read_bytes() == before
    assert result["summary"]["credentials"] == {"rotated": 6}


BAD_ROWS = [
    ("duplicate principal", {"principals": [{"name": "a"}, {"name": "a"}]},
     "principals names principal 'a' more than once"),
    ("typo in a credential", {"principals": [{"name": "a", "credentials": [{"name": "ci", "expire_days": 30}]}]},
     "principals: principal 'a', credential 'ci': no option expire_days (did you mean expires_days?)"),
    ("bad expiry", {"principals": [{"name": "a", "credentials": [{"name": "ci", "expires_days": 7}]}]},
     "credential 'ci'"),
    ("orkes option on conductorone", {"principals": [{"name": "a", "roles": ["WORKER"]}]},
     "principals: principal 'a' sets roles"),
    ("other platform", {"principals": [{"name": "a", "platform": "orkes"}]},
     "is on platform orkes, but this task connects to conductorone"),
    ("credentials without a store", {"principals": [{"name": "a", "credentials": [{"name": "ci"}]}], "store": None},
     "lists credentials, so give store (each new secret is kept there before anything else happens) or "
     "return_secrets: true"),
    ("prune without a store", {"principals": [], "prune": True, "store": None}, "give store with prune"),
    ("parallelism zero", {"principals": [{"name": "a"}], "parallelism": 0}, "parallelism must be a whole number"),
    ("duplicate credential", {"principals": [{"name": "a", "credentials": [{"name": "ci"}, {"name": "ci"}]}]},
     "lists credential 'ci' more than once"),
    ("trust without a condition", {"principals": [{"name": "a", "trusts": [{"name": "t", "github": {}}]}]},
     "principals: principal 'a', trusts: trust 't'"),
]


def test_bad_input_is_one_sentence_per_row_and_writes_nothing(run, fresh, store):
    tasks = []
    for index, (_label, options, _expect) in enumerate(BAD_ROWS):
        args = dict({"store": {"path": str(store)}}, **options)
        tasks.append({MODULE: {k: v for k, v in args.items() if v is not None}, "register": "r%d" % index,
                      "ignore_errors": True})
    fresh.control("POST", "/counters/reset")
    results = run(tasks, keep=["r%d" % i for i in range(len(BAD_ROWS))]).results
    assert fresh.counters()["writes"] == 0 and not store.exists()
    for index, (label, _options, expect) in enumerate(BAD_ROWS):
        result = results["r%d" % index]
        assert result.get("failed") is True, label
        assert one_sentence(result["msg"]) is None, (label, result["msg"])
        assert expect in result["msg"], (label, result["msg"])


def test_over_ssh_the_secrets_travel_sealed_and_the_result_is_the_same(fresh, playbook, sshd, tmp_path, reliability):
    inventory = sshd.inventory(tmp_path / "inventory.yml", pipelining=True)
    principals = tenant_list(3)
    # A vault_file store needs ansible-core where the task runs: on a remote host, the result holds the secrets.
    first = playbook([{MODULE: {"principals": principals, "return_secrets": True}, "register": "tenant"}],
                     keep=["tenant"], inventory=inventory)
    result = first.results["tenant"]
    assert SEALED in first.stdout and SEALED not in repr(first.results) and "censored" in first.stdout
    assert result["failed_items"] == [] and result["summary"]["credentials"] == {"created": 4}
    secrets = result["secrets"]["conductorone"]
    assert sorted(secrets) == ["app-00", "app-01", "app-02"] and sorted(secrets["app-00"]) == ["ci", "deploy"]
    for credentials in secrets.values():
        for value in credentials.values():
            assert token_works(fresh, value["client_id"], value["client_secret"])
    by_name = principals_by_name(fresh)
    reliability.received(c["id"] for p in principals for c in live(fresh, by_name[p["name"]][0]))
    fresh.control("POST", "/counters/reset")
    again = playbook([{MODULE: {"principals": principals, "return_secrets": True}, "register": "tenant"}],
                     keep=["tenant"], inventory=inventory).results["tenant"]
    assert again["changed"] is False and fresh.counters()["writes"] == 0
    assert again["secrets"] == {}  # no store: nothing to read an existing secret from
    bad = playbook([{MODULE: {"principals": [{"name": "x", "credentials": [{"name": "ci", "expire_days": 3}]}]},
                     "register": "tenant", "ignore_errors": True}], keep=["tenant"], inventory=inventory)
    assert "credential 'ci': no option expire_days (did you mean expires_days?)" in bad.results["tenant"]["msg"]


def test_orkes_applications_with_roles_and_one_key_each(fresh, playbook, store, reliability):

    def go(tasks, **kwargs):
        return playbook(tasks, connection_vars=False, module_defaults=orkes(fresh),
                        extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": STORE_PASSWORD}, **kwargs)

    apps = [{"name": "worker-%d" % n, "roles": ["WORKER"], "tags": {"team": "billing"},
             "credentials": [{"name": "default"}]} for n in range(3)]
    first = go([task(store, apps, verify=True)], keep=["tenant"]).results["tenant"]
    assert first["failed_items"] == [] and first["summary"]["principals"] == {"created": 3}
    assert first["summary"]["credentials"] == {"created": 3}
    held = {e["names"]["principal"]: e for e in entries(store).values()}
    assert sorted(held) == ["worker-0", "worker-1", "worker-2"]
    for name, entry in held.items():
        answer = requests.post(fresh.orkes["server_url"] + "/token", timeout=10,
                               json={"keyId": entry["client_id"], "keySecret": entry["client_secret"]})
        assert answer.status_code == 200, name
    listed = {a["name"]: a for a in fresh.orkes_api("GET", "/applications")}
    for name in held:
        keys = fresh.orkes_api("GET", "/applications/%s/accessKeys" % listed[name]["id"])
        assert [k["id"] for k in keys] == [held[name]["credential_id"]]
        reliability.received([held[name]["credential_id"]])
    fresh.control("POST", "/counters/reset")
    again = go([task(store, apps)], keep=["tenant"]).results["tenant"]
    assert again["changed"] is False and fresh.counters()["writes"] == 0
    assert again["summary"]["principals"] == {"unchanged": 3}
    # A role changed on one application: only that one is updated.
    apps[1]["roles"] = ["WORKER", "METADATA_MANAGER"]
    changed = go([task(store, apps)], keep=["tenant"]).results["tenant"]
    assert {(p["name"], p["action"]) for p in changed["principals"]} == {
        ("worker-0", "unchanged"), ("worker-1", "updated"), ("worker-2", "unchanged")}


def test_a_store_that_cannot_be_written_fails_before_any_write_and_keeps_the_old(run, fresh, store, reliability):
    principals = tenant_list(3, extra_every=None)
    run([task(store, principals)])
    before, writes_before = store.read_bytes(), fresh.counters()["writes"]
    held = {e["names"]["principal"]: e["credential_id"] for e in entries(store).values()}
    with unwritable(store.parent):
        done = run([dict(task(store, principals, force_rotate=True, verify=True), ignore_errors=True)],
                   keep=["tenant"])
    result = done.results["tenant"]
    # The store is tried before the first API write: one sentence, nothing made or revoked.
    assert result["failed"] is True and "refuses a new file" in result["msg"], result
    assert fresh.counters()["writes"] == writes_before and store.read_bytes() == before
    by_name = principals_by_name(fresh)
    for principal in held:
        assert [c["id"] for c in live(fresh, by_name[principal][0])] == [held[principal]]
    check_everything_held(fresh, store, reliability, {(p["name"], "ci") for p in principals})


def test_return_secrets_new_ones_from_the_create_others_from_the_store_never_shown(run, fresh, store):
    principals = tenant_list(2, extra_every=None)
    first = run([task(store, principals, return_secrets=True)], keep=["tenant"], diff=True)
    made = first.results["tenant"]["secrets"]["conductorone"]
    assert sorted(made) == ["app-00", "app-01"] and "censored" in first.stdout
    for principal, credentials in made.items():
        assert token_works(fresh, credentials["ci"]["client_id"], credentials["ci"]["client_secret"]), principal
    principals.append({"name": "app-02", "credentials": [{"name": "ci"}]})
    again = run([task(store, principals, return_secrets=True)], keep=["tenant"]).results["tenant"]
    secrets = again["secrets"]["conductorone"]
    assert {p: secrets[p]["ci"] for p in made} == {p: made[p]["ci"] for p in made}  # read back from the store
    assert token_works(fresh, secrets["app-02"]["ci"]["client_id"], secrets["app-02"]["ci"]["client_secret"])
    assert again["summary"]["credentials"] == {"unchanged": 2, "created": 1}


def test_one_new_credential_that_fails_its_proof_is_undone_alone(run, fresh, store, reliability):
    """A rotation of four principals where app-02's new credential cannot obtain a token (the sandbox refuses
    the token requests of that principal's credentials once): only that item fails and is undone."""
    import re
    principals = tenant_list(4, extra_every=None)
    run([task(store, principals)])
    held = {e["names"]["principal"]: e for e in entries(store).values()}
    victim = principals_by_name(fresh)["app-02"][0]
    fresh.control("POST", "/faults", json={"method": "POST", "route": "/auth/v1/token", "mode": "invalid_client",
                                           "principal_id": victim, "count": 1})
    done = run([dict(task(store, principals, force_rotate=True, verify=True), ignore_errors=True)],
               keep=["tenant"])
    fresh.control("DELETE", "/faults")
    result = done.results["tenant"]
    assert result["failed"] is True
    assert [(f["principal"], f.get("credential")) for f in result["failed_items"]] == [("app-02", "ci")]
    assert result["msg"].startswith("1 of ") and "principal 'app-02' credential 'ci'" in result["msg"]
    failure = result["failed_items"][0]["msg"]
    new_id = re.match(r"The new credential (\S+) did not obtain an access token", failure).group(1)
    assert "the new credential %s was revoked" % new_id in failure
    assert "its store entry was put back as it was" in failure
    assert "the previous credential %s stays live" % held["app-02"]["credential_id"] in failure
    assert held["app-02"]["client_secret"] not in done.output
    # Every other item is done: rotated, its old credential revoked, the new one stored.
    assert result["summary"]["credentials"] == {"rotated": 3}
    rows = {r["principal"]: r for r in result["credentials"]}
    assert sorted(rows) == ["app-00", "app-01", "app-03"]
    after = {e["names"]["principal"]: e for e in entries(store).values()}
    for principal, row in rows.items():
        assert row["action"] == "rotated" and row["revoked_ids"] == [held[principal]["credential_id"]]
        assert after[principal]["credential_id"] == row["id"] != held[principal]["credential_id"]
    # The failed one: the new credential is gone, the previous one live, its entry the previous secret.
    assert [c["id"] for c in live(fresh, victim)] == [held["app-02"]["credential_id"]] != [new_id]
    assert after["app-02"] == held["app-02"]
    assert token_works(fresh, after["app-02"]["client_id"], after["app-02"]["client_secret"])
    # Nothing unheld: every live credential of the four is the one its entry holds, and obtains a token.
    check_everything_held(fresh, store, reliability, {(p["name"], "ci") for p in principals})


def rotate_with_the_revoke_refused(fresh, playbook, **options):
    """Principal "Holder" with credential ci, then a forced rotation whose revoke of it answers 500.

    Returns (the old credential's ID, the rotation's result, its run)."""
    principals = [{"name": "Holder", "credentials": [{"name": "ci"}]}]
    playbook([{MODULE: dict({"principals": principals}, **options), "register": "made"}])
    (old,) = [c["id"] for c in live(fresh, principals_by_name(fresh)["Holder"][0])]
    fresh.fault("DELETE", CRED_ROUTE + "/{id}", "500")
    rotation = playbook([{MODULE: dict({"principals": principals, "force_rotate": True}, **options),
                          "register": "tenant"}], keep=["tenant"])
    result = rotation.results["tenant"]
    assert result["changed"] is True and result["failed_items"] == [] and not result.get("failed")
    (row,) = result["credentials"]
    assert row["action"] == "rotated" and row["revoked_ids"] == [] and row["kept_ids"] == [old]
    assert "HTTP 500" in row["kept_reasons"][old]
    assert row["id"] != old
    assert sorted(c["id"] for c in live(fresh, principals_by_name(fresh)["Holder"][0])) == sorted([old, row["id"]])
    assert "[WARNING]" in rotation.stderr and old in rotation.stderr.split("[WARNING]", 1)[1]
    return old, result, rotation


def rerun_retires(fresh, playbook, old, new, **options):
    """A clean rerun keeps the newer credential (the one its caller holds) and revokes the older."""
    principals = [{"name": "Holder", "credentials": [{"name": "ci"}]}]
    again = playbook([{MODULE: dict({"principals": principals}, **options), "register": "tenant"}],
                     keep=["tenant"]).results["tenant"]
    (row,) = again["credentials"]
    assert again["changed"] is True and row["id"] == new and row["revoked_ids"] == [old] and row["kept_ids"] == []
    assert [c["id"] for c in live(fresh, principals_by_name(fresh)["Holder"][0])] == [new]


def test_a_refused_revoke_keeps_the_returned_secret_and_a_rerun_retires_the_older(fresh, playbook):
    old, result, _run = rotate_with_the_revoke_refused(fresh, playbook, return_secrets=True)
    new = result["credentials"][0]["id"]
    value = result["secrets"]["conductorone"]["Holder"]["ci"]
    assert value["client_id"] == result["credentials"][0]["client_id"]
    assert token_works(fresh, value["client_id"], value["client_secret"])
    rerun_retires(fresh, playbook, old, new, return_secrets=True)
    assert token_works(fresh, value["client_id"], value["client_secret"])


def test_a_refused_revoke_keeps_the_stored_secret_and_a_rerun_retires_the_older(run, fresh, store, reliability):
    old, result, _run = rotate_with_the_revoke_refused(fresh, run, store={"path": str(store)})
    new = result["credentials"][0]["id"]
    (entry,) = entries(store).values()
    assert entry["credential_id"] == new and token_works(fresh, entry["client_id"], entry["client_secret"])
    rerun_retires(fresh, run, old, new, store={"path": str(store)})
    check_everything_held(fresh, store, reliability, {("Holder", "ci")})


def _when(condition, then, done, timeout=300):
    """In a thread: ``then()`` as soon as ``condition()`` holds (polled), unless ``done`` is set first."""
    def watch():
        deadline = time.monotonic() + timeout
        while not done.is_set() and time.monotonic() < deadline:
            if condition():
                then()
                return
            done.wait(0.02)
    watcher = threading.Thread(target=watch)
    watcher.start()
    return watcher


def test_a_token_refresh_that_fails_mid_wave_fails_only_its_items_and_leaves_nothing_unheld(
        run, fresh, store, reliability):
    """The task's token expires while the first of two waves of creates is out (one create waiting out a 429),
    and the token endpoint answers the refreshes 500 a few times: the requests that needed a refresh that
    failed fail, named in one sentence; the others go on; every credential the task made is held in the
    store; a clean rerun converges."""
    principals = tenant_list(16, extra_every=None)  # parallelism 2: waves of 8 credentials
    run([task(store, [{"name": p["name"]} for p in principals])])  # the principals, without credentials
    creates = "POST " + CRED_ROUTE
    expired = []

    def expire_every_token():
        # The first two creates are out (each answer waits 0.5 s): one is answered 429, so every worker waits a
        # second, and the other 401, so a refresh starts while the first waits; the next three token requests
        # are answered 500.
        fresh.fault("POST", "/auth/v1/token", "500", count=3)
        fresh.fault("POST", CRED_ROUTE, "429", count=1, retry_after=1)
        expired.append(fresh.control("POST", "/tokens/expire")["expired"])

    fresh.settings(latency_seconds=0.5)
    done = threading.Event()
    watcher = _when(lambda: fresh.counters()["by_route"].get(creates, 0) >= 2, expire_every_token, done)
    try:
        failing = run([dict(task(store, principals, parallelism=2), ignore_errors=True)], keep=["tenant"])
        fresh.settings(latency_seconds=0)
        assert expired, "the token did not expire during the run"
        # Every credential the run made is held by its entry (nothing live with its secret in nobody's hands).
        held = {e["names"]["principal"]: e["credential_id"] for e in entries(store).values()}
        by_name = principals_by_name(fresh)
        unheld = {}
        for name in (p["name"] for p in principals):
            unheld[name] = [c["id"] for c in live(fresh, by_name[name][0]) if c["id"] != held.get(name)]
        unheld = {name: ids for name, ids in unheld.items() if ids}
        assert not unheld, "live credentials whose secret nobody holds: %s" % unheld
        result = failing.results["tenant"]
        assert "failed_items" in result and "Traceback" not in failing.output, result["msg"]
        assert result["failed"] is True and result["failed_items"]
        assert "\n" not in result["msg"] and result["msg"].startswith("%d of " % len(result["failed_items"]))
        for failure in result["failed_items"]:
            assert failure.get("credential") == "ci" and "token" in failure["msg"]
            assert "principal %r credential 'ci'" % failure["principal"] in result["msg"]
        # The others went on; the failed ones made nothing.
        failed = {f["principal"] for f in result["failed_items"]}
        assert not failed & set(held) and len(held) == 16 - len(failed)

        again = run([task(store, principals, parallelism=2)], keep=["tenant"]).results["tenant"]
        assert again["failed_items"] == [] and again["summary"]["credentials"] == {
            "created": len(failed), "unchanged": 16 - len(failed)}
        check_everything_held(fresh, store, reliability, {(p["name"], "ci") for p in principals})
    finally:
        done.set()
        watcher.join()
        fresh.settings(latency_seconds=0)
