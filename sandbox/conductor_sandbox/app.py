"""The Flask application: shared plumbing (counters, faults, request ids, errors)."""

import logging
import re
import secrets
import time

from flask import Flask, g, jsonify, request
from werkzeug.http import http_date

from . import c1, control, orkes
from .keys import HmacSigner, OidcIssuer
from .server import drop_connection

TOKEN_ROUTES = frozenset(("POST /auth/v1/token", "POST /api/token"))


def route_key():
    """``METHOD /template`` as the spec names it: <id> and <path:client_id> both read {id}, {client_id}."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return "%s %s" % (request.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule))


class DropConnection(object):
    """WSGI middleware: after the app ran (and committed), close the connection unanswered."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        body = list(self.wsgi_app(environ, start_response))  # the view has run: the write is committed
        if environ.get("sandbox.drop"):
            drop_connection()
        return body


def create_app(store):
    app = Flask("conductor_sandbox")
    app.config["store"] = store
    app.config["signer"] = HmacSigner()
    app.config["oidc"] = OidcIssuer()
    app.json.sort_keys = False
    app.config["read_only_routes"] = set()  # POST routes that change nothing, filled as routes register
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # never log requests (bodies carry secrets)

    @app.before_request
    def count_and_inject_faults():
        g.request_id = "req-" + secrets.token_hex(8)
        if request.path.startswith("/_sandbox"):
            return None
        key = route_key()
        reads = request.method == "GET" or key in app.config["read_only_routes"]  # test-cel, TestToken
        kind = "token_requests" if key in TOKEN_ROUTES else ("reads" if reads else "writes")
        store.count(key, kind)
        store.in_flight.enter(key)
        g.in_flight = key
        latency = float(store.settings.get("latency_seconds") or 0)
        if latency > 0:
            time.sleep(latency)  # outside the store lock: concurrent requests overlap as on a real API
        fault = store.take_fault(request.method, key.split(" ", 1)[1], request.path)
        if fault is None:
            return None
        mode = str(fault["mode"])
        if mode == "drop_after_commit":
            request.environ["sandbox.drop"] = True
            return None
        if mode == "drop_before":
            request.environ["sandbox.drop"] = True
            return ("", 500)
        response = jsonify({"code": 14, "message": "injected fault %s" % mode})
        response.status_code = int(mode)
        if fault.get("retry_after") is not None:
            response.headers["Retry-After"] = str(fault["retry_after"])
        return response

    @app.teardown_request
    def leave_in_flight(exc):
        key = g.pop("in_flight", None)
        if key is not None:
            store.in_flight.leave(key)

    @app.after_request
    def add_request_id_and_date(response):
        response.headers["X-Request-Id"] = getattr(g, "request_id", "req-none")
        # Dated by the sandbox's clock (moved by /_sandbox/clock), as a client reads the server's time.
        response.headers["Date"] = http_date(store.now())
        return response

    def orkes_path():
        """Orkes lives under /api, C1 under /api/v1 and /auth: each answers errors in its own shape."""
        return (request.path == "/api" or request.path.startswith("/api/")) and not request.path.startswith("/api/v1/")

    @app.errorhandler(404)
    def not_found(error):
        message = "no such route: %s %s" % (request.method, request.path)
        if orkes_path():
            return jsonify({"status": 404, "message": message}), 404
        return jsonify({"code": 5, "message": message}), 404

    @app.errorhandler(405)
    def not_allowed(error):
        message = "method %s not allowed on %s" % (request.method, request.path)
        if orkes_path():
            return jsonify({"status": 405, "message": message}), 405
        return jsonify({"code": 12, "message": message}), 405

    c1.register(app, store)
    orkes.register(app, store)
    control.register(app, store)
    app.wsgi_app = DropConnection(app.wsgi_app)
    return app
