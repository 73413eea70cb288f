# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sealed results: the secrets a module returns from a remote host, encrypted to the controller.

A module on a remote host answers on its stdout, which the connection plugin prints at -vvv
(and so into ANSIBLE_LOG_PATH) before the action plugin can censor anything. So the action
plugin makes a one-time X25519 key pair per task and hands the module only the public half;
the module encrypts every secret-bearing value of its result to it (a fresh X25519 key per
value, HKDF-SHA256, AES-GCM with the result key as associated data), and the action plugin
opens them on the controller before ``register`` sees the result. The private key never
leaves the controller's memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from .deps import AESGCM, HKDF, SHA256, Encoding, PublicFormat, X25519PrivateKey, X25519PublicKey, require
from .runner import SECRET_RESULT_KEYS

# The module argument that carries the public key. The action plugin adds it to the module's
# arguments and the module takes it out before validating them: it is no user option.
SEAL_KEY_ARG = "_conductor_principals_seal_key"
# Every result key whose value is sealed, at any depth: the secrets, and ``headers``, which holds the token.
SEALED_KEYS = frozenset(SECRET_RESULT_KEYS) | {"headers"}
# Results keys Ansible itself adds (the module's arguments, secrets already masked): never ours to seal.
NOT_OURS = ("invocation",)
PREFIX = "conductor-principals-sealed:v1:"
_INFO = b"conductor.principals sealed result v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that cannot be opened, a secret that came back unsealed, or a malformed key."""


def _encode(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text):
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError, TypeError):
        raise SealError("a sealed value or key is not base64url")


def _raw(public_key):
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_key_pair():
    """(private key object, public key as base64url text) for one task."""
    require("cryptography")
    private_key = X25519PrivateKey.generate()
    return private_key, _encode(_raw(private_key.public_key()))


def _aead_key(shared, ephemeral_public, recipient_public):
    # Both public keys go into the derivation so a key is bound to this one exchange.
    return HKDF(algorithm=SHA256(), length=_KEY_BYTES, salt=None,
                info=_INFO + ephemeral_public + recipient_public).derive(shared)


def check_key(public_key_text):
    """SealError unless ``public_key_text`` is a sealing key: a module checks it before it changes anything."""
    _recipient(public_key_text)


def _recipient(public_key_text):
    raw = _decode(public_key_text) if isinstance(public_key_text, str) else b""
    if len(raw) != _KEY_BYTES:
        raise SealError("the sealing key is not a base64url X25519 public key")
    return raw, X25519PublicKey.from_public_bytes(raw)


def is_sealed(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value, public_key_text, label):
    """``value`` (anything JSON can hold) encrypted to the public key; ``label`` (the result key) is
    authenticated too, so a sealed value cannot be moved to another key."""
    require("cryptography")
    recipient_raw, recipient = _recipient(public_key_text)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw(ephemeral.public_key())
    key = _aead_key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(value).encode("utf-8"), label.encode("utf-8"))
    return PREFIX + _encode(ephemeral_raw + nonce + sealed)


def unseal(text, private_key, label, where=None):
    """The value ``seal`` encrypted; SealError (naming ``where``, else ``label``) if it is not sealed,
    not for this key, or altered."""
    where = where or label
    if not is_sealed(text):
        raise SealError("%s came back unsealed" % where)
    data = _decode(text[len(PREFIX):])
    if len(data) <= _KEY_BYTES + _NONCE_BYTES:
        raise SealError("%s is sealed but truncated" % where)
    ephemeral_raw, nonce, sealed = data[:_KEY_BYTES], data[_KEY_BYTES:_KEY_BYTES + _NONCE_BYTES], \
        data[_KEY_BYTES + _NONCE_BYTES:]
    recipient_raw = _raw(private_key.public_key())
    key = _aead_key(private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw)),
                    ephemeral_raw, recipient_raw)
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, label.encode("utf-8"))
    except Exception:  # cryptography's InvalidTag: another key, another label, or altered bytes
        raise SealError("%s is sealed but cannot be opened with this task's key" % where)
    return json.loads(plain.decode("utf-8"))


def _walk(value, change, path=""):
    """``value`` with ``change(key, item, path)`` applied to every item under a sealed key, at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = "%s.%s" % (path, key) if path else str(key)
            if key in SEALED_KEYS and item is not None:
                out[key] = change(key, item, where)
            else:
                out[key] = _walk(item, change, where)
        return out
    if isinstance(value, list):
        return [_walk(item, change, "%s[%d]" % (path, index)) for index, item in enumerate(value)]
    return value


def seal_result(result, public_key_text):
    """The module side: ``result`` with every secret-bearing value sealed to the controller's key."""
    check_key(public_key_text)  # a malformed key fails once, before anything is sealed
    return _walk(result, lambda key, item, where: seal(item, public_key_text, key))


def open_result(result, private_key):
    """The controller side: ``result`` with every sealed value opened. SealError names the first value
    that came back unsealed or cannot be opened: a secret-bearing value must never arrive in clear."""
    opened = _walk({k: v for k, v in result.items() if k not in NOT_OURS},
                   lambda key, item, where: unseal(item, private_key, key, where))
    opened.update((k, result[k]) for k in NOT_OURS if k in result)
    return opened
