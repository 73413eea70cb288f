# -*- coding: utf-8 -*-
"""Batches of store calls (service_principals): vault_file reads and writes its file once per batch."""

from __future__ import annotations

import json

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    EntryKey, StoreConflictError, store_for)
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content
from ansible_collections.conductor.principals.plugins.module_utils.stores.vault_file import Store, version_of
from ansible_collections.conductor.principals.tests.unit.helpers import MemoryStore

PASSWORD = "correct horse battery staple"


def opened(path):
    return store_for({"type": "vault_file", "path": str(path), "password": PASSWORD})


def decrypted(path):
    lib = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    return json.loads(lib.decrypt(open(path, "rb").read()))


def content(key, credential_id, secret="s3cret-%s"):
    return entry_content(key, {"id": credential_id, "expires_at": None}, "fox@tenant/spc", secret % credential_id,
                         "https://tenant.example")


KEYS = [EntryKey("conductorone", "app-%d" % n, "ci") for n in range(5)]


def counting(monkeypatch, name):
    calls = []
    original = getattr(Store, name)

    def counted(self, *args, **kwargs):
        calls.append(name)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Store, name, counted)
    return calls


def test_write_many_writes_the_file_once_and_every_entry(tmp_path, monkeypatch):
    path = tmp_path / "store.vault"
    store = opened(path)
    saves = counting(monkeypatch, "_save")
    done, errors = store.write_many([(key, content(key, "c%d" % n), None) for n, key in enumerate(KEYS)])
    assert errors == {} and set(done) == set(KEYS) and len(saves) == 1
    entries = decrypted(path)["entries"]
    assert sorted(e["credential_id"] for e in entries.values()) == ["c0", "c1", "c2", "c3", "c4"]
    assert done[KEYS[2]] == version_of(entries[store.path(KEYS[2])])


def test_a_conflict_refuses_that_entry_only(tmp_path):
    path = tmp_path / "store.vault"
    store = opened(path)
    store.write(KEYS[0], content(KEYS[0], "old"), None)
    done, errors = store.write_many([(KEYS[0], content(KEYS[0], "new"), None), (KEYS[1], content(KEYS[1], "c1"), None)])
    assert set(done) == {KEYS[1]} and isinstance(errors[KEYS[0]], StoreConflictError)
    assert "old" == store.read(KEYS[0]).content["credential_id"]
    assert "s3cret" not in errors[KEYS[0]].message


def test_read_many_decrypts_once(tmp_path, monkeypatch):
    path = tmp_path / "store.vault"
    store = opened(path)
    store.write_many([(key, content(key, "c%d" % n), None) for n, key in enumerate(KEYS[:3])])
    store = opened(path)
    loads = counting(monkeypatch, "_load")
    found, errors = store.read_many(KEYS)
    assert errors == {} and len(loads) == 1
    assert [found[k].content["credential_id"] if found[k] else None for k in KEYS] == ["c0", "c1", "c2", None, None]


def test_delete_many_in_one_write(tmp_path, monkeypatch):
    path = tmp_path / "store.vault"
    store = opened(path)
    store.write_many([(key, content(key, "c%d" % n), None) for n, key in enumerate(KEYS)])
    saves = counting(monkeypatch, "_save")
    done, errors = store.delete_many(KEYS[:3] + [EntryKey("conductorone", "nobody", "x")])
    assert errors == {} and len(done) == 4 and len(saves) == 1
    assert sorted(k.principal for k in store.list()) == ["app-3", "app-4"]


def test_the_base_batches_loop_and_keep_each_error_to_its_entry():
    store = MemoryStore()  # a store in a dict: the base class's batches loop over its single calls
    store.write(KEYS[0], content(KEYS[0], "old"))
    done, errors = store.write_many([(k, content(k, "n"), None) for k in KEYS[:3]])
    assert set(done) == set(KEYS[1:3]) and list(errors) == [KEYS[0]]
    assert [w[:2] for w in store.writes] == [("store write", k) for k in KEYS[:3]]
    found, errors = store.read_many(KEYS[:4])
    assert errors == {} and found[KEYS[3]] is None and found[KEYS[1]].content["credential_id"] == "n"
    done, errors = store.delete_many(KEYS[:2])
    assert set(done) == set(KEYS[:2]) and store.read(KEYS[0]) is None
