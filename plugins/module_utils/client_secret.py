# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""C1 client secrets: ``secret-token:conductorone.com:v1:<base64url JWK>`` or opaque.

Nothing here ever puts a secret, or a piece of one, into an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import namedtuple

from . import deps
from .errors import ConfigError

PREFIX = "secret-token:"
V1_ISSUER = "conductorone.com"

ParsedSecret = namedtuple("ParsedSecret", "version private_key")
ParsedSecret.__doc__ = """version is 'v1' (private_key set: use a JWT assertion) or None (post it as is)."""


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_secret(secret):
    """Classify a C1 client secret; return ParsedSecret or raise ConfigError."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise ConfigError(
            "client_secret is not a ConductorOne client secret: it must start with "
            "'secret-token:' (the prefix is part of the secret; copy the whole value)"
        )
    fields = secret.split(":")
    if len(fields) >= 3 and fields[1] == V1_ISSUER and fields[2] == "v1":
        if len(fields) != 4 or not fields[3]:
            raise ConfigError(
                "client_secret has the v1 form but is malformed: it must be "
                "secret-token:conductorone.com:v1:<key> with four colon-separated fields"
            )
        return ParsedSecret("v1", _load_v1_key(fields[3]))
    if len(secret) == len(PREFIX):
        raise ConfigError("client_secret is empty after the 'secret-token:' prefix")
    return ParsedSecret(None, None)


def _load_v1_key(encoded):
    deps.require("PyJWT", "cryptography")
    try:
        jwk = json.loads(_b64url_decode(encoded).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ConfigError(
            "client_secret is malformed: its v1 key is not base64url-encoded JSON; "
            "copy the secret again exactly as it was shown"
        )
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" \
            or not jwk.get("d") or not jwk.get("x"):
        raise ConfigError(
            "client_secret is malformed: its v1 key must be an Ed25519 private JSON Web Key "
            "(kty OKP, crv Ed25519, with d and x)"
        )
    try:
        # PyJWT also checks that x is the public half of d.
        return deps.OKPAlgorithm.from_jwk(jwk)
    except Exception:  # PyJWT raises several types for a bad key
        raise ConfigError(
            "client_secret is malformed: its v1 key is not a valid Ed25519 key pair; "
            "copy the secret again exactly as it was shown")
