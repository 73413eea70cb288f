# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded store: one Ansible Vault encrypted file, no server.

The decrypted file is JSON: ``{"format": 2, "entries": {"<path>": entry}}``, where
``<path>`` is ``SecretStore.path(key)`` and ``entry`` the JSON object of
``base.entry_content``; a file without ``format`` was not written by this collection and is
refused.

Paths: ``path`` is resolved once, when the store is opened (``~`` expanded, every symbolic
link followed), and every read, write and lock uses that real path: a link to a mounted
volume (AWX, an execution environment) keeps pointing at the file it names, and the lock is
shared with writers that use the real path. A store directory that others may write to is
refused before anything is read or created.

Concurrency: every read-modify-write holds an exclusive ``flock`` on the sibling file
``<real path>.lock`` and replaces the store atomically (temporary file in the same directory,
fsync, rename), so two runs on one controller lose nothing and a crash leaves either the
old or the new store. The lock file is opened without following a link (``O_NOFOLLOW``) and
must be a regular file owned by the user running the task; a lock held longer than
``lock_timeout`` seconds fails the task with one sentence. An entry's version (for
check-and-set) is the SHA-256 of its JSON.

Where it runs: on the controller (the in-process path) ansible-core's ``ansible.parsing.vault`` is
imported here (see Memory below). On a task's host (an AnsiballZ module) it cannot be: the
payload's own ``ansible.module_utils`` shadows the host's, so the host's ansible-core would import
half of itself from the payload and fail. There a child interpreter of the host's Python runs
``VaultLib`` (``_ChildVault``), the password and the data on its pipes, never in its arguments or
environment; of the task's environment it gets only ``CHILD_ENVIRONMENT``.

Memory (the controller): the crypto and the file format are ansible-core's
(``ansible.parsing.vault``), but the store calls its pieces (``_VaultPieces``) rather than
``VaultLib``, whose ``encrypt`` cuts the hexlified vaulttext into a list of 80-byte lines and
joins it, and whose ``decrypt`` splits the file into lines and joins them again: each peaks at
about 18 times the store's JSON (about 10 MB for 1,000 entries, once per batch). Here
``VaultAES256`` encrypts and decrypts, ``format_vaulttext_envelope`` and
``parse_vaulttext_envelope`` make and read the header line, and the 80-column lines are written a
block at a time and read back by dropping their line breaks: the file is byte for byte what
``VaultLib`` writes, any file ``VaultLib`` reads is read, at about half that peak.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib
import json
import base64
import os
import stat
import subprocess
import sys
import tempfile
import time

from ..errors import ConductorError, ConfigError
from .base import SecretStore, StoreConflictError, StoredEntry, StoreError, check_names

FORMAT = 2
PASSWORD_ENV = "CONDUCTOR_PRINCIPALS_STORE_PASSWORD"
DEFAULT_LOCK_TIMEOUT = 60  # seconds a write waits for another run's lock
CIPHER = "AES256"  # what VaultLib writes (ansible.parsing.vault.CIPHER_WRITE_ALLOWLIST)
LINE = 80  # the envelope's column width (ansible.parsing.vault.format_vaulttext_envelope)
LINES_PER_WRITE = 1024  # one write() of the file per this many lines: no list of every line
READ_BLOCK = 1 << 20  # bytes read at a time when the file is decrypted


NEEDS_ANSIBLE = ("store type vault_file needs ansible-core on the host that runs the task; run the task on the "
                 "controller (delegate_to: localhost) or choose another store type")

# What _ChildVault runs: one encrypt or decrypt with the host's own ansible-core, request and answer as JSON.
# It answers an error by its kind only (never a message, which could quote the password or the data).
CHILD_PROGRAM = r"""
import base64, json, sys
request = json.loads(sys.stdin.read())
try:
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, VaultSecret
except ImportError:
    sys.stdout.write(json.dumps({"error": "import"}))
    sys.exit(0)
try:
    secret = VaultSecret(request["password"].encode("utf-8"))
    vault = VaultLib([(request["vault_id"] or "default", secret)])
    data = base64.b64decode(request["data"])
    if request["op"] == "encrypt":
        out = vault.encrypt(data, secret=secret, vault_id=request["vault_id"])
    else:
        out = vault.decrypt(data)
except AnsibleError:  # a wrong password or vault ID, or no vault data (every line's vault errors are these)
    sys.stdout.write(json.dumps({"error": "vault"}))
    sys.exit(0)
except Exception as exc:
    sys.stdout.write(json.dumps({"error": "failed", "kind": type(exc).__name__}))
    sys.exit(0)
sys.stdout.write(json.dumps({"data": base64.b64encode(out).decode("ascii")}))
"""


class VaultRefusedError(Exception):
    """Ansible Vault (here, or VaultLib in the child) refused the data: a wrong password or vault_id, or no vault
    file."""


def runs_from_a_payload():
    """True where this code runs as a module on a task's host: its ansible.module_utils came in the
    AnsiballZ payload, which holds no ansible.parsing beside it."""
    import ansible.module_utils  # pylint: disable=import-outside-toplevel
    package = os.path.dirname(os.path.dirname(os.path.abspath(ansible.module_utils.__file__)))
    return not os.path.isdir(os.path.join(package, "parsing"))


# All the child keeps of the task's environment, which can hold the store password, a Vault token or cloud keys.
# Python finds its own site-packages (and so the host's ansible-core) from its executable, not from PATH or
# PYTHON* (-E ignores those anyway); the locale variables keep ansible-core's text handling as the host sets it;
# HOME is where ansible-core looks for its user configuration. Its request and answer are ASCII JSON on pipes.
CHILD_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE")


def _child_environment():
    return {name: os.environ[name] for name in CHILD_ENVIRONMENT if name in os.environ}


class _ChildVault(object):
    """VaultLib's encrypt and decrypt, run by a child of the host's Python (see the module docstring)."""

    def __init__(self, password, vault_id):
        self._password = password
        self._vault_id = vault_id

    def _call(self, op, data):
        request = json.dumps({"op": op, "password": self._password, "vault_id": self._vault_id,
                              "data": base64.b64encode(data).decode("ascii")}).encode("utf-8")
        # -E: no PYTHON* variables (the payload's path must not reach it); cwd /: no module of the task's directory.
        # Its stderr is never read: it held the password and the data. Not AnsibleModule.run_command: the store
        # has no module (it runs in-process too), and this child must not get the module's environment.
        done = subprocess.run(  # pylint: disable=ansible-bad-function
            [sys.executable, "-E", "-c", CHILD_PROGRAM], input=request, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd="/", check=False, env=_child_environment())
        try:
            answer = json.loads(done.stdout.decode("utf-8"))
        except ValueError:
            answer = {}
        if answer.get("error") == "import":
            raise ConfigError(NEEDS_ANSIBLE)
        if answer.get("error") == "vault":
            raise VaultRefusedError()
        if "data" not in answer:
            why = answer.get("kind") or "exit code %d" % done.returncode
            raise StoreError("Could not run Ansible Vault on this host with %s (%s)" % (sys.executable, why))
        return base64.b64decode(answer["data"])

    def read(self, handle):
        """The plaintext of the open store file."""
        return self._call("decrypt", handle.read())

    def write(self, handle, plaintext):
        """Encrypt ``plaintext`` into the open (new) store file."""
        handle.write(self._call("encrypt", plaintext))


class _VaultPieces(object):
    """``VaultLib``'s encrypt and decrypt with one secret, done with ansible.parsing.vault's own pieces, in this
    process, without VaultLib's copies of the data (see the module docstring)."""

    def __init__(self, vault, constants, password, vault_id):
        self._vault = vault
        self._constants = constants
        self._secret = vault.VaultSecret(password.encode("utf-8"))
        self._vault_id = vault_id

    def read(self, handle):
        """The plaintext of the open store file: ``parse_vaulttext_envelope`` reads its header line, the other
        lines are joined by dropping their line breaks (what its ``splitlines`` and ``join`` do, without the list of
        lines), ``VaultAES256`` checks the HMAC and decrypts."""
        vault = self._vault
        header = handle.readline()
        if not vault.is_encrypted(header):
            raise VaultRefusedError()
        try:
            inline, _version, cipher, vault_id = vault.parse_vaulttext_envelope(header)
            if cipher not in vault.CIPHER_ALLOWLIST:
                raise VaultRefusedError()
            if self._constants.DEFAULT_VAULT_ID_MATCH and vault_id != (self._vault_id or "default"):
                raise VaultRefusedError()  # VaultLib then tries only a secret of the file's vault ID
            # The lines joined by dropping their breaks (bytes.splitlines() splits at exactly these), a block at a
            # time: the file and its joined copy are never held both (at 10,000 entries each is 23 MB).
            body = bytearray(inline)  # a header ended by a lone CR: readline() kept the lines after it
            for block in iter(lambda: handle.read(READ_BLOCK), b""):
                body += block.translate(None, b"\r\n")
            return vault.CIPHER_MAPPING[cipher]().decrypt(body, self._secret)
        except (vault.AnsibleVaultError, vault.AnsibleVaultFormatError):
            raise VaultRefusedError()

    def write(self, handle, plaintext):
        """What ``VaultLib.encrypt`` writes: the header line, then the hexlified vaulttext in lines of ``LINE``
        bytes, each ended by a newline, a block of lines per write."""
        vaulttext = self._vault.CIPHER_MAPPING[CIPHER]().encrypt(plaintext, self._secret)
        handle.write(self._vault.format_vaulttext_envelope(b"", CIPHER, vault_id=self._vault_id))  # header, "\n"
        step = LINE * LINES_PER_WRITE
        for block in range(0, len(vaulttext), step):
            chunk = vaulttext[block:block + step]
            handle.write(b"\n".join([chunk[i:i + LINE] for i in range(0, len(chunk), LINE)]) + b"\n")


def _vault():
    """ansible.parsing.vault and ansible.constants, which exist only where ansible-core is installed.

    Imported by name at run time: it is no module_utils (AnsiballZ must not try to bundle it),
    and a host without ansible-core gets the sentence below instead of an import error.
    """
    try:
        return importlib.import_module("ansible.parsing.vault"), importlib.import_module("ansible.constants")
    except ImportError:
        raise ConfigError(NEEDS_ANSIBLE)


def version_of(entry):
    """The check-and-set token of an entry: a digest of its content (None for no entry)."""
    if entry is None:
        return None
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode("utf-8")).hexdigest()


class Store(SecretStore):
    type = "vault_file"
    rewrites_all = True  # each write encrypts every entry again: service_principals sizes its waves by it

    def __init__(self, options, environ=None):
        super().__init__(options, environ)
        path = options.get("path")
        if not path:
            raise ConfigError("store.path is required for store type vault_file; give the path of the encrypted "
                              "store file, for example ~/.config/conductor-principals/store.vault")
        # The real path, once: a link is followed here and never replaced by a file (module docstring).
        self.file = os.path.realpath(os.path.expanduser(path))
        self.lock_timeout = options.get("lock_timeout")
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if self.lock_timeout is None else float(self.lock_timeout)
        if self.lock_timeout < 0:
            raise ConfigError("store.lock_timeout must be 0 or more seconds, not %s" % options.get("lock_timeout"))
        password = options.get("password") or self.environ.get(PASSWORD_ENV)
        if not password:
            raise ConfigError("store.password is required for store type vault_file; set it or the environment "
                              "variable %s" % PASSWORD_ENV)
        self.vault_id = options.get("vault_id") or None
        # (signature, entries) of the file as this store last decrypted or wrote it: a run's list, reads and each
        # wave's write decrypt it once, not once each. Every writer replaces the file (a new inode, a new mtime),
        # so a file another run wrote never has the signature of the one remembered.
        self._memo = None
        if runs_from_a_payload():
            self._lib = _ChildVault(password, self.vault_id)
        else:
            vault, constants = _vault()
            self._lib = _VaultPieces(vault, constants, password, self.vault_id)

    def location(self, key):
        return "%s#%s" % (self.file, self.path(key))

    # ---- the file ---------------------------------------------------------------------
    def _refuse_readable_by_others(self, mode):
        if mode & 0o077:
            raise StoreError("The vault_file store %s has mode %04o, so others can read it; make it readable by "
                             "its owner only (chmod 600 %s)" % (self.file, stat.S_IMODE(mode), self.file))

    def _refuse_directory_writable_by_others(self):
        """Others who may write the directory may replace the store or plant its lock: refuse before any use."""
        directory = os.path.dirname(self.file)
        try:
            mode = os.stat(directory).st_mode
        except OSError:
            return  # a missing directory is named by the write that needs it
        if mode & stat.S_IWOTH:
            raise StoreError("The vault_file store directory %s has mode %04o, so others can write to it (and replace "
                             "the store or plant its lock); keep the store in a directory only its owner can write "
                             "(chmod o-w %s)" % (directory, stat.S_IMODE(mode), directory))

    def _load(self, to_change=True):
        """The decrypted store as {path: entry}; {} when the file does not exist yet. The file this store last read
        or wrote is not decrypted again (``_memo``). ``to_change``: a new dict for the caller to change (the entries
        are shared with the memo, never changed in place); otherwise the memo's own, to read only (no copy of every
        entry per read: a run reads many)."""
        self._refuse_directory_writable_by_others()
        try:
            handle = open(self.file, "rb")
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return {}
            raise StoreError("Could not read the vault_file store %s: %s" % (self.file, exc.strerror))
        try:
            with handle:
                found = os.fstat(handle.fileno())
                self._refuse_readable_by_others(found.st_mode)
                if self._memo is not None and self._memo[0] == _signature(found):
                    return dict(self._memo[1]) if to_change else self._memo[1]
                plaintext = self._lib.read(handle)
        except VaultRefusedError:
            raise StoreError("Could not decrypt the vault_file store %s: the password%s is wrong, or the file is "
                             "not an Ansible Vault file" % (self.file, " or vault_id" if self.vault_id else ""))
        try:
            data = json.loads(plaintext.decode("utf-8"))
        except ValueError:
            raise StoreError("The vault_file store %s decrypts to something that is not JSON; it was not written "
                             "by conductor.principals, give another path" % self.file)
        entries = self._entries(data)
        self._memo = (_signature(found), entries)
        return dict(entries) if to_change else entries

    def _entries(self, data):
        if not isinstance(data, dict):
            raise StoreError("The vault_file store %s holds no JSON object; give another path" % self.file)
        if isinstance(data.get("format"), int) and not isinstance(data.get("format"), bool):
            if data["format"] != FORMAT or not isinstance(data.get("entries"), dict):
                raise StoreError("The vault_file store %s has format %r, which this version of conductor.principals "
                                 "cannot read; upgrade the collection" % (self.file, data.get("format")))
            return data["entries"]
        raise StoreError("The vault_file store %s holds JSON without a format number; it was not written by "
                         "conductor.principals, give another path" % self.file)

    def _save(self, entries):
        """Encrypt and replace the file atomically: temporary file, fsync, rename, fsync of the directory. Called
        under the lock: the file then is this one's, remembered with its entries (``_memo``)."""
        self._memo = None
        # Compact JSON: any JSON reader reads it, and each copy of it in the encryption is that much smaller.
        plaintext = json.dumps({"format": FORMAT, "entries": entries}, sort_keys=True,
                               separators=(",", ":")).encode("utf-8")
        directory = os.path.dirname(self.file)
        temporary = None
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(self.file))
            with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600
                self._lib.write(handle, plaintext)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.file)
            temporary = None
            self._memo = (_signature(os.stat(self.file)), entries)
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
        self._refuse_directory_writable_by_others()
        return _Lock(self.file + ".lock", self.lock_timeout)

    def check_writable(self):
        """The directory is there and writable, the lock can be taken and the file decrypts (module docstring)."""
        directory = os.path.dirname(self.file)
        if not os.path.isdir(directory):
            raise StoreError("The vault_file store %s cannot be written: its directory %s does not exist; create it "
                             "(mkdir -m 700 -p %s) or give another store.path" % (self.file, directory, directory))
        try:  # a file made and removed where the store's writes make theirs (mode bits alone miss chattr +i)
            fd, probe = tempfile.mkstemp(dir=directory, prefix=".%s.probe." % os.path.basename(self.file))
            os.close(fd)
            os.unlink(probe)
        except (IOError, OSError) as exc:
            raise StoreError("The vault_file store %s cannot be written: its directory %s refuses a new file (%s); "
                             "make the directory writable or give another store.path"
                             % (self.file, directory, exc.strerror or type(exc).__name__))
        with self._locked():
            self._load(to_change=False)

    # ---- the four calls ---------------------------------------------------------------
    def read(self, key):
        entry = self._load(to_change=False).get(self.path(key))
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

    # ---- batches: one decryption to read, one lock and one file write per batch ----------
    def read_many(self, keys):
        entries = self._load(to_change=False)
        found, errors = {}, {}
        for key in keys:
            entry = entries.get(self.path(key))
            try:
                found[key] = None if entry is None else _stored(entry)
                if entry is not None:
                    check_names(self, key, found[key])
            except ConductorError as exc:
                found.pop(key, None)
                errors[key] = exc
        return found, errors

    def write_many(self, writes):
        done, errors = {}, {}
        if not writes:
            return done, errors
        with self._locked():
            entries = self._load()
            for key, content, version in writes:
                path = self.path(key)
                current = entries.get(path)
                try:
                    if current is not None:
                        check_names(self, key, _stored(current))
                    if version_of(current) != version:
                        raise StoreConflictError(
                            "The vault_file store entry %s changed while this task ran (another run wrote it); "
                            "nothing was written there, run the task again" % self.location(key))
                except ConductorError as exc:
                    errors[key] = exc
                    continue
                entries[path] = content
                done[key] = version_of(content)
            if done:
                self._save(entries)  # one file write for the batch; a failure here fails every entry of it
        return done, errors

    def delete_many(self, keys):
        done, errors = {}, {}
        with self._locked():
            entries = self._load()
            for key in keys:
                path = self.path(key)
                if path in entries:
                    try:
                        check_names(self, key, _stored(entries[path]))
                    except ConductorError as exc:
                        errors[key] = exc
                        continue
                    del entries[path]
                done[key] = True
            if done:
                self._save(entries)
        return done, errors

    def list(self, platform=None, principal=None):
        keys = []
        for path, entry in sorted(self._load(to_change=False).items()):
            names = entry.get("names") or {}
            parts = path[len(self.prefix) + 1:].split("/") if path.startswith(self.prefix + "/") else []
            key = self.key_at(entry.get("platform"), names.get("principal"), names.get("credential"),
                              names.get("owner"), parts[1] if len(parts) == 3 else None)
            if None in key[:3]:  # written by hand without names: recover them from the path
                if len(parts) != 3:
                    continue
                key = self.key_of(*parts)
                if key is None:
                    continue
            if not self.holds(key, path) or (platform and key.platform != platform) \
                    or (principal is not None and key.principal != principal):
                continue  # another prefix, platform or principal
            keys.append(key)
        return keys


def _signature(found):
    """What tells one version of the store file from another: its inode, size and modification time."""
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _stored(entry):
    return StoredEntry(entry, version_of(entry))


class _Lock(object):
    """``flock`` on ``path``: never through a link, only on a regular file of ours, for ``timeout`` seconds at most."""

    def __init__(self, path, timeout=DEFAULT_LOCK_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def _open(self):
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
        except (IOError, OSError) as exc:
            directory = os.path.dirname(self.path)
            if exc.errno == errno.ELOOP:
                raise StoreError("Could not lock the vault_file store: its lock file %s is a symbolic link, which is "
                                 "never followed; remove the link (someone else may have planted it)" % self.path)
            fix = ("the directory %s does not exist; create it (mode 0700)" % directory if exc.errno == errno.ENOENT
                   else "make the directory %s writable by the user that runs the task" % directory)
            raise StoreError("Could not lock the vault_file store: cannot create %s (%s); %s"
                             % (self.path, exc.strerror, fix))

    def _check(self):
        found = os.fstat(self.fd)
        if not stat.S_ISREG(found.st_mode):
            raise StoreError("Could not lock the vault_file store: its lock file %s is not a regular file; remove it"
                             % self.path)
        if found.st_uid != os.geteuid():
            raise StoreError("Could not lock the vault_file store: its lock file %s belongs to user ID %d, not to the "
                             "user that runs the task (%d); remove it" % (self.path, found.st_uid, os.geteuid()))

    def _wait(self):
        """The lock, polled (flock has no timeout) with a growing pause, until ``timeout`` has passed."""
        deadline = time.monotonic() + self.timeout
        pause = 0.005
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EINTR):
                    raise StoreError("Could not lock the vault_file store with %s: %s; keep the store on a local "
                                     "file system" % (self.path, exc.strerror))
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreError("Could not lock the vault_file store: another run has held %s for more than %g "
                                 "seconds; let it finish (or end it) and run the task again, or raise "
                                 "store.lock_timeout" % (self.path, self.timeout))
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.25)

    def __enter__(self):
        self.fd = self._open()
        try:
            self._check()
            self._wait()
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        return False
