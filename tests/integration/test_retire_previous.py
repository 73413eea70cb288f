# -*- coding: utf-8 -*-
"""Retiring the previous credential only once nothing uses it: real runs, the sandbox clock moving.

A consumer keeps using the old secret (a token with it makes the sandbox record last_used_at);
the module runs as a scheduled rotate job would, on the server's clock.
"""

from __future__ import annotations

import pytest
import requests

from conftest import entries

from conftest import role_environment, role_runner


CRED = "conductor.principals.sp_credential"
SP = "conductor.principals.service_principal"
HOUR = 3600


def advance_hours(tenant, hours):
    tenant.advance(hours / 24.0)


def live_ids(sandbox, sp_id):
    listed = sandbox.c1_api("GET", "/api/v1/service_principals/%s/credentials" % sp_id, params={"page_size": 100})
    return sorted(c["id"] for c in listed.get("list") or [])


def credential_task(**options):
    task = {"service_principal": "Consumer app", "name": "ci", "revoke_previous_after_unused_hours": 24}
    task.update(options)
    return {CRED: task, "register": "c"}


def run(tenant, playbook, check=False, **options):
    """One sp_credential run with a token (after a clock jump a client assertion signed now is refused)."""
    return playbook([credential_task(**options)], keep=["c"], connection_vars=False,
                    module_defaults=tenant.connection(), check=check, diff=check).results["c"]


def rotate_with_overlap(tenant, playbook, **options):
    """A credential in use, then a rotation: (principal ID, old ID, new ID). The old one is kept."""
    first = playbook([{SP: {"name": "Consumer app"}}, credential_task()], keep=["c"]).results["c"]
    old = first["credential"]["id"]
    tenant.secrets[old] = (first["client_id"], first["client_secret"])
    tenant.use(old)
    rotated = run(tenant, playbook, force_rotate=True, **options)
    assert rotated["changed"] and rotated["client_secret"] and rotated["revoked_ids"] == []
    assert rotated["kept_ids"] == [old]
    reason = rotated["kept_reasons"][old]
    assert reason.startswith("last used 0.0 hours ago, within revoke_previous_after_unused_hours 24")
    sp_id = rotated["credential"]["service_principal_id"]
    assert live_ids(tenant.sandbox, sp_id) == sorted([old, rotated["credential"]["id"]])
    return sp_id, old, rotated["credential"]["id"]


def test_kept_while_used_then_revoked_once_unused_for_the_window(tenant, playbook):
    sp_id, old, new = rotate_with_overlap(tenant, playbook)
    for dummy in range(2):  # a consumer still on the old secret, the scheduled job every 12 hours
        advance_hours(tenant, 12)
        tenant.use(old)
        within = run(tenant, playbook)
        assert within["changed"] is False and within["revoked_ids"] == [] and within["kept_ids"] == [old]
        assert "within revoke_previous_after_unused_hours 24" in within["kept_reasons"][old]
        assert live_ids(tenant.sandbox, sp_id) == sorted([old, new])
    advance_hours(tenant, 25)  # the consumer moved: no use of the old secret for 25 hours
    predicted = run(tenant, playbook, check=True)
    assert predicted["changed"] is True and predicted["revoked_ids"] == [old] and predicted["kept_ids"] == []
    assert live_ids(tenant.sandbox, sp_id) == sorted([old, new])  # check mode wrote nothing
    retired = run(tenant, playbook)
    assert retired["changed"] is True and retired["revoked_ids"] == [old] and retired["kept_reasons"] == {}
    assert retired["credential"]["id"] == new and "client_secret" not in retired
    assert live_ids(tenant.sandbox, sp_id) == [new]
    assert run(tenant, playbook)["changed"] is False


def test_past_max_overlap_days_the_old_one_goes_even_if_used(tenant, playbook):
    sp_id, old, new = rotate_with_overlap(tenant, playbook, max_overlap_days=2)
    advance_hours(tenant, 36)
    tenant.use(old)
    kept = run(tenant, playbook, max_overlap_days=2)
    assert kept["kept_ids"] == [old] and "(max_overlap_days 2) even if still used" in kept["kept_reasons"][old]
    advance_hours(tenant, 13)  # the newer one is 49 hours old
    tenant.use(old)
    retired = run(tenant, playbook, max_overlap_days=2)
    assert retired["revoked_ids"] == [old] and retired["kept_ids"] == []
    assert live_ids(tenant.sandbox, sp_id) == [new]


def test_without_the_option_the_previous_one_goes_at_once_as_before(tenant, playbook):
    first = playbook([{SP: {"name": "Consumer app"}}, {CRED: {"service_principal": "Consumer app", "name": "ci"},
                                                       "register": "c"}], keep=["c"]).results["c"]
    rotated = playbook([{CRED: {"service_principal": "Consumer app", "name": "ci", "force_rotate": True},
                         "register": "c"}], keep=["c"]).results["c"]
    assert rotated["revoked_ids"] == [first["credential"]["id"]]


def test_orkes_refuses_the_option_in_one_sentence_and_writes_nothing(fresh, playbook):
    before = fresh.counters()["writes"]
    failed = playbook([{CRED: {"platform": "orkes", "service_principal": "anything",
                               "revoke_previous_after_unused_hours": 24}}], connection_vars=False,
                      module_defaults={"server_url": fresh.orkes["server_url"], "client_id": fresh.orkes["key_id"],
                                       "client_secret": fresh.orkes["key_secret"]}, expect_rc=2)
    assert "which Orkes access keys do not record; remove it" in failed.stdout
    assert fresh.counters()["writes"] == before


# ---- a refused revoke: the new credential stays the caller's ------------------------------------
CRED_ONE = "/api/v1/service_principals/{service_principal_id}/credentials/{id}"


def obtains_token(sandbox, client_id, secret):
    answer = requests.post(sandbox.c1["server_url"] + "/auth/v1/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    return answer.status_code == 200 and bool(answer.json().get("access_token"))


def rotate_with_the_revoke_refused(fresh, playbook, **options):
    """A credential, then a forced rotation whose revoke of it answers 500: (first result, rotated result, run)."""
    task = dict({"service_principal": "Holder", "name": "ci"}, **options)
    first = playbook([{SP: {"name": "Holder"}}, {CRED: task, "register": "c"}], keep=["c"]).results["c"]
    fresh.fault("DELETE", CRED_ONE, "500")
    rotation = playbook([{CRED: dict(task, force_rotate=True), "register": "c"}], keep=["c"])
    return first, rotation.results["c"], rotation


def assert_kept_after_refusal(fresh, rotation, rotated, old):
    assert rotated["changed"] is True and rotated["rotated"] is True
    assert rotated["revoked_ids"] == [] and rotated["kept_ids"] == [old]
    assert "HTTP 500" in rotated["kept_reasons"][old] and "a later run revokes it" in rotated["kept_reasons"][old]
    new = rotated["credential"]["id"]
    assert new != old and live_ids(fresh, rotated["credential"]["service_principal_id"]) == sorted([old, new])
    assert "[WARNING]" in rotation.stderr and old in rotation.stderr.split("[WARNING]", 1)[1]


def test_a_refused_revoke_keeps_the_new_secret_in_the_result_and_a_rerun_retires_the_older(fresh, playbook):
    first, rotated, rotation = rotate_with_the_revoke_refused(fresh, playbook)
    old, new = first["credential"]["id"], rotated["credential"]["id"]
    assert_kept_after_refusal(fresh, rotation, rotated, old)
    assert obtains_token(fresh, rotated["client_id"], rotated["client_secret"])
    # The next ordinary run (the fault spent) keeps the credential the caller holds and revokes the older one.
    again = playbook([{CRED: {"service_principal": "Holder", "name": "ci"}, "register": "c"}], keep=["c"]).results["c"]
    assert again["changed"] is True and again["revoked_ids"] == [old] and again["kept_ids"] == []
    assert again["credential"]["id"] == new and "client_secret" not in again
    assert live_ids(fresh, rotated["credential"]["service_principal_id"]) == [new]
    assert obtains_token(fresh, rotated["client_id"], rotated["client_secret"])


def test_a_refused_revoke_keeps_the_new_secret_stored_and_a_rerun_retires_the_older(run, fresh, store):
    first, rotated, rotation = rotate_with_the_revoke_refused(fresh, run, store={"path": str(store)})
    old, new = first["credential"]["id"], rotated["credential"]["id"]
    assert_kept_after_refusal(fresh, rotation, rotated, old)
    (entry,) = entries(store).values()
    assert entry["credential_id"] == new and obtains_token(fresh, entry["client_id"], entry["client_secret"])
    again = run([{CRED: {"service_principal": "Holder", "name": "ci", "store": {"path": str(store)}},
                  "register": "c"}], keep=["c"]).results["c"]
    assert again["changed"] is True and again["revoked_ids"] == [old] and again["credential"]["id"] == new
    assert live_ids(fresh, rotated["credential"]["service_principal_id"]) == [new]
    assert [e["credential_id"] for e in entries(store).values()] == [new]

# ---- the rotate role, as a scheduled job ------------------------------------------------------


@pytest.fixture
def roles(fresh, playbook, tmp_path):
    """The roles' runner: AWX-style environment (API credentials, a vault_file store)."""
    store = tmp_path / "store" / "identities.vault"
    store.parent.mkdir()
    return role_runner(playbook, role_environment(fresh, store))


def test_the_rotate_role_keeps_the_old_credential_while_used_and_a_later_run_retires_it(tenant, roles):
    mover = {"name": "Mover", "credentials": [{"name": "ci"}]}
    roles("provision", {"provision_principals": [mover]})
    sp_id = tenant.sandbox.c1_api("GET", "/api/v1/service_principals", params={"page_size": 100})
    sp_id = [p["id"] for p in sp_id["list"] if p["displayName"] == "Mover"][0]
    (old,) = live_ids(tenant.sandbox, sp_id)  # provisioned, and used: the role proved its secret
    schedule = {"rotate_principals": [mover], "rotate_revoke_previous_after_unused_hours": 24}
    roles("rotate", dict(schedule, rotate_all=True))
    live = live_ids(tenant.sandbox, sp_id)
    assert len(live) == 2 and old in live  # rotated; the old one kept, it was used minutes ago
    advance_hours(tenant, 25)  # nothing used the old secret since
    token = {"CONDUCTORONE_ACCESS_TOKEN": tenant.sandbox.c1_token()}  # a client assertion signed now is refused
    roles("rotate", schedule, extra_env=token)
    assert old not in live_ids(tenant.sandbox, sp_id) and len(live_ids(tenant.sandbox, sp_id)) == 1
