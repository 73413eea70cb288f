# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""POST /auth/v1/token, shared by every C1 grant: DPoP detection and OAuth errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import ConductorError, parse_error_body
from ..transport import request_id_of
from .base import Token
from .dpop import DpopKey

TOKEN_PATH = "/auth/v1/token"


def token_audience(server_url):
    """The assertion's aud: the token host's name without port (c1-auth.md)."""
    return urlsplit(server_url).hostname


def _needs_dpop(error, description):
    return error in ("invalid_dpop_proof", "use_dpop_nonce") or "dpop" in description.lower()


def request_token(transport, server_url, build_form, client_id, dpop=None, secrets=()):
    """Obtain a C1 token; ``build_form()`` makes a fresh body for every attempt.

    Without a DPoP key the first try carries no proof; a server that requires one
    says so, and the request is repeated with a proof (and its nonce, if asked).
    Returns (Token, DpopKey or None).
    """
    url = server_url + TOKEN_PATH
    attempts = 0
    while True:
        attempts += 1

        def add_proof(headers, dpop=dpop):
            if dpop is not None:
                headers["DPoP"] = dpop.proof("POST", url)

        response = transport.request("POST", url, data=build_form, prepare=add_proof,
                                     headers={"Accept": "application/json"}, idempotent=True)
        if response.status_code == 200:
            break
        error, description = parse_error_body(response, secrets)
        if attempts < 3 and response.status_code in (400, 401):
            if error == "use_dpop_nonce" and dpop is not None and response.headers.get("DPoP-Nonce"):
                dpop.nonce = response.headers["DPoP-Nonce"]
                continue
            if dpop is None and _needs_dpop(error, description):
                dpop = DpopKey()
                if response.headers.get("DPoP-Nonce"):
                    dpop.nonce = response.headers["DPoP-Nonce"]
                continue
        raise ConductorError(
            _explain(response.status_code, error, client_id, url),
            status=response.status_code,
            api_message=" ".join(part for part in (error, description) if part),
            request_id=request_id_of(response),
            attempts=getattr(response, "attempts", None))
    try:
        body = response.json()
        token = Token(body["access_token"], body.get("token_type") or "Bearer", int(body.get("expires_in") or 0))
    except (ValueError, KeyError, TypeError):
        raise ConductorError("The token endpoint %s answered without an access token" % url,
                             request_id=request_id_of(response))
    if token.token_type.lower() == "dpop" and dpop is None:
        raise ConductorError("The token endpoint issued a DPoP-bound token to a request without a DPoP proof")
    return token, (dpop if token.token_type.lower() == "dpop" else None)


def _explain(status, error, client_id, url):
    if error == "invalid_client" or status == 401:
        return ("ConductorOne refused the credentials of client_id %s at %s: check that the client ID and "
                "secret belong together and that the credential is not revoked, expired or limited to "
                "other source IPs" % (client_id, url))
    return "ConductorOne refused the token request of client_id %s at %s" % (client_id, url)
