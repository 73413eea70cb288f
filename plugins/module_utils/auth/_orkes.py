# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orkes Conductor: POST /api/token with an access key; the JWT goes in X-Authorization."""

from __future__ import annotations

import time

from .. import deps
from ..errors import ConductorError, parse_error_body
from ..transport import request_id_of
from .base import Token, TokenSource


def jwt_lifetime(token, now=None):
    """Seconds until a JWT's exp claim (0 when it has none). Read only, never verified."""
    try:
        claims = deps.jwt.decode(token, options={"verify_signature": False})
        return max(0, int(claims["exp"] - (time.time() if now is None else now)))
    except Exception:  # an opaque token is fine: its lifetime is simply unknown
        return 0


class OrkesKeySource(TokenSource):
    header = "X-Authorization"

    def __init__(self, server_url, key_id, key_secret):
        self.server_url = server_url
        self.key_id = key_id
        self.secrets = (key_secret,)

    def fetch(self, transport):
        url = self.server_url + "/token"
        response = transport.request("POST", url, json={"keyId": self.key_id, "keySecret": self.secrets[0]},
                                     headers={"Accept": "application/json"}, idempotent=True)
        if response.status_code != 200:
            dummy, message = parse_error_body(response, self.secrets)
            raise ConductorError(
                "Orkes Conductor refused access key %s at %s: check the key ID and secret and that the key "
                "is not paused (INACTIVE) or deleted" % (self.key_id, url),
                status=response.status_code, api_message=message or None,
                request_id=request_id_of(response), attempts=getattr(response, "attempts", None))
        try:
            token = response.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise ConductorError("Orkes Conductor answered %s without a token" % url)
        return Token(token, "Bearer", jwt_lifetime(token)), None
