# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Authenticator in front of one TokenSource per auth method."""

from __future__ import annotations

import time

from ..client_secret import parse_secret
from ..platforms import CAPABILITIES
from ._c1_assertion import AssertionSource
from ._c1_client_secret import ClientSecretSource
from ._c1_oidc import OidcExchangeSource
from ._orkes import OrkesKeySource
from ._static_token import StaticTokenSource


def token_source_for(settings):
    """The TokenSource for resolved ConnectionSettings (see config.resolve_settings)."""
    capabilities = CAPABILITIES[settings.platform]
    if settings.auth_method == "token":
        return StaticTokenSource(settings.access_token, header=capabilities.token_header)
    if capabilities.secret_exchange == "access_key_token":
        return OrkesKeySource(settings.server_url, settings.client_id, settings.client_secret)
    if settings.auth_method == "oidc":
        return OidcExchangeSource(settings.server_url, settings.client_id, settings.oidc_token)
    parsed = parse_secret(settings.client_secret)
    if parsed.version == "v1":
        return AssertionSource(settings.server_url, settings.client_id, parsed.private_key)
    return ClientSecretSource(settings.server_url, settings.client_id, settings.client_secret)


class Authenticator(object):
    """Holds the current token and turns it into the headers of each API call."""

    def __init__(self, source, clock=time.time):
        self.source = source
        self.clock = clock
        self.token = None
        self.dpop = None
        self.obtained_at = None
        self.fetches = 0

    @property
    def secrets(self):
        values = list(self.source.secrets)
        if self.token:
            values.append(self.token.access_token)
        return tuple(values)

    def ensure_token(self, transport):
        if self.token is None:
            self._fetch(transport)
        return self.token

    def refresh(self, transport):
        """Replace the token once (after a 401). False when the method cannot.

        The old token stays until a new one is had: a failed refresh raises, and leaves no
        ``None`` behind for a caller that builds its headers next.
        """
        if not self.source.can_refresh:
            return False
        self._fetch(transport)
        return True

    def _fetch(self, transport):
        self.token, self.dpop = self.source.fetch(transport)
        self.obtained_at = self.clock()
        self.fetches += 1

    def headers(self, method, url):
        """Headers for one API call; a DPoP token gets a fresh proof bound to it."""
        headers = self.token_header()
        if self.dpop is not None:
            headers["DPoP"] = self.dpop.proof(method, url, access_token=self.token.access_token)
        return headers

    def token_header(self):
        """The header that carries the token, without a proof: what a later task needs."""
        if self.source.header != "Authorization":  # a bare token in the platform's own header
            return {self.source.header: self.token.access_token}
        return {"Authorization": ("DPoP " if self.dpop is not None else "Bearer ") + self.token.access_token}

    @property
    def expires_at(self):
        if not self.token or not self.token.expires_in:
            return None
        return self.obtained_at + self.token.expires_in


__all__ = ["Authenticator", "token_source_for"]
