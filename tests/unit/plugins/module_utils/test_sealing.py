# -*- coding: utf-8 -*-
"""Sealed results: what a module on a remote host returns is opened only with the task's key."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ansible_collections.conductor.principals.plugins.module_utils.runner import SECRET_RESULT_KEYS
from ansible_collections.conductor.principals.plugins.module_utils.sealing import (
    PREFIX, SealError, check_key, is_sealed, new_key_pair, open_result, seal, seal_result, unseal)

SECRET = "secret-token:conductorone.com:v1:c2VjcmV0LXZhbHVlLW5vdC1yZWFs"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"


def token_result():
    return {
        "changed": False, "access_token": TOKEN, "token_type": "DPoP", "expires_in": 3600,
        "server_url": "https://tenant.example.test", "headers": {"Authorization": "DPoP " + TOKEN},
        "dpop_key": {"kty": "OKP", "crv": "Ed25519", "d": "cHJpdmF0ZQ", "x": "cHVibGlj"},
        "identity": {"user_id": "u1"},
    }


def test_round_trip_of_text_and_dicts():
    private_key, public_key = new_key_pair()
    for label, value in [("client_secret", SECRET), ("dpop_key", {"kty": "OKP", "d": "x"}), ("headers", {})]:
        sealed = seal(value, public_key, label)
        assert is_sealed(sealed) and sealed.startswith(PREFIX)
        assert unseal(sealed, private_key, label) == value


def test_sealed_text_holds_nothing_of_the_value():
    dummy, public_key = new_key_pair()
    sealed = seal(SECRET, public_key, "client_secret")
    assert SECRET not in sealed and "c2VjcmV0LXZhbHVl" not in sealed
    assert seal(SECRET, public_key, "client_secret") != sealed  # a fresh key and nonce each time


def test_the_public_key_is_a_raw_x25519_key_and_private_key_stays_an_object():
    private_key, public_key = new_key_pair()
    assert len(base64.urlsafe_b64decode(public_key + "=")) == 32
    assert isinstance(private_key, X25519PrivateKey)


def test_another_tasks_key_cannot_open_it():
    dummy, public_key = new_key_pair()
    other, dummy_public = new_key_pair()
    with pytest.raises(SealError, match="cannot be opened"):
        unseal(seal(SECRET, public_key, "client_secret"), other, "client_secret")


def test_a_value_moved_to_another_key_cannot_be_opened():
    private_key, public_key = new_key_pair()
    with pytest.raises(SealError, match="cannot be opened"):
        unseal(seal(TOKEN, public_key, "access_token"), private_key, "identity")


def test_altered_or_truncated_ciphertext_is_refused():
    private_key, public_key = new_key_pair()
    sealed = seal(SECRET, public_key, "client_secret")
    body = bytearray(base64.urlsafe_b64decode(sealed[len(PREFIX):] + "=="))
    body[-1] ^= 1
    altered = PREFIX + base64.urlsafe_b64encode(bytes(body)).decode().rstrip("=")
    with pytest.raises(SealError, match="cannot be opened"):
        unseal(altered, private_key, "client_secret")
    with pytest.raises(SealError, match="truncated"):
        unseal(PREFIX + "AAAA", private_key, "client_secret")


@pytest.mark.parametrize("key", ["", "not a key", "AAAA", 42, None])
def test_malformed_public_keys_are_refused(key):
    with pytest.raises(SealError, match="not a base64url X25519 public key"):
        check_key(key)
    with pytest.raises(SealError):
        seal_result({"client_secret": SECRET}, key)


def test_seal_result_seals_every_secret_key_and_headers_and_nothing_else():
    private_key, public_key = new_key_pair()
    sealed = seal_result(token_result(), public_key)
    text = json.dumps(sealed)
    assert TOKEN not in text and "cHJpdmF0ZQ" not in text
    for key in ("access_token", "headers", "dpop_key"):
        assert is_sealed(sealed[key])
    assert sealed["identity"] == {"user_id": "u1"} and sealed["token_type"] == "DPoP"
    assert open_result(sealed, private_key) == token_result()


def test_every_secret_result_key_is_sealed():
    dummy, public_key = new_key_pair()
    sealed = seal_result({key: "value-of-" + key for key in SECRET_RESULT_KEYS}, public_key)
    assert all(is_sealed(sealed[key]) for key in SECRET_RESULT_KEYS)


def test_sealing_reaches_nested_results_and_leaves_none_alone():
    private_key, public_key = new_key_pair()
    result = {"changed": True, "client_secret": None, "credential": {"id": "c1"},
              "results": [{"item": "a", "client_secret": SECRET}, {"nested": {"headers": {"X-Authorization": TOKEN}}}]}
    sealed = seal_result(result, public_key)
    assert sealed["client_secret"] is None
    assert is_sealed(sealed["results"][0]["client_secret"]) and is_sealed(sealed["results"][1]["nested"]["headers"])
    assert SECRET not in json.dumps(sealed) and TOKEN not in json.dumps(sealed)
    assert open_result(sealed, private_key) == result


def test_an_unsealed_secret_is_refused_and_named_by_its_path():
    private_key, public_key = new_key_pair()
    with pytest.raises(SealError, match="^client_secret came back unsealed"):
        open_result({"changed": True, "client_secret": SECRET}, private_key)
    sealed = seal_result(token_result(), public_key)
    sealed["results"] = [{"headers": {"Authorization": "Bearer " + TOKEN}}]
    with pytest.raises(SealError, match=r"^results\[0\]\.headers came back unsealed"):
        open_result(sealed, private_key)


def test_ansibles_invocation_is_passed_through_untouched():
    private_key, public_key = new_key_pair()
    invocation = {"module_args": {"client_secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "access_token": None}}
    sealed = seal_result({"changed": False, "access_token": TOKEN}, public_key)
    sealed["invocation"] = invocation
    assert open_result(sealed, private_key) == {"changed": False, "access_token": TOKEN, "invocation": invocation}
