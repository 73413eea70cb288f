# -*- coding: utf-8 -*-
"""AWX's own credential lookup plugins read the entries the collection wrote.

The plugins are awx-plugins-core's (PyPI, in .venv-awxlookups: `make awx-lookups`), loaded from the
entry point group ``awx_plugins.credentials`` and called as AWX calls them, ``backend(**inputs,
**metadata)`` (tests/integration/awx_lookup.py). The entries are written by sp_credential in real
ansible-playbook runs to a real ``bao server -dev`` and a real moto server (tests/servers.py). Where a
field value is wrong, the test asserts what the user sees: the answer of AWX's "Test" button and the
error a job that uses the credential fails with. docs/guide/awx.md names the field values tested here.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import urllib.error
import urllib.parse
from pathlib import Path

import pytest

from helpers import CRED, SP
from store_servers import AWS_NAME, PATH, READ_ONLY_POLICY, Aws, Vault

HELPER = Path(__file__).with_name("awx_lookup.py")
VAULT_PLUGIN = "hashivault_kv"
AWS_PLUGIN = "aws_secretsmanager_credential"
# The field values docs/guide/awx.md gives for the HashiCorp Vault Secret Lookup.
WORKING = {"secret_backend": "secret", "secret_path": PATH, "secret_key": "client_secret"}


def lookup(plugin, inputs, metadata, env=None):
    """What AWX resolves a field linked to ``plugin`` to: {"value"} or {"error", "test"}."""
    python = os.environ.get("CONDUCTOR_AWX_LOOKUPS_PYTHON")
    if not python:
        pytest.fail("CONDUCTOR_AWX_LOOKUPS_PYTHON is not set: run these tests with make awx-lookups, "
                    "which builds .venv-awxlookups from tools/ee/requirements-awxlookups.txt")
    # Only what AWX's job environment would hold: no Vault or AWS settings of this machine.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "AWS_", "PYTHON"))}
    done = subprocess.run([python, str(HELPER)], input=json.dumps({
        "plugin": plugin, "inputs": inputs, "metadata": metadata}), env=dict(clean, **(env or {})),
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def not_found(url, path):
    """The text of the HTTP error a job fails with when Vault answers 404 for ``path``."""
    return "404 Client Error: Not Found for url: %s/v1/%s" % (url, urllib.parse.quote(path))


@pytest.fixture
def vault(bao_server):
    bao_server.wipe()
    yield Vault(bao_server)
    bao_server.wipe()


@pytest.fixture
def written(fresh, playbook, vault):
    """sp_credential's result after it stored the credential in Vault (as the provision role does)."""
    return playbook([{SP: {"name": "Terraform CI"}}, {CRED: {
        "service_principal": "Terraform CI", "name": "ci", "store": vault.options()}, "register": "cred"}],
        extra_env=vault.env, keep=["cred"]).results["cred"]


def token_inputs(bao):
    return {"url": bao.url, "token": bao.token, "api_version": "v2"}


# ---- HashiCorp Vault Secret Lookup (OpenBao) -----------------------------------------------

def test_vault_lookup_with_a_token_reads_the_secret_the_collection_stored(written, vault):
    assert written["stored"] == {"type": "hashi_vault", "location": "secret/" + PATH}
    got = lookup(VAULT_PLUGIN, token_inputs(vault.bao), WORKING)
    assert got == {"value": written["client_secret"]}
    assert lookup(VAULT_PLUGIN, token_inputs(vault.bao), dict(WORKING, secret_key="client_id")) == {
        "value": written["client_id"]}
    # stored.location as the path works only with the backend left empty (its first segment is the mount).
    assert lookup(VAULT_PLUGIN, token_inputs(vault.bao), {
        "secret_backend": "", "secret_path": written["stored"]["location"], "secret_key": "client_secret"}) == {
        "value": written["client_secret"]}


def test_vault_lookup_with_approle_and_a_read_only_policy(written, vault):
    bao = vault.bao
    role_id, secret_id = bao.approle("awx-reader", READ_ONLY_POLICY)
    inputs = {"url": bao.url, "role_id": role_id, "secret_id": secret_id, "default_auth_path": "approle",
              "api_version": "v2"}
    assert lookup(VAULT_PLUGIN, inputs, WORKING) == {"value": written["client_secret"]}

    # The role can read and nothing more: a write with its token is refused.
    token = bao.api("POST", "auth/approle/login", {"role_id": role_id, "secret_id": secret_id})["auth"]["client_token"]
    bao.issued.append(token)
    with pytest.raises(urllib.error.HTTPError) as refused:
        bao.api("POST", "secret/data/" + PATH, {"data": {"client_secret": "overwritten"}}, token=token)
    assert refused.value.code == 403
    assert vault.entry()["client_secret"] == written["client_secret"]


def test_vault_lookup_reads_the_previous_version_by_secret_version(fresh, playbook, written, vault):
    rotated = playbook([{CRED: {"service_principal": "Terraform CI", "name": "ci", "store": vault.options(),
                                "force_rotate": True, "revoke_previous": False}, "register": "cred"}],
                       extra_env=vault.env, keep=["cred"]).results["cred"]
    assert rotated["client_secret"] != written["client_secret"]
    current = vault.bao.api("GET", "secret/metadata/" + PATH)["data"]["current_version"]
    inputs = token_inputs(vault.bao)
    assert lookup(VAULT_PLUGIN, inputs, WORKING) == {"value": rotated["client_secret"]}
    assert lookup(VAULT_PLUGIN, inputs, dict(WORKING, secret_version=str(current))) == {
        "value": rotated["client_secret"]}
    assert lookup(VAULT_PLUGIN, inputs, dict(WORKING, secret_version=str(current - 1))) == {
        "value": written["client_secret"]}
    assert lookup(VAULT_PLUGIN, inputs, dict(WORKING, secret_version=str(current - 1), secret_key="credential_id")) == {
        "value": written["credential"]["id"]}


def test_vault_lookup_in_a_namespace(fresh, playbook, vault):
    bao = vault.bao
    namespace = "awx-" + secrets.token_hex(4)
    bao.namespace(namespace)
    made = playbook([{SP: {"name": "Terraform CI"}}, {CRED: {
        "service_principal": "Terraform CI", "name": "ci", "store": vault.options(namespace=namespace)},
        "register": "cred"}], extra_env=vault.env, keep=["cred"]).results["cred"]
    assert lookup(VAULT_PLUGIN, dict(token_inputs(bao), namespace=namespace), WORKING) == {
        "value": made["client_secret"]}
    # Without the namespace the lookup looks in the root namespace, where there is no such entry.
    assert lookup(VAULT_PLUGIN, token_inputs(bao), WORKING) == {
        "error": not_found(bao.url, "secret/data/" + PATH), "test": "HTTP 404"}


@pytest.mark.parametrize("pitfall, inputs, metadata, path", [
    # The form's default API Version: a KV version 1 read of a version 2 engine.
    ("API Version v1", {"api_version": "v1"}, {}, "secret/" + PATH),
    # The data/ segment of the KV v2 API typed into the backend: the plugin adds its own.
    ("backend secret/data", {}, {"secret_backend": "secret/data"}, "secret/data/data/" + PATH),
    # stored.location (secret/...) pasted as the path with the backend set too: the mount twice.
    ("stored.location as the path", {}, {"secret_path": "secret/" + PATH}, "secret/data/secret/" + PATH),
])
def test_vault_lookup_pitfalls_fail_with_404(written, vault, pitfall, inputs, metadata, path):
    got = lookup(VAULT_PLUGIN, dict(token_inputs(vault.bao), **inputs), dict(WORKING, **metadata))
    assert got == {"error": not_found(vault.bao.url, path), "test": "HTTP 404"}, pitfall
    assert written["client_secret"] not in json.dumps(got)


# ---- AWS Secrets Manager lookup (moto) ---------------------------------------------------------

def test_aws_lookup_returns_the_whole_secret_string(fresh, playbook, moto_server):
    moto_server.reset()
    aws = Aws(moto_server)
    made = playbook([{SP: {"name": "Terraform CI"}}, {CRED: {
        "service_principal": "Terraform CI", "name": "ci", "store": aws.options()}, "register": "cred"}],
        extra_env=aws.env, keep=["cred"]).results["cred"]
    assert made["stored"] == {"type": "aws_secretsmanager", "location": AWS_NAME}
    inputs = {"aws_access_key": moto_server.access_key, "aws_secret_key": moto_server.secret_key}
    metadata = {"region_name": moto_server.region, "secret_name": made["stored"]["location"]}
    # AWX would reach AWS itself; here botocore's standard endpoint setting points it at moto.
    endpoint = {"AWS_ENDPOINT_URL": moto_server.url}
    got = lookup(AWS_PLUGIN, inputs, metadata, env=endpoint)
    # No key to pick: the field receives the whole SecretString, the JSON object of the entry.
    assert json.loads(got["value"]) == aws.entry()
    assert json.loads(got["value"])["client_secret"] == made["client_secret"]

    # The principal's name as typed (with its space) is not the secret's name: Terraform+20CI is.
    missing = lookup(AWS_PLUGIN, inputs, dict(metadata, secret_name="conductor-principals/conductorone/Terraform CI/ci"),
                     env=endpoint)
    assert missing["test"] == "ResourceNotFoundException"
    assert missing["error"].startswith("An error occurred (ResourceNotFoundException) when calling the GetSecretValue "
                                       "operation"), missing
    moto_server.reset()
