"""ConductorOne API plumbing: the error shape, bodies checked against the spec, pagination, and the
one route decorator every C1 API route goes through (lock, authentication, body validation, save)."""

import functools
import re

from flask import jsonify, request

from . import validation


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


def page(items, store):
    """page_size / page_token (or pageSize / pageToken) over an ordered list."""
    size = request.args.get("page_size") or request.args.get("pageSize")
    size = int(size) if size and size.isdigit() and int(size) > 0 else store.settings["page_size"]
    size = min(size, store.settings["max_page_size"])
    token = request.args.get("page_token") or request.args.get("pageToken") or ""
    try:
        start = int(token) if token else 0
    except ValueError:
        raise ApiError(400, 3, "invalid page token")
    chunk = items[start:start + size]
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
