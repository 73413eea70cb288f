# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every auth method produces."""

from __future__ import annotations

from collections import namedtuple

Token = namedtuple("Token", "access_token token_type expires_in")
Token.__doc__ = "An access token as the token endpoint issued it; expires_in is in seconds (0 = unknown)."


class TokenSource(object):
    """One way to obtain a token. Subclasses set the class attributes and fetch()."""

    #: whether fetch() may be called again to replace an expired token
    can_refresh = True
    #: header that carries the token on API calls
    header = "Authorization"
    #: the values a log must never show, for redaction of server messages
    secrets = ()

    def fetch(self, transport):
        """Return (Token, DpopKey or None)."""
        raise NotImplementedError
