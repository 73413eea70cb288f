"""ConductorOne workload federation (WorkloadFederationService): providers, trusts, TestToken, test-cel,
and the checks the token exchange runs on a subject token (the same steps TestToken reports)."""

import ipaddress
import json
import secrets
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, current_app, request

from . import cel
from .c1_api import ApiError, Routes, page, update_mask
from .keys import GITHUB_ISSUER, Refused, unverified_claims
from .store import new_id, rfc3339

CUTE = ("clever-fox", "quiet-owl", "brave-otter", "calm-lynx", "swift-hare", "wise-crane")
PREFIX = "WELL_KNOWN_WORKLOAD_PROVIDER_"
SPIFFE = PREFIX + "SPIFFE"
GITHUB = PREFIX + "GITHUB_ACTIONS"
MAX_CIDRS = 32
LEEWAY = 30

PROVIDERS = "/api/v1/workload_federation/providers"
PROVIDER = PROVIDERS + "/{id}"
TRUSTS = "/api/v1/service_principals/{service_principal_id}/trusts"
TRUST = TRUSTS + "/{client_id}"
TEST_TOKEN = TRUST + "/test"
TEST_CEL = "/api/v1/workload_federation/test-cel"
SEARCH_TRUSTS = "/api/v1/search/workload_federation_trusts"

PROVIDER_MUTABLE = ("displayName", "description", "disabled", "spiffe", "spiffe.bundleEndpointUrl")
PROVIDER_FIXED = ("id", "issuerUrl", "wellKnownProvider", "oidc", "createdAt", "updatedAt")
TRUST_MUTABLE = ("displayName", "description", "conditionExpression", "allowSourceCidrs", "scopedRoleIds",
                 "passthroughClaims", "disabled")
TRUST_FIXED = ("clientId", "providerId", "servicePrincipalId", "createdAt", "updatedAt")
TRUST_DEFAULTS = {"displayName": "", "description": "", "conditionExpression": "", "allowSourceCidrs": [],
                  "scopedRoleIds": [], "passthroughClaims": [], "disabled": False}
STEPS = ("jwtDecode", "signatureValidation", "issuerMatch", "audienceValidation", "tokenFreshness",
         "subjectValidation", "celEvaluation", "cidrCheck")
STEP_NAMES = {"jwtDecode": "JWT decode", "signatureValidation": "Signature validation",
              "issuerMatch": "Issuer match", "audienceValidation": "Audience validation",
              "tokenFreshness": "Token freshness", "subjectValidation": "Subject validation",
              "celEvaluation": "CEL evaluation", "cidrCheck": "Source IP check"}


# ---- pure rules -----------------------------------------------------------------------------

def normalise_issuer(url):
    """Lowercase scheme and host, no trailing slash (the provider's identity); ValueError if not a URL."""
    parts = urlsplit(str(url or "").strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError("issuerUrl must be an absolute URL such as https://token.actions.githubusercontent.com")
    if parts.query or parts.fragment:
        raise ValueError("issuerUrl must not carry a query or a fragment")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def loopback(url):
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider_settings(kind, issuer, body):
    """The tri-invariant: SPIFFE type <=> spiffe:// issuer <=> settings.spiffe; others https + settings.oidc."""
    scheme = urlsplit(issuer).scheme
    if kind == SPIFFE:
        if scheme != "spiffe":
            raise ApiError(400, 3, "a SPIFFE provider's issuerUrl must be spiffe://<trust-domain>")
        if body.get("oidc") is not None or not body.get("spiffe"):
            raise ApiError(400, 3, "a SPIFFE provider needs spiffe settings (spiffe.bundleEndpointUrl), not oidc")
        check_bundle_url((body.get("spiffe") or {}).get("bundleEndpointUrl"))
        return
    # The sandbox's own issuer is plain HTTP on the loopback address unless it runs with TLS.
    if scheme != "https" and not (scheme == "http" and loopback(issuer)):
        raise ApiError(400, 3, "an OIDC provider's issuerUrl must be an https:// URL")
    if body.get("spiffe") is not None or body.get("oidc") is None:
        raise ApiError(400, 3, "an OIDC provider needs oidc settings (\"oidc\": {}), not spiffe")
    if kind == GITHUB and not loopback(issuer) and not (issuer == GITHUB_ISSUER
                                                        or issuer.startswith(GITHUB_ISSUER + "/")):
        raise ApiError(400, 3, "a GitHub Actions provider's issuerUrl is %s (or its enterprise form "
                               "%s/<enterprise>)" % (GITHUB_ISSUER, GITHUB_ISSUER))


def check_bundle_url(url):
    if not url or urlsplit(str(url)).scheme != "https" and not loopback(str(url)):
        raise ApiError(400, 3, "spiffe.bundleEndpointUrl must be an https:// URL of the trust domain's JWKS")


def check_cidrs(cidrs):
    if len(cidrs) > MAX_CIDRS:
        raise ApiError(400, 3, "allowSourceCidrs takes at most %d ranges (got %d)" % (MAX_CIDRS, len(cidrs)))
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ApiError(400, 3, "allowSourceCidrs: %r is not an IPv4 or IPv6 CIDR" % cidr)


def check_condition(expression):
    if expression is None:
        raise ApiError(400, 3, "conditionExpression is required: a CEL expression over claims that returns a bool")
    try:
        cel.compile_condition(expression)
    except cel.CelProblem as exc:
        raise ApiError(400, 3, "conditionExpression: %s" % exc)


def cutename(client_id):
    return str(client_id).split("@", 1)[0]


def tenant_host(trust):
    """The host part of a trust's client ID (``cute@HOST/wfe``)."""
    return trust["clientId"].split("@", 1)[1].rsplit("/", 1)[0]


def accepted_audiences(trust):
    """The trust's client ID, or the tenant: its host (with or without port) or https URL."""
    host = tenant_host(trust)
    bare = urlsplit("//" + host).hostname or host
    return [trust["clientId"], host, bare, "https://" + host, "https://" + bare]


def step(passed, detail, expected="", actual="", skipped=False):
    return {"passed": bool(passed) and not skipped, "skipped": bool(skipped), "expected": str(expected),
            "actual": str(actual), "detail": detail}


def in_cidrs(cidrs, address):
    try:
        ip = ipaddress.ip_network(address, strict=False).network_address
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


def token_steps(token, trust, provider, verify, now, source_ip):
    """Every step of a subject token's check against a trust: (steps by name, decoded claims or None).

    ``verify(token)`` returns the verified claims or raises Refused. A step that cannot run because
    an earlier one failed (no claims to look at) is skipped.
    """
    steps = {}
    claims = unverified_claims(token) if isinstance(token, str) else None
    if claims is None:
        steps["jwtDecode"] = step(False, "the subject token is not a decodable JWT (three base64url parts "
                                         "with a JSON object of claims)")
        for name in STEPS[1:]:
            steps[name] = step(False, "skipped: the token could not be decoded", skipped=True)
        return steps, None
    steps["jwtDecode"] = step(True, "the token decodes to %d claims" % len(claims))
    try:
        verify(token)
        steps["signatureValidation"] = step(True, "the signature verifies against the issuer's keys")
    except Refused:
        steps["signatureValidation"] = step(False, "the signature does not verify against the issuer's keys")
    issuer = claims.get("iss")
    try:
        same = normalise_issuer(issuer) == provider["issuerUrl"]
    except ValueError:
        same = False
    steps["issuerMatch"] = step(same, "the token's iss is the provider's issuer" if same else
                                "the token's iss is not the issuer of the trust's provider",
                                provider["issuerUrl"], issuer or "")
    audience = claims.get("aud")
    audiences = [a for a in (audience if isinstance(audience, list) else [audience]) if a]
    allowed = accepted_audiences(trust)
    fits = any(a in allowed for a in audiences)
    steps["audienceValidation"] = step(fits, "the token's aud names this tenant or trust" if fits else
                                       "the token's aud must be the tenant (%s) or the trust's client ID"
                                       % tenant_host(trust), tenant_host(trust), ",".join(map(str, audiences)))
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, (int, float)):
        fresh, detail = False, "the token has no numeric exp"
    elif exp <= now:
        fresh, detail = False, "the token expired %d s ago" % int(now - exp)
    elif isinstance(nbf, (int, float)) and nbf > now + LEEWAY:
        fresh, detail = False, "the token is not valid yet (nbf/iat in the future)"
    else:
        fresh, detail = True, "the token is valid for %d more s" % int(exp - now)
    steps["tokenFreshness"] = step(fresh, detail, "exp after now", exp if exp is not None else "")
    subject = claims.get("sub")
    has_subject = isinstance(subject, str) and bool(subject)
    steps["subjectValidation"] = step(has_subject, "the token has a subject" if has_subject else
                                      "the token has no sub claim", "a non-empty sub", subject or "")
    matched, error = cel.evaluate(trust["conditionExpression"], claims)
    steps["celEvaluation"] = step(matched, error or ("the condition matches the token's claims" if matched else
                                                     "the condition does not match the token's claims"),
                                  trust["conditionExpression"], "true" if matched else "false")
    cidrs = trust.get("allowSourceCidrs") or []
    if not cidrs:
        steps["cidrCheck"] = step(True, "no source IP allowlist on this trust", skipped=True)
    else:
        inside = in_cidrs(cidrs, source_ip)
        steps["cidrCheck"] = step(inside, "the source IP is inside the allowlist" if inside else
                                  "the source IP is not allowed for this trust", ",".join(cidrs), source_ip)
    return steps, claims


def found_by(trust, search):
    """SearchTrusts' filters, each optional: provider, principal, and text in the name or description."""
    text = (search.get("query") or "").lower()
    return search.get("providerId") in (None, "", trust["providerId"]) \
        and search.get("servicePrincipalId") in (None, "", trust["servicePrincipalId"]) \
        and any(text in (trust[field] or "").lower() for field in ("displayName", "description"))


# ---- views of stored objects ---------------------------------------------------------------

def provider_view(provider):
    return {k: provider[k] for k in ("id", "displayName", "description", "disabled", "issuerUrl",
                                     "wellKnownProvider", "oidc", "spiffe", "createdAt", "updatedAt")}


def trust_view(trust):
    view = {k: trust[k] for k in ("clientId", "servicePrincipalId", "providerId", "displayName", "description",
                                  "conditionExpression", "disabled", "createdAt", "updatedAt")}
    for key in ("allowSourceCidrs", "scopedRoleIds", "passthroughClaims"):
        view[key] = list(trust[key])
    return view


# ---- the service ----------------------------------------------------------------------------

class Federation(object):
    def __init__(self, service):
        self.service = service
        self.store = service.store

    @property
    def data(self):
        return self.service.data

    def provider_or_404(self, provider_id):
        provider = self.data["providers"].get(provider_id)
        if provider is None:
            raise ApiError(404, 5, "workload federation provider %s not found" % provider_id)
        return provider

    def trust_or_404(self, sp_id, client_id):
        """By cutename or full client ID, as the spec says; only the principal's own trusts."""
        for trust in self.data["trusts"].values():
            if trust["servicePrincipalId"] == sp_id and cutename(trust["clientId"]) == cutename(client_id) \
                    and client_id in (trust["clientId"], cutename(client_id)):
                return trust
        raise ApiError(404, 5, "trust %s of service principal %s not found" % (client_id, sp_id))

    def trust_by_client_id(self, client_id):
        return self.data["trusts"].get(client_id or "")

    def check_roles(self, roles):
        unknown = [r for r in roles if r not in self.data["roles"]]
        if unknown:
            raise ApiError(400, 3, "scopedRoleIds: unknown role id %s" % unknown[0])

    def trusts_of_provider(self, provider_id):
        return [t for t in self.data["trusts"].values() if t["providerId"] == provider_id]

    def remove_trusts_of(self, sp_id):
        """A principal's trusts go with it (and the tokens they issued)."""
        for client_id in [k for k, t in self.data["trusts"].items() if t["servicePrincipalId"] == sp_id]:
            self.remove_trust(client_id)

    def remove_trust(self, client_id):
        del self.data["trusts"][client_id]
        tokens = self.store.data["c1_tokens"]
        for token in [k for k, v in tokens.items() if v["credential_id"] == "trust:" + client_id]:
            del tokens[token]

    # ---- the token exchange --------------------------------------------------------------------
    def exchange(self, form, source_ip):
        """(pseudo credential, principal id, scopes) for an RFC 8693 exchange, or Refused."""
        trust = self.trust_by_client_id(form.get("client_id"))
        if trust is None:
            raise Refused("invalid_client", "no workload federation trust has this client ID", 401)
        if trust["disabled"]:
            raise Refused("invalid_client", "this workload federation trust is disabled", 401)
        provider = self.data["providers"].get(trust["providerId"])
        if provider is None or provider["disabled"]:
            raise Refused("invalid_grant", "the trust's provider is disabled")
        steps, claims = token_steps(form.get("subject_token") or "", trust, provider,
                                    current_app.config["oidc"].verify, self.store.now(), source_ip)
        for name in STEPS:
            if not steps[name]["passed"] and not steps[name]["skipped"]:
                if name == "cidrCheck":
                    raise Refused("invalid_client", steps[name]["detail"], 401)
                raise Refused("invalid_grant", "%s failed: %s" % (STEP_NAMES[name], steps[name]["detail"]))
        passthrough = {k: claims[k] for k in trust["passthroughClaims"] if isinstance(claims.get(k), str)}
        pseudo = {"id": "trust:" + trust["clientId"], "requireDpop": False, "lastUsedAt": None,
                  "c1wfc": passthrough}
        return pseudo, trust["servicePrincipalId"], list(trust["scopedRoleIds"])


def register(app, service, read_only_routes):
    bp = Blueprint("c1_federation", __name__)
    fed = Federation(service)
    service.federation = fed
    route = Routes(bp, service, read_only_routes)
    store = service.store

    def now():
        return rfc3339(store.now())

    # ---- providers ----
    @route("POST", PROVIDERS)
    def create_provider(call):
        body = call.body
        kind = body.get("wellKnownProvider") or PREFIX + "UNSPECIFIED"
        if kind == PREFIX + "UNSPECIFIED":
            raise ApiError(400, 3, "wellKnownProvider is required (WELL_KNOWN_WORKLOAD_PROVIDER_UNSPECIFIED is "
                                   "rejected)")
        try:
            issuer = normalise_issuer(body.get("issuerUrl"))
        except ValueError as exc:
            raise ApiError(400, 3, str(exc))
        check_provider_settings(kind, issuer, body)
        taken = [p for p in fed.data["providers"].values() if p["issuerUrl"] == issuer]
        if taken:
            raise ApiError(409, 6, "a provider for issuer %s already exists (%s); issuer URLs are unique within "
                                   "the tenant" % (issuer, taken[0]["id"]))
        stamp = now()
        provider = {"id": new_id(), "displayName": body.get("displayName") or "",
                    "description": body.get("description") or "", "disabled": False, "issuerUrl": issuer,
                    "wellKnownProvider": kind, "oidc": None if kind == SPIFFE else {},
                    "spiffe": {"bundleEndpointUrl": body["spiffe"]["bundleEndpointUrl"]} if kind == SPIFFE else None,
                    "createdAt": stamp, "updatedAt": stamp}
        fed.data["providers"][provider["id"]] = provider
        return {"provider": provider_view(provider)}

    @route("GET", PROVIDERS)
    def list_providers(call):
        return page(list(fed.data["providers"].values()), store, view=provider_view)

    @route("GET", PROVIDER)
    def get_provider(call, id):  # noqa: A002 - the spec's parameter name
        return {"provider": provider_view(fed.provider_or_404(id))}

    @route("PATCH", PROVIDER)
    def update_provider(call, id):  # noqa: A002
        provider = fed.provider_or_404(id)
        fields = update_mask(call.body, PROVIDER_MUTABLE, PROVIDER_FIXED, "provider")
        given = call.body.get("provider") or {}
        if any(f.startswith("spiffe") for f in fields):
            if provider["wellKnownProvider"] != SPIFFE:
                raise ApiError(400, 3, "spiffe settings apply to SPIFFE providers only")
            url = (given.get("spiffe") or {}).get("bundleEndpointUrl")
            check_bundle_url(url)
        changes = {}
        for field in fields:
            if field.startswith("spiffe"):
                changes["spiffe"] = {"bundleEndpointUrl": url}
            elif field == "disabled":
                changes[field] = bool(given.get(field, False))
            else:
                changes[field] = given.get(field) or ""
        provider.update(changes, updatedAt=now())
        return {"provider": provider_view(provider)}

    @route("DELETE", PROVIDER)
    def delete_provider(call, id):  # noqa: A002
        fed.provider_or_404(id)
        users = fed.trusts_of_provider(id)
        if users:
            named = ", ".join("%s (%s) of service principal %s" % (t["displayName"] or "unnamed", t["clientId"],
                                                                  t["servicePrincipalId"]) for t in users)
            raise ApiError(400, 9, "provider %s is used by %d trust(s): %s; delete them first"
                           % (id, len(users), named))
        del fed.data["providers"][id]
        return {}

    # ---- trusts ----
    principal_or_404 = service.principal_or_404

    @route("POST", TRUSTS)
    def create_trust(call, service_principal_id):
        body = call.body
        principal_or_404(service_principal_id)
        if not body.get("providerId"):
            raise ApiError(400, 3, "providerId is required")
        if body["providerId"] not in fed.data["providers"]:
            raise ApiError(400, 3, "providerId %s names no provider of this tenant" % body["providerId"])
        check_condition(body.get("conditionExpression"))
        cidrs = list(body.get("allowSourceCidrs") or [])
        check_cidrs(cidrs)
        roles = list(body.get("scopedRoleIds") or [])
        fed.check_roles(roles)
        host = request.host
        client_id = None
        while client_id is None or client_id in fed.data["trusts"]:
            client_id = "%s-%05d@%s/wfe" % (secrets.choice(CUTE), secrets.randbelow(100000), host)
        stamp = now()
        trust = dict(TRUST_DEFAULTS, clientId=client_id, servicePrincipalId=service_principal_id,
                     providerId=body["providerId"], displayName=body.get("displayName") or "",
                     description=body.get("description") or "", conditionExpression=body["conditionExpression"],
                     allowSourceCidrs=cidrs, scopedRoleIds=roles,
                     passthroughClaims=list(body.get("passthroughClaims") or []), createdAt=stamp, updatedAt=stamp)
        fed.data["trusts"][client_id] = trust
        return {"trust": trust_view(trust)}

    @route("GET", TRUSTS)
    def list_trusts(call, service_principal_id):
        principal_or_404(service_principal_id)
        return page([trust_view(t) for t in fed.data["trusts"].values()
                     if t["servicePrincipalId"] == service_principal_id], store)

    @route("POST", SEARCH_TRUSTS, writes=False)
    def search_trusts(call):
        """Trusts of every principal, each filter optional; pageSize and pageToken in the body."""
        return page([trust_view(t) for t in fed.data["trusts"].values() if found_by(t, call.body)], store,
                    body=call.body)

    @route("GET", TRUST)
    def get_trust(call, service_principal_id, client_id):
        return {"trust": trust_view(fed.trust_or_404(service_principal_id, client_id))}

    @route("PATCH", TRUST)
    def update_trust(call, service_principal_id, client_id):
        trust = fed.trust_or_404(service_principal_id, client_id)
        fields = update_mask(call.body, TRUST_MUTABLE, TRUST_FIXED, "trust")
        given = call.body.get("trust") or {}
        # A field the mask names and the body leaves out is cleared, as a protobuf field mask does.
        changes = {f: given.get(f, TRUST_DEFAULTS[f]) for f in fields}
        for key in ("allowSourceCidrs", "scopedRoleIds", "passthroughClaims"):
            if key in changes:
                changes[key] = list(changes[key] or [])
        if "conditionExpression" in changes:
            check_condition(changes["conditionExpression"])
        if "allowSourceCidrs" in changes:
            check_cidrs(changes["allowSourceCidrs"])
        if "scopedRoleIds" in changes:
            fed.check_roles(changes["scopedRoleIds"])
        if "disabled" in changes:
            changes["disabled"] = bool(changes["disabled"])
        for key in ("displayName", "description"):
            if key in changes:
                changes[key] = changes[key] or ""
        trust.update(changes, updatedAt=now())
        return {"trust": trust_view(trust)}

    @route("DELETE", TRUST)
    def delete_trust(call, service_principal_id, client_id):
        trust = fed.trust_or_404(service_principal_id, client_id)
        fed.remove_trust(trust["clientId"])
        return {}

    @route("POST", TEST_TOKEN, writes=False)
    def test_token(call, service_principal_id, client_id):
        trust = fed.trust_or_404(service_principal_id, client_id)
        provider = fed.data["providers"].get(trust["providerId"])
        source = call.body.get("sourceIp") or service.source_ip()
        steps, claims = token_steps(call.body.get("subjectToken") or "", trust, provider,
                                    current_app.config["oidc"].verify, store.now(), source)
        answer = {name: dict(steps[name], stepName=STEP_NAMES[name]) for name in STEPS}
        answer["decodedClaimsJson"] = json.dumps(claims, sort_keys=True) if claims is not None else ""
        answer["overallResult"] = all(s["passed"] or s["skipped"] for s in steps.values()) \
            and not steps["jwtDecode"]["skipped"]
        return answer

    @route("POST", TEST_CEL, writes=False)
    def test_cel(call):
        expression = call.body.get("expression") or ""
        try:
            claims = cel.parse_claims_json(call.body.get("claimsJson"))
        except ValueError as exc:
            return {"expression": expression, "matched": False, "error": "claimsJson is not a JSON object: %s"
                    % exc}
        matched, error = cel.evaluate(expression, claims)
        answer = {"expression": expression, "matched": matched}
        if error:
            answer["error"] = error
        return answer

    app.register_blueprint(bp)
    return fed
