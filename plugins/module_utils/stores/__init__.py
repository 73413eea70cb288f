# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret store backends behind one interface (base.SecretStore), chosen by ``store.type``.

Backends are imported only when asked for, so a missing optional library (hvac, boto3)
fails only the task that uses that backend.
"""

from __future__ import annotations

from ..config import is_plain_http_off_host
from ..errors import ConfigError
from .base import (DEFAULT_PREFIX, PERSONAL, SERVICE_PRINCIPAL, EntryKey, SecretStore, StoreConflictError, StoreError,
                   StoredEntry)

BACKENDS = ("vault_file", "hashi_vault", "aws_secretsmanager")


def store_for(options, environ=None):
    """The backend for a ``store`` option dict (None when no store is asked for)."""
    if not options:
        return None
    kind = options.get("type") or "vault_file"
    if kind not in BACKENDS:
        raise ConfigError("store.type must be one of %s, not %r" % (", ".join(BACKENDS), kind))
    # Plain imports, not importlib: AnsiballZ bundles only the module_utils it can see imported.
    if kind == "vault_file":
        from .vault_file import Store
    elif kind == "hashi_vault":
        from .hashi_vault import Store
    else:
        from .aws_secretsmanager import Store
    return Store(options, environ)


def store_warnings(options, environ=None):
    """One sentence per weakened protection of a ``store`` option dict (plain values in, no store built)."""
    if not options or (options.get("type") or "vault_file") != "hashi_vault":
        return []
    url = (options.get("url") or (environ or {}).get("VAULT_ADDR") or "").strip()
    warnings = []
    if is_plain_http_off_host(url):
        warnings.append("store.url %s is plain http://: the Vault token and every secret stored travel unencrypted; "
                        "use https://" % url.rstrip("/"))
    if options.get("validate_certs") is False:
        warnings.append("store.validate_certs is false: the identity of the Vault server %s is not verified, so "
                        "anyone in between gets its token and secrets; give store.ca_path instead" % (url or "(unset)"))
    return warnings


__all__ = ["store_for", "store_warnings", "BACKENDS", "DEFAULT_PREFIX", "PERSONAL", "SERVICE_PRINCIPAL", "EntryKey", "SecretStore", "StoreConflictError",
           "StoreError", "StoredEntry"]
