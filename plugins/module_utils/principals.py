# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service principals (Orkes: applications): find, and ensure present or absent."""

from __future__ import annotations

from . import permissions as grants
from .client import create_once
from .compare import differences
from .credential_plan import PRINCIPAL_SETTINGS
from .errors import ConductorError, ConfigError
from .inputs import desired_principal
from .platforms import platforms_where


def find_by_name(principals, name):
    """The one principal called ``name`` (exact match), None, or an error listing the IDs."""
    matches = [p for p in principals if p.get("name") == name]
    if len(matches) > 1:
        raise ConductorError(
            "%d service principals are named %r (%s); give the id of the one you mean"
            % (len(matches), name, ", ".join(sorted(str(p["id"]) for p in matches))))
    return matches[0] if matches else None


def find_principal(adapter, name=None, principal_id=None, listed=None):
    """The principal of that ID, else the one of that name; ``listed``: the principals the caller listed
    already (service_principals lists the tenant once), where the name is looked up instead of listing again."""
    if principal_id:
        return adapter.get_principal(principal_id)
    return find_by_name(adapter.list_principals() if listed is None else listed, name)


def _permission_changes(current, wanted):
    """(changes, the principal's permissions after them); no changes when permissions are not managed."""
    have = grants.grant_set((current or {}).get("permissions"))
    if wanted is None:
        return grants.plan(have, have), grants.as_entries(have)
    return grants.plan(have, wanted), grants.as_entries(wanted)


def _apply_permissions(adapter, principal, changes, after):
    if not changes.empty:
        adapter.change_permissions(principal, changes)
    return dict(principal, permissions=after) if "permissions" in adapter.capabilities.principal_settings else principal


def ensure_principal(adapter, params, check_mode=False, listed=None):
    """Make one principal match ``params``; return the module result (without secrets) and its ``action``
    (actions.DONE). ``listed``: as in find_principal (a lost create still lists the API again to find what it
    made)."""
    desired = desired_principal(params)
    settings = adapter.capabilities.principal_settings
    unsupported = [f for f in PRINCIPAL_SETTINGS if f in desired and f not in settings]
    if unsupported:
        where = platforms_where(lambda capabilities: set(unsupported) <= capabilities.principal_settings)
        raise ConfigError("%s %s only for platform %s; remove %s"
                          % (" and ".join(unsupported), "are" if len(unsupported) > 1 else "is",
                             " or ".join(where), "them" if len(unsupported) > 1 else "it"))
    if not params.get("id") and not params.get("name"):
        raise ConfigError("Give name (or id) to say which service principal to manage")
    adapter.check_principal(desired)
    if params.get("state") != "absent":
        adapter.check_roles(desired.get("roles"))  # against the server's list, before the first write
    # Grants are compared as a set of (target type, id, access), apart from the other fields.
    wanted_grants = desired.pop("permissions", None)
    wanted_grants = None if wanted_grants is None else grants.grant_set(wanted_grants)

    current = find_principal(adapter, params.get("name"), params.get("id"), listed)
    if current is not None and params.get("state") != "absent":
        current = adapter.hydrate(current)
    if params.get("state") == "absent":
        if current is None:
            return {"changed": False, "action": "none", "diff": {"before": {}, "after": {}}}
        if not check_mode:
            adapter.delete_principal(current)
        return {"changed": True, "action": "delete", "diff": {"before": current, "after": {}}}

    if current is None:
        if params.get("id"):
            raise ConfigError("No service principal has id %r; remove id to create one by name" % params["id"])
        after = dict(desired, id=None)
        if wanted_grants is not None:
            after["permissions"] = grants.as_entries(wanted_grants)
        if check_mode:
            return {"changed": True, "action": "create", "service_principal": after,
                    "diff": {"before": {}, "after": after}}
        created, _recovered = create_once(
            lambda: adapter.create_principal(desired),
            lambda: find_by_name(adapter.list_principals(), desired["name"]))
        # Roles and tags are separate calls on platforms that have them.
        if differences(created, desired):
            created = adapter.update_principal(created, desired)
        permission_changes, granted = _permission_changes(created, wanted_grants)
        created = _apply_permissions(adapter, created, permission_changes, granted)
        return {"changed": True, "action": "create", "service_principal": created,
                "diff": {"before": {}, "after": created}}

    changes = differences(current, desired)
    permission_changes, granted = _permission_changes(current, wanted_grants)
    if not changes and permission_changes.empty:
        return {"changed": False, "action": "none", "service_principal": current,
                "diff": {"before": current, "after": current}}
    after = dict(current, **{field: pair[1] for field, pair in changes.items()})
    if not check_mode:
        after = adapter.update_principal(current, desired) if changes else current
        after = _apply_permissions(adapter, after, permission_changes, granted)
    elif wanted_grants is not None:
        after["permissions"] = granted
    return {"changed": True, "action": "update", "service_principal": after,
            "diff": {"before": current, "after": after}}


def principal_info(adapter, params):
    if params.get("id"):
        found = adapter.get_principal(params["id"])
        found = [found] if found else []
        if params.get("name"):
            found = [p for p in found if p.get("name") == params["name"]]
    else:
        found = adapter.list_principals()
        if params.get("name"):
            found = [p for p in found if p.get("name") == params["name"]]
    return {"changed": False, "service_principals": [adapter.hydrate(p) for p in found]}
