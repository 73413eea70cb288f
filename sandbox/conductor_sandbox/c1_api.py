"""ConductorOne API plumbing: the error shape, bodies checked against the spec, pagination, and the
one route decorator every C1 API route goes through (lock, authentication, body validation, save)."""

import functools
import re

from flask import Blueprint, jsonify, request

from . import validation
from .store import rfc3339

ROLE_EDITABLE = ("displayName", "permissions", "serviceRoles")


class ApiError(Exception):
    """An API refusal: HTTP status, the gRPC code C1 puts in ``code``, one sentence."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def body_json(method, template):
    """The request's JSON object, checked against the request schema of ``template`` (strict)."""
    body = request.get_json(silent=True)
    if body is None:
        body = {} if not request.data else None
    if not isinstance(body, dict):
        raise ApiError(400, 3, "the request body is not a JSON object")
    found = validation.problems(method, template, body)
    if found:
        raise ApiError(400, 3, "invalid request: " + "; ".join(found))
    return body


def page(items, store, body=None, view=None):
    """page_size / page_token (or pageSize / pageToken) over an ordered list; a search (``body``) takes
    pageSize and pageToken in its body instead of the query. ``view`` shapes only the page's items (a
    tenant of 10,000 is not rendered whole for each page of 100)."""
    if body is None:
        size = request.args.get("page_size") or request.args.get("pageSize")
        token = request.args.get("page_token") or request.args.get("pageToken")
    else:
        size, token = body.get("pageSize"), body.get("pageToken")
    size = str(size or "")
    size = int(size) if size.isdigit() and int(size) > 0 else store.settings["page_size"]
    size = min(size, store.settings["max_page_size"])
    token = token or ""
    try:
        start = int(token) if token else 0
    except ValueError:
        raise ApiError(400, 3, "invalid page token")
    chunk = items[start:start + size]
    if view is not None:
        chunk = [view(item) for item in chunk]
    following = start + size
    return {"list": chunk, "nextPageToken": str(following) if following < len(items) else ""}


def update_mask(body, allowed, immutable=(), what="object"):
    """The field paths an ``updateMask`` names, in camelCase; ApiError for an empty, unknown or fixed one."""
    raw = body.get("updateMask") or ""
    fields = []
    for part in (p.strip() for p in raw.split(",")):
        if part:
            fields.append(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), part))
    fixed = [f for f in fields if f in immutable]
    if fixed:
        raise ApiError(400, 3, "%s cannot be changed on a %s (it is immutable)" % (fixed[0], what))
    unknown = [f for f in fields if f not in allowed]
    if unknown or not fields:
        raise ApiError(400, 3, "updateMask must name fields among %s (got %r)" % (", ".join(allowed), raw))
    return fields


# ---- views of stored objects ---------------------------------------------------------------

def sp_view(sp):
    view = {k: sp[k] for k in ("id", "displayName", "createdAt", "updatedAt")}
    # The principal's user (the spec's c1.api.user.v1.User), with the roles it holds.
    view["user"] = {"id": sp["id"], "displayName": sp["displayName"], "type": "USER_TYPE_SERVICE",
                    "status": "ENABLED", "roleIds": list(sp.get("roleIds") or [])}
    return view


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


class Call(object):
    """What a view gets: the caller's token record and the validated body (None on a GET)."""

    def __init__(self, caller, body):
        self.caller, self.body = caller, body

    @property
    def principal_id(self):
        return self.caller["principal_id"]


# Path parameters whose values contain "/" (a trust's client ID ends in "/wfe").
PATH_CONVERTERS = {"client_id": "path"}


def flask_rule(template):
    """The spec's path template as a Flask rule: {id} -> <id>, {client_id} -> <path:client_id>."""
    def convert(match):
        name = match.group(1)
        converter = PATH_CONVERTERS.get(name)
        return "<%s:%s>" % (converter, name) if converter else "<%s>" % name
    return re.sub(r"\{(\w+)\}", convert, template)


class Routes(object):
    """``@routes("POST", "/api/v1/...")``: registers a view on the blueprint under the spec's template.

    Around each view, under the store's lock: the caller is authenticated (a write needs a token
    not scoped to read-only roles), a body is validated against the template's request schema, and
    after a write the store is saved. ``writes=False`` marks a POST that changes nothing (test-cel,
    TestToken): it needs no write permission and counts as a read.
    """

    def __init__(self, blueprint, service, read_only_routes):
        self.blueprint, self.service, self.store = blueprint, service, service.store
        self.read_only_routes = read_only_routes

    def __call__(self, method, template, writes=None):
        writes = method != "GET" if writes is None else writes
        if method != "GET" and not writes:
            self.read_only_routes.add("%s %s" % (method, template))

        def decorate(view):
            @functools.wraps(view)
            def handler(**params):
                with self.store.lock:
                    caller = self.service.caller(writes)
                    body = body_json(method, template) if method != "GET" else None
                    result = view(Call(caller, body), **params)
                    if writes:
                        self.store.save()
                return jsonify(result)
            self.blueprint.add_url_rule(flask_rule(template), view.__name__, handler, methods=[method])
            return view
        return decorate


# ---- the API: service principals, credentials, personal clients, roles, introspect -------------

SP = "/api/v1/service_principals"
SP_ONE = SP + "/{id}"
CRED_LIST = SP + "/{service_principal_id}/credentials"
CRED_ONE = CRED_LIST + "/{id}"
PERSONAL = "/api/v1/iam/personal_clients"
PERSONAL_ONE = PERSONAL + "/{id}"
ROLE_LIST = "/api/v1/iam/roles"
ROLE_ONE = ROLE_LIST + "/{role_id}"


def register(app, service, read_only_routes):
    bp = Blueprint("c1_api", __name__)
    route = Routes(bp, service, read_only_routes)
    store = service.store  # service.data is read on each call: /_sandbox/reset replaces the state

    @route("GET", "/api/v1/auth/introspect")
    def introspect(call):
        record = call.caller
        return {"principleId": record["principal_id"], "userId": record["principal_id"], "tenantId": "sandbox",
                "roles": record["scopes"] or [service.default_role_id()], "permissions": [], "features": [],
                "deviceClientId": "", "disabledModules": []}

    # ---- service principals ----
    @route("GET", SP)
    def list_principals(call):
        return page(list(service.data["principals"].values()), store, view=sp_view)

    @route("POST", SP)
    def create_principal(call):
        if not call.body.get("displayName"):
            raise ApiError(400, 3, "displayName is required")
        return {"servicePrincipal": sp_view(service.add_principal(call.body["displayName"]))}

    @route("GET", SP_ONE)
    def get_principal(call, id):  # noqa: A002 - the spec's parameter name
        return {"servicePrincipal": sp_view(service.principal_or_404(id))}

    @route("PATCH", SP_ONE)
    def update_principal(call, id):  # noqa: A002
        sp = service.principal_or_404(id)
        update_mask(call.body, ("displayName",), what="service principal")
        sp["displayName"] = (call.body.get("servicePrincipal") or {}).get("displayName") or sp["displayName"]
        sp["updatedAt"] = rfc3339(store.now())
        return {"servicePrincipal": sp_view(sp)}

    @route("DELETE", SP_ONE)
    def delete_principal(call, id):  # noqa: A002
        service.principal_or_404(id)
        del service.data["principals"][id]
        for cred in service.credentials_of(id):
            service.remove_credential(cred["id"])
        service.federation.remove_trusts_of(id)
        return {}

    # ---- credentials ----
    def credential_or_404(sp_id, cred_id):
        cred = service.data["credentials"].get(cred_id)
        if cred is None or cred["servicePrincipalId"] != sp_id:
            raise ApiError(404, 5, "credential %s not found" % cred_id)
        return cred

    @route("GET", CRED_LIST)
    def list_credentials(call, service_principal_id):
        service.principal_or_404(service_principal_id)
        return page(service.credentials_of(service_principal_id), store, view=credential_view)

    @route("POST", CRED_LIST)
    def create_credential(call, service_principal_id):
        problems = validation.check_duration(call.body.get("expires"))
        if problems:
            raise ApiError(400, 3, problems[0])
        service.principal_or_404(service_principal_id)
        cred, secret = service.add_credential(service_principal_id, call.body, host=request.host)
        return {"credential": credential_view(cred), "clientSecret": secret}

    @route("GET", CRED_ONE)
    def get_credential(call, service_principal_id, id):  # noqa: A002
        return {"credential": credential_view(credential_or_404(service_principal_id, id))}

    @route("PATCH", CRED_ONE)
    def update_credential(call, service_principal_id, id):  # noqa: A002
        cred = credential_or_404(service_principal_id, id)
        # UpdateCredential: only the display name is writable; the client ID, secret and settings stay.
        update_mask(call.body, ("displayName",), what="credential")
        name = (call.body.get("credential") or {}).get("displayName")
        if not name:
            raise ApiError(400, 3, "credential.displayName must not be empty")
        cred["displayName"] = name
        cred["updatedAt"] = rfc3339(store.now())
        return {"credential": credential_view(cred)}

    @route("DELETE", CRED_ONE)
    def revoke_credential(call, service_principal_id, id):  # noqa: A002
        credential_or_404(service_principal_id, id)
        service.remove_credential(id)
        return {}

    # ---- personal clients (the caller's own) ----
    def personal_or_404(owner, cred_id):
        cred = service.data["credentials"].get(cred_id)
        if cred is None or not cred["personal"] or cred["userId"] != owner:
            raise ApiError(404, 5, "personal client %s not found" % cred_id)
        return cred

    @route("GET", PERSONAL)
    def list_personal(call):
        return page(service.personal_credentials_of(call.principal_id), store, view=personal_view)

    @route("POST", PERSONAL)
    def create_personal(call):
        problems = validation.check_duration(call.body.get("expires"))
        if problems:
            raise ApiError(400, 3, problems[0])
        cred, secret = service.add_credential(call.principal_id, call.body, personal=True, host=request.host)
        return {"client": personal_view(cred), "clientSecret": secret}

    @route("GET", PERSONAL_ONE)
    def get_personal(call, id):  # noqa: A002
        return {"client": personal_view(personal_or_404(call.principal_id, id))}

    @route("POST", PERSONAL_ONE)
    def update_personal(call, id):  # noqa: A002
        cred = personal_or_404(call.principal_id, id)
        update_mask(call.body, ("displayName",), what="personal client")
        cred["displayName"] = (call.body.get("client") or {}).get("displayName") or cred["displayName"]
        return {"client": personal_view(cred)}

    @route("DELETE", PERSONAL_ONE)
    def delete_personal(call, id):  # noqa: A002
        personal_or_404(call.principal_id, id)
        service.remove_credential(id)
        return {}

    # ---- roles ----
    def role_or_404(role_id):
        role = service.data["roles"].get(role_id)
        if role is None:
            raise ApiError(404, 5, "role %s not found" % role_id)
        return role

    @route("GET", ROLE_LIST)
    def list_roles(call):
        return page(list(service.data["roles"].values()), store, view=role_view)

    @route("GET", ROLE_ONE)
    def get_role(call, role_id):
        return {"role": role_view(role_or_404(role_id))}

    @route("POST", ROLE_ONE)
    def update_role(call, role_id):
        role = role_or_404(role_id)
        if role.get("systemBuiltin", True):
            raise ApiError(400, 9, "role %s is a system builtin role and cannot be edited" % role_id)
        mask = update_mask(call.body, ROLE_EDITABLE, what="role")
        given = call.body.get("role") or {}
        for field in mask:
            value = given.get(field)
            if field == "displayName" and not value:
                raise ApiError(400, 3, "role.displayName must not be empty")
            role[field] = list(value or []) if field != "displayName" else value
        role["updatedAt"] = rfc3339(store.now())
        return {"role": role_view(role)}

    app.register_blueprint(bp)
