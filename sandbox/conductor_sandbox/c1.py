"""ConductorOne: the service's state (principals, credentials, roles, DPoP, API authentication) and the
wiring of its three parts: the token endpoint (c1_token.py), the API (c1_api.py), workload federation
(c1_federation.py). Each route goes through one decorator (c1_api.Routes)."""

import ipaddress
import secrets

from flask import jsonify, request

from . import c1_api, c1_federation, c1_token
from .c1_api import ApiError
from .keys import Refused, access_token_hash, new_c1_secret, thumbprint, unverified_header, verify_jws
from .store import new_id, rfc3339

PROOF_WINDOW = 300
CUTE = ("clever-fox", "quiet-owl", "brave-otter", "calm-lynx", "swift-hare", "wise-crane")

ROLES = [
    {"id": "2GaLs9rSuperAdmin0000000001", "name": "super_admin", "displayName": "Super Admin", "readOnly": False},
    {"id": "2GaLs9rReadOnlyAdmin0000002", "name": "read_only_admin", "displayName": "Read-Only Admin",
     "readOnly": True},
    {"id": "2GaLs9rAccessReviewer000003", "name": "access_reviewer", "displayName": "Access Reviewer",
     "readOnly": True},
    {"id": "2GaLs9rConnectorAdmin000004", "name": "connector_admin", "displayName": "Connector Admin",
     "readOnly": False},
    # A tenant's own role: the only kind POST /api/v1/iam/roles/{role_id} may change (builtins are not editable).
    {"id": "2GaLs9rSandboxCustom0000005", "name": "sandbox_custom", "displayName": "Sandbox Custom Role",
     "readOnly": False, "systemBuiltin": False},
]


def source_ip(store):
    return store.settings.get("client_ip_override") or request.remote_addr


# ---- the service ----------------------------------------------------------------------------

class CredentialIndex(object):
    """Each owner's credential IDs (in creation order) and each client ID's credential, beside the
    credentials themselves: a listing or a token request reads its own, not the whole tenant (a real
    service has a database index; scanning every credential made a 10,000-principal rerun quadratic).
    Built from the credentials it is given, kept up to date by ``add`` and ``remove``."""

    def __init__(self, credentials):
        self.credentials = credentials
        self.by_owner = {}
        self.by_client_id = {}
        for cred in credentials.values():
            self._enter(cred)

    @staticmethod
    def owner(cred):
        return ("user", cred["userId"]) if cred["personal"] else ("principal", cred["servicePrincipalId"])

    def _enter(self, cred):
        self.by_owner.setdefault(self.owner(cred), []).append(cred["id"])
        self.by_client_id[cred["clientId"]] = cred["id"]

    def add(self, cred):
        self.credentials[cred["id"]] = cred
        self._enter(cred)

    def remove(self, cred_id):
        cred = self.credentials.pop(cred_id)
        self.by_owner[self.owner(cred)].remove(cred_id)
        self.by_client_id.pop(cred["clientId"], None)

    def of(self, owner):
        return [self.credentials[cred_id] for cred_id in self.by_owner.get(owner, ())]

    def by_client(self, client_id):
        """The credential that holds ``client_id``, or None."""
        cred_id = self.by_client_id.get(client_id)
        return None if cred_id is None else self.credentials[cred_id]


class C1(object):
    def __init__(self, store):
        self.store = store
        self.nonces = {}
        self.federation = None  # c1_federation.Federation, set when the routes are registered
        self._index = None

    @property
    def data(self):
        return self.store.data["c1"]

    @property
    def index(self):
        """The CredentialIndex of the current credentials (a reset or a loaded state brings new ones)."""
        if self._index is None or self._index.credentials is not self.data["credentials"]:
            self._index = CredentialIndex(self.data["credentials"])
        return self._index

    def credentials_of(self, sp_id):
        return self.index.of(("principal", sp_id))

    def personal_credentials_of(self, user_id):
        return self.index.of(("user", user_id))

    def remove_credential(self, cred_id):
        self.index.remove(cred_id)

    def seed(self):
        now = rfc3339(self.store.now())
        for role in ROLES:
            self.data["roles"][role["id"]] = dict(role, createdAt=now)

    def add_principal(self, name):
        # A new principal holds the tenant's default roles (its user.roleIds; the setting
        # c1_default_principal_role_ids). No public API sets them: the console does, tests use /_sandbox/.
        now = rfc3339(self.store.now())
        sp = {"id": new_id(), "displayName": name, "createdAt": now, "updatedAt": now,
              "roleIds": list(self.store.settings["c1_default_principal_role_ids"])}
        self.data["principals"][sp["id"]] = sp
        return sp

    def add_credential(self, owner, body, personal=False, host=None):
        """Create a credential; return (stored credential, secret)."""
        now = self.store.now()
        expires = body.get("expires")
        seconds = float(expires[:-1]) if expires else None
        if seconds is not None and seconds <= 0:
            raise ApiError(400, 3, "expires must be positive")
        cidrs = body.get("allowSourceCidr" if personal else "allowSourceCidrs") or []
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ApiError(400, 3, "invalid CIDR %r" % cidr)
        roles = body.get("scopedRoles") or []
        unknown = [r for r in roles if r not in self.data["roles"]]
        if unknown:
            raise ApiError(400, 3, "unknown role id %s" % unknown[0])
        secret, public = new_c1_secret()
        suffix = "pcc" if personal else "spc"
        while True:  # a real tenant never hands out one client ID twice (600,000 names: they meet at ~1,000)
            client_id = "%s-%05d@%s/%s" % (secrets.choice(CUTE), secrets.randbelow(100000), host, suffix)
            if self.index.by_client(client_id) is None:
                break
        cred = {"id": new_id(), "displayName": body.get("displayName") or "", "clientId": client_id,
                "servicePrincipalId": None if personal else owner, "userId": owner if personal else None,
                "personal": personal, "createdAt": rfc3339(now), "updatedAt": rfc3339(now),
                "expiresAt": rfc3339(now + seconds) if seconds else None, "expiresEpoch": now + seconds
                if seconds else None, "allowSourceCidrs": list(cidrs), "scopedRoleIds": list(roles),
                "requireDpop": bool(body.get("requireDpop")) and not personal, "lastUsedAt": None,
                "publicJwk": public}
        self.index.add(cred)
        self.store.remember(secret)
        return cred, secret

    def set_principal_roles(self, sp_id, role_ids):
        """The console's step (no public API): the roles a principal holds."""
        unknown = [r for r in role_ids if r not in self.data["roles"]]
        if unknown:
            raise ApiError(400, 3, "unknown role id %s" % unknown[0])
        sp = self.principal_or_404(sp_id)
        sp["roleIds"] = list(role_ids)
        sp["updatedAt"] = rfc3339(self.store.now())
        return sp

    def default_role_id(self):
        return ROLES[0]["id"]

    def principal_or_404(self, sp_id):
        sp = self.data["principals"].get(sp_id)
        if sp is None:
            raise ApiError(404, 5, "service principal %s not found" % sp_id)
        return sp

    def credential_by_client_id(self, client_id):
        return self.index.by_client(client_id)

    def read_only(self, cred):
        roles = cred.get("scopedRoleIds") or []
        return bool(roles) and all(self.data["roles"].get(r, {}).get("readOnly") for r in roles)

    # ---- DPoP ------------------------------------------------------------------------------
    def new_nonce(self):
        nonce = secrets.token_urlsafe(16)
        self.nonces[nonce] = self.store.now() + PROOF_WINDOW
        return nonce

    def check_proof(self, proof, method, url, access_token=None, expected_jkt=None, want_nonce=False):
        """Verify a DPoP proof; return its key thumbprint or raise Refused."""
        if not proof:
            raise Refused("invalid_dpop_proof", "a DPoP proof is required for this client")
        header = unverified_header(proof)
        jwk = header.get("jwk")
        if header.get("typ") != "dpop+jwt" or not isinstance(jwk, dict) or "d" in jwk:
            raise Refused("invalid_dpop_proof", "the DPoP proof header needs typ dpop+jwt and a public jwk")
        try:
            _, claims = verify_jws(proof, jwk)
        except Refused:
            raise Refused("invalid_dpop_proof", "the DPoP proof signature does not verify")
        now = self.store.now()
        if claims.get("htm") != method or claims.get("htu") != url:
            raise Refused("invalid_dpop_proof", "the DPoP proof is for another request (htm/htu)")
        if not isinstance(claims.get("iat"), (int, float)) or abs(now - claims["iat"]) > PROOF_WINDOW:
            raise Refused("invalid_dpop_proof", "the DPoP proof iat is outside the accepted window")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise Refused("invalid_dpop_proof", "the DPoP proof ath does not match the access token")
        jkt = thumbprint(jwk)
        if expected_jkt is not None and jkt != expected_jkt:
            raise Refused("invalid_dpop_proof", "the DPoP proof key is not the key the token is bound to")
        if want_nonce:
            nonce = claims.get("nonce")
            if not nonce or self.nonces.get(nonce, 0) < now:
                exc = Refused("use_dpop_nonce", "the authorization server requires a DPoP nonce")
                exc.nonce = self.new_nonce()
                raise exc
        if not claims.get("jti") or not self.store.use_jti("dpop:" + str(claims["jti"]), now + PROOF_WINDOW):
            raise Refused("invalid_dpop_proof", "the DPoP proof was already used (jti replay)")
        return jkt

    def source_ip(self):
        return source_ip(self.store)

    # ---- API authentication ------------------------------------------------------------------
    def caller(self, write):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        record = self.store.data["c1_tokens"].get(token)
        if record is None or record["exp"] <= self.store.now():
            raise ApiError(401, 16, "unauthenticated: missing, unknown or expired access token")
        cred_id = record["credential_id"]
        trust = cred_id.startswith("trust:") and cred_id[len("trust:"):] in self.data["trusts"]
        if cred_id not in self.data["credentials"] and not trust:
            raise ApiError(401, 16, "unauthenticated: the credential behind this token was revoked")
        if record["jkt"]:
            if scheme != "DPoP":
                raise ApiError(401, 16, "unauthenticated: a DPoP-bound token must be sent with the DPoP scheme")
            try:
                self.check_proof(request.headers.get("DPoP"), request.method, request.base_url, token, record["jkt"])
            except Refused as exc:
                raise ApiError(401, 16, "unauthenticated: %s" % exc.description)
        elif scheme != "Bearer":
            raise ApiError(401, 16, "unauthenticated: use the Bearer scheme")
        scopes = record["scopes"]
        if write and scopes and all(self.data["roles"].get(r, {}).get("readOnly") for r in scopes):
            raise ApiError(403, 7, "permission denied: the credential is scoped to read-only roles")
        return record


def register(app, store):
    service = C1(store)
    app.config["c1"] = service
    service.seed()

    @app.errorhandler(ApiError)
    def api_error(exc):
        return jsonify({"code": exc.code, "message": exc.message}), exc.status

    read_only_routes = app.config.setdefault("read_only_routes", set())
    c1_token.register(app, service)
    c1_api.register(app, service, read_only_routes)
    c1_federation.register(app, service, read_only_routes)
    return service


def bootstrap(store, service, host):
    """The admin service principal and its credential (no expiry) a user starts from."""
    with store.lock:
        sp = service.add_principal("sandbox-admin")
        cred, secret = service.add_credential(sp["id"], {"displayName": "sandbox-admin"}, host=host)
        return {"client_id": cred["clientId"], "client_secret": secret, "service_principal_id": sp["id"]}

