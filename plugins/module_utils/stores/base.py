# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret store interface: where a new secret lives the moment it exists.

Every backend (vault_file, hashi_vault, aws_secretsmanager) implements ``SecretStore``;
the credential logic talks only to this interface. An entry is addressed by
``EntryKey(platform, principal, credential)`` and lives at
``<prefix>/<platform>/<principal>/<credential>`` (interface.md, "Secret stores").

Names are used as they are where the backend allows them. Any character a backend
refuses, ``/`` (the separator) and ``+`` (the escape character itself) become ``+XX``,
one per UTF-8 byte in upper-case hex: ``Terraform CI`` stays as it is in a vault file
and becomes ``Terraform+20CI`` as an AWS secret name. The rule is injective; the exact
names are also kept in the entry, and an entry that holds other names than the ones
asked for is a collision error, never overwritten.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ..errors import ConductorError, ConfigError

DEFAULT_PREFIX = "conductor-principals"
# The content of an entry (a JSON object); `names` keeps the exact names it was written for.
ENTRY_FIELDS = ("client_id", "client_secret", "server_url", "platform", "credential_id", "expires_at")

EntryKey = namedtuple("EntryKey", "platform principal credential")
# ``version`` is the backend's token for check-and-set: pass it back to ``write``.
StoredEntry = namedtuple("StoredEntry", "content version")


class StoreError(ConductorError):
    """The store refused or failed a read or write; the message names the store and says what to fix."""


class StoreConflictError(StoreError):
    """Check-and-set failed: someone else wrote the entry since it was read."""


class SecretStore(object):
    """One backend. Subclasses set ``type`` and ``allowed`` and implement the four calls."""

    type = None
    # Characters a path segment may keep as they are (a regex character class body).
    allowed = r"A-Za-z0-9 _.@=:,-"

    def __init__(self, options, environ=None):
        self.options = options
        self.environ = environ if environ is not None else {}
        self.prefix = (options.get("prefix") or DEFAULT_PREFIX).strip("/")

    # ---- naming ---------------------------------------------------------------------
    def segment(self, name):
        """One name as a path segment, by the rule in the module docstring."""
        keep = re.compile("[%s]" % self.allowed.replace("/", "").replace("+", ""))
        return "".join(ch if keep.match(ch) else "".join("+%02X" % b for b in ch.encode("utf-8"))
                       for ch in str(name))

    def path(self, key):
        return "/".join([self.prefix] + [self.segment(part) for part in key])

    def location(self, key):
        """Where the entry lives, for humans and the ``stored`` return value; never a secret."""
        return self.path(key)

    def described(self, key):
        return {"type": self.type, "location": self.location(key)}

    # ---- the four calls ---------------------------------------------------------------
    def read(self, key):
        """The entry at ``key`` as a StoredEntry, or None when there is none."""
        raise NotImplementedError

    def write(self, key, content, version=None):
        """Write ``content`` (ENTRY_FIELDS) at ``key``; return the new version.

        ``version`` is what ``read`` returned (None: the entry must not exist yet). When the
        entry changed since, raise StoreConflictError and write nothing.
        """
        raise NotImplementedError

    def delete(self, key):
        """Remove the entry (and, where the backend has it, its metadata and history).

        No entry is not an error. The caller has read the entry just before and does not rely on
        the return value (vault_file returns whether there was one).
        """
        raise NotImplementedError

    def list(self, platform=None, principal=None):
        """EntryKeys of every entry under the prefix (optionally of one platform, and of one principal there).

        Backends narrow the walk itself to the principal's folder where they can: a credential task
        must not read every entry of a large tenant to find its principal's few.
        """
        raise NotImplementedError


def entry_content(key, credential, client_id, client_secret, server_url):
    """The JSON object a store keeps for one credential (plus the exact names)."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "server_url": server_url,
        "platform": key.platform,
        "credential_id": credential.get("id"),
        "expires_at": credential.get("expires_at"),
        "names": {"principal": key.principal, "credential": key.credential},
    }


def check_names(store, key, stored):
    """Refuse an entry written for other names that map to the same path."""
    names = (stored.content or {}).get("names") if stored else None
    if names and (names.get("principal"), names.get("credential")) != (key.principal, key.credential):
        raise ConfigError(
            "The %s store entry %s belongs to principal %r credential %r, whose names map to the same "
            "path as %r / %r; rename one of them"
            % (store.type, store.location(key), names.get("principal"), names.get("credential"),
               key.principal, key.credential))
