# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ready access token given by the user (e.g. from the access_token module)."""

from __future__ import annotations

from .base import Token, TokenSource


class StaticTokenSource(TokenSource):
    can_refresh = False

    def __init__(self, access_token, header="Authorization"):
        self.secrets = (access_token,)
        self.header = header

    def fetch(self, transport):
        return Token(self.secrets[0], "Bearer", 0), None
