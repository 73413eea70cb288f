# -*- coding: utf-8 -*-
"""Every auth path, checked on the wire with `responses` and decoded with joserfc."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs

import pytest
import responses
from joserfc import jwt as jose_jwt
from joserfc.jwk import OKPKey

from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError
from ansible_collections.conductor.principals.tests.unit.helpers import CLIENT_ID, SERVER

TOKEN_URL = SERVER + "/auth/v1/token"
WHOAMI = SERVER + "/api/v1/auth/introspect"

# c1-auth.md names the algorithm "EdDSA"; RFC 9864 prefers "Ed25519" and joserfc says so.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def proof_key(header):
    """The public JWK a DPoP proof carries in its protected header."""
    return json.loads(base64.urlsafe_b64decode(header.split(".")[0] + "=="))["jwk"]


def decode(token, public_jwk):
    return jose_jwt.decode(token, OKPKey.import_key(public_jwk), algorithms=["EdDSA"])


def public_jwk_of(private_key):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def client_for(**options):
    return ApiClient(resolve_settings(options, {}))


def token_ok(token="tok-1", token_type="Bearer"):
    body = {"access_token": token, "token_type": token_type, "expires_in": 3600}
    return responses.Response("POST", TOKEN_URL, json=body)


@responses.activate
def test_v1_secret_signs_an_assertion_with_exact_claims_and_never_sends_the_secret(v1_secret):
    secret, key = v1_secret
    responses.add(token_ok())
    responses.add("GET", WHOAMI, json={"principleId": "p"})
    before = int(time.time())
    client_for(client_id=CLIENT_ID, client_secret=secret).call("GET", "/api/v1/auth/introspect", "introspect")
    body = form(responses.calls[0])
    assert secret not in responses.calls[0].request.body
    assert "client_secret" not in body
    assert body["grant_type"] == "client_credentials"
    assert body["client_id"] == CLIENT_ID
    assert body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    token = decode(body["client_assertion"], public_jwk_of(key))  # fails if the signature is wrong
    claims = token.claims
    assert token.header["alg"] == "EdDSA"
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == "tenant.example.test"  # host name without the port
    assert before <= claims["iat"] <= before + 5
    assert claims["nbf"] == claims["iat"] - 120 and claims["exp"] == claims["iat"] + 120
    assert len(claims["nonce"]) >= 16
    assert responses.calls[1].request.headers["Authorization"] == "Bearer tok-1"
    assert not responses.calls[0].request.headers.get("Authorization")  # credentials in the body only


@responses.activate
def test_each_assertion_is_new_so_a_retried_token_request_is_not_a_replay(v1_secret, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    responses.add("POST", TOKEN_URL, status=503)
    responses.add(token_ok())
    responses.add("GET", WHOAMI, json={})
    client = client_for(client_id=CLIENT_ID, client_secret=v1_secret[0])
    client.transport.sleep = lambda s: None
    client.call("GET", "/api/v1/auth/introspect", "introspect")
    first, second = (form(c)["client_assertion"] for c in responses.calls[:2])
    assert first != second


@responses.activate
def test_other_secrets_are_posted_as_client_secret_in_the_body():
    responses.add(token_ok())
    responses.add("GET", WHOAMI, json={})
    client_for(client_id=CLIENT_ID, client_secret="secret-token:legacy").call("GET", "/api/v1/auth/introspect", "x")
    body = form(responses.calls[0])
    assert body == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_secret": "secret-token:legacy"}


@responses.activate
def test_oidc_token_exchange_form():
    responses.add(token_ok())
    responses.add("GET", WHOAMI, json={})
    client_for(client_id=CLIENT_ID, oidc_token="eyJhbGciOi.oidc.jwt").call("GET", "/api/v1/auth/introspect", "x")
    assert form(responses.calls[0]) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "client_id": CLIENT_ID,
        "subject_token": "eyJhbGciOi.oidc.jwt",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    }


@responses.activate
def test_given_access_token_skips_the_token_endpoint_and_is_not_refreshed():
    responses.add("GET", WHOAMI, status=401, json={"message": "expired"})
    client = client_for(server_url=SERVER, access_token="given-token")
    with pytest.raises(ConductorError) as err:
        client.call("GET", "/api/v1/auth/introspect", "introspect")
    assert len(responses.calls) == 1  # no token request, no retry
    assert responses.calls[0].request.headers["Authorization"] == "Bearer given-token"
    assert err.value.status == 401 and "given-token" not in str(err.value)


@responses.activate
def test_a_401_triggers_exactly_one_reauthentication():
    responses.add(token_ok("old"))
    responses.add("GET", WHOAMI, status=401, json={"message": "token expired"})
    responses.add(token_ok("new"))
    responses.add("GET", WHOAMI, json={"ok": True})
    assert client_for(client_id=CLIENT_ID, client_secret="secret-token:legacy").call(
        "GET", "/api/v1/auth/introspect", "x") == {"ok": True}
    assert [c.request.url for c in responses.calls] == [TOKEN_URL, WHOAMI, TOKEN_URL, WHOAMI]
    assert responses.calls[3].request.headers["Authorization"] == "Bearer new"


@responses.activate
def test_a_second_401_fails_instead_of_looping():
    for dummy in range(2):
        responses.add(token_ok())
        responses.add("GET", WHOAMI, status=401, json={"message": "nope"})
    with pytest.raises(ConductorError) as err:
        client_for(client_id=CLIENT_ID, client_secret="secret-token:legacy").call("GET", "/api/v1/auth/introspect",
                                                                                  "read who I am")
    assert len(responses.calls) == 4
    assert str(err.value).startswith("Could not read who I am: the credentials were not accepted")


@responses.activate
def test_refused_credentials_are_one_sentence_without_the_secret():
    responses.add("POST", TOKEN_URL, status=401, headers={"X-Request-Id": "req-9"},
                  json={"error": "invalid_client", "error_description": "bad secret secret-token:legacy"})
    with pytest.raises(ConductorError) as err:
        client_for(client_id=CLIENT_ID, client_secret="secret-token:legacy").call("GET", "/x", "x")
    text = str(err.value)
    assert "secret-token:legacy" not in text
    assert CLIENT_ID in text and "HTTP 401" in text and "req-9" in text and "invalid_client" in text


# ---- DPoP -------------------------------------------------------------------------

@responses.activate
def test_dpop_is_detected_nonce_is_honoured_and_api_calls_carry_ath(v1_secret):
    responses.add("POST", TOKEN_URL, status=400,
                  json={"error": "invalid_dpop_proof", "error_description": "DPoP proof required"})
    responses.add("POST", TOKEN_URL, status=400, headers={"DPoP-Nonce": "n-1"}, json={"error": "use_dpop_nonce"})
    responses.add(token_ok("bound", "DPoP"))
    responses.add("GET", WHOAMI, json={})
    responses.add("GET", WHOAMI, json={})
    client = client_for(client_id=CLIENT_ID, client_secret=v1_secret[0])
    client.call("GET", "/api/v1/auth/introspect", "x")
    client.call("GET", "/api/v1/auth/introspect", "x")

    assert "DPoP" not in responses.calls[0].request.headers
    proofs = []
    for index, expect_nonce in ((1, None), (2, "n-1")):
        header = responses.calls[index].request.headers["DPoP"]
        token = decode(header, proof_key(header))
        assert token.header["typ"] == "dpop+jwt" and token.header["alg"] == "EdDSA"
        assert "d" not in token.header["jwk"]  # only the public key travels
        assert token.claims["htm"] == "POST" and token.claims["htu"] == TOKEN_URL
        assert token.claims.get("nonce") == expect_nonce
        assert "ath" not in token.claims
        proofs.append(token)
    assert proofs[0].header["jwk"] == proofs[1].header["jwk"]

    api_proofs = []
    for call in responses.calls[3:5]:
        assert call.request.headers["Authorization"] == "DPoP bound"
        header = call.request.headers["DPoP"]
        token = decode(header, proofs[0].header["jwk"])
        assert token.claims["htm"] == "GET" and token.claims["htu"] == WHOAMI
        expected_ath = base64.urlsafe_b64encode(hashlib.sha256(b"bound").digest()).rstrip(b"=").decode()
        assert token.claims["ath"] == expected_ath
        api_proofs.append(token.claims["jti"])
    assert len(set(api_proofs + [p.claims["jti"] for p in proofs])) == 4  # a fresh proof each time


@responses.activate
def test_dpop_token_without_proof_is_refused():
    responses.add(token_ok("bound", "DPoP"))
    with pytest.raises(ConductorError) as err:
        client_for(client_id=CLIENT_ID, client_secret="secret-token:legacy").call("GET", "/x", "x")
    assert "without a DPoP proof" in str(err.value)


# ---- Orkes --------------------------------------------------------------------------

ORKES = "https://orkes.example.test/api"


@responses.activate
def test_orkes_key_gets_a_jwt_sent_as_x_authorization():
    import jwt as pyjwt
    token = pyjwt.encode({"sub": "app", "exp": int(time.time()) + 600}, "k" * 32, algorithm="HS256")
    responses.add("POST", ORKES + "/token", json={"token": token})
    responses.add("GET", ORKES + "/applications", json=[])
    client = client_for(platform="orkes", server_url="https://orkes.example.test", client_id="key-1",
                        client_secret="orkes-secret")
    assert client.call("GET", "/applications", "list applications") == []
    assert json.loads(responses.calls[0].request.body) == {"keyId": "key-1", "keySecret": "orkes-secret"}
    headers = responses.calls[1].request.headers
    assert headers["X-Authorization"] == token and "Authorization" not in headers
    assert 590 <= client.auth.token.expires_in <= 600


@responses.activate
def test_paused_orkes_key_fails_clearly():
    responses.add("POST", ORKES + "/token", status=401, json={"status": 401, "message": "Key is INACTIVE"})
    client = client_for(platform="orkes", server_url=ORKES, client_id="key-1", client_secret="orkes-secret")
    with pytest.raises(ConductorError) as err:
        client.call("GET", "/applications", "list applications")
    assert "access key key-1" in str(err.value) and "paused" in str(err.value)
    assert "orkes-secret" not in str(err.value)


def test_a_refresh_that_fails_keeps_the_old_token_and_the_next_one_replaces_it():
    from ansible_collections.conductor.principals.plugins.module_utils.auth import Authenticator
    from ansible_collections.conductor.principals.plugins.module_utils.auth.base import Token, TokenSource

    class Answers(TokenSource):
        answers = ["first", ConductorError("the token endpoint answered 500"), "third"]

        def fetch(self, transport):
            answer = self.answers.pop(0)
            if isinstance(answer, ConductorError):
                raise answer
            return Token(answer, "Bearer", 3600), None

    auth = Authenticator(Answers())
    auth.ensure_token(None)
    with pytest.raises(ConductorError, match="answered 500"):
        auth.refresh(None)
    assert auth.headers("GET", SERVER) == {"Authorization": "Bearer first"} and auth.fetches == 1
    assert auth.refresh(None) is True and auth.headers("GET", SERVER) == {"Authorization": "Bearer third"}
