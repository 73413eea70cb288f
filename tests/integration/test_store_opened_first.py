# -*- coding: utf-8 -*-
"""The store is opened, locked and decrypted before the first API write: a vault_file in a directory that does
not exist, a wrong password or a lock another run holds fail the task with one sentence, and nothing is written
to the API (no principal, no credential). Real ansible-playbook runs; the sandbox is read afterwards."""

from __future__ import annotations

import fcntl

from conftest import STORE_PASSWORD, entries
from helpers import CRED, SP, issuer, live_credentials, one_sentence, principals_named, writes

SPS = "conductor.principals.service_principals"
LIST = [{"name": "Guarded", "credentials": [{"name": "ci"}]}]


def tenant_task(store_option):
    return {SPS: {"principals": LIST, "store": store_option}, "register": "tenant", "ignore_errors": True}


def refused(run, task):
    done = run([task], keep=["tenant"])
    result = done.results["tenant"]
    assert result["failed"] and one_sentence(result["msg"]) is None, result
    return result["msg"]


def test_a_store_in_a_missing_directory_fails_before_any_write(fresh, run, tmp_path):
    missing = tmp_path / "no-such-dir" / "principals.vault"
    before = writes(fresh)
    message = refused(run, tenant_task({"path": str(missing)}))
    assert "does not exist" in message and str(missing.parent) in message, message
    assert writes(fresh) == before and principals_named(fresh, "Guarded") == []

    # sp_credential too: nothing made (it was created, then revoked when the store write failed).
    run([{SP: {"name": "Single"}}])
    sp_id = principals_named(fresh, "Single")[0]["id"]
    before = writes(fresh)
    done = run([{CRED: {"service_principal": "Single", "name": "ci", "store": {"path": str(missing)}},
                 "register": "c", "ignore_errors": True}], keep=["c"])
    assert done.results["c"]["failed"] and "does not exist" in done.results["c"]["msg"]
    assert writes(fresh) == before and live_credentials(fresh, sp_id) == []


def test_a_wrong_password_fails_before_any_write(fresh, run, store):
    run([{SPS: {"principals": [{"name": "First", "credentials": [{"name": "ci"}]}], "store": {"path": str(store)}}}])
    held = entries(store)
    before = writes(fresh)
    message = refused(run, tenant_task({"path": str(store), "password": "not the password"}))
    assert "password" in message and "wrong" in message, message
    assert writes(fresh) == before and principals_named(fresh, "Guarded") == []
    assert entries(store, STORE_PASSWORD) == held


def test_a_lock_another_run_holds_fails_before_any_write(fresh, run, store):
    lock = open(str(store) + ".lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = writes(fresh)
        message = refused(run, tenant_task({"path": str(store), "lock_timeout": 1}))
        assert "another run has held" in message, message
        assert writes(fresh) == before and principals_named(fresh, "Guarded") == []
    finally:
        lock.close()
    assert not store.exists()


def test_the_provision_role_with_a_store_in_a_missing_directory_writes_nothing(fresh, roles, tmp_path):
    missing = tmp_path / "no-such-dir" / "principals.vault"
    before = writes(fresh)
    failed = roles("provision", {"provision_principals": LIST}, expect_rc=2,
                   extra_env={"CONDUCTOR_PRINCIPALS_STORE_PATH": str(missing)})
    assert "does not exist" in failed.stdout
    assert writes(fresh) == before and principals_named(fresh, "Guarded") == []


def test_the_provision_role_checks_the_store_before_it_writes_a_federation_provider(fresh, roles, tmp_path):
    """The providers are written before service_principals runs: the store must be found writable before them."""
    missing = tmp_path / "no-such-dir" / "principals.vault"
    before = writes(fresh)
    failed = roles("provision", {
        "provision_federation_providers": [{"issuer_url": issuer(fresh), "type": "github_actions"}],
        "provision_principals": [{"name": "Guarded", "credentials": [{"name": "ci"}], "trusts": [{
            "name": "infra-main", "provider": issuer(fresh), "github": {"repository": "acme/infra", "ref": "main"}}]}]},
        expect_rc=2, extra_env={"CONDUCTOR_PRINCIPALS_STORE_PATH": str(missing)})
    assert "does not exist" in failed.stdout
    assert writes(fresh) == before and principals_named(fresh, "Guarded") == []
