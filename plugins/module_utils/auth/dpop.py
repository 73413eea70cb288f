# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPoP (RFC 9449): a key per run and a fresh signed proof for every request."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from .. import deps


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(access_token):
    """The ``ath`` claim: base64url(SHA-256(token))."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def htu_of(url):
    """The URL a proof is bound to: no query, no fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class DpopKey(object):
    """An Ed25519 key that signs DPoP proofs (``alg`` EdDSA)."""

    def __init__(self, private_key=None, clock=time.time):
        deps.require("PyJWT", "cryptography")
        self.private_key = private_key or deps.Ed25519PrivateKey.generate()
        self.public_jwk = json.loads(deps.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        self.clock = clock
        self.nonce = None  # the last DPoP-Nonce a server gave us

    @classmethod
    def from_jwk(cls, jwk):
        return cls(deps.OKPAlgorithm.from_jwk(jwk))

    @property
    def private_jwk(self):
        return json.loads(deps.OKPAlgorithm.to_jwk(self.private_key))

    def proof(self, method, url, access_token=None, nonce=None):
        claims = {
            "jti": str(uuid.uuid4()),
            "htm": method.upper(),
            "htu": htu_of(url),
            "iat": int(self.clock()),
        }
        nonce = nonce or self.nonce
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["ath"] = access_token_hash(access_token)
        return deps.jwt.encode(claims, self.private_key, algorithm="EdDSA",
                               headers={"typ": "dpop+jwt", "jwk": self.public_jwk})
