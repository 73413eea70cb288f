# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a platform adapter provides: the interface the generic logic (principals.py,
credentials.py, runner.py) talks to. Differences between platforms are named
capabilities below, never "is this platform X?" tests.

Neutral shapes (every adapter returns these, whatever its API calls them):
  principal  {id, name, created_at, updated_at} (+ roles, tags, permissions, created_by, updated_by where the
             platform has them; role_ids: the roles a C1 principal holds, None when the answer lacked them)
  credential {id, name, client_id, service_principal_id, created_at, expires_at,
              allowed_cidrs, scoped_role_ids, require_dpop, last_used_at, status}
Times are RFC 3339 UTC (timestamps.py). A credential ``owner`` is a service principal
ID, or None for the caller's own personal API keys (where the platform has them).
"""

from __future__ import annotations

import abc
import collections
import threading

from ..errors import ConfigError


class PlatformAdapter(abc.ABC):
    """One platform's API behind the neutral calls. Subclasses set the capabilities."""

    #: The platform's facts (credential_plan.Capabilities), declared once per adapter as its
    #: module's CAPABILITIES; the argument checks, the planner, the role's filters, the report,
    #: config.py, auth/ and the docs read them from there (``adapter.capabilities.X``).
    capabilities = None

    def __init__(self, client):
        self.client = client
        self._read_once = {}
        self._read_once_locks = collections.defaultdict(threading.Lock)
        self._read_once_lock = threading.Lock()

    def read_once(self, what, read):
        """``read()``'s answer, read once per adapter (per task) for each ``what``: a pool's threads planning at
        the same time would each send the same request. Different ``what`` are read in parallel."""
        with self._read_once_lock:
            lock = self._read_once_locks[what]
        with lock:
            if what not in self._read_once:
                self._read_once[what] = read()
            return self._read_once[what]

    # ---- service principals -----------------------------------------------------------
    @abc.abstractmethod
    def list_principals(self):
        """Every principal (neutral shape, without roles/tags)."""

    @abc.abstractmethod
    def get_principal(self, principal_id):
        """One principal by ID, or None when there is none."""

    @classmethod
    def check_principal(cls, desired):
        """Refuse desired principal settings the platform cannot hold (raise ConfigError); no request:
        the principals list is checked before anything is sent (inputs.py), by the roles too."""

    def check_roles(self, names, label=None):
        """Refuse (ConfigError, its sentence starting with ``label`` when given) a role in ``names`` that the
        server does not know, before any write; platforms whose principals take no ``roles`` have nothing to check."""

    def hydrate(self, principal):
        """The principal with the settings kept outside its record (roles, tags)."""
        return principal

    @abc.abstractmethod
    def create_principal(self, desired):
        """Create; return the new principal."""

    @abc.abstractmethod
    def update_principal(self, current, desired):
        """Make ``current`` match ``desired``; return the result."""

    @abc.abstractmethod
    def delete_principal(self, principal):
        """Delete; a principal already gone is not an error."""

    def list_permissions(self, principal):
        """The principal's grants, as entries [{type, id, access: [...]}] (any order)."""
        raise ConfigError("permissions cannot be set on platform %s" % self.capabilities.platform)

    def change_permissions(self, principal, changes):
        """Apply ``changes`` (a permissions.GrantPlan: entries to add and to remove, one per target)."""
        raise ConfigError("permissions cannot be set on platform %s" % self.capabilities.platform)

    # ---- credentials --------------------------------------------------------------------
    @abc.abstractmethod
    def list_credentials(self, owner):
        """Every credential of ``owner`` (neutral shape)."""

    @abc.abstractmethod
    def create_credential(self, owner, desired):
        """Create from validated ``desired``; return (credential, secret)."""

    @abc.abstractmethod
    def revoke_credential(self, owner, credential):
        """Revoke; a credential already gone is not an error."""

    def rename_credential(self, owner, credential, name):
        """Rename a credential in place (its ID, client ID and secret stay); only where credentials have names."""
        raise ConfigError("credentials have no names on platform %s, so they cannot be renamed"
                          % self.capabilities.platform)

    def set_credential_status(self, owner, credential, status):
        """Pause (INACTIVE) or resume (ACTIVE); only where ``capabilities.credentials_can_pause``."""
        raise ConfigError("enabled cannot be set on platform %s" % self.capabilities.platform)

    # ---- roles and identity ---------------------------------------------------------------
    @abc.abstractmethod
    def resolve_role_ids(self, names_or_ids):
        """Sorted role IDs for role IDs or names; an unknown role is a ConfigError."""

    def check_held_roles(self, role_ids, principal, what="credential"):
        """Refuse (ConfigError) scoped ``role_ids`` that ``principal`` (a neutral principal; its ``role_ids`` read
        back from the API when the answer at hand lacks them) does not hold: its credential or trust would get no
        permission from them. Platforms without scoped roles have nothing to check."""

    @abc.abstractmethod
    def whoami(self):
        """A cheap authenticated call that says who the credentials belong to (a dict)."""
