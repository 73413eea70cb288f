"""ConductorOne's token endpoint, POST /auth/v1/token: private-key JWT assertion, plain client_secret,
RFC 8693 token exchange against a workload federation trust, DPoP-bound tokens (c1-auth.md)."""

import ipaddress
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request

from .keys import ASSERTION_REGISTRY, Refused, public_jwk_of_secret, verify_jws
from .store import rfc3339

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
LEEWAY = 30
MAX_ASSERTION_LIFETIME = 300


def oauth_error(exc):
    response = jsonify({"error": exc.error, "error_description": exc.description})
    response.status_code = exc.status
    if exc.error == "use_dpop_nonce":
        response.headers["DPoP-Nonce"] = exc.nonce
    return response


def host_name():
    """The host the client addressed, without port (the assertion's audience)."""
    return urlsplit("//" + request.host).hostname


def ip_allowed(cidrs, address):
    if not cidrs:
        return True
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


class TokenEndpoint(object):
    """Issues access tokens of the C1 service (``service``: credentials, DPoP, federation)."""

    def __init__(self, service):
        self.service = service
        self.store = service.store

    def token(self):
        form = request.form
        grant = form.get("grant_type")
        with self.store.lock:
            if grant == "client_credentials":
                cred = self.authenticate_client(form)
                principal_id = cred["servicePrincipalId"] or cred["userId"]
                if self.store.take_fault("POST", "/auth/v1/token", request.path, principal_id=principal_id):
                    raise Refused("invalid_client", "injected fault: this principal's credentials are refused", 401)
                scopes = cred["scopedRoleIds"]
            elif grant == TOKEN_EXCHANGE:
                cred, principal_id, scopes = self.exchange(form)
            else:
                raise Refused("unsupported_grant_type", "grant_type %r is not supported" % grant)
            jkt = None
            proof = request.headers.get("DPoP")
            if cred.get("requireDpop") or proof:
                jkt = self.service.check_proof(proof, "POST", request.base_url,
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
        if not ip_allowed(cred["allowSourceCidrs"], self.service.source_ip()):
            raise Refused("invalid_client", "the source IP is not allowed for this credential", 401)

    def authenticate_client(self, form):
        cred = self.service.credential_by_client_id(form.get("client_id"))
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
        return self.service.federation.exchange(form, self.service.source_ip())


def register(app, service):
    bp = Blueprint("c1_token", __name__)
    endpoint = TokenEndpoint(service)

    @bp.errorhandler(Refused)
    def refused(exc):
        return oauth_error(exc)

    @bp.post("/auth/v1/token")
    def token():
        return endpoint.token()

    app.register_blueprint(bp)
    return endpoint
