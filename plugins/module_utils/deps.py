# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Third-party imports, guarded so that a missing library becomes one clear error."""

from __future__ import annotations

import importlib
import traceback

from .errors import MissingDependencyError

# Re-exported for the rest of the core, which imports them from here only.
__all__ = ["requests", "jwt", "OKPAlgorithm", "Ed25519PrivateKey", "X25519PrivateKey", "X25519PublicKey",
           "HKDF", "SHA256", "AESGCM", "Encoding", "PublicFormat", "IMPORT_ERRORS", "require", "require_optional"]

IMPORT_ERRORS = {}

try:
    import requests
except ImportError:
    requests = None
    IMPORT_ERRORS["requests"] = traceback.format_exc()

try:
    import jwt  # PyJWT: JWS for client assertions and DPoP proofs
    from jwt.algorithms import OKPAlgorithm
except ImportError:
    jwt = None
    OKPAlgorithm = None
    IMPORT_ERRORS["PyJWT"] = traceback.format_exc()

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    # Sealed results (sealing.py): X25519 key agreement, HKDF-SHA256, AES-GCM.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    Ed25519PrivateKey = X25519PrivateKey = X25519PublicKey = AESGCM = SHA256 = HKDF = Encoding = PublicFormat = None
    IMPORT_ERRORS["cryptography"] = traceback.format_exc()


def require(*names):
    """Raise MissingDependencyError naming every library of ``names`` that is absent."""
    missing = [name for name in names if name in IMPORT_ERRORS]
    if missing:
        raise MissingDependencyError(
            "The Python %s %s required on the host that runs this task; install %s "
            "(see the collection's requirements.txt)"
            % ("libraries" if len(missing) > 1 else "library", ", ".join(missing),
               "them" if len(missing) > 1 else "it")
        )


# Libraries only one secret store backend needs: imported when a task asks for that backend,
# so a host without them runs every other task (and no task pays for importing boto3).
OPTIONAL_LIBRARIES = {"hvac": "hvac", "boto3": "boto3"}  # import name -> package to install


def require_optional(name, purpose):
    """The optional library ``name`` (imported now), or MissingDependencyError naming the package."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingDependencyError(
            "The Python library %s is required on the host that runs this task for %s; install it "
            "(pip install %s, see the collection's requirements.txt)" % (name, purpose, OPTIONAL_LIBRARIES[name]))
