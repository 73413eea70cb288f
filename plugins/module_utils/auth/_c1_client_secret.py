# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""C1 plain client secret, posted in the form body (for secrets that are not v1 keys)."""

from __future__ import annotations

from .base import TokenSource
from ._c1_token_endpoint import request_token


class ClientSecretSource(TokenSource):
    def __init__(self, server_url, client_id, client_secret, dpop=None):
        self.server_url = server_url
        self.client_id = client_id
        self.secrets = (client_secret,)
        self.dpop = dpop

    def form(self):
        return {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.secrets[0]}

    def fetch(self, transport):
        token, self.dpop = request_token(transport, self.server_url, self.form, self.client_id,
                                         self.dpop, self.secrets)
        return token, self.dpop
