# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a platform adapter provides: the interface the generic logic (principals.py,
credentials.py, runner.py) talks to. Differences between platforms are named
capabilities below, never "is this platform X?" tests.

Neutral shapes (every adapter returns these, whatever its API calls them):
  principal  {id, name, created_at, updated_at} (+ roles, tags where the platform has them)
  credential {id, name, client_id, service_principal_id, created_at, expires_at,
              allowed_cidrs, scoped_role_ids, require_dpop, last_used_at, status}
Times are RFC 3339 UTC (timestamps.py). A credential ``owner`` is a service principal
ID, or None for the caller's own personal API keys (where the platform has them).
"""

from __future__ import annotations

import abc

from ..errors import ConfigError


class _Fact(object):
    """An adapter attribute read from its ``capabilities`` (on the class and on instances)."""

    def __init__(self, name):
        self.name = name

    def __get__(self, instance, owner):
        return getattr(owner.capabilities, self.name)


class PlatformAdapter(abc.ABC):
    """One platform's API behind the neutral calls. Subclasses set the capabilities."""

    #: The platform's facts (credential_plan.Capabilities), declared once per adapter as its
    #: module's CAPABILITIES; the argument checks, the planner, the role's filters and the
    #: docs read them from there. The attributes below read them too.
    capabilities = None

    platform = _Fact("platform")
    #: Module options a credential on this platform can carry; the others are refused by name.
    credential_features = _Fact("credential_settings")
    #: Module options a principal on this platform can carry beyond its name.
    principal_features = _Fact("principal_settings")
    #: A credential has a display name that identifies it (C1). Without names (Orkes access
    #: keys) "present" means "an active credential exists" and "absent" means "none at all".
    credentials_have_names = _Fact("credentials_have_names")
    #: Credentials are made with a lifetime (expires_days applies and has a default).
    credentials_expire = _Fact("credentials_expire")
    #: A credential can be paused and resumed in place (the ``enabled`` option).
    credentials_can_pause = _Fact("credentials_can_pause")
    #: Each credential records when it was last used (``last_used_at``): retiring by use and the
    #: report's ``unused`` / ``never_used`` flags need it.
    records_credential_use = _Fact("records_credential_use")
    #: The caller has personal API keys besides the principals' credentials (owner None).
    has_personal_credentials = _Fact("has_personal_credentials")
    #: Target types and access values of the grants a principal can hold on named resources.
    permission_target_types = _Fact("permission_target_types")
    permission_access = _Fact("permission_access")
    #: Workload federation: providers and trusts (federation.py), with list_providers,
    #: create_provider, update_provider, delete_provider, list_trusts, create_trust, update_trust,
    #: delete_trust, test_token and test_cel.
    has_workload_federation = _Fact("has_workload_federation")

    def __init__(self, client):
        self.client = client

    # ---- service principals -----------------------------------------------------------
    @abc.abstractmethod
    def list_principals(self):
        """Every principal (neutral shape, without roles/tags)."""

    @abc.abstractmethod
    def get_principal(self, principal_id):
        """One principal by ID, or None when there is none."""

    def check_principal(self, desired):
        """Refuse desired principal settings the platform cannot hold (raise ConfigError)."""

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
        raise ConfigError("permissions cannot be set on platform %s" % self.platform)

    def change_permissions(self, principal, changes):
        """Apply ``changes`` ({"add": [entries], "remove": [entries]}, one entry per target)."""
        raise ConfigError("permissions cannot be set on platform %s" % self.platform)

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

    def set_credential_status(self, owner, credential, status):
        """Pause (INACTIVE) or resume (ACTIVE); only where ``credentials_can_pause``."""
        raise ConfigError("enabled cannot be set on platform %s" % self.platform)

    # ---- roles and identity ---------------------------------------------------------------
    @abc.abstractmethod
    def resolve_role_ids(self, names_or_ids):
        """Sorted role IDs for role IDs or names; an unknown role is a ConfigError."""

    @abc.abstractmethod
    def whoami(self):
        """A cheap authenticated call that says who the credentials belong to (a dict)."""
