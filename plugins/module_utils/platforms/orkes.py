# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orkes Conductor adapter: applications are principals, access keys are credentials.

Paths are relative to the ``/api`` base URL. Shapes are the neutral ones of base.py;
access keys have no name, expiry or network limits, only a status.
"""

from __future__ import annotations

from urllib.parse import quote

from .. import permissions
from ..credential_plan import Capabilities
from ..errors import ConfigError
from ..timestamps import from_epoch_millis as _time  # Orkes times are epoch milliseconds
from .base import PlatformAdapter

APPS = "/applications"
# Roles are not a fixed list: the server lists its system and custom roles here.
ROLES_PATH = "/roles"
USER_INFO = "/token/userInfo"
# Grants on named resources: conductor-python's TargetType, then the types the Orkes grant-access docs add.
PERMISSION_TARGET_TYPES = ("WORKFLOW_DEF", "TASK_DEF", "APPLICATION", "USER", "SECRET", "SECRET_NAME", "TAG", "DOMAIN",
                           "INTEGRATION_PROVIDER", "PROMPT", "WORKFLOW_SCHEDULE", "EVENT_HANDLER", "WEBHOOK",
                           "ENV_VARIABLE", "SCHEMA")
PERMISSION_ACCESS = ("CREATE", "READ", "UPDATE", "EXECUTE", "DELETE")
AUTHORIZATION = "/auth/authorization"


def _q(value):
    return quote(str(value), safe="")


def _principal(raw):
    return {"id": raw.get("id"), "name": raw.get("name"), "created_at": _time(raw.get("createTime")),
            "updated_at": _time(raw.get("updateTime")), "created_by": raw.get("createdBy"),
            "updated_by": raw.get("updatedBy")}


def _key(raw, owner):
    return {"id": raw.get("id"), "name": None, "client_id": raw.get("id"), "service_principal_id": owner,
            "created_at": _time(raw.get("createdAt")), "expires_at": None, "allowed_cidrs": [],
            "scoped_role_ids": [], "require_dpop": False, "last_used_at": None, "status": raw.get("status")}


CAPABILITIES = Capabilities(
    platform="orkes",
    display_name="Orkes",
    product_name="Orkes Conductor",
    environment=(("server_url", "CONDUCTOR_SERVER_URL"), ("client_id", "CONDUCTOR_AUTH_KEY"),
                 ("client_secret", "CONDUCTOR_AUTH_SECRET"), ("ca_path", "CONDUCTOR_CA_PATH")),
    auth_methods=("token", "secret"),
    secret_exchange="access_key_token",  # POST /api/token with the key ID and secret
    token_header="X-Authorization",
    server_url_suffix="/api",
    server_url_example="https://cluster.example.com/api",
    credentials_hint="client_id and client_secret (an access key ID and secret), "
                     "or CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET",
    principal_noun="application",
    credential_noun="access key",
    credential_settings=frozenset(("enabled",)),
    principal_settings=frozenset(("roles", "tags", "permissions")),
    permission_target_types=PERMISSION_TARGET_TYPES,
    permission_access=PERMISSION_ACCESS,
    credentials_can_pause=True,
    records_credential_use=False,  # access keys carry no last use
    has_personal_credentials=False,
)


class OrkesAdapter(PlatformAdapter):
    capabilities = CAPABILITIES

    # ---- applications -----------------------------------------------------------------
    @classmethod
    def check_principal(cls, desired):
        # Roles are checked against the server's own list (check_roles); only the grants can be checked here.
        if desired.get("permissions") is not None:
            permissions.check(desired["permissions"], PERMISSION_TARGET_TYPES, PERMISSION_ACCESS)

    def check_roles(self, names, label=None):
        """Every role in ``names`` is one the server lists, system or custom (one GET /api/roles per task)."""
        if not names:
            return
        known = self.read_once("roles", lambda: sorted({
            r.get("name") for r in self.client.call("GET", ROLES_PATH, "list the roles of the Orkes server") or []
            if isinstance(r, dict) and r.get("name")}))
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ConfigError("%sroles: %s %s on this Orkes server; use one of %s"
                              % (label + ": " if label else "", ", ".join(unknown),
                                 "is not a role" if len(unknown) == 1 else "are not roles",
                                 ", ".join(known)))

    def list_principals(self):
        return [_principal(a) for a in self.client.call("GET", APPS, "list applications") or []]

    def get_principal(self, principal_id):
        raw = self.client.call("GET", "%s/%s" % (APPS, _q(principal_id)), "read application %s" % principal_id,
                               ok=(200, 404))
        return _principal(raw) if raw else None

    def hydrate(self, principal):
        """Add roles, tags and permissions, which Orkes keeps outside the application record."""
        app_id = principal["id"]
        # The application acts through the user app:<id>; its roles are read there (best known path).
        user = self.client.call("GET", "/users/%s" % _q("app:" + app_id), "read roles of application %s" % app_id,
                                ok=(200, 404)) or {}
        roles = sorted(r.get("name") if isinstance(r, dict) else r for r in user.get("roles") or [])
        tags = self.client.call("GET", "%s/%s/tags" % (APPS, _q(app_id)), "read tags of application %s" % app_id)
        return dict(principal, roles=roles, tags={t["key"]: t.get("value") for t in tags or []},
                    permissions=permissions.as_entries(permissions.grant_set(self.list_permissions(principal))))

    # ---- permissions: the application's user app:<id> holds them (best known path) ----------
    def _user(self, principal):
        return {"type": "USER", "id": "app:" + principal["id"]}

    def list_permissions(self, principal):
        user = self._user(principal)["id"]
        granted = self.client.call("GET", "/users/%s/permissions" % _q(user),
                                   "read permissions of application %s" % principal["id"], ok=(200, 404)) or {}
        return [{"type": (g.get("target") or {}).get("type"), "id": (g.get("target") or {}).get("id"),
                 "access": list(g.get("access") or [])} for g in granted.get("grantedAccess") or []]

    def change_permissions(self, principal, changes):
        """One POST per target with every access value to add, one DELETE per target with those to remove."""
        for method, entries, verb in (("POST", changes.add, "grant"), ("DELETE", changes.remove, "remove")):
            for entry in entries:
                self.client.call(method, AUTHORIZATION, "%s %s on %s %s %s application %s"
                                 % (verb, ", ".join(entry["access"]), entry["type"], entry["id"],
                                    "to" if method == "POST" else "from", principal["id"]),
                                 json={"subject": self._user(principal),
                                       "target": {"type": entry["type"], "id": entry["id"]},
                                       "access": list(entry["access"])},
                                 idempotent=True)

    def create_principal(self, desired):
        raw = self.client.call("POST", APPS, "create application %r" % desired["name"], json={"name": desired["name"]})
        return self.hydrate(_principal(raw))

    def update_principal(self, current, desired):
        app_id = current["id"]
        path = "%s/%s" % (APPS, _q(app_id))
        if desired.get("name") is not None and desired["name"] != current.get("name"):
            self.client.call("PUT", path, "rename application %s" % app_id, json={"name": desired["name"]})
        if desired.get("roles") is not None:
            have, want = set(current.get("roles") or []), set(desired["roles"])
            for role in sorted(want - have):
                self.client.call("POST", "%s/roles/%s" % (path, _q(role)), "grant role %s to application %s"
                                 % (role, app_id), idempotent=True)
            for role in sorted(have - want):
                self.client.call("DELETE", "%s/roles/%s" % (path, _q(role)), "remove role %s from application %s"
                                 % (role, app_id))
        if desired.get("tags") is not None:
            have, want = current.get("tags") or {}, {k: str(v) for k, v in desired["tags"].items()}
            stale = [{"key": k, "value": v} for k, v in sorted(have.items()) if want.get(k) != v]
            if stale:
                self.client.call("DELETE", path + "/tags", "remove tags of application %s" % app_id, json=stale)
            missing = [{"key": k, "value": v} for k, v in sorted(want.items()) if have.get(k) != v]
            if missing:
                self.client.call("PUT", path + "/tags", "tag application %s" % app_id, json=missing)
        return self.hydrate(self.get_principal(app_id))

    def delete_principal(self, principal):
        self.client.call("DELETE", "%s/%s" % (APPS, _q(principal["id"])), "delete application %s" % principal["id"],
                         ok=(200, 204, 404))

    # ---- access keys ------------------------------------------------------------------
    def _keys_path(self, owner):
        return "%s/%s/accessKeys" % (APPS, _q(owner))

    def list_credentials(self, owner):
        keys = self.client.call("GET", self._keys_path(owner), "list access keys of application %s" % owner)
        return [_key(k, owner) for k in keys or []]

    def create_credential(self, owner, desired):
        raw = self.client.call("POST", self._keys_path(owner), "create an access key for application %s" % owner)
        return _key(dict(raw, status="ACTIVE"), owner), raw.get("secret")

    def revoke_credential(self, owner, credential):
        self.client.call("DELETE", "%s/%s" % (self._keys_path(owner), _q(credential["id"])),
                         "delete access key %s" % credential["id"], ok=(200, 204, 404))

    def set_credential_status(self, owner, credential, status):
        """The API only toggles: call it once, and only when the status differs."""
        if credential.get("status") == status:
            return credential
        raw = self.client.call("POST", "%s/%s/status" % (self._keys_path(owner), _q(credential["id"])),
                               "%s access key %s" % ("resume" if status == "ACTIVE" else "pause", credential["id"]))
        return _key(raw or dict(id=credential["id"], status=status), owner)

    def resolve_role_ids(self, names_or_ids):
        return sorted(set(names_or_ids))

    def whoami(self):
        """The caller's own user: GET /api/token/userInfo answers for any valid key, whatever its roles."""
        user = self.client.call("GET", USER_INFO, "validate the access token") or {}
        return {"key_id": self.client.settings.client_id, "user_id": user.get("id"), "name": user.get("name"),
                "roles": sorted(r.get("name") if isinstance(r, dict) else r for r in user.get("roles") or [])}
