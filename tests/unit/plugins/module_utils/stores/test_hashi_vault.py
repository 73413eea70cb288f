# -*- coding: utf-8 -*-
"""The hashi_vault store backend against a real ``bao server -dev`` (tests/servers.py); no mocks."""

from __future__ import annotations

import sys
import urllib.error

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError, MissingDependencyError
from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    EntryKey, StoreConflictError, StoreError, store_for)
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

KEY = EntryKey("conductorone", "A46-sp", "ci")
SPACED = EntryKey("orkes", "Terraform CI", "deploy")
ADMIN_POLICY = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
READ_ONLY_POLICY = 'path "secret/*" { capabilities = ["read", "list"] }'


def content(key, secret="s3cret-one", credential_id="cred-1"):
    credential = {"id": credential_id, "expires_at": "2027-02-01T00:00:00Z"}
    return entry_content(key, credential, "client-" + credential_id, secret, "https://example.test")


@pytest.fixture
def bao(bao_server):
    bao_server.wipe()
    yield bao_server
    bao_server.wipe()


def store(bao, **options):
    return store_for(dict({"type": "hashi_vault", "url": bao.url, "token": bao.token}, **options))


def raw(bao, path):
    try:
        return bao.api("GET", path)["data"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def test_write_lands_at_the_documented_path_with_custom_metadata(bao):
    backend = store(bao)
    assert backend.read(KEY) is None
    version = backend.write(KEY, content(KEY))
    assert version == 1
    assert backend.location(KEY) == "secret/conductor-principals/conductorone/A46-sp/ci"
    stored = raw(bao, "secret/data/conductor-principals/conductorone/A46-sp/ci")
    assert stored["data"] == content(KEY)
    metadata = raw(bao, "secret/metadata/conductor-principals/conductorone/A46-sp/ci")
    assert metadata["custom_metadata"] == {
        "managed_by": "conductor.principals", "platform": "conductorone", "principal": "A46-sp", "credential": "ci",
        "credential_id": "cred-1", "expires_at": "2027-02-01T00:00:00Z"}
    assert backend.read(KEY) == (content(KEY), 1)


def test_a_second_create_is_a_conflict_and_writes_nothing(bao):
    backend = store(bao)
    backend.write(KEY, content(KEY))
    with pytest.raises(StoreConflictError, match="changed while this task ran"):
        store(bao).write(KEY, content(KEY, "other-secret", "cred-2"))
    assert backend.read(KEY) == (content(KEY), 1)
    assert raw(bao, "secret/metadata/conductor-principals/conductorone/A46-sp/ci")["current_version"] == 1


def test_rotation_writes_a_new_version_and_keeps_the_previous_one_readable(bao):
    backend = store(bao)
    first = backend.write(KEY, content(KEY))
    second = backend.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=first)
    assert second == first + 1
    assert backend.read(KEY) == (content(KEY, "s3cret-two", "cred-2"), second)
    assert backend.read_version(KEY, first) == content(KEY)
    custom = raw(bao, "secret/metadata/conductor-principals/conductorone/A46-sp/ci")["custom_metadata"]
    assert custom["credential_id"] == "cred-2"


def test_a_stale_check_and_set_version_is_detected_not_overwritten(bao):
    one, two = store(bao), store(bao)
    version = one.write(KEY, content(KEY))
    seen_by_two = two.read(KEY).version
    one.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=version)
    with pytest.raises(StoreConflictError):
        two.write(KEY, content(KEY, "s3cret-three", "cred-3"), version=seen_by_two)
    assert one.read(KEY).content["credential_id"] == "cred-2"


def test_delete_removes_every_version_and_the_metadata(bao):
    backend = store(bao)
    version = backend.write(KEY, content(KEY))
    backend.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=version)
    assert backend.delete(KEY) is True
    assert raw(bao, "secret/metadata/conductor-principals/conductorone/A46-sp/ci") is None
    assert backend.read(KEY) is None and backend.read_version(KEY, 1) is None
    assert backend.delete(KEY) is False
    assert backend.write(KEY, content(KEY)) == 1  # a new entry starts again (cas=0)


def test_an_entry_deleted_by_hand_counts_as_missing_and_can_be_written_again(bao):
    backend = store(bao)
    backend.write(KEY, content(KEY))
    bao.api("DELETE", "secret/data/conductor-principals/conductorone/A46-sp/ci")  # soft delete of version 1
    assert backend.read(KEY) is None
    assert backend.write(KEY, content(KEY, "s3cret-two", "cred-2")) == 2


def test_names_are_kept_and_listed_and_collisions_refused(bao):
    backend = store(bao)
    backend.write(KEY, content(KEY))
    backend.write(SPACED, content(SPACED))
    assert backend.location(SPACED) == "secret/conductor-principals/orkes/Terraform CI/deploy"
    assert sorted(backend.list()) == sorted([KEY, SPACED])
    assert backend.list("orkes") == [SPACED]
    slash = EntryKey("orkes", "a/b", "c")
    assert backend.location(slash) == "secret/conductor-principals/orkes/a+2Fb/c"
    backend.write(slash, content(slash))
    impostor = EntryKey("orkes", "a+2Fb", "c")  # maps to a+2B2Fb: no collision
    assert backend.read(impostor) is None
    assert backend.read(slash).content["names"] == {"principal": "a/b", "credential": "c"}
    assert backend.list("orkes", "a/b") == [slash] and backend.list("orkes", "Terraform CI") == [SPACED]
    assert backend.list("orkes", "nobody") == []


def test_another_prefix_and_mount_point(bao):
    bao.api("POST", "sys/mounts/team-kv", {"type": "kv", "options": {"version": "2"}})
    try:
        backend = store(bao, mount_point="team-kv", prefix="ops/creds")
        backend.write(KEY, content(KEY))
        assert raw(bao, "team-kv/data/ops/creds/conductorone/A46-sp/ci")["data"]["client_secret"] == "s3cret-one"
        assert backend.list() == [KEY]
    finally:
        bao.api("DELETE", "sys/mounts/team-kv")


def test_a_namespace(bao):
    bao.namespace("team-a")
    try:
        store(bao, namespace="team-a").write(KEY, content(KEY))
        assert store(bao).read(KEY) is None  # the root namespace has no such entry
        assert bao.api("GET", "secret/data/conductor-principals/conductorone/A46-sp/ci",
                       namespace="team-a")["data"]["data"] == content(KEY)
        environ = {"VAULT_ADDR": bao.url, "VAULT_TOKEN": bao.token, "VAULT_NAMESPACE": "team-a"}
        assert store_for({"type": "hashi_vault"}, environ).read(KEY).version == 1
    finally:
        bao.api("DELETE", "sys/mounts/secret", namespace="team-a")
        bao.api("DELETE", "sys/namespaces/team-a")


def test_approle_login(bao):
    role_id, secret_id = bao.approle("conductor-writer", ADMIN_POLICY)
    backend = store_for({"type": "hashi_vault", "url": bao.url, "role_id": role_id, "secret_id": secret_id})
    backend.write(KEY, content(KEY))
    assert store(bao).read(KEY).content == content(KEY)
    wrong = store_for({"type": "hashi_vault", "url": bao.url, "role_id": role_id, "secret_id": "not-the-secret-id"})
    with pytest.raises(StoreError, match="could not log in with AppRole") as caught:
        wrong.read(KEY)
    assert "not-the-secret-id" not in str(caught.value)


def test_url_and_token_from_the_environment(bao):
    backend = store_for({"type": "hashi_vault"}, {"VAULT_ADDR": bao.url, "VAULT_TOKEN": bao.token})
    backend.write(KEY, content(KEY))
    assert backend.read(KEY).version == 1


@pytest.mark.parametrize("options, message", [
    ({}, "store.url is required"),
    ({"url": "http://127.0.0.1:8200"}, "needs a Vault token"),
    ({"url": "http://127.0.0.1:8200", "role_id": "r"}, "go together"),
])
def test_bad_options_are_one_sentence(options, message):
    with pytest.raises(ConfigError, match=message):
        store_for(dict({"type": "hashi_vault"}, **options), {})


def test_a_wrong_token_fails_with_one_sentence_and_never_the_token(bao):
    backend = store(bao, token="not-a-valid-token-1234567")
    with pytest.raises(StoreError) as caught:
        backend.write(KEY, content(KEY))
    text = str(caught.value)
    assert "could not write secret/conductor-principals/conductorone/A46-sp/ci at %s" % bao.url in text
    assert "refused the token" in text and "not-a-valid-token-1234567" not in text and bao.token not in text
    assert text.count(". ") == 0 and text.endswith(".")


def test_a_token_without_write_permission_fails_and_writes_nothing(bao):
    token = bao.token_with_policy("reader", READ_ONLY_POLICY)
    with pytest.raises(StoreError, match="refused the token") as caught:
        store(bao, token=token).write(KEY, content(KEY))
    assert token not in str(caught.value)
    assert store(bao).read(KEY) is None


def test_a_missing_mount_and_a_kv_version_1_mount_are_refused(bao):
    with pytest.raises(StoreError, match="no secrets engine mounted at nosuch/"):
        store(bao, mount_point="nosuch").write(KEY, content(KEY))
    bao.api("POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
    try:
        with pytest.raises(StoreError, match="not a KV version 2 secrets engine"):
            store(bao, mount_point="kv1").write(KEY, content(KEY))
        with pytest.raises(urllib.error.HTTPError):
            bao.api("LIST", "kv1/")  # nothing was written there
    finally:
        bao.api("DELETE", "sys/mounts/kv1")


def test_a_sealed_vault_fails_with_one_sentence(bao):
    backend = store(bao)
    bao.seal()
    try:
        with pytest.raises(StoreError, match="Vault is sealed or unavailable; unseal it") as caught:
            backend.write(KEY, content(KEY))
        assert bao.token not in str(caught.value)
    finally:
        bao.unseal()


@pytest.fixture(scope="module")
def tls_bao(tmp_path_factory):
    from ansible_collections.conductor.principals.tests.servers import BaoServer

    server = BaoServer(tmp_path_factory.mktemp("bao-tls"), tls=True).start()
    yield server
    server.stop()


def test_tls_verified_with_ca_path_refused_without_it_and_skipped_on_request(tls_bao):
    options = {"type": "hashi_vault", "url": tls_bao.url, "token": tls_bao.token}
    with pytest.raises(StoreError, match="TLS certificate of the server could not be verified; give the CA bundle"):
        store_for(options).read(KEY)
    verified = store_for(dict(options, ca_path=tls_bao.ca_path))
    verified.write(KEY, content(KEY))
    assert verified.read(KEY).version == 1
    assert store_for(dict(options, validate_certs=False)).read(KEY).content == content(KEY)


def test_an_unreachable_server_fails_with_one_sentence():
    backend = store_for({"type": "hashi_vault", "url": "http://127.0.0.1:9", "token": "t-unused"})
    with pytest.raises(StoreError, match="could not be reached"):
        backend.read(KEY)


def test_without_hvac_only_this_backend_fails_naming_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "hvac", None)  # what an absent library looks like to import
    with pytest.raises(MissingDependencyError, match=r"hvac is required .*pip install hvac"):
        store_for({"type": "hashi_vault", "url": "http://127.0.0.1:8200", "token": "t"})
    # every other backend still works
    assert store_for({"type": "aws_secretsmanager", "region": "eu-west-1"}, {}).type == "aws_secretsmanager"


def test_entries_whose_principal_or_credential_name_is_empty_are_listed(bao):
    backend = store(bao)
    keys = [EntryKey("conductorone", "", "ci"), EntryKey("conductorone", "sp", ""), EntryKey("orkes", "", ""),
            EntryKey("conductorone", "@personal", ""), EntryKey("conductorone", "@personal", "", "service_principal")]
    for key in keys:
        backend.write(key, content(key))
    assert backend.location(keys[0]) == "secret/conductor-principals/conductorone/+/ci"
    assert raw(bao, "secret/metadata/conductor-principals/conductorone/+/ci")["custom_metadata"]["principal"] == "+"
    assert backend.warnings == []  # Vault refuses an empty metadata value: the name's segment is there
    assert sorted(backend.list(), key=repr) == sorted(keys, key=repr)
    assert backend.list("conductorone", "") == [keys[0]] and backend.list("orkes") == [keys[2]]
    assert sorted(backend.list("conductorone", "@personal"), key=repr) == sorted(keys[3:], key=repr)


def test_a_refused_metadata_step_is_a_warning_and_the_entry_holds_the_secret(bao):
    policy = ('path "secret/data/*" { capabilities = ["create", "read", "update", "list"] }\n'
              'path "secret/metadata/*" { capabilities = ["read", "list"] }')
    token = bao.token_with_policy("no-metadata-update", policy)
    backend = store(bao, token=token)
    assert backend.write(KEY, content(KEY)) == 1
    assert backend.read(KEY) == (content(KEY), 1) and backend.list() == [KEY]
    assert backend.write(KEY, content(KEY, "s3cret-two", "cred-2"), 1) == 2
    assert backend.read(KEY).content["client_secret"] == "s3cret-two"
    assert len(backend.warnings) == 2
    assert backend.warnings[0].startswith(
        "The hashi_vault store could not write the custom metadata of secret/conductor-principals/conductorone/"
        "A46-sp/ci at %s: Vault refused the token" % bao.url)
    assert "the secret itself was written" in backend.warnings[0]
    assert not any(secret in " ".join(backend.warnings) for secret in (token, "s3cret-one", "s3cret-two"))


def test_names_vault_refuses_in_metadata_are_their_segments_there_or_left_out(bao):
    backend = store(bao)
    key = EntryKey("conductorone", "Terraform \u202eCI", "\u00e9" * 257)  # not printable; 514 bytes
    backend.write(key, content(key))
    assert backend.warnings == []
    metadata = raw(bao, "secret/metadata/" + backend.location(key).split("/", 1)[1])["custom_metadata"]
    assert metadata["principal"] == "Terraform +E2+80+AECI" and "credential" not in metadata  # 1,542 bytes as +XX
    assert backend.read(key).content["names"] == {"principal": "Terraform \u202eCI", "credential": "\u00e9" * 257}
    assert backend.list() == [key] and backend.list("conductorone", "Terraform \u202eCI") == [key]
