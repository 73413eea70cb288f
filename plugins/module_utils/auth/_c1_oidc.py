# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""C1 workload federation: exchange an OIDC JWT for a token (RFC 8693)."""

from __future__ import annotations

from .base import TokenSource
from ._c1_token_endpoint import request_token

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"


class OidcExchangeSource(TokenSource):
    # The same OIDC token can be exchanged again while it lives.
    def __init__(self, server_url, client_id, oidc_token, dpop=None):
        self.server_url = server_url
        self.client_id = client_id
        self.secrets = (oidc_token,)
        self.dpop = dpop

    def form(self):
        return {"grant_type": TOKEN_EXCHANGE, "client_id": self.client_id,
                "subject_token": self.secrets[0], "subject_token_type": JWT_TOKEN_TYPE}

    def fetch(self, transport):
        token, self.dpop = request_token(transport, self.server_url, self.form, self.client_id,
                                         self.dpop, self.secrets)
        return token, self.dpop
