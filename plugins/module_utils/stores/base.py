# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret store interface: where a new secret lives the moment it exists.

Every backend (vault_file, hashi_vault, aws_secretsmanager) implements ``SecretStore``;
the credential logic talks only to this interface. An entry is addressed by
``EntryKey(platform, principal, credential, owner)`` and lives at
``<prefix>/<platform>/<principal>/<credential>`` (interface.md, "Secret stores").

The naming rule (docs/guide/store-paths-and-names.md documents it for users), one segment
per name:

- characters the backend allows stay as they are; any other character, ``/`` (the
  separator) and ``+`` (the escape character itself) become ``+XX``, one per UTF-8 byte in
  upper-case hex: ``Terraform CI`` stays as it is in a vault file and becomes
  ``Terraform+20CI`` as an AWS secret name;
- a name made of dots only (``.``, ``..``) has every dot escaped (``+2E+2E``), so no server
  or library can read it as "this folder" or "the parent folder";
- a leading ``@`` is escaped (``+40``): segments starting with ``@`` are reserved for the
  collection, and ``@personal`` is the principal segment of the personal API keys
  (owner kind ``personal``), never a service principal's;
- an empty name is ``+`` alone.

The rule is injective: ``+`` is always followed by two hex digits except in the empty name,
so every segment decodes back to one name, and owner kinds cannot meet. The exact names and
the owner kind are also kept in the entry (``names``) with the platform, and an entry that
holds another platform, owner kind or names than the ones asked for is a collision error,
never overwritten.

Entries written by versions before this rule (which kept dot-only names and a leading ``@``
as they were) are still found: when a key's path changed and nothing is at the new one, the
entry at the old path is used where it is, if it belongs to the same names.

Every call of a backend goes through the base class: an exception of any other type than
ConductorError (a library's own error, an OSError) becomes a StoreError of one sentence that
names the store and never the exception's text, so the caller's undo path always sees it.
"""

from __future__ import annotations

import errno
import functools
import re
from collections import namedtuple

from ..errors import ConductorError, ConfigError

DEFAULT_PREFIX = "conductor-principals"
# The content of an entry (a JSON object); `names` keeps the exact names it was written for.
ENTRY_FIELDS = ("client_id", "client_secret", "server_url", "platform", "credential_id", "expires_at")

# Owner kinds: the credentials of a service principal (Orkes: an application), or the calling
# user's personal API keys, whose principal segment is PERSONAL_SEGMENT.
SERVICE_PRINCIPAL = "service_principal"
PERSONAL = "personal"
PERSONAL_SEGMENT = "@personal"

# ``version`` is the backend's token for check-and-set: pass it back to ``write``.
StoredEntry = namedtuple("StoredEntry", "content version")


def _derived_owner(principal):
    return PERSONAL if principal == PERSONAL_SEGMENT else SERVICE_PRINCIPAL


class EntryKey(namedtuple("EntryKey", "platform principal credential")):
    """Where one credential's entry is: three names, and ``owner``, the owner kind (None: derived).

    Without an owner kind, the principal name ``@personal`` means the personal API keys (the
    name the lookup and earlier entries use); every other name a service principal. The
    owner kind takes part in equality and hashing but not in the tuple, so a key still
    unpacks into platform, principal and credential.
    """

    def __new__(cls, platform, principal, credential, owner=None):
        key = super().__new__(cls, platform, principal, credential)
        key.owner = _derived_owner(principal) if owner is None else owner
        return key

    @classmethod
    def _make(cls, iterable):
        return cls(*iterable)

    def _replace(self, **changes):
        values = dict(zip(self._fields, self), owner=self.owner)
        values.update(changes)
        return type(self)(**values)

    def __getnewargs__(self):
        return tuple(self) + (self.owner,)

    def __eq__(self, other):
        return tuple.__eq__(self, other) is True and getattr(other, "owner", None) in (None, self.owner) \
            if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash((tuple(self), self.owner))

    def __repr__(self):
        return "EntryKey(platform=%r, principal=%r, credential=%r, owner=%r)" % (tuple(self) + (self.owner,))


def owner_of(names):
    """The owner kind an entry's ``names`` record (derived where the principal name tells it)."""
    return (names or {}).get("owner") or _derived_owner((names or {}).get("principal"))


class StoreError(ConductorError):
    """The store refused or failed a read or write; the message names the store and says what to fix."""


class StoreConflictError(StoreError):
    """Check-and-set failed: someone else wrote the entry since it was read."""


# The backend calls the base class guards, and what each one does (for the sentence).
GUARDED = {"read": "read", "read_version": "read", "write": "write", "delete": "delete", "list": "list the entries of",
           "read_many": "read", "write_many": "write", "delete_many": "delete"}


def _foreign(store, action, key, exc):
    """The StoreError for an exception of another type: its type (and an OSError's reason), never its text."""
    reason = type(exc).__name__
    if isinstance(exc, OSError) and exc.errno:
        reason = "%s (%s)" % (reason, errno.errorcode.get(exc.errno, exc.errno))
    where = store.location(key) if isinstance(key, EntryKey) else "its entries"
    return StoreError("The %s store could not %s %s: it failed with %s; check the store (its file, server and "
                      "options) and run the task again" % (store.type, action, where, reason))


def _guard(method, action):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        key = args[0] if args else kwargs.get("key")
        try:
            if action != GUARDED["list"]:
                self._resolve(key)
            found = method(self, *args, **kwargs)
            return list(dict.fromkeys(found)) if action == GUARDED["list"] else found
        except ConductorError:
            raise
        except Exception as exc:  # pylint: disable=broad-except  # every backend's own error, in one sentence
            raise _foreign(self, action, key, exc) from None
    guarded.guarded = True
    return guarded


def _legacy_segment(store, name):
    """The rule before dot-only names and a leading @ were escaped (to find entries written by it)."""
    keep = re.compile("[%s]" % store.allowed.replace("/", "").replace("+", ""))
    return "".join(ch if keep.match(ch) else "".join("+%02X" % b for b in ch.encode("utf-8", "surrogatepass"))
                   for ch in str(name))


class SecretStore(object):
    """One backend. Subclasses set ``type`` and ``allowed`` and implement the four calls.

    Each call a subclass defines (``read``, ``read_version``, ``write``, ``delete``, ``list``) is
    wrapped by ``__init_subclass__``: entries written under the earlier naming rule are found
    first, and an exception of a foreign type becomes one StoreError.
    """

    type = None
    # Characters a path segment may keep as they are (a regex character class body).
    allowed = r"A-Za-z0-9 _.@=:,-"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, action in GUARDED.items():
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "guarded", False):
                setattr(cls, name, _guard(method, action))

    def __init__(self, options, environ=None):
        self.options = options
        self.environ = environ if environ is not None else {}
        self.prefix = (options.get("prefix") or DEFAULT_PREFIX).strip("/")
        self._moved = {}  # key: the old path its entry was found at (see _resolve)
        self._resolved = set()
        self.warnings = []  # one sentence each, for the task's result (never a secret)

    # ---- naming ---------------------------------------------------------------------
    def segment(self, name):
        """One name as a path segment, by the rule in the module docstring."""
        name = str(name)
        if name == "":
            return "+"
        if set(name) == {"."}:
            return "+2E" * len(name)
        text = _legacy_segment(self, name)
        return "+40" + text[1:] if text.startswith("@") else text

    def canonical_path(self, key):
        principal = PERSONAL_SEGMENT if key.owner == PERSONAL else self.segment(key.principal)
        return "/".join([self.prefix, self.segment(key.platform), principal, self.segment(key.credential)])

    def legacy_path(self, key):
        """The path of ``key`` by the rule before this one (equal to the canonical one for most names)."""
        return "/".join([self.prefix] + [_legacy_segment(self, part) for part in key[:3]])

    def path(self, key):
        return self._moved.get(key) or self.canonical_path(key)

    def holds(self, key, path):
        """True when ``path`` is where ``key``'s entry may be (for ``list``): its path, or its old one."""
        if path == self.canonical_path(key):
            return True
        if path == self.legacy_path(key):
            self._moved.setdefault(key, path)
            self._resolved.add(key)
            return True
        return False

    def principal_folders(self, principal):
        """The segments a principal's entries may be under: by this rule, and by the earlier one."""
        return sorted({self.segment(principal), _legacy_segment(self, principal)})

    def key_at(self, platform, principal, credential, owner=None, segment=None):
        """The EntryKey of names recorded in an entry (``segment``: the principal segment it is at)."""
        if owner is None and segment is not None:
            owner = PERSONAL if segment == PERSONAL_SEGMENT else SERVICE_PRINCIPAL
        return EntryKey(platform, principal, credential, owner)

    def _resolve(self, key):
        """Before the first call on ``key``: an entry at its old path (none at the new one) is used there."""
        if not isinstance(key, EntryKey) or key in self._resolved:
            return
        self._resolved.add(key)
        old = self.legacy_path(key)
        read = getattr(type(self).read, "__wrapped__", None)
        if read is None or old == self.canonical_path(key) or read(self, key) is not None:
            return
        self._moved[key] = old
        try:
            found = read(self, key)
        except ConfigError:  # the old path holds another principal's entry: not ours, keep to the new path
            found = None
        if found is None:
            del self._moved[key]

    def location(self, key):
        """Where the entry lives, for humans and the ``stored`` return value; never a secret."""
        return self.path(key)

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

    # ---- batches (service_principals: one store round per wave of creates) -------------
    def read_many(self, keys):
        """({key: StoredEntry or None}, {key: ConductorError}) for many keys; an error is that key's alone.

        Backends that can read everything at once (vault_file: one decryption) override this;
        the others read key by key.
        """
        found, errors = {}, {}
        for key in keys:
            try:
                found[key] = self.read(key)
            except ConductorError as exc:
                errors[key] = exc
        return found, errors

    def write_many(self, writes):
        """Write many entries: ``writes`` is a list of (key, content, version) as ``write`` takes them.

        Returns ({key: new version}, {key: ConductorError}): each entry is written or refused on
        its own (check-and-set per entry). vault_file writes its file once for the whole batch;
        the server backends write entry by entry.
        """
        done, errors = {}, {}
        for key, content, version in writes:
            try:
                done[key] = self.write(key, content, version)
            except ConductorError as exc:
                errors[key] = exc
        return done, errors

    def delete_many(self, keys):
        """Delete many entries; ({key: True}, {key: ConductorError})."""
        done, errors = {}, {}
        for key in keys:
            try:
                self.delete(key)
                done[key] = True
            except ConductorError as exc:
                errors[key] = exc
        return done, errors

    def list(self, platform=None, principal=None):
        """EntryKeys of every entry under the prefix (optionally of one platform, and of one principal there).

        Backends narrow the walk itself to the principal's folder where they can: a credential task
        must not read every entry of a large tenant to find its principal's few.
        """
        raise NotImplementedError


def entry_content(key, credential, client_id, client_secret, server_url):
    """The JSON object a store keeps for one credential (plus the exact names and the owner kind)."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "server_url": server_url,
        "platform": key.platform,
        "credential_id": credential.get("id"),
        "expires_at": credential.get("expires_at"),
        "names": names_of(key),
    }


def names_of(key):
    """The exact names an entry keeps; the owner kind too where the principal name does not tell it."""
    names = {"principal": key.principal, "credential": key.credential}
    if key.owner != _derived_owner(key.principal):
        names["owner"] = key.owner
    return names


def _described(platform, owner, principal, credential):
    whose = "the personal API key" if owner == PERSONAL else "principal %r credential" % (principal,)
    return "%s %r on %s" % (whose, credential, platform)


def check_names(store, key, stored):
    """Refuse an entry written for another platform, owner kind or names that map to the same path."""
    content = (stored.content if stored else None) or {}
    names = content.get("names") if isinstance(content, dict) else None
    if not isinstance(names, dict):
        return  # written by hand: nothing to compare
    found = (content.get("platform") or key.platform, owner_of(names), names.get("principal"), names.get("credential"))
    if found != (key.platform, key.owner, key.principal, key.credential):
        wanted = _described(key.platform, key.owner, key.principal, key.credential)
        raise ConfigError(
            "The %s store entry %s belongs to %s, not to %s, whose names map to the same path; rename one of them "
            "or give this task another store.prefix" % (store.type, store.location(key), _described(*found), wanted))
