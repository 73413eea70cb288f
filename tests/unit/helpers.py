# -*- coding: utf-8 -*-
"""Test helpers built independently of the code under test."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, PrivateFormat, NoEncryption

SERVER = "https://tenant.example.test:8443"
CLIENT_ID = "clever-fox-42195@tenant.example.test:8443/spc"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_v1_secret(key=None):
    """A C1 v1 secret built independently of the code under test."""
    key = key or Ed25519PrivateKey.generate()
    d = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    x = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "d": b64url(d), "x": b64url(x)}
    return "secret-token:conductorone.com:v1:" + b64url(json.dumps(jwk).encode()), key


class FakeClock(object):
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now
