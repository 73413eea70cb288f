# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConductorOne adapter: maps the neutral calls of base.py onto the C1 REST API.

Personal API keys (``owner`` None) share the credential calls.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ..credential_plan import Capabilities, check_held_roles
from ..errors import ConfigError
from . import c1_federation as fed_wire
from .base import PlatformAdapter

SP_PATH = "/api/v1/service_principals"
PERSONAL_PATH = "/api/v1/iam/personal_clients"
ROLES_PATH = "/api/v1/iam/roles"
INTROSPECT_PATH = "/api/v1/auth/introspect"
PROVIDERS_PATH = "/api/v1/workload_federation/providers"
TEST_CEL_PATH = "/api/v1/workload_federation/test-cel"
SEARCH_TRUSTS_PATH = "/api/v1/search/workload_federation_trusts"

DAY = 86400


def _q(value):
    return quote(str(value), safe="")


def _principal(raw):
    user = raw.get("user")
    return {
        "id": raw.get("id"),
        "name": raw.get("displayName"),
        "created_at": raw.get("createdAt"),
        "updated_at": raw.get("updatedAt"),
        # The roles it holds (user.roleIds; None: the API did not say). Set in the console: no public API does.
        "role_ids": None if not isinstance(user, dict) else sorted(user.get("roleIds") or []),
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


CAPABILITIES = Capabilities(
    platform="conductorone",
    display_name="ConductorOne",
    environment=(("server_url", "CONDUCTORONE_SERVER_URL"), ("client_id", "CONDUCTORONE_CLIENT_ID"),
                 ("client_secret", "CONDUCTORONE_CLIENT_SECRET"), ("access_token", "CONDUCTORONE_ACCESS_TOKEN"),
                 ("oidc_token", "CONDUCTORONE_OIDC_TOKEN"), ("ca_path", "CONDUCTORONE_CA_PATH")),
    auth_methods=("token", "oidc", "secret"),
    secret_exchange="oauth_token_endpoint",  # POST /auth/v1/token
    token_header="Authorization",
    server_url_example="https://yourcompany.conductor.one",
    client_id_names_server=True,
    credentials_hint="client_id and client_secret, access_token, or oidc_token with client_id "
                     "(or the CONDUCTORONE_* environment variables)",
    credential_settings=frozenset(("name", "expires_days", "allowed_cidrs", "scoped_roles", "require_dpop")),
    principal_settings=frozenset(),
    credentials_have_names=True,
    credentials_expire=True,
    records_credential_use=True,  # lastUsedAt on every credential
    has_personal_credentials=True,
    has_workload_federation=True,
)


class C1Adapter(PlatformAdapter):
    capabilities = CAPABILITIES

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
        return self.read_once("roles", lambda: list(self.client.paginate(ROLES_PATH, "list roles")))

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

    def check_held_roles(self, role_ids, principal, what="credential"):
        held = (principal or {}).get("role_ids")
        if held is None and (principal or {}).get("id"):  # the answer at hand did not carry them: read them back,
            # once per principal however many of its credentials the task plans
            held = (self.read_once(("role_ids", principal["id"]), lambda: self.get_principal(principal["id"]))
                    or {}).get("role_ids")
        if held is not None:
            names = {r.get("id"): r.get("displayName") or r.get("name") for r in self.roles()}
            check_held_roles(role_ids, held, names, principal.get("name") or principal["id"], what,
                             self.capabilities.display_name)

    def rename_credential(self, owner, credential, name):
        body = self.client.call(
            "PATCH", "%s/%s" % (self._credentials_path(owner), _q(credential["id"])),
            "rename credential %s to %r" % (credential["id"], name),
            json={"credential": {"displayName": name}, "updateMask": "displayName"}, idempotent=True)
        return _credential(body.get("credential") or {})

    def whoami(self):
        return self.client.call("GET", INTROSPECT_PATH, "introspect the access token")

    # ---- workload federation: providers, trusts, TestToken, test-cel ---------------------------
    def list_providers(self):
        return [fed_wire.provider(p) for p in self.client.paginate(PROVIDERS_PATH, "list federation providers")]

    def create_provider(self, desired):
        body = self.client.call("POST", PROVIDERS_PATH, "create federation provider %s" % desired["issuer_url"],
                                json=fed_wire.provider_create_body(desired))
        return fed_wire.provider(body.get("provider") or {})

    def update_provider(self, current, changes):
        body = self.client.call("PATCH", "%s/%s" % (PROVIDERS_PATH, _q(current["id"])),
                                "update federation provider %s" % current["id"],
                                json=fed_wire.provider_update_body(current, changes), idempotent=True)
        return fed_wire.provider(body.get("provider") or {})

    def delete_provider(self, provider):
        self.client.call("DELETE", "%s/%s" % (PROVIDERS_PATH, _q(provider["id"])),
                         "delete federation provider %s" % provider["id"], json={}, ok=(200, 404))

    def _trusts_path(self, principal_id, trust=None):
        path = "%s/%s/trusts" % (SP_PATH, _q(principal_id))
        return path if trust is None else "%s/%s" % (path, _q(fed_wire.cutename(trust["client_id"])))

    def list_trusts(self, principal_id):
        return [fed_wire.trust(t) for t in self.client.paginate(
            self._trusts_path(principal_id), "list trusts of service principal %s" % principal_id)]

    def search_trusts(self, provider_id=None, principal_id=None):
        """Trusts across principals (SearchTrusts, every page), optionally of one provider or principal."""
        return [fed_wire.trust(t) for t in self.client.paginate(
            SEARCH_TRUSTS_PATH, "search trusts", search=fed_wire.trust_search(provider_id, principal_id))]

    def create_trust(self, principal_id, desired):
        body = self.client.call("POST", self._trusts_path(principal_id), "create trust %r" % desired["name"],
                                json=fed_wire.trust_create_body(desired))
        return fed_wire.trust(body.get("trust") or {})

    def update_trust(self, current, changes):
        # UpdateTrust takes the full client ID (the one the token exchange uses) in its path.
        path = "%s/%s/trusts/%s" % (SP_PATH, _q(current["service_principal_id"]), _q(current["client_id"]))
        body = self.client.call("PATCH", path, "update trust %s" % current["client_id"],
                                json=fed_wire.trust_update_body(current, changes), idempotent=True)
        return fed_wire.trust(body.get("trust") or {})

    def delete_trust(self, trust):
        self.client.call("DELETE", self._trusts_path(trust["service_principal_id"], trust),
                         "delete trust %s" % trust["client_id"], json={}, ok=(200, 404))

    def test_token(self, trust, token, source_ip=None):
        request = {"subjectToken": token}
        if source_ip:  # else the server tests the address the request comes from
            request["sourceIp"] = source_ip
        body = self.client.call("POST", self._trusts_path(trust["service_principal_id"], trust) + "/test",
                                "test a token against trust %s" % trust["client_id"], json=request, idempotent=True)
        return fed_wire.token_test(body or {})

    def test_cel(self, expression, claims):
        body = self.client.call("POST", TEST_CEL_PATH, "evaluate the condition with test-cel",
                                json={"expression": expression, "claimsJson": json.dumps(claims, sort_keys=True)},
                                idempotent=True)
        return {"matched": bool((body or {}).get("matched")), "error": (body or {}).get("error") or None}
