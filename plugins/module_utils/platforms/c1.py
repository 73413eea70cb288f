# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConductorOne adapter: maps the neutral calls of base.py onto the C1 REST API.

Personal API keys (``owner`` None) share the credential calls.
"""

from __future__ import annotations

from urllib.parse import quote

from ..errors import ConfigError
from .base import PlatformAdapter

SP_PATH = "/api/v1/service_principals"
PERSONAL_PATH = "/api/v1/iam/personal_clients"
ROLES_PATH = "/api/v1/iam/roles"
INTROSPECT_PATH = "/api/v1/auth/introspect"

DAY = 86400


def _q(value):
    return quote(str(value), safe="")


def _principal(raw):
    return {
        "id": raw.get("id"),
        "name": raw.get("displayName"),
        "created_at": raw.get("createdAt"),
        "updated_at": raw.get("updatedAt"),
    }


def _credential(raw, personal=False):
    return {
        "id": raw.get("id"),
        "name": raw.get("displayName"),
        "client_id": raw.get("clientId"),
        "service_principal_id": None if personal else raw.get("servicePrincipalId"),
        "created_at": raw.get("createdAt"),
        "expires_at": raw.get("expiresTime" if personal else "expiresAt"),
        "allowed_cidrs": list(raw.get("allowSourceCidr" if personal else "allowSourceCidrs") or []),
        "scoped_role_ids": list(raw.get("scopedRoles" if personal else "scopedRoleIds") or []),
        "require_dpop": bool(raw.get("requireDpop", False)),
        "last_used_at": raw.get("lastUsedAt"),
        "status": "ACTIVE",
    }


class C1Adapter(PlatformAdapter):
    platform = "conductorone"
    credential_features = frozenset(("name", "expires_days", "allowed_cidrs", "scoped_roles", "require_dpop"))
    principal_features = frozenset()
    credentials_have_names = True
    credentials_expire = True
    records_credential_use = True  # lastUsedAt on every credential
    has_personal_credentials = True

    def __init__(self, client):
        super().__init__(client)
        self._roles = None

    # ---- service principals -----------------------------------------------------------
    def list_principals(self):
        return [_principal(p) for p in self.client.paginate(SP_PATH, "list service principals")]

    def get_principal(self, principal_id):
        body = self.client.call("GET", "%s/%s" % (SP_PATH, _q(principal_id)),
                                "read service principal %s" % principal_id, ok=(200, 404))
        return _principal(body["servicePrincipal"]) if body and body.get("servicePrincipal") else None

    def create_principal(self, desired):
        body = self.client.call("POST", SP_PATH, "create service principal %r" % desired["name"],
                                json={"displayName": desired["name"]})
        return _principal(body["servicePrincipal"])

    def update_principal(self, current, desired):
        body = self.client.call(
            "PATCH", "%s/%s" % (SP_PATH, _q(current["id"])),
            "rename service principal %s to %r" % (current["id"], desired["name"]),
            json={"servicePrincipal": {"displayName": desired["name"]}, "updateMask": "displayName"},
            idempotent=True)
        return _principal(body["servicePrincipal"])

    def delete_principal(self, principal):
        self.client.call("DELETE", "%s/%s" % (SP_PATH, _q(principal["id"])),
                         "delete service principal %s" % principal["id"], json={}, ok=(200, 404))

    # ---- credentials ----------------------------------------------------------------
    def _credentials_path(self, owner):
        return PERSONAL_PATH if owner is None else "%s/%s/credentials" % (SP_PATH, _q(owner))

    def list_credentials(self, owner):
        what = "list personal API keys" if owner is None else "list credentials of service principal %s" % owner
        return [_credential(c, owner is None) for c in self.client.paginate(self._credentials_path(owner), what)]

    def create_credential(self, owner, desired):
        """Create; return (credential, secret). ``desired`` is already validated."""
        personal = owner is None
        body = {"displayName": desired["name"]}
        if desired.get("expires_days"):
            body["expires"] = "%ds" % (desired["expires_days"] * DAY)
        if desired.get("allowed_cidrs"):
            body["allowSourceCidr" if personal else "allowSourceCidrs"] = desired["allowed_cidrs"]
        if desired.get("scoped_role_ids"):
            body["scopedRoles"] = desired["scoped_role_ids"]
        if desired.get("require_dpop") and not personal:
            body["requireDpop"] = True
        answer = self.client.call("POST", self._credentials_path(owner),
                                  "create credential %r" % desired["name"], json=body)
        raw = answer.get("client" if personal else "credential") or {}
        return _credential(raw, personal), answer.get("clientSecret")

    def revoke_credential(self, owner, credential):
        path = "%s/%s" % (self._credentials_path(owner), _q(credential["id"]))
        self.client.call("DELETE", path, "revoke credential %s" % credential["id"], json={}, ok=(200, 404))

    # ---- roles and identity -----------------------------------------------------------
    def roles(self):
        if self._roles is None:
            self._roles = list(self.client.paginate(ROLES_PATH, "list roles"))
        return self._roles

    def resolve_role_ids(self, names_or_ids):
        """Role IDs for role IDs or display names; an unknown role is bad input."""
        by_id = {r.get("id"): r for r in self.roles()}
        by_name = {}
        for role in self.roles():
            for label in (role.get("displayName"), role.get("name")):
                if label:
                    by_name.setdefault(label, []).append(role.get("id"))
        ids = []
        for wanted in names_or_ids:
            if wanted in by_id:
                ids.append(wanted)
            elif len(by_name.get(wanted, ())) == 1:
                ids.append(by_name[wanted][0])
            elif wanted in by_name:
                raise ConfigError("scoped_roles: role name %r matches several roles (%s); give the role ID"
                                  % (wanted, ", ".join(sorted(by_name[wanted]))))
            else:
                raise ConfigError("scoped_roles: no role has the ID or name %r; list roles with "
                                  "GET /api/v1/iam/roles" % wanted)
        return sorted(set(ids))

    def whoami(self):
        return self.client.call("GET", INTROSPECT_PATH, "introspect the access token")
