# -*- coding: utf-8 -*-
"""store_entries' reads and removals on a real vault_file store in a temporary directory."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.action.store_entries import read_entries, remove_principals
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


def test_remove_principals_touches_only_that_platform_and_name(store):
    assert remove_principals(store, [{"platform": "conductorone", "name": "ci"}], check_mode=True) == [
        store.location(EntryKey("conductorone", "ci", "a")), store.location(EntryKey("conductorone", "ci", "b"))]
    assert len(store.list()) == 4  # check mode removes nothing
    removed = remove_principals(store, [{"platform": "conductorone", "name": "ci"}], check_mode=False)
    assert len(removed) == 2
    assert sorted(store.list()) == [EntryKey("conductorone", "other", "a"), EntryKey("orkes", "ci", "a")]
    assert remove_principals(store, [{"platform": "conductorone", "name": "ci"}], check_mode=False) == []
