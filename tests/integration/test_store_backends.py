# -*- coding: utf-8 -*-
"""sp_credential with a hashi_vault store (a real ``bao server -dev``) and an aws_secretsmanager store
(a real moto server), through real ansible-playbook runs.

Entries are read back here with the servers' own APIs (plain HTTP for bao, boto3 for moto), not with
the collection's store code. Every run goes through the conftest leak check, which also looks for the
Vault root token, the unseal key, every token and AppRole secret ID handed out and the AWS keys
(tests/servers.py).
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from helpers import CRED, SP, c1_secret_works, live_credentials, writes
from store_servers import PATH, READ_ONLY_POLICY, Aws, Vault


@pytest.fixture(params=["hashi_vault", "aws_secretsmanager"])
def backend(request):
    if request.param == "hashi_vault":
        bao = request.getfixturevalue("bao_server")
        bao.wipe()
        yield Vault(bao)
        bao.wipe()
    else:
        moto = request.getfixturevalue("moto_server")
        moto.reset()
        yield Aws(moto)
        moto.reset()


@pytest.fixture
def run(fresh, playbook, backend):
    def go(tasks, extra_env=None, **kwargs):
        return playbook(tasks, extra_env=dict(backend.env, **(extra_env or {})), **kwargs)
    return go


def cred(backend, store=None, **extra):
    return {CRED: dict({"service_principal": "Terraform CI", "name": "ci", "store": store or backend.options()},
                       **extra), "register": "cred"}


def live_ids(sandbox, sp_id):
    return sorted(c["id"] for c in live_credentials(sandbox, sp_id))


def setup(run, backend):
    return run([{SP: {"name": "Terraform CI"}}, cred(backend)], keep=["cred"]).results["cred"]


def test_create_stores_the_entry_before_returning_and_a_rerun_writes_nothing(fresh, run, backend):
    # The second task reads the entry back with the lookup in the same play: it is there once the module returned.
    made = run([{SP: {"name": "Terraform CI"}}, cred(backend), {
        "ansible.builtin.set_fact": {"read_back": "{{ lookup('conductor.principals.stored_credential', "
                                                  "'Terraform CI/ci', store=%s) }}" % json.dumps(backend.options())},
        "no_log": True}], keep=["cred", "read_back"]).results
    result = made["cred"]
    entry = backend.entry()
    assert entry == made["read_back"]
    assert entry["client_secret"] == result["client_secret"] and entry["client_id"] == result["client_id"]
    assert entry["credential_id"] == result["credential"]["id"] and entry["platform"] == "conductorone"
    assert entry["server_url"] == result["server_url"] and entry["expires_at"] == result["credential"]["expires_at"]
    assert entry["names"] == {"principal": "Terraform CI", "credential": "ci"}
    assert result["stored"] == {"type": backend.type, "location": backend.location}
    labels = backend.labels()
    if backend.type == "hashi_vault":
        assert labels == {"managed_by": "conductor.principals", "platform": "conductorone",
                          "principal": "Terraform CI", "credential": "ci",
                          "credential_id": result["credential"]["id"], "expires_at": result["credential"]["expires_at"]}
    else:
        assert labels == {"managed-by": "conductor.principals", "conductor-principals:platform": "conductorone",
                          "conductor-principals:principal": "Terraform CI", "conductor-principals:credential": "ci"}
    assert c1_secret_works(fresh, entry["client_id"], entry["client_secret"])

    before_api, before_store = writes(fresh), backend.state()
    again = run([cred(backend)], keep=["cred"]).results["cred"]
    assert again["changed"] is False and "client_secret" not in again and again["stored"] == result["stored"]
    assert writes(fresh) == before_api, "the rerun wrote to the API"
    assert backend.state() == before_store, "the rerun wrote to the store"


def test_force_rotate_writes_a_new_version_and_the_old_secret_stops_working(fresh, run, backend):
    first = setup(run, backend)
    rotated = run([cred(backend, force_rotate=True)], keep=["cred"]).results["cred"]
    assert rotated["rotated"] and rotated["revoked_ids"] == [first["credential"]["id"]]
    assert backend.entry()["client_secret"] == rotated["client_secret"]
    assert backend.previous()["client_secret"] == first["client_secret"]  # the version before stays readable
    assert c1_secret_works(fresh, rotated["client_id"], rotated["client_secret"])
    assert not c1_secret_works(fresh, first["client_id"], first["client_secret"])  # retired


def test_an_overlap_keeps_both_secrets_until_the_old_one_is_retired(fresh, run, backend):
    first = setup(run, backend)
    sp_id = first["credential"]["service_principal_id"]
    overlap = run([cred(backend, force_rotate=True, revoke_previous=False)], keep=["cred"]).results["cred"]
    assert overlap["revoked_ids"] == [] and live_ids(fresh, sp_id) == sorted(
        [first["credential"]["id"], overlap["credential"]["id"]])
    assert backend.entry()["credential_id"] == overlap["credential"]["id"]
    assert backend.previous()["credential_id"] == first["credential"]["id"]
    if backend.type == "aws_secretsmanager":
        assert sorted(sum(backend.stages().values(), [])) == ["AWSCURRENT", "AWSPREVIOUS"]
    assert c1_secret_works(fresh, first["client_id"], first["client_secret"])
    assert c1_secret_works(fresh, overlap["client_id"], overlap["client_secret"])

    before_store = backend.state()
    cutover = run([cred(backend)], keep=["cred"]).results["cred"]
    assert cutover["revoked_ids"] == [first["credential"]["id"]]
    assert not c1_secret_works(fresh, first["client_id"], first["client_secret"])
    assert c1_secret_works(fresh, overlap["client_id"], overlap["client_secret"])
    assert backend.state() == before_store  # the cutover revokes; the entry already holds the new secret


def _refusing(backend):
    """(store options, environment) with which the store reads but refuses writes."""
    if backend.type == "hashi_vault":
        return backend.options(token=None), {"VAULT_TOKEN": backend.bao.token_with_policy("reader", READ_ONLY_POLICY)}
    reader = backend.moto.iam_user("reader", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"])
    backend.moto.enforce_iam(True)
    return backend.options(), reader


def test_a_store_that_refuses_the_write_revokes_the_new_credential_and_keeps_the_old(fresh, run, backend):
    first = setup(run, backend)
    sp_id, old = first["credential"]["service_principal_id"], first["credential"]["id"]
    before_store = backend.state()
    store, env = _refusing(backend)
    try:
        task = cred(backend, store={k: v for k, v in store.items() if v is not None}, force_rotate=True)
        failed = run([task], extra_env=env, expect_rc=2)
    finally:
        if backend.type == "aws_secretsmanager":
            backend.moto.enforce_iam(False)
    message = [line for line in failed.stdout.splitlines() if "Could not write the secret" in line]
    assert message, failed.stdout[-3000:]
    assert "to the %s store" % backend.type in message[0]
    assert "refused" in message[0] and "was revoked and the previous credential %s stays live" % old in message[0]
    assert live_ids(fresh, sp_id) == [old]
    assert backend.state() == before_store and backend.entry()["credential_id"] == old
    assert c1_secret_works(fresh, first["client_id"], first["client_secret"])
    duplicates, orphans = fresh.audit()
    assert orphans == [] and duplicates == []


@pytest.mark.parametrize("failure, expected", [
    ("sealed", "Vault is sealed or unavailable; unseal it"),
    ("wrong token", "Vault refused the token"),
    ("missing mount", "there is no secrets engine mounted at nosuch/"),
])
def test_a_vault_that_refuses_fails_with_one_sentence_and_keeps_the_old_credential(
        fresh, playbook, bao_server, failure, expected):
    backend = Vault(bao_server)
    bao_server.wipe()
    made = playbook([{SP: {"name": "Terraform CI"}}, cred(backend)], extra_env=backend.env, keep=["cred"])
    first = made.results["cred"]
    sp_id = first["credential"]["service_principal_id"]
    env, store = dict(backend.env), backend.options()
    if failure == "wrong token":
        env["VAULT_TOKEN"] = "not-a-valid-vault-token-4711"
    elif failure == "missing mount":
        store["mount_point"] = "nosuch"
    before = writes(fresh)
    if failure == "sealed":
        bao_server.seal()
    try:
        failed = playbook([cred(backend, store=store, force_rotate=True)], extra_env=env, expect_rc=2)
    finally:
        if failure == "sealed":
            bao_server.unseal()
    lines = [line for line in failed.stdout.splitlines() if expected in line]
    assert lines, failed.stdout[-3000:]
    assert "The hashi_vault store could not read %s/%s at %s" % (
        store.get("mount_point", "secret"), PATH, bao_server.url) in lines[0]
    assert "not-a-valid-vault-token-4711" not in failed.output
    # Vault refused the read, so nothing was created: the old credential stays, the entry too.
    assert writes(fresh) == before and live_ids(fresh, sp_id) == [first["credential"]["id"]]
    assert backend.entry()["credential_id"] == first["credential"]["id"]
    bao_server.wipe()


def test_state_absent_revokes_and_removes_the_entry_and_its_history(fresh, run, backend):
    first = setup(run, backend)
    run([cred(backend, force_rotate=True)], keep=["cred"])
    gone = run([cred(backend, state="absent")], keep=["cred"]).results["cred"]
    assert gone["changed"] and not backend.exists()
    assert live_ids(fresh, first["credential"]["service_principal_id"]) == []
    before = writes(fresh)
    assert run([cred(backend, state="absent")], keep=["cred"]).results["cred"]["changed"] is False
    assert writes(fresh) == before


def test_approle_login_through_the_module(fresh, playbook, bao_server):
    bao_server.wipe()
    role_id, secret_id = bao_server.approle(
        "conductor-writer", 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }')
    store = {"type": "hashi_vault", "url": bao_server.url, "role_id": role_id, "secret_id": "{{ vault_secret_id }}"}
    made = playbook([{SP: {"name": "Terraform CI"}}, dict(cred(None, store=store), vars={
        "vault_secret_id": secret_id})], keep=["cred"])
    assert Vault(bao_server).entry()["client_secret"] == made.results["cred"]["client_secret"]
    bao_server.wipe()


def test_parallel_runs_sharing_one_store_lose_nothing(fresh, run, backend, reliability, monkeypatch):
    hosts = ["store%02d" % i for i in range(6)]
    tasks = [{SP: {"name": "par-{{ inventory_hostname }}"}},
             {CRED: {"service_principal": "par-{{ inventory_hostname }}", "name": "ci", "store": backend.options()}}]
    run(tasks, hosts=hosts, forks=3)
    for name, value in backend.env.items():  # for boto3 here, as for the playbook runs
        monkeypatch.setenv(name, value)
    store = store_for(backend.options(), backend.env)
    keys = sorted(store.list("conductorone"))
    assert keys == sorted(EntryKey("conductorone", "par-" + h, "ci") for h in hosts)
    held = {key.principal: store.read(key).content["credential_id"] for key in keys}
    reliability.received(held.values())  # the store holds their secrets
    by_principal = {name: ids for name, ids in fresh.inventory()["conductorone"] if name.startswith("par-")}
    assert {name: [held[name]] for name in held} == by_principal
    before, state = writes(fresh), [store.read(key) for key in keys]
    run(tasks, hosts=hosts, forks=3)
    assert writes(fresh) == before and [store.read(key) for key in keys] == state
    assert fresh.audit() == ([], [])


def test_check_mode_reads_the_store_and_writes_nothing(fresh, run, backend):
    checked = run([{SP: {"name": "Terraform CI"}}, cred(backend)], keep=["cred"], check=True, diff=True)
    assert checked.results["cred"]["changed"] and writes(fresh) == 0 and not backend.exists()
    assert checked.results["cred"]["stored"] == {"type": backend.type, "location": backend.location}
    setup(run, backend)
    before_api, before_store = writes(fresh), backend.state()
    predicted = run([cred(backend, force_rotate=True)], keep=["cred"], check=True, diff=True)
    assert predicted.results["cred"]["changed"]
    assert writes(fresh) == before_api and backend.state() == before_store


def test_a_token_given_as_an_option_stays_out_of_every_output(fresh, playbook, bao_server):
    bao_server.wipe()
    backend = Vault(bao_server)
    store = {"type": "hashi_vault", "url": bao_server.url, "token": "{{ vault_token }}"}
    task = dict(cred(None, store=store), vars={"vault_token": bao_server.token})
    done = playbook([{SP: {"name": "Terraform CI"}}, task], keep=["cred"])  # the conftest scans for the token
    assert backend.entry()["credential_id"] == done.results["cred"]["credential"]["id"]
    failing = dict(cred(None, store=dict(store, mount_point="nosuch"), force_rotate=True),
                   vars={"vault_token": bao_server.token})
    failed = playbook([failing], expect_rc=2)
    assert "no secrets engine mounted at nosuch/" in failed.stdout and bao_server.token not in failed.output
    bao_server.wipe()


# Data writes allowed, metadata only read, listed and deleted: Vault refuses the second step of a write.
NO_METADATA_UPDATE_POLICY = '''
path "secret/data/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "secret/metadata/*" { capabilities = ["read", "list", "delete"] }
'''


def test_a_refused_metadata_step_keeps_the_written_secret_held_with_a_warning(fresh, playbook, bao_server):
    backend = Vault(bao_server)
    bao_server.wipe()
    env = dict(backend.env, VAULT_TOKEN=bao_server.token_with_policy("no-metadata-update", NO_METADATA_UPDATE_POLICY))
    made = playbook([{SP: {"name": "Terraform CI"}}, cred(backend)], extra_env=env, keep=["cred"]).results["cred"]
    credential = made["credential"]
    assert made["changed"] and made["stored"] == {"type": "hashi_vault", "location": backend.location}
    assert [w for w in made.get("warnings", []) if "custom metadata" in w], made.get("warnings")
    entry = backend.entry()
    assert entry["credential_id"] == credential["id"] and entry["client_secret"] == made["client_secret"]
    assert live_ids(fresh, credential["service_principal_id"]) == [credential["id"]]
    assert c1_secret_works(fresh, entry["client_id"], entry["client_secret"])

    before_api, before_store = writes(fresh), backend.state()
    again = playbook([cred(backend)], extra_env=env, keep=["cred"]).results["cred"]
    assert again["changed"] is False and writes(fresh) == before_api and backend.state() == before_store
    assert fresh.audit() == ([], [])
    bao_server.wipe()


@pytest.mark.parametrize("principal, credential", [
    ("Terraform \u202eCI", "ci"),  # RIGHT-TO-LEFT OVERRIDE: not printable, Vault refuses it in metadata
    ("Terraform CI", "\u00e9" * 257),  # 514 bytes in UTF-8: over Vault's 512-byte metadata value
], ids=["unprintable", "over-512-bytes"])
def test_names_vault_refuses_in_metadata_are_stored_once(fresh, playbook, bao_server, principal, credential):
    bao_server.wipe()
    backend = Vault(bao_server)
    task = {CRED: {"service_principal": principal, "name": credential, "store": backend.options()},
            "register": "cred"}
    made = playbook([{SP: {"name": principal}}, task], extra_env=backend.env, keep=["cred"]).results["cred"]
    credential_id, sp_id = made["credential"]["id"], made["credential"]["service_principal_id"]
    store = store_for(backend.options(), backend.env)
    key = EntryKey("conductorone", principal, credential)
    assert store.read(key).content["credential_id"] == credential_id
    assert store.list("conductorone") == [key]
    assert live_ids(fresh, sp_id) == [credential_id]

    before = writes(fresh)
    again = playbook([task], extra_env=backend.env, keep=["cred"]).results["cred"]
    assert again["changed"] is False and writes(fresh) == before
    assert live_ids(fresh, sp_id) == [credential_id] and fresh.audit() == ([], [])
    bao_server.wipe()


def test_service_principals_keeps_its_new_secrets_with_a_warning_when_vault_refuses_metadata(
        fresh, playbook, bao_server, reliability):
    bao_server.wipe()
    backend = Vault(bao_server)
    env = dict(backend.env, VAULT_TOKEN=bao_server.token_with_policy("no-metadata-update", NO_METADATA_UPDATE_POLICY))
    task = {"conductor.principals.service_principals": {
        "principals": [{"name": "Terraform CI", "credentials": [{"name": "ci"}]}], "store": backend.options()},
        "register": "tenant"}
    made = playbook([task], extra_env=env, keep=["tenant"]).results["tenant"]
    assert made["changed"] and made["summary"]["failed"] == 0, made.get("msg")
    assert [w for w in made.get("warnings", []) if "custom metadata" in w], made.get("warnings")
    entry = backend.entry()
    assert c1_secret_works(fresh, entry["client_id"], entry["client_secret"])
    assert [c["id"] for c in made["credentials"]] == [entry["credential_id"]]
    reliability.received([entry["credential_id"]])  # the store holds its secret, and it works

    before_api, before_store = writes(fresh), backend.state()
    again = playbook([task], extra_env=env, keep=["tenant"]).results["tenant"]
    assert again["changed"] is False and writes(fresh) == before_api and backend.state() == before_store
    assert fresh.audit() == ([], [])
    bao_server.wipe()
