# -*- coding: utf-8 -*-
"""ca_path falls back to an environment variable per platform (an AWX credential type injects the
CA certificate as a file and its path in CONDUCTORONE_CA_PATH or CONDUCTOR_CA_PATH)."""
from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError

C1 = {"client_id": "f-1@h.example/spc", "client_secret": "opaque-secret-value"}
ORKES = {"platform": "orkes", "server_url": "https://o.example/api", "client_id": "k", "client_secret": "s"}


@pytest.fixture
def ca_files(tmp_path):
    paths = []
    for name in ("env-ca.pem", "option-ca.pem"):
        path = tmp_path / name
        path.write_text("-----BEGIN CERTIFICATE-----\n")
        paths.append(str(path))
    return paths


def test_each_platform_reads_its_own_variable(ca_files):
    env_ca, dummy = ca_files
    assert resolve_settings(C1, {"CONDUCTORONE_CA_PATH": env_ca}).ca_path == env_ca
    assert resolve_settings(ORKES, {"CONDUCTOR_CA_PATH": env_ca}).ca_path == env_ca
    # The other platform's variable is not read.
    assert resolve_settings(C1, {"CONDUCTOR_CA_PATH": env_ca}).ca_path is None
    assert resolve_settings(ORKES, {"CONDUCTORONE_CA_PATH": env_ca}).ca_path is None


def test_the_option_beats_the_variable_and_empty_is_unset(ca_files):
    env_ca, option_ca = ca_files
    assert resolve_settings(dict(C1, ca_path=option_ca), {"CONDUCTORONE_CA_PATH": env_ca}).ca_path == option_ca
    # AWX injects "" for an optional field left empty: no CA bundle, the system's trust store.
    assert resolve_settings(C1, {"CONDUCTORONE_CA_PATH": ""}).ca_path is None


def test_a_missing_file_named_by_the_variable_is_one_sentence(tmp_path):
    with pytest.raises(ConfigError) as err:
        resolve_settings(ORKES, {"CONDUCTOR_CA_PATH": str(tmp_path / "nope.pem")})
    assert "ca_path" in str(err.value) and "does not exist" in str(err.value)
