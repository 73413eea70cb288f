# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded store: one Ansible Vault encrypted file, no server.

The decrypted file is JSON: ``{"format": 2, "entries": {"<path>": entry}}``, where
``<path>`` is ``SecretStore.path(key)`` and ``entry`` the JSON object of
``base.entry_content``. A file written by the first ``secret_store`` role (the legacy
layout ``{principal: {credential: entry}}``) is read as it is and rewritten in the new
layout by the next write; none of its entries is dropped.

Concurrency: every read-modify-write holds an exclusive ``flock`` on the sibling file
``<path>.lock`` and replaces the store atomically (temporary file in the same directory,
fsync, rename), so two runs on one controller lose nothing and a crash leaves either the
old or the new store. An entry's version (for check-and-set) is the SHA-256 of its JSON.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib
import json
import os
import stat
import tempfile

from ..errors import ConfigError
from .base import EntryKey, SecretStore, StoreConflictError, StoredEntry, StoreError, check_names

FORMAT = 2
PASSWORD_ENV = "CONDUCTOR_PRINCIPALS_STORE_PASSWORD"
DEFAULT_PLATFORM = "conductorone"  # legacy entries written before the platform was recorded


def _vault():
    """ansible.parsing.vault, which exists only where ansible-core is installed (the controller).

    Imported by name at run time: it is no module_utils (AnsiballZ must not try to bundle it),
    and a host without ansible-core gets the sentence below instead of an import error.
    """
    try:
        vault = importlib.import_module("ansible.parsing.vault")
    except ImportError:
        raise ConfigError("store type vault_file needs ansible-core on the host that runs the task; run the task "
                          "on the controller (delegate_to: localhost) or choose another store type")
    return vault.AnsibleVaultError, vault.VaultLib, vault.VaultSecret


def version_of(entry):
    """The check-and-set token of an entry: a digest of its content (None for no entry)."""
    if entry is None:
        return None
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode("utf-8")).hexdigest()


class Store(SecretStore):
    type = "vault_file"

    def __init__(self, options, environ=None):
        super().__init__(options, environ)
        path = options.get("path")
        if not path:
            raise ConfigError("store.path is required for store type vault_file; give the path of the encrypted "
                              "store file, for example ~/.config/conductor-principals/store.vault")
        self.file = os.path.abspath(os.path.expanduser(path))
        password = options.get("password") or self.environ.get(PASSWORD_ENV)
        if not password:
            raise ConfigError("store.password is required for store type vault_file; set it or the environment "
                              "variable %s" % PASSWORD_ENV)
        self.vault_id = options.get("vault_id") or None
        vault_error, vault_lib, vault_secret = _vault()
        self._vault_error = vault_error
        self._secret = vault_secret(password.encode("utf-8"))
        self._lib = vault_lib([(self.vault_id or "default", self._secret)])

    def location(self, key):
        return "%s#%s" % (self.file, self.path(key))

    # ---- the file ---------------------------------------------------------------------
    def _refuse_readable_by_others(self, mode):
        if mode & 0o077:
            raise StoreError("The vault_file store %s has mode %04o, so others can read it; make it readable by "
                             "its owner only (chmod 600 %s)" % (self.file, stat.S_IMODE(mode), self.file))

    def _load(self):
        """The decrypted store as {path: entry}; {} when the file does not exist yet."""
        try:
            handle = open(self.file, "rb")
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return {}
            raise StoreError("Could not read the vault_file store %s: %s" % (self.file, exc.strerror))
        with handle:
            self._refuse_readable_by_others(os.fstat(handle.fileno()).st_mode)
            vaulttext = handle.read()
        try:
            plaintext = self._lib.decrypt(vaulttext)
        except self._vault_error:
            raise StoreError("Could not decrypt the vault_file store %s: the password%s is wrong, or the file is "
                             "not an Ansible Vault file" % (self.file, " or vault_id" if self.vault_id else ""))
        try:
            data = json.loads(plaintext.decode("utf-8"))
        except ValueError:
            raise StoreError("The vault_file store %s decrypts to something that is not JSON; it was not written "
                             "by conductor.principals, give another path" % self.file)
        return self._entries(data)

    def _entries(self, data):
        if not isinstance(data, dict):
            raise StoreError("The vault_file store %s holds no JSON object; give another path" % self.file)
        if isinstance(data.get("format"), int) and not isinstance(data.get("format"), bool):
            if data["format"] != FORMAT or not isinstance(data.get("entries"), dict):
                raise StoreError("The vault_file store %s has format %r, which this version of conductor.principals "
                                 "cannot read; upgrade the collection" % (self.file, data.get("format")))
            return data["entries"]
        return self._upgraded(data)

    def _upgraded(self, legacy):
        """Entries of the legacy layout {principal: {credential: entry}}, keyed the new way."""
        entries = {}
        for principal, credentials in legacy.items():
            if not isinstance(credentials, dict):
                continue
            for credential, entry in credentials.items():
                if not isinstance(entry, dict):
                    continue
                key = EntryKey(entry.get("platform") or DEFAULT_PLATFORM, principal, credential)
                entries[self.path(key)] = dict(entry, platform=key.platform,
                                               names={"principal": principal, "credential": credential})
        return entries

    def _save(self, entries):
        """Encrypt and replace the file atomically: temporary file, fsync, rename, fsync of the directory."""
        plaintext = json.dumps({"format": FORMAT, "entries": entries}, sort_keys=True).encode("utf-8")
        vaulttext = self._lib.encrypt(plaintext, secret=self._secret, vault_id=self.vault_id)
        directory = os.path.dirname(self.file)
        temporary = None
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(self.file))
            with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600
                handle.write(vaulttext)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.file)
            temporary = None
            directory_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(directory_fd)
            finally:
                os.close(directory_fd)
        except (IOError, OSError) as exc:
            raise StoreError("Could not write the vault_file store %s: %s" % (self.file, exc.strerror or exc))
        finally:
            if temporary:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass

    def _locked(self):
        """An exclusive lock on ``<path>.lock`` for one read-modify-write (a context manager)."""
        return _Lock(self.file + ".lock")

    # ---- the four calls ---------------------------------------------------------------
    def read(self, key):
        entry = self._load().get(self.path(key))
        if entry is None:
            return None
        found = _stored(entry)
        check_names(self, key, found)
        return found

    def write(self, key, content, version=None):
        path = self.path(key)
        with self._locked():
            entries = self._load()
            current = entries.get(path)
            if current is not None:
                check_names(self, key, _stored(current))
            if version_of(current) != version:
                raise StoreConflictError(
                    "The vault_file store entry %s changed while this task ran (another run wrote it); nothing was "
                    "written, run the task again" % self.location(key))
            entries[path] = content
            self._save(entries)
        return version_of(content)

    def delete(self, key):
        """Remove the entry; True when there was one."""
        path = self.path(key)
        with self._locked():
            entries = self._load()
            if path not in entries:
                return False
            check_names(self, key, _stored(entries[path]))
            del entries[path]
            self._save(entries)
        return True

    def list(self, platform=None, principal=None):
        keys = []
        for path, entry in sorted(self._load().items()):
            names = entry.get("names") or {}
            key = EntryKey(entry.get("platform"), names.get("principal"), names.get("credential"))
            if None in key:  # written by hand without names: recover them from the path
                parts = path[len(self.prefix) + 1:].split("/") if path.startswith(self.prefix + "/") else []
                if len(parts) != 3:
                    continue
                key = EntryKey(*[_unsegment(part) for part in parts])
            if self.path(key) != path or (platform and key.platform != platform) \
                    or (principal is not None and key.principal != principal):
                continue  # another prefix, platform or principal
            keys.append(key)
        return keys


def _stored(entry):
    return StoredEntry(entry, version_of(entry))


def _unsegment(segment):
    """The inverse of SecretStore.segment: ``+XX`` sequences back to their UTF-8 characters."""
    out, index = bytearray(), 0
    while index < len(segment):
        if segment[index] == "+" and index + 3 <= len(segment):
            out.append(int(segment[index + 1:index + 3], 16))
            index += 3
        else:
            out.extend(segment[index].encode("utf-8"))
            index += 1
    return out.decode("utf-8", "replace")


class _Lock(object):
    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except (IOError, OSError) as exc:
            directory = os.path.dirname(self.path)
            fix = ("the directory %s does not exist; create it (mode 0700)" % directory if exc.errno == errno.ENOENT
                   else "make the directory %s writable by the user that runs the task" % directory)
            raise StoreError("Could not lock the vault_file store: cannot create %s (%s); %s"
                             % (self.path, exc.strerror, fix))
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        return False
