# -*- coding: utf-8 -*-
"""Issue 24 at the store layer: hostile names, paths, locks and servers (real files, real servers).

Each test reproduces one finding of the security review; none of them passes on the code before it.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib, VaultSecret

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    PERSONAL, SERVICE_PRINCIPAL, EntryKey, SecretStore, StoreError, store_for, store_warnings)
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

PASSWORD = "correct horse battery staple"
HOSTILE = ["", ".", "..", "...", "@", "@personal", "@ops", "+", "+40ops", "+2E", "a/b", "a+2Fb", "a b", "ä",
           "\udc80", "\u2028", "../..", "./", "%2e%2e", "CON", "x" * 300]


def vault_file(path, **extra):
    return store_for(dict({"type": "vault_file", "path": str(path), "password": PASSWORD}, **extra))


def content(key, credential_id="cred-1", secret="s3cret-value-1"):
    return entry_content(key, {"id": credential_id, "expires_at": None}, "client-" + credential_id, secret,
                         "https://tenant.example")


def encrypted(path, entries):
    lib = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    path.write_bytes(lib.encrypt(json.dumps({"format": 2, "entries": entries}), secret=VaultSecret(PASSWORD.encode())))
    os.chmod(path, 0o600)


# ---- finding 4: the naming rule is injective ------------------------------------------------------
@pytest.mark.parametrize("backend", [{"type": "vault_file", "path": "/nonexistent/s.vault", "password": "p"},
                                     {"type": "aws_secretsmanager", "region": "eu-west-1"}])
def test_every_hostile_name_pair_and_owner_kind_has_its_own_path(backend):
    store = store_for(backend, {})
    keys = [EntryKey(platform, principal, credential, owner)
            for platform in ("conductorone", "orkes") for principal in HOSTILE for credential in ("deploy", "..", "@x")
            for owner in (SERVICE_PRINCIPAL, PERSONAL) if owner == SERVICE_PRINCIPAL or principal == "@personal"]
    paths = [store.path(key) for key in keys]
    assert len(set(paths)) == len(keys)
    for path in paths:
        segments = path.split("/")
        assert len(segments) == 4
        assert not any(set(part) == {"."} for part in segments)  # no "." or ".." a server could resolve
    assert store.segment("..") == "+2E+2E" and store.segment("@personal") == "+40personal"
    assert store.path(EntryKey("conductorone", "@personal", "laptop", PERSONAL)).endswith("/@personal/laptop")


def test_segments_decode_back_to_the_exact_names():
    store = vault_file("/nonexistent/s.vault")
    for name in HOSTILE:
        assert store.name_of(store.segment(name)) == name


def test_a_principal_named_at_personal_is_not_the_personal_api_keys(tmp_path):
    store = vault_file(tmp_path / "s.vault")
    personal = EntryKey("conductorone", "@personal", "laptop")  # the lookup's and report's spelling
    principal = EntryKey("conductorone", "@personal", "laptop", SERVICE_PRINCIPAL)
    assert personal.owner == PERSONAL and personal != principal and len({personal, principal}) == 2
    store.write(personal, content(personal, "personal-key"))
    store.write(principal, content(principal, "sp-credential"))
    assert store.read(personal).content["credential_id"] == "personal-key"
    assert store.read(principal).content["credential_id"] == "sp-credential"
    assert sorted(store.list("conductorone"), key=lambda key: key.owner) == [personal, principal]


def test_an_entry_of_another_platform_or_owner_kind_at_the_same_path_is_a_collision(tmp_path):
    key = EntryKey("orkes", "..", "deploy")
    store = vault_file(tmp_path / "s.vault")
    other = dict(content(key), platform="conductorone")
    encrypted(tmp_path / "s.vault", {store.path(key): other})
    with pytest.raises(ConfigError, match="map to the same path"):
        store.read(key)


def test_a_personal_entry_is_never_taken_by_a_principal_named_at_personal(tmp_path):
    at = "conductor-principals/conductorone/@personal/laptop"
    personal = EntryKey("conductorone", "@personal", "laptop")
    encrypted(tmp_path / "s.vault", {at: content(personal, "personal-key")})
    assert vault_file(tmp_path / "s.vault").read(personal).content["credential_id"] == "personal-key"
    assert vault_file(tmp_path / "s.vault").read(
        EntryKey("conductorone", "@personal", "laptop", SERVICE_PRINCIPAL)) is None


def test_dot_names_of_two_platforms_do_not_meet_in_vault(bao_server):
    bao_server.wipe()
    store = store_for({"type": "hashi_vault", "url": bao_server.url, "token": bao_server.token})
    c1, orkes = EntryKey("conductorone", "..", "deploy"), EntryKey("orkes", "..", "deploy")
    store.write(c1, content(c1, "c1-cred"))
    store.write(orkes, content(orkes, "orkes-cred"))
    assert store.read(c1).content["credential_id"] == "c1-cred"
    assert store.read(orkes).content["credential_id"] == "orkes-cred"
    assert store.list("orkes") == [orkes] and store.list("conductorone", "..") == [c1]
    bao_server.wipe()


# ---- finding 6: a foreign exception becomes the store's error -------------------------------------
class Broken(SecretStore):
    type = "broken"

    def read(self, key):
        return None

    def write(self, key, content, version=None):
        raise AnsibleVaultFormatError("Vault format unhexlify error: s3cret-in-the-message")

    def delete(self, key):
        raise OSError(11, "Resource temporarily unavailable: s3cret-in-the-message")

    def list(self, platform=None, principal=None):
        raise ValueError("s3cret-in-the-message")


def test_any_backend_exception_is_one_secret_free_store_error():
    store = Broken({})
    key = EntryKey("conductorone", "ci-bot", "ci")
    for call in (lambda: store.write(key, {}), lambda: store.delete(key), store.list):
        with pytest.raises(StoreError) as caught:
            call()
        assert isinstance(caught.value, ConductorError)
        assert "s3cret" not in str(caught.value) and str(caught.value).count(". ") == 0
    with pytest.raises(StoreError, match=r"could not write conductor-principals/conductorone/ci-bot/ci: it failed "
                                         r"with AnsibleVaultFormatError"):
        store.write(key, {})
    with pytest.raises(StoreError, match=r"BlockingIOError \(EAGAIN\)"):
        store.delete(key)


# ---- finding 2: a symlinked vault_file --------------------------------------------------------------
def test_a_symlinked_store_is_written_through_to_its_target_and_locked_there(tmp_path):
    volume, work = tmp_path / "volume", tmp_path / "work"
    volume.mkdir(mode=0o700)
    work.mkdir(mode=0o700)
    link = work / "store.vault"
    link.symlink_to(volume / "store.vault")
    key = EntryKey("conductorone", "ci-bot", "ci")
    vault_file(link).write(key, content(key, "first"))
    vault_file(link).write(key, content(key, "second"), vault_file(link).read(key).version)
    assert link.is_symlink() and os.readlink(link) == str(volume / "store.vault")
    assert vault_file(volume / "store.vault").read(key).content["credential_id"] == "second"
    assert (volume / "store.vault.lock").exists() and not (work / "store.vault.lock").exists()
    assert sorted(os.listdir(work)) == ["store.vault"]


# ---- finding 3: the lock ----------------------------------------------------------------------------
def test_a_planted_lock_link_is_refused_and_nothing_is_created_elsewhere(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store_dir = tmp_path / "store"
    store_dir.mkdir(mode=0o700)
    (store_dir / "store.vault.lock").symlink_to(elsewhere / "planted")
    key = EntryKey("conductorone", "ci-bot", "ci")
    with pytest.raises(StoreError, match="lock file .* is a symbolic link, which is never followed"):
        vault_file(store_dir / "store.vault").write(key, content(key))
    assert os.listdir(elsewhere) == [] and not (store_dir / "store.vault").exists()


def test_a_lock_held_by_another_run_fails_after_the_timeout_with_one_sentence(tmp_path):
    key = EntryKey("conductorone", "ci-bot", "ci")
    path = tmp_path / "store.vault"
    with open(str(path) + ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another open file description: a lock another run holds
        with pytest.raises(StoreError, match=r"another run has held .*store.vault.lock for more than 0.2 seconds"):
            vault_file(path, lock_timeout=0.2).write(key, content(key))
    assert not path.exists()
    vault_file(path, lock_timeout=0.2).write(key, content(key))  # released: the next write goes through


def test_a_lock_file_of_another_user_or_not_a_regular_file_is_refused(tmp_path):
    key = EntryKey("conductorone", "ci-bot", "ci")
    path = tmp_path / "store.vault"
    os.mkfifo(str(path) + ".lock", 0o600)
    with pytest.raises(StoreError, match="is not a regular file"):
        vault_file(path).write(key, content(key))
    os.unlink(str(path) + ".lock")
    if os.geteuid() == 0:
        open(str(path) + ".lock", "w").close()
        os.chown(str(path) + ".lock", 4242, 4242)
        with pytest.raises(StoreError, match="belongs to user ID 4242"):
            vault_file(path).write(key, content(key))
    assert not path.exists()


def test_a_store_directory_others_may_write_is_refused_before_anything_is_created(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    key = EntryKey("conductorone", "ci-bot", "ci")
    with pytest.raises(StoreError, match=r"has mode 0777, so others can write to it"):
        vault_file(shared / "store.vault").write(key, content(key))
    with pytest.raises(StoreError, match="so others can write to it"):
        vault_file(shared / "store.vault").read(key)
    assert os.listdir(shared) == []
    os.chmod(shared, 0o1770)  # group-writable but not others: allowed
    vault_file(shared / "store.vault").write(key, content(key))
    assert stat.S_IMODE(os.stat(shared / "store.vault").st_mode) == 0o600


# ---- finding 1: the Vault token never follows a redirect ---------------------------------------------
class Recorder(object):
    """Two loopback servers: ``vault`` answers 307 to ``other``, which records every request it gets."""

    def __init__(self):
        self.seen = []  # (server, method, path, headers, body)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
                recorder.seen.append((self.server.name, self.command, self.path, dict(self.headers), body))
                if self.server.name == "vault":
                    self.send_response(307)
                    self.send_header("Location", "http://127.0.0.1:%d%s" % (recorder.other.server_port, self.path))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = json.dumps({"auth": {"client_token": "t-from-other"}, "data": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _any

        self.vault = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.vault.name = "vault"
        self.other = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.other.name = "other"
        for server in (self.vault, self.other):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.vault.server_port

    def stop(self):
        for server in (self.vault, self.other):
            server.shutdown()
            server.server_close()


@pytest.fixture
def redirecting():
    servers = Recorder()
    yield servers
    servers.stop()


def _never_forwarded(servers, *secrets):
    """The other host got no request at all, so none of ``secrets`` (the named address may get them)."""
    assert servers.seen and {seen[0] for seen in servers.seen} == {"vault"}
    for secret in secrets:
        assert secret in json.dumps([seen[3:] for seen in servers.seen])  # it was sent, to the named address only


def test_a_redirecting_vault_never_gets_the_token_to_another_host_in_token_mode(redirecting):
    store = store_for({"type": "hashi_vault", "url": redirecting.url, "token": "s.task-token-1"})
    key = EntryKey("conductorone", "ci-bot", "ci")
    with pytest.raises(StoreError, match=r"answered with a redirect \(HTTP 307\) to http://127.0.0.1:\d+, which is "
                                         r"never followed"):
        store.write(key, content(key))
    with pytest.raises(StoreError, match="redirect"):
        store.read(key)
    assert redirecting.seen  # the request reached the first server
    _never_forwarded(redirecting, "s.task-token-1")


def test_approle_sends_neither_secret_id_nor_an_ambient_token_anywhere_else(redirecting, monkeypatch, tmp_path):
    monkeypatch.setenv("VAULT_TOKEN", "s.ambient-env-token")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".vault-token").write_text("s.ambient-file-token")
    store = store_for({"type": "hashi_vault", "url": redirecting.url, "role_id": "role-1",
                       "secret_id": "secret-id-abc"}, {})
    key = EntryKey("conductorone", "ci-bot", "ci")
    with pytest.raises(StoreError, match="log in with AppRole to .*redirect"):
        store.read(key)
    _never_forwarded(redirecting, "secret-id-abc")
    # The task named no token: the ambient ones go nowhere, not even to the address it named.
    for dummy, dummy, dummy, headers, body in redirecting.seen:
        assert "ambient" not in json.dumps(headers) + body
        assert "X-Vault-Token" not in headers


# ---- finding 9: warnings -------------------------------------------------------------------------------
def test_plain_http_and_unverified_vault_addresses_warn_in_one_sentence_each():
    assert store_warnings({"type": "hashi_vault", "url": "https://vault.example"}, {}) == []
    assert store_warnings({"type": "vault_file", "path": "x"}, {}) == []
    found = store_warnings({"type": "hashi_vault", "validate_certs": False}, {"VAULT_ADDR": "http://vault.example:8200"})
    assert found == [
        "store.url http://vault.example:8200 is plain http://: the Vault token and every secret stored travel "
        "unencrypted; use https://",
        "store.validate_certs is false: the identity of the Vault server http://vault.example:8200 is not verified, "
        "so anyone in between gets its token and secrets; give store.ca_path instead"]
