"""Test controls under /_sandbox (loopback only, never on API paths)."""

import copy
import ipaddress

from flask import Blueprint, abort, current_app, jsonify, request

from .c1_api import ApiError
from .keys import workload_claims

FAULT_MODES = ("429", "500", "502", "503", "504", "drop_after_commit", "drop_before", "invalid_client")


def register(app, store):
    bp = Blueprint('control', __name__)
    @bp.before_request
    def loopback_only():
        if request.path.startswith("/_sandbox") and not ipaddress.ip_address(request.remote_addr).is_loopback:
            abort(403)

    def body():
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400)
        return data

    @bp.post("/_sandbox/reset")
    def reset():
        with store.lock:
            store.data = copy.deepcopy(current_app.config["baseline"])
            store.faults = []
            store.counters = {}
            store.in_flight.reset()
            store.settings = dict(store.initial_settings)
            store.save()
        return jsonify({"reset": True})

    @bp.get("/_sandbox/counters")
    def counters():
        return jsonify(store.counter_report())

    @bp.post("/_sandbox/counters/reset")
    def reset_counters():
        with store.lock:
            store.counters = {}
        return jsonify({})

    @bp.get("/_sandbox/in_flight")
    def in_flight():
        """API requests in flight: ``now``, the peak ``max`` and ``total``, and both per route template."""
        return jsonify(store.in_flight.report())

    @bp.post("/_sandbox/in_flight/reset")
    def reset_in_flight():
        store.in_flight.reset()
        return jsonify({})

    @bp.post("/_sandbox/faults")
    def add_fault():
        fault = body()
        if str(fault.get("mode")) not in FAULT_MODES or not fault.get("route") or not fault.get("method"):
            return jsonify({"error": "give method, route (a template such as /api/v1/service_principals) "
                                     "and mode, one of %s" % ", ".join(FAULT_MODES)}), 400
        entry = {"method": fault["method"].upper(), "route": fault["route"], "mode": str(fault["mode"]),
                 "count": int(fault.get("count", 1)), "retry_after": fault.get("retry_after")}
        if fault.get("path"):  # only the calls of this one path of the route (one principal's credentials)
            entry["path"] = str(fault["path"])
        if fault.get("principal_id"):
            # Only the token requests of that C1 principal's credentials: they are refused as a bad credential is.
            if (entry["method"], entry["route"], entry["mode"]) != ("POST", "/auth/v1/token", "invalid_client"):
                return jsonify({"error": "principal_id is for method POST, route /auth/v1/token and mode "
                                         "invalid_client"}), 400
            entry["principal_id"] = str(fault["principal_id"])
        elif entry["mode"] == "invalid_client":
            return jsonify({"error": "mode invalid_client needs principal_id"}), 400
        with store.lock:
            store.faults.append(entry)
        return jsonify(entry)

    @bp.delete("/_sandbox/faults")
    def clear_faults():
        with store.lock:
            store.faults = []
        return jsonify({})

    @bp.post("/_sandbox/settings")
    def settings():
        values = body()
        unknown = sorted(set(values) - set(store.settings))
        if unknown:
            return jsonify({"error": "unknown settings: %s" % ", ".join(unknown)}), 400
        with store.lock:
            store.settings.update(values)
            return jsonify(store.settings)

    @bp.get("/_sandbox/issued")
    def issued():
        with store.lock:
            return jsonify({"issued": list(store.issued)})

    @bp.post("/_sandbox/seed")
    def seed():
        """Bulk-create C1 service principals (tenant-scale benchmarks)."""
        values = body()
        count, prefix = int(values.get("principals", 0)), str(values.get("prefix", "seeded-"))
        service = current_app.config["c1"]
        with store.lock:
            for index in range(count):
                service.add_principal("%s%05d" % (prefix, index))
            store.save()
        return jsonify({"seeded": count})

    @bp.post("/_sandbox/c1/principals/<sp_id>/roles")
    def principal_roles(sp_id):
        """What the console does (no public API): set the roles a C1 service principal holds, {"roleIds": [...]}."""
        role_ids = body().get("roleIds")
        if not isinstance(role_ids, list) or not all(isinstance(r, str) for r in role_ids):
            return jsonify({"error": "give roleIds, a list of role IDs"}), 400
        service = current_app.config["c1"]
        with store.lock:
            try:
                sp = service.set_principal_roles(sp_id, role_ids)
            except ApiError as exc:
                return jsonify({"error": exc.message}), exc.status
            store.save()
            return jsonify({"id": sp["id"], "roleIds": sp["roleIds"]})

    @bp.post("/_sandbox/clock")
    def clock():
        with store.lock:
            store.clock_offset += float(body().get("advance_seconds", 0))
            store.save()
            return jsonify({"now": store.now()})

    @bp.post("/_sandbox/tokens/expire")
    def expire_tokens():
        """Every C1 access token issued so far is past its expires_in now (the clock stays: assertions signed
        now are still in their window). Orkes tokens are signed JWTs: move the clock for those."""
        with store.lock:
            now = store.now()
            tokens = store.data.get("c1_tokens", {})
            for record in tokens.values():
                record["exp"] = min(record["exp"], now)
            store.save()
            return jsonify({"expired": len(tokens)})

    @bp.get("/_sandbox/oidc/jwks")
    def jwks():
        return jsonify(current_app.config["oidc"].jwks())

    @bp.get("/_sandbox/oidc/.well-known/openid-configuration")
    def oidc_discovery():
        issuer = request.host_url.rstrip("/") + "/_sandbox/oidc"
        return jsonify({"issuer": issuer, "jwks_uri": issuer + "/jwks", "id_token_signing_alg_values_supported":
                        ["EdDSA"], "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"]})

    @bp.post("/_sandbox/oidc/token")
    def oidc_token():
        values = body()
        issuer = values.get("issuer") or request.host_url.rstrip("/") + "/_sandbox/oidc"
        try:
            claims = workload_claims(values)
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        token = current_app.config["oidc"].mint(issuer, None, values.get("aud", ""), store.now(),
                                                float(values.get("ttl", 300)), claims)
        with store.lock:
            store.remember(token)
        return jsonify({"token": token, "issuer": issuer, "claims": claims})

    app.register_blueprint(bp)
