# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HashiCorp Vault or OpenBao, KV version 2, through hvac.

An entry is the KV v2 secret ``<mount_point>/data/<prefix>/<platform>/<principal>/<credential>``
holding the JSON object of ``base.entry_content``; its custom metadata names the platform,
principal, credential, credential ID and expiry and says it is managed by conductor.principals.
A name Vault refuses there (empty, not printable, over 512 bytes) is its path segment instead, or
left out when that is too long too. ``list`` reads the names from the paths, never from the metadata.

A write is two requests: the data (the new version, which holds the secret and is what ``read``
returns from then on), then the custom metadata. The write is done once the data is: a refused
metadata step (a policy without ``update`` on ``metadata/``) is a warning in ``self.warnings``,
never a failed write, which would have the caller revoke the credential whose secret the entry
now holds.

Check-and-set: the version ``read`` returns is the secret's KV version; ``write`` sends it as
``cas`` (``cas=0`` for a new entry), so Vault itself refuses a write that would overwrite one
made since. A rotation is a new version: the previous one stays readable (``version=n-1``)
until the entry is deleted, which removes every version and the metadata.

Redirects are never followed: ``X-Vault-Token`` (and an AppRole login's ``secret_id``) would
go along to whatever address a redirect names. A server that answers with one (a standby
node, a proxy, an impostor) fails the task with one sentence saying which address to give.
The token is only the one the task names (``store.token``, ``VAULT_TOKEN`` in the task's
environment, or AppRole's): hvac's own fallback to ``~/.vault-token`` is never used.
"""

from __future__ import annotations

import os
import unicodedata
from urllib.parse import urlsplit

from ..deps import require_optional, requests  # requests: hvac's transport, whose errors reach us
from ..errors import ConfigError
from .base import SecretStore, StoreConflictError, StoredEntry, StoreError, check_names, names_of

MANAGED_BY = "conductor.principals"
ENV_URL = "VAULT_ADDR"
ENV_TOKEN = "VAULT_TOKEN"
ENV_NAMESPACE = "VAULT_NAMESPACE"
ENV_CA = "VAULT_CACERT"  # what the AWX secret store credential type injects for its CA certificate input
METADATA_VALUE_BYTES = 512  # KV v2's limit on a custom metadata value


def _metadata_fits(value):
    """What KV v2 takes as a custom metadata value: printable (Go's unicode.IsPrint), 1 to 512 bytes."""
    return 0 < len(value.encode("utf-8", "surrogatepass")) <= METADATA_VALUE_BYTES and all(
        ch == " " or unicodedata.category(ch)[0] in "LMNPS" for ch in value)


class RedirectRefused(Exception):
    """A Vault answer that redirects elsewhere (the request is not resent)."""

    def __init__(self, status, target):
        super().__init__(status, target)
        self.status = status
        self.target = target


def _refuse_redirect(response, *args, **kwargs):
    """A requests response hook: a redirect is an error, before hvac reads the answer as a success."""
    if response.is_redirect or 300 <= response.status_code < 400:
        location = urlsplit(response.headers.get("Location") or "")
        target = "%s://%s" % (location.scheme, location.netloc) if location.netloc else "another path"
        raise RedirectRefused(response.status_code, target)
    return response


class Store(SecretStore):
    type = "hashi_vault"

    def __init__(self, options, environ=None):
        super().__init__(options, environ)
        self._hvac = require_optional("hvac", "store type hashi_vault")
        self.url = (options.get("url") or self.environ.get(ENV_URL) or "").rstrip("/")
        if not self.url:
            raise ConfigError("store.url is required for store type hashi_vault; set it or the environment variable "
                              "%s to the address of the Vault or OpenBao server" % ENV_URL)
        self.mount_point = (options.get("mount_point") or "secret").strip("/")
        self.role_id = options.get("role_id")
        self.secret_id = options.get("secret_id")
        self.token = options.get("token")
        if bool(self.role_id) != bool(self.secret_id):
            raise ConfigError("store.role_id and store.secret_id go together for AppRole login to Vault; give both, "
                              "or neither and a token")
        if not self.role_id and not self.token:
            self.token = self.environ.get(ENV_TOKEN)
            if not self.token:
                raise ConfigError("store type hashi_vault needs a Vault token (store.token or the environment variable "
                                  "%s) or AppRole store.role_id and store.secret_id" % ENV_TOKEN)
        verify = options.get("validate_certs", True) is not False
        ca_path = options.get("ca_path")
        if not ca_path and self.environ.get(ENV_CA):
            ca_path = self.environ[ENV_CA]
            if not os.path.isfile(ca_path):
                raise ConfigError("the environment variable %s names %s, which is not a file; give the path of the PEM "
                                  "CA bundle that signed the Vault server's certificate, or unset it"
                                  % (ENV_CA, ca_path))
        if verify and ca_path:
            verify = ca_path
        session = requests.Session()
        session.verify = verify  # hvac takes a given session's verify over its own argument
        session.hooks["response"].append(_refuse_redirect)
        # token "" (never None): hvac would fall back to the ambient VAULT_TOKEN or ~/.vault-token.
        self.client = self._hvac.Client(url=self.url, token=self.token or "", verify=verify, timeout=30,
                                        allow_redirects=False, session=session,
                                        namespace=options.get("namespace") or self.environ.get(ENV_NAMESPACE) or None)
        self._logged_in = not self.role_id
        self._kv2_checked = False

    def location(self, key):
        return "%s/%s" % (self.mount_point, self.path(key))

    # ---- plumbing -----------------------------------------------------------------------
    @property
    def _kv(self):
        self._login()
        return self.client.secrets.kv.v2

    def _login(self):
        """AppRole: log in once, on first use (so building a Store sends nothing)."""
        if not self._logged_in:
            try:
                self.client.auth.approle.login(role_id=self.role_id, secret_id=self.secret_id, use_token=True)
            except Exception as exc:  # every hvac and requests error, mapped to one sentence
                raise self._failure(exc, "log in with AppRole to", None,
                                    fix="check store.role_id and store.secret_id and that AppRole is enabled at "
                                        "auth/approle")
            self._logged_in = True

    def _secrets(self):
        return [value for value in (self.token, self.secret_id, self.client.token) if value]

    def _failure(self, exc, action, key, fix=None):
        """The StoreError for ``exc``: what failed, where, and what to fix; never a token."""
        errors = self._hvac.exceptions
        where = "%s at %s" % (self.location(key), self.url) if key else self.url
        reason = None
        status = None
        api_message = None
        if isinstance(exc, errors.VaultError):
            status = {errors.InvalidRequest: 400, errors.Unauthorized: 401, errors.Forbidden: 403,
                      errors.InvalidPath: 404, errors.InternalServerError: 500, errors.VaultNotInitialized: 501,
                      errors.VaultDown: 503}.get(type(exc))
            api_message = ", ".join(exc.errors or []) or None
            for secret in self._secrets():
                api_message = api_message.replace(secret, "<redacted>") if api_message else api_message
        if isinstance(exc, RedirectRefused):
            reason = ("the server answered with a redirect (HTTP %d) to %s, which is never followed because the "
                      "token would go along" % (exc.status, exc.target))
            fix = "set store.url (or %s) to the address of the server that should get it" % ENV_URL
        elif fix:
            reason = api_message or type(exc).__name__
            api_message = None
        elif isinstance(exc, errors.VaultDown):
            reason, fix = "Vault is sealed or unavailable", "unseal it (bao operator unseal / vault operator unseal)"
        elif isinstance(exc, errors.VaultNotInitialized):
            reason, fix = "Vault is not initialized", "initialize and unseal it"
        elif isinstance(exc, (errors.Forbidden, errors.Unauthorized)):
            reason = "Vault refused the token"
            fix = ("give a valid token (or AppRole) whose policy grants create, read, update and delete on %s/data/%s "
                   "and %s/metadata/%s" % (self.mount_point, self.prefix + "/*", self.mount_point, self.prefix + "/*"))
        elif isinstance(exc, errors.InvalidPath):
            reason = "there is no secrets engine mounted at %s/" % self.mount_point
            fix = ("enable a KV version 2 engine there (bao secrets enable -path=%s kv-v2) or set store.mount_point"
                   % self.mount_point)
        elif isinstance(exc, requests.exceptions.SSLError):
            reason = "the TLS certificate of the server could not be verified"
            fix = "give the CA bundle that signed it as store.ca_path"
        elif isinstance(exc, requests.exceptions.RequestException):
            reason = "the server could not be reached (%s)" % type(exc).__name__
            fix = "check store.url (or %s) and that the server is running" % ENV_URL
        else:
            reason = "Vault answered %s" % type(exc).__name__
            fix = "see the message from Vault"
        return StoreError("The hashi_vault store could not %s %s: %s; %s" % (action, where, reason, fix),
                          status=status, api_message=api_message)

    def _metadata(self, key, content):
        """Custom metadata of an entry (KV v2 takes printable strings of at most 512 bytes)."""
        values = {"managed_by": MANAGED_BY, "platform": key.platform, "principal": key.principal,
                  "credential": key.credential, "owner": names_of(key).get("owner"),
                  "credential_id": content.get("credential_id"), "expires_at": content.get("expires_at")}
        values = {name: self.field_value(str(value), _metadata_fits) for name, value in values.items()
                  if value is not None}
        return {name: value for name, value in values.items() if value is not None}

    def _write_metadata(self, key, path, content):
        """The second step of a write: after the data, a refusal is a warning (the entry holds the secret)."""
        try:
            self._kv.update_metadata(path=path, mount_point=self.mount_point,
                                     custom_metadata=self._metadata(key, content))
        except Exception as exc:  # every hvac and requests error: the data is written, so the write is done
            refused = self._failure(exc, "write the custom metadata of", key)
            said = " (Vault: %s)" % refused.api_message if refused.api_message else ""
            self.warnings.append("%s%s; the secret itself was written and is the entry's current version, only the "
                                 "metadata that describes it is missing" % (refused.message, said))

    def _refuse_other_than_kv2(self):
        """Before the first write: a KV version 1 mount would store our request as a secret of its own."""
        if self._kv2_checked:
            return
        try:
            self._login()
            mount = self.client.adapter.get("/v1/sys/internal/ui/mounts/%s" % self.mount_point)
        except self._hvac.exceptions.Forbidden:
            mount = None  # a policy may hide the mount table; the write itself tells then
        except self._hvac.exceptions.InvalidRequest:
            raise self._hvac.exceptions.InvalidPath(errors=["no mount at %s/" % self.mount_point])
        data = (mount or {}).get("data") or {}
        version = str((data.get("options") or {}).get("version"))
        if data and (data.get("type") not in ("kv", "generic") or version != "2"):
            raise StoreError("The hashi_vault store mount %s/ at %s is not a KV version 2 secrets engine; enable one "
                             "(bao secrets enable -path=%s kv-v2) or set store.mount_point"
                             % (self.mount_point, self.url, self.mount_point))
        self._kv2_checked = True

    def _current_version_is_deleted(self, path):
        """True when the newest version was deleted or destroyed by hand (so there is no live entry)."""
        try:
            metadata = self._kv.read_secret_metadata(path=path, mount_point=self.mount_point)["data"]
        except self._hvac.exceptions.InvalidPath:
            return False
        current = (metadata.get("versions") or {}).get(str(metadata.get("current_version")))
        if current and (current.get("destroyed") or current.get("deletion_time")):
            return metadata["current_version"]
        return False

    # ---- the four calls -----------------------------------------------------------------
    def read(self, key):
        try:
            answer = self._kv.read_secret_version(path=self.path(key), mount_point=self.mount_point,
                                                  raise_on_deleted_version=False)
        except self._hvac.exceptions.InvalidPath as exc:
            if not exc.errors:  # no such secret (a missing mount names its route in errors)
                return None
            raise self._failure(exc, "read", key)
        except StoreError:
            raise
        except Exception as exc:
            raise self._failure(exc, "read", key)
        data = (answer or {}).get("data") or {}
        if data.get("data") is None:  # the newest version was deleted by hand: no live entry
            return None
        found = StoredEntry(data["data"], data["metadata"]["version"])
        check_names(self, key, found)
        return found

    def read_version(self, key, version):
        """The content of one earlier version (None when it is gone), e.g. the secret before a rotation."""
        try:
            answer = self._kv.read_secret_version(path=self.path(key), version=version, mount_point=self.mount_point,
                                                  raise_on_deleted_version=False)
        except self._hvac.exceptions.InvalidPath:
            return None
        except Exception as exc:
            raise self._failure(exc, "read", key)
        return ((answer or {}).get("data") or {}).get("data")

    def write(self, key, content, version=None):
        path = self.path(key)
        cas = 0 if version is None else int(version)
        try:
            self._refuse_other_than_kv2()
            try:
                answer = self._kv.create_or_update_secret(path=path, secret=content, cas=cas,
                                                          mount_point=self.mount_point)
            except self._hvac.exceptions.InvalidRequest as exc:
                if "check-and-set" not in str(exc):
                    raise
                deleted = self._current_version_is_deleted(path) if version is None else False
                if not deleted:
                    raise StoreConflictError(
                        "The hashi_vault store entry %s at %s changed while this task ran (another run wrote it); "
                        "nothing was written, run the task again" % (self.location(key), self.url))
                answer = self._kv.create_or_update_secret(path=path, secret=content, cas=deleted,
                                                          mount_point=self.mount_point)
            written = ((answer or {}).get("data") or {}).get("version") if isinstance(answer, dict) else None
            if written is None:
                raise StoreError("The hashi_vault store mount %s/ at %s is not a KV version 2 secrets engine; enable "
                                 "one (bao secrets enable -path=%s kv-v2) or set store.mount_point"
                                 % (self.mount_point, self.url, self.mount_point))
        except StoreError:
            raise
        except Exception as exc:
            raise self._failure(exc, "write", key)
        self._write_metadata(key, path, content)
        return written

    def delete(self, key):
        """Remove the entry with every version and its metadata; True when there was one."""
        path = self.path(key)
        try:
            try:
                self._kv.read_secret_metadata(path=path, mount_point=self.mount_point)
            except self._hvac.exceptions.InvalidPath as exc:
                if not exc.errors:
                    return False
                raise
            self.read(key)  # refuses an entry written for other names (check_names)
            self._kv.delete_metadata_and_all_versions(path=path, mount_point=self.mount_point)
        except StoreError:
            raise
        except ConfigError:
            raise
        except Exception as exc:
            raise self._failure(exc, "delete", key)
        return True

    def _children(self, path):
        try:
            return self._kv.list_secrets(path=path, mount_point=self.mount_point)["data"]["keys"]
        except self._hvac.exceptions.InvalidPath as exc:
            if not exc.errors:
                return []
            raise

    def list(self, platform=None, principal=None):
        """Every entry under the prefix, its names read from its path (the metadata may lack them)."""
        keys = []
        try:
            platforms = [self.segment(platform) + "/"] if platform else self._children(self.prefix)
            for platform_dir in [p.rstrip("/") for p in platforms if p.endswith("/")]:
                base = "%s/%s" % (self.prefix, platform_dir)
                folders = ([folder + "/" for folder in self.principal_folders(principal)]
                           if platform and principal is not None else self._children(base))
                for principal_dir in [p.rstrip("/") for p in folders if p.endswith("/")]:
                    for leaf in [c for c in self._children("%s/%s" % (base, principal_dir)) if not c.endswith("/")]:
                        key = self.key_of(platform_dir, principal_dir, leaf)
                        if key is not None and (principal is None or key.principal == principal):
                            keys.append(key)
        except Exception as exc:
            raise self._failure(exc, "list", None)
        return keys
