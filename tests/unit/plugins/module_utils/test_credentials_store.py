# -*- coding: utf-8 -*-
"""The credential core with a secret store: a real vault_file store on disk, the in-memory adapter."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Capabilities, Owner
from ansible_collections.conductor.principals.plugins.module_utils.credentials import CredentialRun
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, StoreError
from ansible_collections.conductor.principals.plugins.module_utils.stores.vault_file import Store as VaultFileStore
from ansible_collections.conductor.principals.tests.unit.helpers import NOW, OnePrincipalPlatform, credential_params

KEY = EntryKey("conductorone", "Terraform CI", "ci")


class OrkesMemoryAdapter(OnePrincipalPlatform):
    capabilities = Capabilities(platform="orkes", credentials_can_pause=True,
                                credential_settings=frozenset(("enabled",)))

    def create_credential(self, owner, desired):
        """Nameless keys that never expire, and secrets without the shape redact() knows."""
        credential, _secret = super().create_credential(owner, dict(desired, name=None, expires_days=None))
        secret = self.secrets[credential["id"]] = "orkes-secret-%s" % credential["id"]
        return credential, secret


class FailingWrites(VaultFileStore):
    """A vault_file store whose writes fail the way a full disk would, and that counts every call."""

    def __init__(self, options, environ=None):
        super().__init__(options, environ)
        self.fail_writes = False
        self.calls = []

    def read(self, key):
        self.calls.append("read")
        return super().read(key)

    def write_many(self, writes):
        self.calls.extend("write" for _write in writes)
        if self.fail_writes:
            raise StoreError("Could not write the vault_file store /x: No space left on device")
        return super().write_many(writes)

    def write(self, key, content, version=None):
        self.calls.append("write")
        if self.fail_writes:
            raise StoreError("Could not write the vault_file store /x: No space left on device")
        return super().write(key, content, version)

    def delete_many(self, keys):
        self.calls.extend("delete" for _key in keys)
        return super().delete_many(keys)

    def delete(self, key):
        self.calls.append("delete")
        return super().delete(key)


@pytest.fixture
def store(tmp_path):
    return FailingWrites({"type": "vault_file", "path": str(tmp_path / "s.vault"), "password": "pw"})


def ensure(adapter, store, key=KEY, check_mode=False, prover=None, **overrides):
    return CredentialRun(adapter, Owner.principal("sp"), credential_params(**overrides), check_mode=check_mode, now=NOW,
                         store=store, key=key, server_url="https://tenant.example", prover=prover).ensure()


def test_create_writes_the_entry_then_a_rerun_writes_nothing(store):
    adapter = OnePrincipalPlatform()
    first = ensure(adapter, store)
    entry = store.read(KEY).content
    assert entry["client_secret"] == first["client_secret"] and entry["credential_id"] == first["credential"]["id"]
    assert entry["server_url"] == "https://tenant.example" and entry["platform"] == "conductorone"
    assert first["stored"] == {"type": "vault_file", "location": store.location(KEY)}
    writes, calls = list(adapter.writes), len([c for c in store.calls if c != "read"])
    again = ensure(adapter, store)
    assert not again["changed"] and "client_secret" not in again
    assert adapter.writes == writes and len([c for c in store.calls if c != "read"]) == calls


def test_a_missing_entry_or_one_holding_another_credential_rotates(store):
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci")
    missing = ensure(adapter, store)
    assert missing["rotated"] and "not in the vault_file store" in missing["reason"]
    assert missing["revoked_ids"] == [old["id"]]
    new_id = missing["credential"]["id"]
    VaultFileStore.write(store, KEY, dict(store.read(KEY).content, credential_id="someone-else"), store.read(KEY).version)
    other = ensure(adapter, store)
    assert "holds credential someone-else, not the live credential %s" % new_id in other["reason"]
    assert other["revoked_ids"] == [new_id] and store.read(KEY).content["credential_id"] == other["credential"]["id"]


def test_a_failed_store_write_revokes_the_new_credential_and_keeps_the_old(store):
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci")
    store.fail_writes = True
    with pytest.raises(ConductorError) as caught:
        ensure(adapter, store, force_rotate=True)
    message = str(caught.value)
    created = adapter.writes[0]
    assert [w[0] for w in adapter.writes] == ["create", "revoke"]
    assert list(adapter.live()) == [old["id"]]  # the old one is live, the new one gone
    assert "No space left on device" in message and "stays live" in message and old["id"] in message
    assert "secret-token" not in message and created
    assert store.read(KEY) is None


def test_verify_failure_revokes_the_new_one_and_puts_the_entry_back(store):
    adapter = OnePrincipalPlatform()
    first = ensure(adapter, store)
    before = store.read(KEY)

    def refuse(credential, secret):
        raise ConductorError("the token endpoint said invalid_client for %s" % secret)

    with pytest.raises(ConductorError) as caught:
        ensure(adapter, store, force_rotate=True, verify=True, prover=refuse)
    message = str(caught.value)
    assert "did not obtain an access token" in message and "put back" in message and "secret-token" not in message
    assert list(adapter.live()) == [first["credential"]["id"]]
    assert store.read(KEY).content == before.content


def test_a_failed_put_back_names_the_failure_without_either_secret(store):
    adapter = OrkesMemoryAdapter()  # its secrets have no shape redact() knows: only the explicit list hides them
    key = EntryKey("orkes", "Order Worker", "worker-key")
    old_secret = ensure(adapter, store, key=key)["client_secret"]
    written = []
    write_many = store.write_many

    def recording_write_many(writes):
        written.extend(content["client_secret"] for _key, content, _version in writes)
        return write_many(writes)

    def echoing_write(key, content, version=None):
        # The put-back after a failed proof fails with an error quoting the new secret and what it was given.
        raise StoreError("write refused: %s / %s" % (written[0], content["client_secret"]))

    store.write_many, store.write = recording_write_many, echoing_write

    def refuse(credential, secret):
        raise ConductorError("invalid_client")

    with pytest.raises(ConductorError) as caught:
        ensure(adapter, store, key=key, force_rotate=True, verify=True, prover=refuse)
    message = str(caught.value)
    assert "putting its store entry back failed (write refused:" in message
    assert written and written[0] not in message and old_secret not in message


def test_verify_success_revokes_the_previous_only_after_the_proof(store):
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci")
    seen = []

    def prove(credential, secret):
        seen.append((credential["id"], list(adapter.live())))

    result = ensure(adapter, store, verify=True, prover=prove)
    assert seen == [(result["credential"]["id"], [old["id"], result["credential"]["id"]])]
    assert result["revoked_ids"] == [old["id"]]


def test_absent_revokes_then_deletes_the_entry(store):
    adapter = OnePrincipalPlatform()
    ensure(adapter, store)
    gone = ensure(adapter, store, state="absent")
    assert gone["changed"] and adapter.live() == {} and store.read(KEY) is None
    assert not ensure(adapter, store, state="absent")["changed"]


def test_check_mode_reads_the_store_and_writes_nothing(store):
    adapter = OnePrincipalPlatform()
    adapter.add("ci")
    result = ensure(adapter, store, check_mode=True)
    assert result["changed"] and "not in the vault_file store" in result["reason"]
    assert result["diff"]["before"]["stored"] is None
    assert result["diff"]["after"]["stored"]["location"] == store.location(KEY)
    assert adapter.writes == [] and set(store.calls) == {"read"}


def test_orkes_names_are_store_keys_and_keep_apart_keys_of_one_application(store):
    adapter = OrkesMemoryAdapter()
    ci, deploy = EntryKey("orkes", "app", "ci"), EntryKey("orkes", "app", "deploy")
    first = ensure(adapter, store, key=ci)
    second = ensure(adapter, store, key=deploy, name="deploy")
    assert first["credential"]["id"] != second["credential"]["id"]
    assert second["revoked_ids"] == [] and len(adapter.live()) == 2
    writes = list(adapter.writes)
    assert not ensure(adapter, store, key=ci)["changed"]
    assert not ensure(adapter, store, key=deploy, name="deploy")["changed"]
    assert adapter.writes == writes
    gone = ensure(adapter, store, key=ci, state="absent")
    assert gone["revoked_ids"] == [first["credential"]["id"]]
    assert list(adapter.live()) == [second["credential"]["id"]]


def test_orkes_name_without_a_store_is_still_refused():
    with pytest.raises(ConfigError) as caught:
        CredentialRun(OrkesMemoryAdapter(), Owner.principal("sp"), credential_params(), now=NOW).ensure()
    assert "name cannot be set on platform orkes" in str(caught.value)


def test_a_wave_of_plans_is_applied_as_ensure_applies_one(store):
    """A bulk caller plans every task, then applies the plans as one wave (apply_wave): create, keep, prove, retire."""
    from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import result_of
    from ansible_collections.conductor.principals.plugins.module_utils.credentials import Item, apply_wave
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci", age_days=80)
    keys = {name: EntryKey("conductorone", "Terraform CI", name) for name in ("ci", "deploy")}
    runs = {name: CredentialRun(adapter, Owner.principal("sp"),
                                credential_params(name=name, rotate_before_days=30, verify=True), now=NOW, store=store,
                                key=keys[name], server_url="https://tenant.example")
            for name in keys}
    plans = {name: run.plan() for name, run in runs.items()}
    assert {name: p.action for name, p in plans.items()} == {"ci": "rotate", "deploy": "create"}
    assert adapter.writes == []  # planning writes nothing
    proven = []
    done = apply_wave(adapter, [Item(plans[name], keys[name]) for name in keys], store,
                      server_url="https://tenant.example",
                      prover=lambda credential, secret: proven.append(credential["id"]))
    assert [d.error for d in done] == [None, None]
    results = {name: result_of(plans[name], d.applied) for name, d in zip(keys, done)}
    created = {name: d.applied.credential["id"] for name, d in zip(keys, done)}
    assert adapter.writes == [("create", created["ci"]), ("create", created["deploy"]), ("revoke", old["id"])]
    assert proven == [created["ci"], created["deploy"]]
    assert results["ci"]["revoked_ids"] == [old["id"]] and results["ci"]["rotated"] is True
    for name, d in zip(keys, done):
        assert store.read(keys[name]).content["client_secret"] == results[name]["client_secret"]
        assert store.read(keys[name]).version == d.version
    # a rerun of each task plans nothing to do
    assert {name: run.plan().action for name, run in runs.items()} == {"ci": "keep", "deploy": "keep"}
