# -*- coding: utf-8 -*-
"""The vault_file store: a real Ansible Vault file on disk, real locks, real processes."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import stat
import venv

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    EntryKey, StoreConflictError, StoreError, store_for)
from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

PASSWORD = "correct horse battery staple"
SECRET = "secret-token:conductorone.com:v1:not-a-real-one-but-secret-shaped"


def opened(path, password=PASSWORD, **extra):
    return store_for(dict({"type": "vault_file", "path": str(path), "password": password}, **extra))


def decrypted(path, password=PASSWORD):
    """The file's content, decrypted independently of the store code."""
    lib = VaultLib([("default", VaultSecret(password.encode()))])
    return json.loads(lib.decrypt(open(path, "rb").read()))


def content(key, credential_id="cred-1", secret=SECRET):
    return entry_content(key, {"id": credential_id, "expires_at": "2027-01-01T00:00:00Z"},
                         "fox@tenant.example/spc", secret, "https://tenant.example")


KEY = EntryKey("conductorone", "Terraform CI", "prod/terraform")


def test_write_then_read_back_from_an_encrypted_0600_file(tmp_path):
    path = tmp_path / "store.vault"
    store = opened(path)
    assert store.read(KEY) is None
    version = store.write(KEY, content(KEY))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = path.read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.1;AES256") and SECRET.encode() not in raw
    on_disk = decrypted(path)
    assert on_disk["format"] == 2
    assert on_disk["entries"] == {"conductor-principals/conductorone/Terraform CI/prod+2Fterraform": content(KEY)}
    found = opened(path).read(KEY)
    assert found.content["client_secret"] == SECRET and found.version == version
    assert store.location(KEY) == "%s#conductor-principals/conductorone/Terraform CI/prod+2Fterraform" % path
    assert store.list() == [KEY] and store.list("orkes") == []


def test_vault_id_labels_the_file(tmp_path):
    path = tmp_path / "store.vault"
    opened(path, vault_id="principals").write(KEY, content(KEY))
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;1.2;AES256;principals")
    assert opened(path, vault_id="principals").read(KEY).content["credential_id"] == "cred-1"


def test_check_and_set_refuses_a_stale_version_and_writes_nothing(tmp_path):
    path = tmp_path / "store.vault"
    store = opened(path)
    first = store.write(KEY, content(KEY))
    with pytest.raises(StoreConflictError):
        store.write(KEY, content(KEY, "cred-2"))  # "must not exist yet", but it does
    second = store.write(KEY, content(KEY, "cred-2"), first)
    with pytest.raises(StoreConflictError) as caught:
        store.write(KEY, content(KEY, "cred-3"), first)  # read before someone else's write
    assert "changed while this task ran" in str(caught.value) and SECRET not in str(caught.value)
    assert store.read(KEY).version == second and store.read(KEY).content["credential_id"] == "cred-2"


def test_delete_removes_only_that_entry(tmp_path):
    store = opened(tmp_path / "store.vault")
    other = EntryKey("orkes", "Terraform CI", "prod/terraform")
    store.write(KEY, content(KEY))
    store.write(other, content(other, "key-1"))
    assert store.delete(KEY) is True
    assert store.delete(KEY) is False
    assert store.read(KEY) is None and store.list() == [other]


def test_wrong_password_is_one_sentence_without_the_secret(tmp_path):
    path = tmp_path / "store.vault"
    opened(path).write(KEY, content(KEY))
    with pytest.raises(StoreError) as caught:
        opened(path, password="Tr0ub4dor&3").read(KEY)
    message = str(caught.value)
    assert "password" in message and "is wrong" in message and message.count(". ") == 0
    assert "Tr0ub4dor" not in message and PASSWORD not in message
    with pytest.raises(StoreError):
        opened(path, password="Tr0ub4dor&3").write(KEY, content(KEY, "cred-9"))
    assert decrypted(path)["entries"]  # untouched


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_store_others_can_read_is_refused(tmp_path, mode):
    path = tmp_path / "store.vault"
    opened(path).write(KEY, content(KEY))
    os.chmod(path, mode)
    with pytest.raises(StoreError) as caught:
        opened(path).read(KEY)
    assert "chmod 600 %s" % path in str(caught.value)


def test_password_from_the_environment_and_a_missing_one(tmp_path):
    path = tmp_path / "store.vault"
    env = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": PASSWORD}
    store_for({"path": str(path)}, env).write(KEY, content(KEY))
    assert decrypted(path)["entries"]
    with pytest.raises(ConfigError) as caught:
        store_for({"path": str(path)}, {})
    assert "CONDUCTOR_PRINCIPALS_STORE_PASSWORD" in str(caught.value)
    with pytest.raises(ConfigError):
        store_for({"password": PASSWORD}, {})


def test_a_directory_that_cannot_be_written_fails_the_write(tmp_path):
    parent = tmp_path / "not-a-directory"
    parent.write_text("a file where a directory should be")
    store = opened(parent / "store.vault")
    with pytest.raises(StoreError) as caught:
        store.write(KEY, content(KEY))
    assert "make the directory %s writable" % parent in str(caught.value)


def test_a_missing_directory_is_named_not_created(tmp_path):
    store = opened(tmp_path / "missing" / "store.vault")
    assert store.read(KEY) is None
    with pytest.raises(StoreError) as caught:
        store.write(KEY, content(KEY))
    assert "the directory %s does not exist" % (tmp_path / "missing") in str(caught.value)
    assert not (tmp_path / "missing").exists()


def test_a_file_without_a_format_is_refused_in_one_sentence_and_left_as_it_is(tmp_path):
    # JSON this collection never wrote (no "format"): neither read as entries nor rewritten.
    foreign = {"Terraform CI": {"prod": {"client_id": "fox@tenant.example/spc", "client_secret": SECRET}}}
    path = tmp_path / "store.vault"
    lib = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    path.write_bytes(lib.encrypt(json.dumps(foreign), secret=VaultSecret(PASSWORD.encode())))
    os.chmod(path, 0o600)
    before = path.read_bytes()
    store = opened(path)
    key = EntryKey("conductorone", "Terraform CI", "staging")
    for attempt in (lambda: store.read(key), lambda: store.write(key, content(key, "cred-new"))):
        with pytest.raises(StoreError) as refused:
            attempt()
        assert "holds JSON without a format number" in str(refused.value) and SECRET not in str(refused.value)
    assert path.read_bytes() == before


def test_two_names_that_map_to_one_path_are_an_error(tmp_path):
    store = opened(tmp_path / "store.vault")
    store.write(KEY, content(KEY))
    path = store.path(KEY)
    # Hand-edit the entry's names so another pair claims this path.
    entries = decrypted(tmp_path / "store.vault")["entries"]
    entries[path]["names"] = {"principal": "Terraform CI", "credential": "prod+2Fterraform"}
    lib = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    (tmp_path / "store.vault").write_bytes(lib.encrypt(json.dumps({"format": 2, "entries": entries}),
                                                       secret=VaultSecret(PASSWORD.encode())))
    with pytest.raises(ConfigError) as caught:
        store.read(KEY)
    assert "map to the same path" in str(caught.value)


# ---- concurrency: real processes on one file ------------------------------------------------

WRITERS = 4
ENTRIES_EACH = 8


def _write_own_entries(path, writer):
    store = opened(path)
    for index in range(ENTRIES_EACH):
        key = EntryKey("conductorone", "writer-%d" % writer, "cred-%d" % index)
        store.write(key, content(key, "id-%d-%d" % (writer, index)))


def _increment(path, times):
    """Read-modify-write one shared entry with check-and-set, retrying on conflict."""
    store = opened(path)
    key = EntryKey("conductorone", "shared", "counter")
    conflicts = 0
    for dummy in range(times):
        while True:
            found = store.read(key)
            count = int(found.content["credential_id"]) if found else 0
            try:
                store.write(key, content(key, str(count + 1)), found.version if found else None)
                break
            except StoreConflictError:
                conflicts += 1
    return conflicts


def _run(target, args_list):
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=target, args=args) for args in args_list]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_concurrent_writers_of_different_entries_lose_nothing(tmp_path):
    path = tmp_path / "store.vault"
    _run(_write_own_entries, [(str(path), writer) for writer in range(WRITERS)])
    entries = decrypted(path)["entries"]
    assert len(entries) == WRITERS * ENTRIES_EACH
    assert {e["credential_id"] for e in entries.values()} == {
        "id-%d-%d" % (w, i) for w in range(WRITERS) for i in range(ENTRIES_EACH)}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".store.vault.")] == []  # no temp files left


def test_concurrent_check_and_set_on_one_entry_counts_every_increment(tmp_path):
    path = tmp_path / "store.vault"
    _run(_increment, [(str(path), ENTRIES_EACH) for dummy in range(WRITERS)])
    final = opened(path).read(EntryKey("conductorone", "shared", "counter"))
    assert final.content["credential_id"] == str(WRITERS * ENTRIES_EACH)


def test_a_newer_format_is_refused_not_overwritten(tmp_path):
    path = tmp_path / "store.vault"
    lib = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    path.write_bytes(lib.encrypt(json.dumps({"format": 3, "entries": {}}), secret=VaultSecret(PASSWORD.encode())))
    os.chmod(path, 0o600)
    with pytest.raises(StoreError) as caught:
        opened(path).write(KEY, content(KEY))
    assert "upgrade the collection" in str(caught.value)


# ---- on a task's host: VaultLib in a child of the host's Python ------------------------------------
def test_on_the_controller_ansible_vault_runs_in_process():
    from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
    assert vault_file.runs_from_a_payload() is False
    assert isinstance(opened("/tmp/never-written.vault")._lib, vault_file._VaultPieces)


@pytest.fixture
def from_a_payload(monkeypatch):
    """vault_file as it runs on a task's host (an AnsiballZ module)."""
    from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
    monkeypatch.setattr(vault_file, "runs_from_a_payload", lambda: True)
    return vault_file


def test_from_a_payload_the_store_is_written_and_read_by_a_child_vault_lib(tmp_path, from_a_payload):
    vault_file = from_a_payload
    path = tmp_path / "store.vault"
    store = opened(path)
    assert isinstance(store._lib, vault_file._ChildVault)
    store.write(KEY, content(KEY))
    # The file is ansible-core's own Ansible Vault, read back here by VaultLib and by the child.
    assert decrypted(path)["entries"][store.path(KEY)]["client_secret"] == SECRET
    assert opened(path).read(KEY).content["client_secret"] == SECRET
    with pytest.raises(StoreError, match="the password is wrong"):
        opened(path, password="not it").read(KEY)


def test_from_a_payload_a_host_python_without_ansible_core_is_one_sentence(tmp_path, monkeypatch, from_a_payload):
    vault_file = from_a_payload
    bare = tmp_path / "bare"
    venv.create(str(bare), with_pip=False)
    monkeypatch.setattr(vault_file.sys, "executable", str(bare / "bin" / "python"))
    with pytest.raises(ConfigError, match="store type vault_file needs ansible-core on the host that runs the task"):
        opened(tmp_path / "store.vault").write(KEY, content(KEY))


# ---- the file is VaultLib's, byte for byte, without VaultLib's copies ----------------------------

def _many(count):
    """A store of ``count`` entries, large enough for the file to take several of the store's writes."""
    keys = [EntryKey("conductorone", "app-%04d" % index, "ci") for index in range(count)]
    return keys, {key: content(key, "cred-%d" % index) for index, key in enumerate(keys)}


def _vaultlib_would_write(path, password=PASSWORD, vault_id=None):
    """What VaultLib.encrypt makes of the file's own plaintext with the file's own salt (so the same key)."""
    secret = VaultSecret(password.encode())
    lib = VaultLib([(vault_id or "default", secret)])
    raw = path.read_bytes()
    plaintext = lib.decrypt(raw)
    salt = bytes.fromhex(bytes.fromhex("".join(raw.decode().splitlines()[1:])).split(b"\n")[0].decode())
    return plaintext, lib.encrypt(plaintext, secret=secret, vault_id=vault_id, salt=salt)


@pytest.mark.parametrize("count, vault_id", [(1, None), (3, "principals"), (400, None), (400, "principals")])
def test_the_file_is_byte_for_byte_what_vaultlib_writes(tmp_path, count, vault_id):
    path = tmp_path / "store.vault"
    store = opened(path, vault_id=vault_id)
    keys, contents = _many(count)
    store.write_many([(key, contents[key], None) for key in keys])
    plaintext, expected = _vaultlib_would_write(path, vault_id=vault_id)
    assert path.read_bytes() == expected  # header, 80-column lines, the last newline: all as VaultLib's
    assert len(expected.splitlines()) > 2 * 1024 or count < 400  # 400 entries span several write blocks
    assert json.loads(plaintext)["entries"] == {store.path(key): contents[key] for key in keys}
    assert b", " not in plaintext and b": " not in plaintext  # compact JSON: every copy of it is smaller


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("vault_id", [None, "principals"])
def test_a_file_vaultlib_wrote_is_read_as_vaultlib_reads_it(tmp_path, newline, vault_id):
    """Written by VaultLib (ansible-vault, or the first secret_store role), with any line ending it accepts."""
    path = tmp_path / "store.vault"
    keys, contents = _many(40)
    data = {"format": 2, "entries": {opened(path).path(key): contents[key] for key in keys}}
    secret = VaultSecret(PASSWORD.encode())
    raw = VaultLib([(vault_id or "default", secret)]).encrypt(json.dumps(data, indent=2), secret=secret,
                                                              vault_id=vault_id)
    path.write_bytes(raw.replace(b"\n", newline))
    os.chmod(path, 0o600)
    assert VaultLib([("default", secret)]).decrypt(path.read_bytes()) == json.dumps(data, indent=2).encode()
    store = opened(path, vault_id=vault_id)
    assert store.read_many(keys)[0] == {key: store.read(key) for key in keys}
    assert {key: store.read(key).content for key in keys} == contents


@pytest.mark.parametrize("damage", ["not vault", "bad hex", "short", "flipped", "no body"])
def test_a_damaged_file_is_one_sentence_and_never_overwritten(tmp_path, damage):
    path = tmp_path / "store.vault"
    opened(path).write(KEY, content(KEY))
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    damaged = {"not vault": b"entries: {}\n", "bad hex": raw.replace(lines[1], b"zz" + lines[1][2:]),
               "short": b"\n".join(lines[:3]) + b"\n",
               "flipped": raw.replace(lines[2], lines[2][:-1] + (b"0" if lines[2][-1:] != b"0" else b"1")),
               "no body": lines[0] + b"\n"}[damage]
    path.write_bytes(damaged)
    for call in (lambda: opened(path).read(KEY), lambda: opened(path).write(KEY, content(KEY, "cred-2"))):
        with pytest.raises(StoreError) as caught:
            call()
        assert "the password is wrong, or the file is not an Ansible Vault file" in str(caught.value)
    assert path.read_bytes() == damaged


def test_the_store_calls_ansible_vaults_pieces_not_vaultlib(tmp_path, monkeypatch):
    """VaultLib.encrypt and decrypt hold the vaulttext as a list of 80-byte lines and join it (about 15
    times the plaintext at once): the store must not route through them, nor give the envelope
    functions more than a header."""
    from ansible.parsing import vault

    def refused(*args, **kwargs):
        raise AssertionError("the store called VaultLib")

    monkeypatch.setattr(vault.VaultLib, "encrypt", refused)
    monkeypatch.setattr(vault.VaultLib, "decrypt", refused)
    monkeypatch.setattr(vault.VaultLib, "decrypt_and_get_vault_id", refused)
    envelopes = []
    for name in ("format_vaulttext_envelope", "parse_vaulttext_envelope"):
        def spy(data, *args, _real=getattr(vault, name), **kwargs):
            envelopes.append(data)
            return _real(data, *args, **kwargs)
        monkeypatch.setattr(vault, name, spy)
    path = tmp_path / "store.vault"
    keys, contents = _many(50)
    store = opened(path)
    store.write_many([(key, contents[key], None) for key in keys])
    assert store.read(keys[7]).content == contents[keys[7]]
    assert envelopes and all(len(data) < 100 for data in envelopes)  # a header, never the vaulttext
    monkeypatch.undo()
    assert json.loads(VaultLib([("default", VaultSecret(PASSWORD.encode()))]).decrypt(path.read_bytes()))


@pytest.mark.parametrize("text", [b"not a vault file at all\n", b"$ANSIBLE_VAULT;1.1;AES256\nnot hex\n",
                                  b"$ANSIBLE_VAULT;1.1;ROT13\n6162\n"], ids=["plain", "not-hex", "unknown-cipher"])
@pytest.mark.usefixtures("from_a_payload")
def test_from_a_payload_a_file_that_is_no_store_is_the_store_sentence(tmp_path, text):
    damaged = tmp_path / "damaged.vault"
    damaged.write_bytes(text)
    os.chmod(damaged, 0o600)
    with pytest.raises(StoreError, match="Could not decrypt the vault_file store .*not an Ansible Vault file"):
        opened(damaged).read(KEY)


def test_from_a_payload_a_child_that_fails_is_named_without_what_it_printed(tmp_path, monkeypatch, from_a_payload):
    vault_file = from_a_payload
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\ncat >&2\necho 'Traceback: %s' >&2\nexit 1\n" % PASSWORD)
    broken.chmod(0o700)
    monkeypatch.setattr(vault_file.sys, "executable", str(broken))
    with pytest.raises(StoreError) as failed:
        opened(tmp_path / "store.vault").write(KEY, content(KEY))
    assert str(failed.value).rstrip(".") == "Could not run Ansible Vault on this host with %s (exit code 1)" % broken
    assert PASSWORD not in str(failed.value) and SECRET not in str(failed.value)


def test_from_a_payload_the_child_gets_none_of_the_tasks_secrets_from_its_environment(tmp_path, monkeypatch,
                                                                                      from_a_payload):
    """The task's environment can hold the store password, a Vault token, cloud keys: the child sees none."""
    vault_file = from_a_payload
    sensitive = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": PASSWORD, "VAULT_TOKEN": "hvs.not-for-the-child",
                 "AWS_SECRET_ACCESS_KEY": "aws-not-for-the-child"}
    for name, value in sensitive.items():
        monkeypatch.setenv(name, value)
    seen = tmp_path / "child-environment"
    python = tmp_path / "python"  # the host's Python, noting the environment it was started with
    python.write_text('#!/bin/sh\n/usr/bin/env > "%s"\nexec "%s" "$@"\n' % (seen, vault_file.sys.executable))
    python.chmod(0o700)
    monkeypatch.setattr(vault_file.sys, "executable", str(python))
    store = opened(tmp_path / "store.vault")
    store.write(KEY, content(KEY))
    assert opened(tmp_path / "store.vault").read(KEY).content["client_secret"] == SECRET
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines() if "=" in line}
    assert "PATH" in names and not names & set(sensitive)
    assert not [value for value in sensitive.values() if value in seen.read_text()]


# ---- opened, locked and decrypted before a task's first API write ------------------------------
def test_check_writable_names_a_missing_directory_and_creates_nothing(tmp_path):
    store = opened(tmp_path / "missing" / "store.vault")
    with pytest.raises(StoreError) as caught:
        store.check_writable()
    assert "its directory %s does not exist" % (tmp_path / "missing") in str(caught.value)
    assert not (tmp_path / "missing").exists()


def test_check_writable_refuses_a_wrong_password_and_a_held_lock(tmp_path):
    path = tmp_path / "store.vault"
    opened(path).write(KEY, content(KEY))
    with pytest.raises(StoreError) as caught:
        opened(path, password="wrong").check_writable()
    assert "the password is wrong" in str(caught.value) and SECRET not in str(caught.value)
    with open(str(path) + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(StoreError) as caught:
            opened(path, lock_timeout=0).check_writable()
    assert "another run has held" in str(caught.value)
    opened(path).check_writable()  # a store that opens: nothing to say
    assert decrypted(path)["entries"]


def test_check_writable_of_a_store_not_made_yet_writes_no_store_file(tmp_path):
    path = tmp_path / "store.vault"
    opened(path).check_writable()
    assert not path.exists()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_file_is_read_a_block_at_a_time_whatever_its_line_breaks(tmp_path, monkeypatch, newline):
    """Blocks that end inside a line break or a line (7 bytes here) read as the whole file does."""
    path = tmp_path / "store.vault"
    keys, contents = _many(30)
    opened(path).write_many([(key, contents[key], None) for key in keys])
    path.write_bytes(path.read_bytes().replace(b"\n", newline))
    monkeypatch.setattr(vault_file, "READ_BLOCK", 7)
    store = opened(path)
    assert {key: store.read(key).content for key in keys} == contents
