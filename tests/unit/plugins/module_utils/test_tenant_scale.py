# -*- coding: utf-8 -*-
"""service_principals over many principals into a vault_file store: no step that grows with the store per item
(the file decrypted once a run, its rewrites a constant per item), the engine on MemoryPlatform."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.report import credential_report, held_by
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for, vault_file
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import StoreError
from ansible_collections.conductor.principals.plugins.module_utils.tenant import WAVE_FACTOR, WAVE_GROWTH, TenantRun
from ansible_collections.conductor.principals.tests.unit.helpers import (
    TENANT_DEFAULTS, MemoryPlatform, ReportPlatform, TenantClient, run_tenant_task)

DEFAULTS = TENANT_DEFAULTS


def vault(tmp_path):
    return store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"})


@pytest.fixture
def crypto(monkeypatch):
    """Every decryption, and the number of entries each encryption of the file held."""
    seen = SimpleNamespace(decrypts=0, encrypted=[])
    read, save = vault_file._VaultPieces.read, vault_file.Store._save

    def counted_read(self, handle):
        seen.decrypts += 1
        return read(self, handle)

    def counted_save(self, entries):
        seen.encrypted.append(len(entries))
        return save(self, entries)
    monkeypatch.setattr(vault_file._VaultPieces, "read", counted_read)
    monkeypatch.setattr(vault_file.Store, "_save", counted_save)
    return seen


def run_tenant(platform, store_path, count, parallelism=1, prune=False):
    """One service_principals task over ``count`` principals with one credential each, a new Store as a task opens."""
    principals = [{"name": "app-%04d" % n, "credentials": [{"name": "ci"}]} for n in range(count)]
    params = dict(DEFAULTS, principals=principals, store={"type": "vault_file"}, parallelism=parallelism, prune=prune,
                  max_removals=count)  # the limit has its own tests: here a prune of 100 is meant
    return run_tenant_task(platform, params, lambda: vault(store_path))


def test_a_first_run_rewrites_the_file_a_constant_per_item_and_a_rerun_decrypts_it_once(tmp_path, crypto):
    count = 400
    platform = MemoryPlatform()
    first = run_tenant(platform, tmp_path, count)
    assert first["summary"]["credentials"] == {"created": count} and first["failed_items"] == []
    # Waves grow with the store (at least 1/WAVE_GROWTH of it): far fewer writes than one per WAVE_FACTOR items,
    # and every entry encrypted a bounded number of times over the run (not once per wave).
    assert first["summary"]["store_batches"] == len(crypto.encrypted) < count // WAVE_FACTOR // 2
    assert sum(crypto.encrypted) <= (WAVE_GROWTH + 2) * count, crypto.encrypted
    assert crypto.decrypts == 0  # the file it wrote is the one it reads back: not decrypted again

    crypto.decrypts, crypto.encrypted = 0, []
    again = run_tenant(platform, tmp_path, count)
    assert again["summary"]["credentials"] == {"unchanged": count} and again["changed"] is False
    assert crypto.decrypts == 1 and crypto.encrypted == []  # listed and read with one decryption, nothing written

    crypto.decrypts, crypto.encrypted = 0, []
    pruned = run_tenant(platform, tmp_path, count - 100, prune=True)  # the list drops 100: their entries judged
    assert pruned["summary"]["principals"] == {"unchanged": count - 100, "removed": 100}
    assert pruned["summary"]["entries_removed"] == 100
    assert crypto.decrypts == 1 and len(crypto.encrypted) == 1  # one read of every entry, one write of the rest


def test_a_report_judging_every_credential_held_decrypts_a_vault_file_once(tmp_path, crypto):
    platform = ReportPlatform()  # no trusts: their rows are another read
    run_tenant(platform, tmp_path, 60)
    crypto.decrypts = 0
    report = credential_report(platform, {}, lambda: platform.now, held=held_by(vault(tmp_path), "conductorone"))
    assert report["summary"]["total"] == 60 and report["summary"]["unheld"] == 0
    assert crypto.decrypts == 1


def test_the_waves_into_a_store_that_writes_each_entry_stay_the_same_size(tmp_path):
    run = TenantRun(TenantClient(), {})
    run.pool = SimpleNamespace(parallelism=8)
    run.store = SimpleNamespace()  # hashi_vault, aws_secretsmanager: a write costs its own entries only
    assert run._wave_size(100000) == 8 * WAVE_FACTOR
    run.store = vault(tmp_path)
    assert run._wave_size(0) == 8 * WAVE_FACTOR and run._wave_size(100000) == 100000 // WAVE_GROWTH


def test_a_file_another_run_wrote_since_is_decrypted_again_and_its_entries_kept(tmp_path, crypto):
    ours, theirs = vault(tmp_path), vault(tmp_path)
    first, second = EntryKey("conductorone", "app", "ci"), EntryKey("conductorone", "other", "ci")
    ours.write(first, {"credential_id": "c1"})
    assert ours.read(first).content == {"credential_id": "c1"} and crypto.decrypts == 0  # its own file: remembered
    theirs.write(second, {"credential_id": "c2"})  # another run, another Store: the file is replaced
    ours.write(first, {"credential_id": "c3"}, version=ours.read(first).version)
    assert {key: entry.content for key, entry in vault(tmp_path).read_many([first, second])[0].items()} == {
        first: {"credential_id": "c3"}, second: {"credential_id": "c2"}}
    assert crypto.decrypts >= 2  # ours read the file theirs wrote (and theirs the one ours wrote first)


def test_reads_share_the_remembered_entries_and_a_change_works_on_a_copy(tmp_path, monkeypatch):
    """A read of one entry copies no dict of every entry (a run reads thousands); a write changes a copy,
    so a failed write leaves what the store remembers as the file is."""
    store = vault(tmp_path)
    keys = [EntryKey("conductorone", "app-%d" % n, "ci") for n in range(3)]
    store.write_many([(key, {"credential_id": key.principal}, None) for key in keys])
    remembered = store._memo[1]
    copies = []
    real_dict = dict

    class CountingDict(real_dict):
        def __init__(self, *args, **kwargs):
            if args and args[0] is remembered:
                copies.append(len(args[0]))
            real_dict.__init__(self, *args, **kwargs)
    monkeypatch.setattr(vault_file, "dict", CountingDict, raising=False)
    for key in keys:
        assert store.read(key).content == {"credential_id": key.principal}
    store.read_many(keys)
    store.list()
    assert copies == []

    def refused(entries):
        raise OSError("disk full")
    monkeypatch.setattr(store, "_save", refused)
    with pytest.raises(StoreError):
        store.write(EntryKey("conductorone", "app-new", "ci"), {"credential_id": "new"})
    assert copies == [3] and sorted(store._memo[1]) == sorted(store.path(key) for key in keys)
