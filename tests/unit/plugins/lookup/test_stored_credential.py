# -*- coding: utf-8 -*-
"""The stored_credential lookup, loaded by ansible's plugin loader, against real stores (no mocks)."""

from __future__ import annotations

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError

from ansible_collections.conductor.principals.plugins.lookup import stored_credential
from ansible_collections.conductor.principals.plugins.lookup.stored_credential import split_name
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

NAME = "conductor.principals.stored_credential"


@pytest.fixture(scope="module")
def lookup():
    """The plugin with its options defined from its own DOCUMENTATION, as ansible's plugin loader does it
    (the real-playbook runs are in tests/integration/test_store_backends.py)."""
    options = yaml.safe_load(stored_credential.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, options)
    plugin = stored_credential.LookupModule()
    plugin._load_name = NAME  # pylint: disable=protected-access
    return lambda *terms, **options: plugin.run(list(terms), variables={}, **options)


def content(key, secret):
    return entry_content(key, {"id": "cred-" + secret, "expires_at": None}, "client-" + secret, secret,
                         "https://example.test")


def test_split_name_takes_the_credential_after_the_last_slash():
    assert split_name("Terraform CI/ci") == ("Terraform CI", "ci")
    assert split_name("team/a/ci") == ("team/a", "ci")
    assert split_name("@personal/laptop") == ("@personal", "laptop")
    for bad in ("ci", "/ci", "sp/"):
        with pytest.raises(AnsibleError, match="is not <principal>/<credential>"):
            split_name(bad)


def test_reads_from_hashi_vault(lookup, bao_server):
    bao_server.wipe()
    options = {"type": "hashi_vault", "url": bao_server.url, "token": bao_server.token}
    key = EntryKey("orkes", "Terraform CI", "ci")
    store_for(options).write(key, content(key, "vault-secret"))
    assert lookup("Terraform CI/ci", platform="orkes", store=options) == [content(key, "vault-secret")]
    with pytest.raises(AnsibleError, match="no entry for 'Terraform CI/ci' in the hashi_vault store at "
                                           "secret/conductor-principals/conductorone/Terraform CI/ci"):
        lookup("Terraform CI/ci", store=options)  # platform conductorone by default
    bao_server.wipe()


def test_reads_from_aws_secretsmanager_several_names_and_missing_empty(lookup, moto_server, monkeypatch):
    moto_server.reset()
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    options = {"type": "aws_secretsmanager", "endpoint_url": moto_server.url}
    key = EntryKey("conductorone", "A46-sp", "ci")
    store_for(options, moto_server.env()).write(key, content(key, "aws-secret"))
    assert lookup("A46-sp/ci", "A46-sp/deploy", missing="empty", store=options) == [content(key, "aws-secret"), {}]


def test_reads_from_a_vault_file(lookup, tmp_path):
    options = {"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "file password 1"}
    key = EntryKey("conductorone", "@personal", "laptop")
    store_for(options).write(key, content(key, "file-secret"))
    assert lookup("@personal/laptop", store=options) == [content(key, "file-secret")]
    with pytest.raises(AnsibleError, match="the password is wrong"):
        lookup("@personal/laptop", store=dict(options, password="not it"))


@pytest.mark.parametrize("store, message", [
    ({"type": "nope"}, "store: value of type must be one of"),
    ({"type": "hashi_vault", "url": "http://127.0.0.1:9", "token": "t", "bogus": 1}, "store: unsupported key bogus"),
    ({"type": "hashi_vault", "url": "http://127.0.0.1:9"}, "needs a Vault token"),
    ({"type": "hashi_vault", "url": "http://127.0.0.1:9", "token": "t"}, "could not be reached"),
])
def test_bad_stores_fail_with_one_sentence(lookup, monkeypatch, store, message):
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    with pytest.raises(AnsibleError, match=message):
        lookup("sp/ci", store=store)
