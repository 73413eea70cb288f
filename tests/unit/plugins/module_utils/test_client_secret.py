# -*- coding: utf-8 -*-
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ansible_collections.conductor.principals.plugins.module_utils.client_secret import parse_secret
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError

from ansible_collections.conductor.principals.tests.unit.helpers import b64url, make_v1_secret


def test_v1_secret_yields_its_ed25519_key(v1_secret):
    secret, key = v1_secret
    parsed = parse_secret(secret)
    assert parsed.version == "v1"

    def raw(private_key):
        return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert raw(parsed.private_key) == raw(key)


@pytest.mark.parametrize("secret", [
    "secret-token:abcdef", "secret-token:conductorone.com:v2:xyz", "secret-token:other.example:v1:xyz",
])
def test_other_formats_are_opaque(secret):
    assert parse_secret(secret) == (None, None)


def _jwk_secret(jwk):
    return "secret-token:conductorone.com:v1:" + b64url(json.dumps(jwk).encode())


def _mismatched():
    good = json.loads(base64.urlsafe_b64decode(make_v1_secret()[0].split(":")[3] + "=="))
    good["x"] = json.loads(base64.urlsafe_b64decode(make_v1_secret()[0].split(":")[3] + "=="))["x"]
    return _jwk_secret(good)


@pytest.mark.parametrize("secret, fragment", [
    ("conductorone.com:v1:abc", "must start with 'secret-token:'"),
    ("Secret-Token:abc", "must start with 'secret-token:'"),
    (None, "must start with 'secret-token:'"),
    ("secret-token:", "empty"),
    ("secret-token:conductorone.com:v1:", "four colon-separated fields"),
    ("secret-token:conductorone.com:v1:a:b", "four colon-separated fields"),
    ("secret-token:conductorone.com:v1:%%%not-base64", "not base64url-encoded JSON"),
    ("secret-token:conductorone.com:v1:" + b64url(b"[1, 2]"), "Ed25519 private JSON Web Key"),
    (_jwk_secret({"kty": "EC", "crv": "P-256", "d": "AA", "x": "AA"}), "Ed25519 private JSON Web Key"),
    (_jwk_secret({"kty": "OKP", "crv": "Ed25519", "x": "AA"}), "Ed25519 private JSON Web Key"),
    (_jwk_secret({"kty": "OKP", "crv": "Ed25519", "d": "AA", "x": "AA"}), "not a valid Ed25519 key pair"),
    (_mismatched(), "not a valid Ed25519 key pair"),
])
def test_malformed_secrets_fail_without_echoing_the_secret(secret, fragment):
    with pytest.raises(ConfigError) as err:
        parse_secret(secret)
    assert fragment in str(err.value)
    key_part = (secret or "").split(":")[-1]
    if len(key_part) > 8:
        assert key_part not in str(err.value)


def test_key_is_really_usable():
    key = Ed25519PrivateKey.generate()
    parsed = parse_secret(make_v1_secret(key)[0])
    key.public_key().verify(parsed.private_key.sign(b"m"), b"m")
