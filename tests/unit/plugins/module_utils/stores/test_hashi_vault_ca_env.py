# -*- coding: utf-8 -*-
"""The hashi_vault store's CA bundle from VAULT_CACERT (what the AWX secret store credential type injects),
against a real ``bao server -dev`` over HTTPS with a CA of its own (tests/servers.py); no mocks."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, StoreError, store_for
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

KEY = EntryKey("conductorone", "AWX TLS", "awx-key")


@pytest.fixture(scope="module")
def tls_bao(tmp_path_factory):
    from ansible_collections.conductor.principals.tests.servers import BaoServer

    server = BaoServer(tmp_path_factory.mktemp("bao-tls-env"), tls=True).start()
    yield server
    server.stop()


def options(server, **extra):
    return dict({"type": "hashi_vault", "url": server.url, "token": server.token}, **extra)


def content():
    return entry_content(KEY, {"id": "cred-1", "expires_at": "2027-02-01T00:00:00Z"}, "client-1", "s3cret",
                         "https://example.test")


def test_the_ca_bundle_named_by_vault_cacert_verifies_the_server(tls_bao):
    backend = store_for(options(tls_bao), {"VAULT_CACERT": tls_bao.ca_path})
    backend.write(KEY, content())
    assert backend.read(KEY).content == content()


def test_an_empty_vault_cacert_is_unset_and_the_unknown_ca_is_refused(tls_bao):
    # AWX injects "" when the CA certificate input is left empty.
    with pytest.raises(StoreError, match="TLS certificate of the server could not be verified"):
        store_for(options(tls_bao), {"VAULT_CACERT": ""}).read(KEY)


def test_store_ca_path_wins_over_vault_cacert(tls_bao, tmp_path):
    backend = store_for(options(tls_bao, ca_path=tls_bao.ca_path), {"VAULT_CACERT": str(tmp_path / "absent.pem")})
    # A read over a verified connection (a refused certificate would raise): there is no such entry.
    assert backend.read(EntryKey("conductorone", "nobody", "none")) is None


def test_a_vault_cacert_that_is_no_file_is_one_sentence(tls_bao, tmp_path):
    missing = tmp_path / "absent.pem"
    with pytest.raises(ConfigError) as caught:
        store_for(options(tls_bao), {"VAULT_CACERT": str(missing)})
    text = str(caught.value)
    assert text == ("the environment variable VAULT_CACERT names %s, which is not a file; give the path of the PEM CA "
                    "bundle that signed the Vault server's certificate, or unset it." % missing)
    assert tls_bao.token not in text
