# -*- coding: utf-8 -*-
"""store_entries' reads and removals on a real vault_file store in a temporary directory."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.action.store_entries import read_entries, remove_principals
from ansible_collections.conductor.principals.plugins.module_utils.platforms import ADAPTERS
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content


@pytest.fixture
def store(tmp_path):
    store = store_for({"type": "vault_file", "path": str(tmp_path / "s.vault"), "password": "pw"}, {})
    for key in (EntryKey("conductorone", "ci", "a"), EntryKey("conductorone", "ci", "b"),
                EntryKey("orkes", "ci", "a"), EntryKey("conductorone", "other", "a")):
        store.write(key, entry_content(key, {"id": "id-" + "-".join(key)}, "cid", "secret-" + key.platform, "url"))
    return store


def test_read_returns_what_exists_by_platform_without_bookkeeping(store):
    found = read_entries(store, [{"platform": "conductorone", "principal": "ci", "credential": "a"},
                                 {"platform": "orkes", "principal": "ci", "credential": "a"},
                                 {"platform": "orkes", "principal": "ci", "credential": "missing"}])
    assert sorted(found) == ["conductorone", "orkes"]
    assert found["orkes"]["ci"]["a"]["client_secret"] == "secret-orkes"
    assert found["conductorone"]["ci"]["a"]["credential_id"] == "id-conductorone-ci-a"
    assert "names" not in found["conductorone"]["ci"]["a"]


def test_many_keys_are_read_with_one_decryption(store, monkeypatch):
    from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
    decrypts = []
    load = vault_file.Store._load
    monkeypatch.setattr(vault_file.Store, "_load", lambda self, **kw: decrypts.append(1) or load(self, **kw))
    keys = [{"platform": "conductorone", "principal": "ci", "credential": c} for c in ("a", "b", "c", "d")]
    found = read_entries(store, keys)
    assert sorted(found["conductorone"]["ci"]) == ["a", "b"] and len(decrypts) == 1


class Tenant(ADAPTERS["conductorone"]):
    """The ConductorOne adapter over a tenant held in memory: {principal ID: (name, [credential IDs])}."""

    def __init__(self, principals):
        super().__init__(client=None)
        self.principals = principals
        self.listed = []

    def list_principals(self):
        return [{"id": i, "name": name} for i, (name, _ids) in self.principals.items()]

    def list_credentials(self, owner):
        self.listed.append(owner)
        return [{"id": i} for i in self.principals[owner][1]]


def test_remove_principals_touches_only_that_platform_and_name_and_what_is_gone(store):
    everything_gone = Tenant({})
    assert remove_principals(store, [{"platform": "conductorone", "name": "ci"}], True, everything_gone) == ([
        store.location(EntryKey("conductorone", "ci", "a")), store.location(EntryKey("conductorone", "ci", "b"))], [])
    assert len(store.list()) == 4  # check mode removes nothing
    removed, kept = remove_principals(store, [{"platform": "conductorone", "name": "ci"}], False, everything_gone)
    assert len(removed) == 2 and kept == []
    assert sorted(store.list()) == [EntryKey("conductorone", "other", "a"), EntryKey("orkes", "ci", "a")]
    assert remove_principals(store, [{"platform": "conductorone", "name": "ci"}], False, everything_gone) == ([], [])


def test_remove_principals_keeps_an_entry_whose_credential_lives_under_a_new_name(store):
    """An older entry (no service_principal_id): its principal is the one that owns its credential."""
    renamed = Tenant({"sp": ("renamed", ["id-conductorone-ci-a"]), "theirs": ("ci", ["x"])})
    removed, kept = remove_principals(store, [{"platform": "conductorone", "name": "ci"}], False, renamed)
    assert kept == [store.location(EntryKey("conductorone", "ci", "a"))]
    assert removed == [store.location(EntryKey("conductorone", "ci", "b"))]
    assert renamed.listed == ["theirs", "sp"]  # under the entry's name first, then the rest of the tenant
