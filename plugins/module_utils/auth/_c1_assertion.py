# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""C1 private-key JWT assertion: v1 secrets sign a short JWT; the secret never travels."""

from __future__ import annotations

import time
import uuid

from .. import deps
from .base import TokenSource
from ._c1_token_endpoint import request_token, token_audience

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME = 120  # seconds either side of now (c1-auth.md)


def build_assertion(client_id, private_key, audience, now=None):
    now = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "nbf": now - LIFETIME,
        "exp": now + LIFETIME,
        "nonce": uuid.uuid4().hex,
    }
    return deps.jwt.encode(claims, private_key, algorithm="EdDSA")


class AssertionSource(TokenSource):
    def __init__(self, server_url, client_id, private_key, dpop=None, clock=time.time):
        self.server_url = server_url
        self.client_id = client_id
        self.private_key = private_key
        self.dpop = dpop
        self.clock = clock

    def form(self):
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": build_assertion(self.client_id, self.private_key,
                                                token_audience(self.server_url), self.clock()),
        }

    def fetch(self, transport):
        token, self.dpop = request_token(transport, self.server_url, self.form, self.client_id, self.dpop)
        return token, self.dpop
