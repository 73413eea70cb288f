"""ConductorOne: /auth/v1/token (assertion, client_secret, token exchange, DPoP) and the API subset."""

import ipaddress
import secrets
from urllib.parse import urlsplit

from flask import jsonify, request

from . import c1_federation, validation
from .c1_api import ApiError, body_json, page
from .keys import ASSERTION_REGISTRY, Refused, access_token_hash, new_c1_secret, public_jwk_of_secret, thumbprint, \
    unverified_header, verify_jws
from .store import new_id, rfc3339

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
LEEWAY = 30
MAX_ASSERTION_LIFETIME = 300
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
ROLE_EDITABLE = ("displayName", "permissions", "serviceRoles")


# ---- errors and helpers ------------------------------------------------------------------

def oauth_error(exc):
    response = jsonify({"error": exc.error, "error_description": exc.description})
    response.status_code = exc.status
    if exc.error == "use_dpop_nonce":
        response.headers["DPoP-Nonce"] = exc.nonce
    return response


def host_name():
    """The host the client addressed, without port (the assertion's audience)."""
    return urlsplit("//" + request.host).hostname


def source_ip(store):
    return store.settings.get("client_ip_override") or request.remote_addr


def ip_allowed(cidrs, address):
    if not cidrs:
        return True
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


# ---- views of stored objects ---------------------------------------------------------------

def sp_view(sp):
    return {k: sp[k] for k in ("id", "displayName", "createdAt", "updatedAt")}


def credential_view(cred):
    return {"id": cred["id"], "displayName": cred["displayName"], "clientId": cred["clientId"],
            "servicePrincipalId": cred["servicePrincipalId"], "createdAt": cred["createdAt"],
            "expiresAt": cred["expiresAt"], "allowSourceCidrs": list(cred["allowSourceCidrs"]),
            "scopedRoleIds": list(cred["scopedRoleIds"]), "requireDpop": cred["requireDpop"],
            "lastUsedAt": cred["lastUsedAt"]}


def personal_view(cred):
    return {"id": cred["id"], "displayName": cred["displayName"], "clientId": cred["clientId"],
            "userId": cred["userId"], "createdAt": cred["createdAt"], "updatedAt": cred["updatedAt"],
            "expiresTime": cred["expiresAt"], "allowSourceCidr": list(cred["allowSourceCidrs"]),
            "scopedRoles": list(cred["scopedRoleIds"]), "lastUsedAt": cred["lastUsedAt"], "deletedAt": None}


def role_view(role):
    return {"id": role["id"], "name": role["name"], "displayName": role["displayName"],
            "permissions": list(role.get("permissions") or []), "serviceRoles": list(role.get("serviceRoles") or []),
            "systemBuiltin": role.get("systemBuiltin", True), "systemApiOnly": False, "createdAt": role["createdAt"],
            "updatedAt": role.get("updatedAt") or role["createdAt"], "deletedAt": None}


# ---- the service ----------------------------------------------------------------------------

class C1(object):
    def __init__(self, store):
        self.store = store
        self.nonces = {}
        self.federation = None  # c1_federation.Federation, set when the routes are registered

    @property
    def data(self):
        return self.store.data["c1"]

    def seed(self):
        now = rfc3339(self.store.now())
        for role in ROLES:
            self.data["roles"][role["id"]] = dict(role, createdAt=now)

    def add_principal(self, name):
        now = rfc3339(self.store.now())
        sp = {"id": new_id(), "displayName": name, "createdAt": now, "updatedAt": now}
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
        client_id = "%s-%05d@%s/%s" % (secrets.choice(CUTE), secrets.randbelow(100000), host, suffix)
        cred = {"id": new_id(), "displayName": body.get("displayName") or "", "clientId": client_id,
                "servicePrincipalId": None if personal else owner, "userId": owner if personal else None,
                "personal": personal, "createdAt": rfc3339(now), "updatedAt": rfc3339(now),
                "expiresAt": rfc3339(now + seconds) if seconds else None, "expiresEpoch": now + seconds
                if seconds else None, "allowSourceCidrs": list(cidrs), "scopedRoleIds": list(roles),
                "requireDpop": bool(body.get("requireDpop")) and not personal, "lastUsedAt": None,
                "publicJwk": public}
        self.data["credentials"][cred["id"]] = cred
        self.store.remember(secret)
        return cred, secret

    def credential_by_client_id(self, client_id):
        for cred in self.data["credentials"].values():
            if cred["clientId"] == client_id:
                return cred
        return None

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

    # ---- token endpoint --------------------------------------------------------------------
    def token(self):
        form = request.form
        grant = form.get("grant_type")
        with self.store.lock:
            if grant == "client_credentials":
                cred = self.authenticate_client(form)
                principal_id = cred["servicePrincipalId"] or cred["userId"]
                scopes = cred["scopedRoleIds"]
            elif grant == TOKEN_EXCHANGE:
                cred, principal_id, scopes = self.exchange(form)
            else:
                raise Refused("unsupported_grant_type", "grant_type %r is not supported" % grant)
            jkt = None
            proof = request.headers.get("DPoP")
            if cred.get("requireDpop") or proof:
                jkt = self.check_proof(proof, "POST", request.base_url,
                                       want_nonce=self.store.settings["dpop_nonce_required"])
            token = "c1at_" + secrets.token_urlsafe(32)
            ttl = int(self.store.settings["token_ttl"])
            self.store.data["c1_tokens"][token] = {
                "credential_id": cred["id"], "principal_id": principal_id, "scopes": list(scopes),
                "exp": self.store.now() + ttl, "jkt": jkt, "c1wfc": cred.get("c1wfc")}
            cred["lastUsedAt"] = rfc3339(self.store.now())
            self.store.remember(token)
            self.store.save()
        answer = {"access_token": token, "token_type": "DPoP" if jkt else "Bearer", "expires_in": ttl}
        if grant == TOKEN_EXCHANGE:
            answer["issued_token_type"] = ACCESS_TOKEN_TYPE
        return jsonify(answer)

    def live(self, cred):
        if cred is None:
            raise Refused("invalid_client", "unknown client", 401)
        if cred.get("expiresEpoch") and cred["expiresEpoch"] <= self.store.now():
            raise Refused("invalid_client", "the credential has expired", 401)
        if not ip_allowed(cred["allowSourceCidrs"], source_ip(self.store)):
            raise Refused("invalid_client", "the source IP is not allowed for this credential", 401)

    def authenticate_client(self, form):
        cred = self.credential_by_client_id(form.get("client_id"))
        self.live(cred)
        if form.get("client_assertion") is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise Refused("invalid_request", "client_assertion_type must be %s" % ASSERTION_TYPE)
            header, claims = verify_jws(form["client_assertion"], cred["publicJwk"],
                                        registry=ASSERTION_REGISTRY)
            self.check_assertion(header, claims, cred["clientId"])
        elif form.get("client_secret") is not None:
            if self.store.settings["refuse_plain_client_secret"]:
                raise Refused("invalid_client", "this server refuses plain client_secret (sandbox switch)", 401)
            if public_jwk_of_secret(form["client_secret"]) != cred["publicJwk"]:
                raise Refused("invalid_client", "wrong client secret", 401)
        else:
            raise Refused("invalid_request", "client_assertion or client_secret is required")
        return cred

    def check_assertion(self, header, claims, client_id):
        now = self.store.now()
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise Refused("invalid_client", "the assertion's iss and sub must be the client ID", 401)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if host_name() not in audiences:
            raise Refused("invalid_client", "the assertion's aud must be %s" % host_name(), 401)
        for name in ("iat", "nbf", "exp"):
            if not isinstance(claims.get(name), (int, float)):
                raise Refused("invalid_client", "the assertion needs a numeric %s" % name, 401)
        if claims["exp"] < now - LEEWAY or claims["nbf"] > now + LEEWAY or claims["iat"] > now + LEEWAY:
            raise Refused("invalid_client", "the assertion is outside its validity window", 401)
        if claims["exp"] - now > MAX_ASSERTION_LIFETIME:
            raise Refused("invalid_client", "the assertion lives too long", 401)
        nonce = claims.get("nonce") or header.get("nonce") or claims.get("jti")
        if not nonce:
            raise Refused("invalid_client", "the assertion needs a nonce", 401)
        if not self.store.use_jti("assertion:%s:%s" % (client_id, nonce), claims["exp"] + LEEWAY):
            raise Refused("invalid_client", "the assertion was already used", 401)

    def exchange(self, form):
        if form.get("subject_token_type") != JWT_TYPE:
            raise Refused("invalid_request", "subject_token_type must be %s" % JWT_TYPE)
        return self.federation.exchange(form, self.source_ip())

    def source_ip(self):
        return source_ip(self.store)

    # ---- API authentication ------------------------------------------------------------------
    def caller(self, write):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        record = self.store.data["c1_tokens"].get(token)
        if record is None or record["exp"] <= self.store.now():
            raise ApiError(401, 16, "unauthenticated: missing, unknown or expired access token")
        cred_id = record["credential_id"]
        if cred_id not in self.data["credentials"] and cred_id[len("trust:"):] not in self.data["trusts"]:
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
    c1_federation.register(app, service, app.config.setdefault("read_only_routes", set()))

    @app.errorhandler(ApiError)
    def api_error(exc):
        return jsonify({"code": exc.code, "message": exc.message}), exc.status

    @app.errorhandler(Refused)
    def refused(exc):
        return oauth_error(exc)

    def write_done():
        store.save()

    @app.post("/auth/v1/token")
    def token():
        return service.token()

    @app.get("/api/v1/auth/introspect")
    def introspect():
        with store.lock:
            record = service.caller(False)
            return jsonify({"principleId": record["principal_id"], "userId": record["principal_id"],
                            "tenantId": "sandbox", "roles": record["scopes"] or [ROLES[0]["id"]],
                            "permissions": [], "features": [], "deviceClientId": "", "disabledModules": []})

    # ---- service principals ----
    @app.get("/api/v1/service_principals")
    def list_principals():
        with store.lock:
            service.caller(False)
            return jsonify(page([sp_view(sp) for sp in service.data["principals"].values()], store))

    @app.post("/api/v1/service_principals")
    def create_principal():
        with store.lock:
            service.caller(True)
            body = body_json("POST", "/api/v1/service_principals")
            if not body.get("displayName"):
                raise ApiError(400, 3, "displayName is required")
            sp = service.add_principal(body["displayName"])
            write_done()
            return jsonify({"servicePrincipal": sp_view(sp)})

    def principal_or_404(sp_id):
        sp = service.data["principals"].get(sp_id)
        if sp is None:
            raise ApiError(404, 5, "service principal %s not found" % sp_id)
        return sp

    @app.get("/api/v1/service_principals/<id>")
    def get_principal(id):  # noqa: A002 - the spec's parameter name
        with store.lock:
            service.caller(False)
            return jsonify({"servicePrincipal": sp_view(principal_or_404(id))})

    @app.patch("/api/v1/service_principals/<id>")
    def update_principal(id):  # noqa: A002
        with store.lock:
            service.caller(True)
            body = body_json("PATCH", "/api/v1/service_principals/{id}")
            sp = principal_or_404(id)
            mask = [m.strip() for m in (body.get("updateMask") or "").split(",") if m.strip()]
            unknown = [m for m in mask if m != "displayName"]
            if unknown or not mask:
                raise ApiError(400, 3, "updateMask must name displayName (got %r)" % body.get("updateMask"))
            sp["displayName"] = (body.get("servicePrincipal") or {}).get("displayName") or sp["displayName"]
            sp["updatedAt"] = rfc3339(store.now())
            write_done()
            return jsonify({"servicePrincipal": sp_view(sp)})

    @app.delete("/api/v1/service_principals/<id>")
    def delete_principal(id):  # noqa: A002
        with store.lock:
            service.caller(True)
            body_json("DELETE", "/api/v1/service_principals/{id}")
            principal_or_404(id)
            del service.data["principals"][id]
            for cred_id in [c["id"] for c in service.data["credentials"].values() if c["servicePrincipalId"] == id]:
                del service.data["credentials"][cred_id]
            service.federation.remove_trusts_of(id)
            write_done()
            return jsonify({})

    # ---- credentials ----
    CRED_LIST = "/api/v1/service_principals/{service_principal_id}/credentials"
    CRED_ONE = CRED_LIST + "/{id}"

    def credentials_of(sp_id):
        return [c for c in service.data["credentials"].values() if c["servicePrincipalId"] == sp_id]

    def credential_or_404(sp_id, cred_id):
        cred = service.data["credentials"].get(cred_id)
        if cred is None or cred["servicePrincipalId"] != sp_id:
            raise ApiError(404, 5, "credential %s not found" % cred_id)
        return cred

    @app.get("/api/v1/service_principals/<service_principal_id>/credentials")
    def list_credentials(service_principal_id):
        with store.lock:
            service.caller(False)
            principal_or_404(service_principal_id)
            return jsonify(page([credential_view(c) for c in credentials_of(service_principal_id)], store))

    @app.post("/api/v1/service_principals/<service_principal_id>/credentials")
    def create_credential(service_principal_id):
        with store.lock:
            service.caller(True)
            body = body_json("POST", CRED_LIST)
            problems = validation.check_duration(body.get("expires"))
            if problems:
                raise ApiError(400, 3, problems[0])
            principal_or_404(service_principal_id)
            cred, secret = service.add_credential(service_principal_id, body, host=request.host)
            write_done()
            return jsonify({"credential": credential_view(cred), "clientSecret": secret})

    @app.get("/api/v1/service_principals/<service_principal_id>/credentials/<id>")
    def get_credential(service_principal_id, id):  # noqa: A002
        with store.lock:
            service.caller(False)
            return jsonify({"credential": credential_view(credential_or_404(service_principal_id, id))})

    @app.patch("/api/v1/service_principals/<service_principal_id>/credentials/<id>")
    def update_credential(service_principal_id, id):  # noqa: A002
        with store.lock:
            service.caller(True)
            body = body_json("PATCH", CRED_ONE)
            cred = credential_or_404(service_principal_id, id)
            mask = [m.strip() for m in (body.get("updateMask") or "").split(",") if m.strip()]
            if mask != ["displayName"]:
                raise ApiError(400, 3, "only displayName can be changed on a credential")
            cred["displayName"] = (body.get("credential") or {}).get("displayName") or cred["displayName"]
            write_done()
            return jsonify({"credential": credential_view(cred)})

    @app.delete("/api/v1/service_principals/<service_principal_id>/credentials/<id>")
    def revoke_credential(service_principal_id, id):  # noqa: A002
        with store.lock:
            service.caller(True)
            body_json("DELETE", CRED_ONE)
            credential_or_404(service_principal_id, id)
            del service.data["credentials"][id]
            write_done()
            return jsonify({})

    # ---- personal clients ----
    def personal_of(owner):
        return [c for c in service.data["credentials"].values() if c["personal"] and c["userId"] == owner]

    def personal_or_404(owner, cred_id):
        cred = service.data["credentials"].get(cred_id)
        if cred is None or not cred["personal"] or cred["userId"] != owner:
            raise ApiError(404, 5, "personal client %s not found" % cred_id)
        return cred

    @app.get("/api/v1/iam/personal_clients")
    def list_personal():
        with store.lock:
            owner = service.caller(False)["principal_id"]
            return jsonify(page([personal_view(c) for c in personal_of(owner)], store))

    @app.post("/api/v1/iam/personal_clients")
    def create_personal():
        with store.lock:
            owner = service.caller(True)["principal_id"]
            body = body_json("POST", "/api/v1/iam/personal_clients")
            problems = validation.check_duration(body.get("expires"))
            if problems:
                raise ApiError(400, 3, problems[0])
            cred, secret = service.add_credential(owner, body, personal=True, host=request.host)
            write_done()
            return jsonify({"client": personal_view(cred), "clientSecret": secret})

    @app.get("/api/v1/iam/personal_clients/<id>")
    def get_personal(id):  # noqa: A002
        with store.lock:
            owner = service.caller(False)["principal_id"]
            return jsonify({"client": personal_view(personal_or_404(owner, id))})

    @app.post("/api/v1/iam/personal_clients/<id>")
    def update_personal(id):  # noqa: A002
        with store.lock:
            owner = service.caller(True)["principal_id"]
            body = body_json("POST", "/api/v1/iam/personal_clients/{id}")
            cred = personal_or_404(owner, id)
            mask = [m.strip() for m in (body.get("updateMask") or "").split(",") if m.strip()]
            if mask != ["displayName"]:
                raise ApiError(400, 3, "only displayName can be changed on a personal client")
            cred["displayName"] = (body.get("client") or {}).get("displayName") or cred["displayName"]
            write_done()
            return jsonify({"client": personal_view(cred)})

    @app.delete("/api/v1/iam/personal_clients/<id>")
    def delete_personal(id):  # noqa: A002
        with store.lock:
            owner = service.caller(True)["principal_id"]
            body_json("DELETE", "/api/v1/iam/personal_clients/{id}")
            personal_or_404(owner, id)
            del service.data["credentials"][id]
            write_done()
            return jsonify({})

    # ---- roles ----
    @app.get("/api/v1/iam/roles")
    def list_roles():
        with store.lock:
            service.caller(False)
            return jsonify(page([role_view(r) for r in service.data["roles"].values()], store))

    @app.get("/api/v1/iam/roles/<role_id>")
    def get_role(role_id):
        with store.lock:
            service.caller(False)
            role = service.data["roles"].get(role_id)
            if role is None:
                raise ApiError(404, 5, "role %s not found" % role_id)
            return jsonify({"role": role_view(role)})

    @app.post("/api/v1/iam/roles/<role_id>")
    def update_role(role_id):
        with store.lock:
            service.caller(True)
            body = body_json("POST", "/api/v1/iam/roles/{role_id}")
            role = service.data["roles"].get(role_id)
            if role is None:
                raise ApiError(404, 5, "role %s not found" % role_id)
            if role.get("systemBuiltin", True):
                raise ApiError(400, 9, "role %s is a system builtin role and cannot be edited" % role_id)
            mask = [m.strip() for m in (body.get("updateMask") or "").split(",") if m.strip()]
            fixed = [m for m in mask if m not in ROLE_EDITABLE]
            if fixed or not mask:
                raise ApiError(400, 3, "updateMask must name fields among %s (got %r)"
                               % (", ".join(ROLE_EDITABLE), body.get("updateMask")))
            given = body.get("role") or {}
            for field in mask:
                value = given.get(field)
                if field == "displayName" and not value:
                    raise ApiError(400, 3, "role.displayName must not be empty")
                role[field] = list(value or []) if field != "displayName" else value
            role["updatedAt"] = rfc3339(store.now())
            write_done()
            return jsonify({"role": role_view(role)})

    return service


def bootstrap(store, service, host):
    """The admin service principal and its credential (no expiry) a user starts from."""
    with store.lock:
        sp = service.add_principal("sandbox-admin")
        cred, secret = service.add_credential(sp["id"], {"displayName": "sandbox-admin"}, host=host)
        return {"client_id": cred["clientId"], "client_secret": secret, "service_principal_id": sp["id"]}

