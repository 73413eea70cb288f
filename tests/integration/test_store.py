# -*- coding: utf-8 -*-
"""sp_credential and personal_client with a vault_file store, through real ansible-playbook runs.

The store file is read back here with ansible-core's own VaultLib, independently of the
collection's store code. Every run goes through the conftest leak check; the store password
is checked here.
"""

from __future__ import annotations

import os
import stat

from conftest import entries, rewrite
from helpers import CRED, PERSONAL, SP, live_credentials, orkes, principals_named, unwritable, writes


def cred(store, name="ci", principal="Terraform CI", **extra):
    return {CRED: dict({"service_principal": principal, "name": name, "store": {"path": str(store)}}, **extra),
            "register": "cred"}


C1_ENTRY = "conductor-principals/conductorone/Terraform CI/ci"


def live_ids(sandbox, sp_id):
    return sorted(c["id"] for c in live_credentials(sandbox, sp_id))


def setup(run, store, **extra):
    """Terraform CI with credential ci in the store; its result."""
    return run([{SP: {"name": "Terraform CI"}}, cred(store, **extra)], keep=["cred"]).results["cred"]


def test_create_writes_the_entry_and_a_rerun_writes_nothing(fresh, run, store):
    result = setup(run, store)
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    entry = entries(store)[C1_ENTRY]
    assert entry["client_secret"] == result["client_secret"] and entry["client_id"] == result["client_id"]
    assert entry["credential_id"] == result["credential"]["id"] and entry["platform"] == "conductorone"
    assert entry["server_url"] == result["server_url"] and entry["expires_at"] == result["credential"]["expires_at"]
    assert result["stored"] == {"type": "vault_file", "location": "%s#%s" % (store, C1_ENTRY)}

    before, content = writes(fresh), store.read_bytes()
    again = run([cred(store)], keep=["cred"]).results["cred"]
    assert again["changed"] is False and "client_secret" not in again and again["stored"] == result["stored"]
    assert writes(fresh) == before and store.read_bytes() == content  # a rewrite would change the vault salt


def test_an_entry_that_is_missing_is_rotated(fresh, run, store):
    first = setup(run, store)
    sp_id = first["credential"]["service_principal_id"]
    rewrite(store, {})
    rotated = run([cred(store)], keep=["cred"]).results["cred"]
    assert rotated["changed"] and rotated["rotated"] and "not in the vault_file store" in rotated["reason"]
    assert rotated["revoked_ids"] == [first["credential"]["id"]]
    assert live_ids(fresh, sp_id) == [rotated["credential"]["id"]]
    assert entries(store)[C1_ENTRY]["credential_id"] == rotated["credential"]["id"]


def test_an_entry_holding_another_credential_is_rotated(fresh, run, store):
    first = setup(run, store)
    sp_id = first["credential"]["service_principal_id"]
    held = entries(store)
    held[C1_ENTRY]["credential_id"] = "2someOtherCredential"
    rewrite(store, held)
    rotated = run([cred(store)], keep=["cred"]).results["cred"]
    assert "holds credential 2someOtherCredential" in rotated["reason"]
    assert live_ids(fresh, sp_id) == [rotated["credential"]["id"]]
    assert entries(store)[C1_ENTRY]["client_secret"] == rotated["client_secret"]


def test_a_store_that_cannot_be_written_fails_before_the_create_and_keeps_the_old(fresh, run, store):
    first = setup(run, store)
    sp_id, old = first["credential"]["service_principal_id"], first["credential"]["id"]
    content, before = store.read_bytes(), writes(fresh)
    with unwritable(store.parent):
        failed = run([cred(store, force_rotate=True)], expect_rc=2)
    # The store is tried before the create: nothing made, the old credential and the entry as they were.
    assert "cannot be written: its directory %s refuses a new file" % store.parent in failed.stdout, failed.stdout
    assert writes(fresh) == before and live_ids(fresh, sp_id) == [old] and store.read_bytes() == content
    duplicates, orphans = fresh.audit()
    assert orphans == [] and duplicates == []


def test_a_missing_store_directory_fails_before_the_create(fresh, run, store):
    missing = store.parent / "missing" / "principals.vault"
    failed = run([{SP: {"name": "Terraform CI"}}, cred(missing)], expect_rc=2)
    # The store is checked before the create: nothing made, so nothing to revoke.
    assert "does not exist; create it" in failed.stdout and "was revoked" not in failed.stdout
    assert fresh.audit()[1] == []  # no live credential whose secret nobody holds
    assert live_ids(fresh, principals_named(fresh, "Terraform CI")[0]["id"]) == []
    assert not missing.parent.exists()


def test_a_wrong_password_fails_before_any_write(fresh, run, store):
    setup(run, store)
    before, content = writes(fresh), store.read_bytes()
    task = cred(store, force_rotate=True)
    task[CRED]["store"]["password"] = "not the password"
    failed = run([task], expect_rc=2)
    assert "the password is wrong" in failed.stdout and "not the password" not in failed.output
    assert writes(fresh) == before and store.read_bytes() == content


def test_a_store_others_can_read_is_refused(fresh, run, store):
    setup(run, store)
    os.chmod(store, 0o640)
    before = writes(fresh)
    failed = run([cred(store, force_rotate=True)], expect_rc=2)
    assert "chmod 600 %s" % store in failed.stdout and writes(fresh) == before


def test_same_names_on_c1_and_orkes_are_two_entries(fresh, run, store):
    on_orkes = {"module_defaults": {"group/conductor.principals.all": {
        k: "{{ orkes_%s }}" % k for k in ("platform", "server_url", "client_id", "client_secret")}}}
    orkes_vars = {"orkes_%s" % k: v for k, v in orkes(fresh).items()}
    tasks = [
        {SP: {"name": "Terraform CI"}},
        cred(store),
        dict({"name": "orkes", "vars": orkes_vars, "block": [
            {SP: {"name": "Terraform CI"}},
            dict(cred(store), register="okey")]}, **on_orkes),
    ]
    first = run(tasks, keep=["cred", "okey"])
    stored = entries(store)
    orkes_entry = stored["conductor-principals/orkes/Terraform CI/ci"]
    assert orkes_entry["credential_id"] == first.results["okey"]["credential"]["id"]
    assert orkes_entry["client_secret"] == first.results["okey"]["client_secret"]
    assert stored[C1_ENTRY]["credential_id"] == first.results["cred"]["credential"]["id"]
    before, content = writes(fresh), store.read_bytes()
    again = run(tasks, keep=["cred", "okey"])
    assert not again.results["cred"]["changed"] and not again.results["okey"]["changed"]
    assert writes(fresh) == before and store.read_bytes() == content


def test_orkes_name_without_a_store_is_still_refused(fresh, run):
    failed = run([{SP: {"name": "app"}}, {CRED: {"service_principal": "app", "name": "ci"}}],
                 connection_vars=False, module_defaults=orkes(fresh), expect_rc=2)
    assert "name cannot be set on platform orkes" in failed.stdout


def test_state_absent_revokes_and_removes_the_entry(fresh, run, store):
    first = setup(run, store)
    other = run([cred(store, name="deploy")], keep=["cred"]).results["cred"]
    gone = run([cred(store, state="absent")], keep=["cred"]).results["cred"]
    assert gone["changed"] and gone["revoked_ids"] == [first["credential"]["id"]]
    assert list(entries(store)) == ["conductor-principals/conductorone/Terraform CI/deploy"]
    assert live_ids(fresh, first["credential"]["service_principal_id"]) == [other["credential"]["id"]]
    before = writes(fresh)
    assert run([cred(store, state="absent")], keep=["cred"]).results["cred"]["changed"] is False
    assert writes(fresh) == before


def test_check_mode_predicts_and_writes_nothing(fresh, run, store):
    checked = run([{SP: {"name": "Terraform CI"}}, cred(store)], keep=["cred"], check=True, diff=True)
    assert checked.results["cred"]["changed"] and writes(fresh) == 0 and not store.exists()
    assert checked.results["cred"]["stored"]["location"] == "%s#%s" % (store, C1_ENTRY)
    setup(run, store)
    rewrite(store, {})
    before, content = writes(fresh), store.read_bytes()
    predicted = run([cred(store)], keep=["cred"], check=True, diff=True)
    assert predicted.results["cred"]["changed"] and "not in the vault_file store" in predicted.results["cred"]["reason"]
    assert writes(fresh) == before and store.read_bytes() == content
    assert C1_ENTRY in predicted.stdout  # the diff names the entry


def test_by_principal_id_the_entry_is_keyed_by_its_name(fresh, run, store):
    sp = run([{SP: {"name": "Terraform CI"}, "register": "sp"}], keep=["sp"]).results["sp"]["service_principal"]
    made = run([{CRED: {"service_principal_id": sp["id"], "name": "ci", "store": {"path": str(store)}},
                 "register": "cred"}], keep=["cred"]).results["cred"]
    assert entries(store)[C1_ENTRY]["credential_id"] == made["credential"]["id"]


def test_verify_failure_revokes_the_new_credential_and_restores_the_entry(fresh, run, store):
    # The controller (127.0.0.1) is outside 192.0.2.0/24: the new secret cannot obtain a token.
    first = setup(run, store, allowed_cidrs=["192.0.2.0/24"])
    held = entries(store)
    failed = run([cred(store, allowed_cidrs=["192.0.2.0/24"], force_rotate=True, verify=True)], expect_rc=2)
    assert "did not obtain an access token" in failed.stdout and "put back as it was" in failed.stdout
    assert live_ids(fresh, first["credential"]["service_principal_id"]) == [first["credential"]["id"]]
    assert entries(store) == held
    proven = run([cred(store, allowed_cidrs=[], force_rotate=True, verify=True, replace_on_change=True)], keep=["cred"])
    assert proven.results["cred"]["revoked_ids"] == [first["credential"]["id"]]


def test_personal_client_is_stored_under_at_personal(fresh, run, store):
    made = run([{PERSONAL: {"name": "laptop", "expires_days": 30, "store": {"path": str(store)}},
                 "register": "cred"}], keep=["cred"]).results["cred"]
    entry = entries(store)["conductor-principals/conductorone/@personal/laptop"]
    assert entry["client_secret"] == made["client_secret"]
    before = writes(fresh)
    assert run([{PERSONAL: {"name": "laptop", "expires_days": 30, "store": {"path": str(store)}},
                 "register": "cred"}], keep=["cred"]).results["cred"]["changed"] is False
    assert writes(fresh) == before


def test_parallel_runs_sharing_one_store_lose_nothing(fresh, run, store, reliability):
    hosts = ["store%02d" % i for i in range(8)]
    tasks = [{SP: {"name": "par-{{ inventory_hostname }}"}}, cred(store, principal="par-{{ inventory_hostname }}")]
    run(tasks, hosts=hosts, forks=4)
    stored = entries(store)
    assert sorted(stored) == sorted("conductor-principals/conductorone/par-%s/ci" % h for h in hosts)
    reliability.received(entry["credential_id"] for entry in stored.values())  # the store holds their secrets
    by_principal = {name: ids for name, ids in fresh.inventory()["conductorone"] if name.startswith("par-")}
    for entry in stored.values():
        assert by_principal[entry["names"]["principal"]] == [entry["credential_id"]]
    before, content = writes(fresh), store.read_bytes()
    run(tasks, hosts=hosts, forks=4)
    assert writes(fresh) == before and store.read_bytes() == content
    assert fresh.audit() == ([], [])
