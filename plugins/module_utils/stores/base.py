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
so every segment decodes back to one name (``name_of``), and owner kinds cannot meet. The
exact names and the owner kind are also kept in the entry (``names``) with the platform, and
an entry that holds another platform, owner kind or names than the ones asked for is a
collision error, never overwritten.

A field of a backend that refuses a name (Vault's custom metadata, AWS tags) holds the name's
segment instead (``field_value``), or nothing when even that does not fit: such fields only
describe an entry, its names are read back from its path and its content.

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
           "read_many": "read", "write_many": "write", "delete_many": "delete", "check_writable": "open"}


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
            found = method(self, *args, **kwargs)
            return list(dict.fromkeys(found)) if action == GUARDED["list"] else found
        except ConductorError:
            raise
        except Exception as exc:  # pylint: disable=broad-except  # every backend's own error, in one sentence
            raise _foreign(self, action, key, exc) from None
    guarded.guarded = True
    return guarded


def _escaped(store, name):
    """Every character the backend does not allow (and ``/`` and ``+``) as ``+XX`` per UTF-8 byte."""
    keep = re.compile("[%s]" % store.allowed.replace("/", "").replace("+", ""))
    return "".join(ch if keep.match(ch) else "".join("+%02X" % b for b in ch.encode("utf-8", "surrogatepass"))
                   for ch in name)


def _decoded(segment):
    """``+XX`` sequences back to their UTF-8 characters; None when they are no UTF-8 (or no +XX)."""
    if segment == "+":
        return ""
    out, index = bytearray(), 0
    while index < len(segment):
        if segment[index] == "+":
            digits = segment[index + 1:index + 3]
            if len(digits) != 2 or digits.upper() != digits or any(d not in "0123456789ABCDEF" for d in digits):
                return None
            out.append(int(digits, 16))
            index += 3
        else:
            out += segment[index].encode("utf-8", "surrogatepass")
            index += 1
    try:
        return out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


class SecretStore(object):
    """One backend. Subclasses set ``type`` and ``allowed`` and implement the four calls.

    Each call a subclass defines (``read``, ``read_version``, ``write``, ``delete``, ``list``) is
    wrapped by ``__init_subclass__``: an exception of a foreign type becomes one StoreError.
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
        self.warnings = []  # one sentence each, for the task's result (never a secret)

    # ---- naming ---------------------------------------------------------------------
    def segment(self, name):
        """One name as a path segment, by the rule in the module docstring."""
        name = str(name)
        if name == "":
            return "+"
        if set(name) == {"."}:
            return "+2E" * len(name)
        text = _escaped(self, name)
        return "+40" + text[1:] if text.startswith("@") else text

    def name_of(self, segment):
        """The name ``segment`` is for, or None when the rule makes no such segment (``+41``: ``A`` is)."""
        name = _decoded(segment)
        return name if name is not None and self.segment(name) == segment else None

    def field_value(self, name, fits):
        """``name`` for a field of the backend (a tag, a metadata value): as it is where ``fits(value)``,
        else its segment, else None (the field is left out; the path and the entry keep the name)."""
        for value in (name, self.segment(name)):
            if fits(value):
                return value
        return None

    def path(self, key):
        principal = PERSONAL_SEGMENT if key.owner == PERSONAL else self.segment(key.principal)
        return "/".join([self.prefix, self.segment(key.platform), principal, self.segment(key.credential)])

    def holds(self, key, path):
        """True when ``path`` is where ``key``'s entry is (for ``list``)."""
        return path == self.path(key)

    def principal_folders(self, principal):
        """The segments the entries of a principal name are under (``@personal``: the personal keys' too)."""
        folders = {self.segment(principal)}
        if principal == PERSONAL_SEGMENT:
            folders.add(PERSONAL_SEGMENT)
        return sorted(folders)

    def key_of(self, platform_segment, principal_segment, credential_segment):
        """The EntryKey whose entry is at these three segments, or None when no names map to them."""
        principal = PERSONAL_SEGMENT if principal_segment == PERSONAL_SEGMENT else self.name_of(principal_segment)
        names = [self.name_of(platform_segment), principal, self.name_of(credential_segment)]
        return None if None in names else self.key_at(*names, segment=principal_segment)

    def key_at(self, platform, principal, credential, owner=None, segment=None):
        """The EntryKey of names recorded in an entry (``segment``: the principal segment it is at)."""
        if owner is None and segment is not None:
            owner = PERSONAL if segment == PERSONAL_SEGMENT else SERVICE_PRINCIPAL
        return EntryKey(platform, principal, credential, owner)

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

    def check_writable(self):
        """Before a task's first API write: raise one StoreError if a write would surely fail (vault_file: its
        directory, password and lock), so nothing is made whose secret could not be kept. A server backend is
        judged by its first read and write (nothing here)."""

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
    """The JSON object a store keeps for one credential (plus the exact names and the owner kind), and the ID of
    its principal: prune acts on the IDs entries prove."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "server_url": server_url,
        "platform": key.platform,
        "credential_id": credential.get("id"),
        "service_principal_id": credential.get("service_principal_id"),
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
