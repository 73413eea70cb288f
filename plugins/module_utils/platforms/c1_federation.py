# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire shapes of C1's WorkloadFederationService, both ways: pure functions the C1 adapter uses.

Neutral provider and trust shapes are those of module_utils/federation.py.
"""

from __future__ import annotations

from ..errors import redact

WKP_PREFIX = "WELL_KNOWN_WORKLOAD_PROVIDER_"

# neutral field -> (wire field, mask path)
PROVIDER_FIELDS = {
    "name": ("displayName", "displayName"),
    "description": ("description", "description"),
    "enabled": ("disabled", "disabled"),
    "spiffe_bundle_endpoint_url": ("spiffe", "spiffe.bundleEndpointUrl"),
}
TRUST_FIELDS = {
    "name": ("displayName", "displayName"),
    "description": ("description", "description"),
    "condition": ("conditionExpression", "conditionExpression"),
    "allowed_cidrs": ("allowSourceCidrs", "allowSourceCidrs"),
    "scoped_role_ids": ("scopedRoleIds", "scopedRoleIds"),
    "passthrough_claims": ("passthroughClaims", "passthroughClaims"),
    "enabled": ("disabled", "disabled"),
}
# TestToken's steps in the order the server runs them.
TOKEN_STEPS = ("jwtDecode", "signatureValidation", "issuerMatch", "audienceValidation", "tokenFreshness",
               "subjectValidation", "celEvaluation", "cidrCheck")


def provider_type(wire):
    """``WELL_KNOWN_WORKLOAD_PROVIDER_GITHUB_ACTIONS`` -> ``github_actions``."""
    value = str(wire or "")
    if value.startswith(WKP_PREFIX):
        value = value[len(WKP_PREFIX):]
    value = value.lower()
    return "custom" if value in ("", "unspecified") else value


def provider(raw):
    spiffe = raw.get("spiffe") or {}
    return {
        "id": raw.get("id"),
        "name": raw.get("displayName"),
        "issuer_url": raw.get("issuerUrl"),
        "type": provider_type(raw.get("wellKnownProvider")),
        "description": raw.get("description") or "",
        "enabled": not raw.get("disabled", False),
        "spiffe_bundle_endpoint_url": spiffe.get("bundleEndpointUrl"),
        "created_at": raw.get("createdAt"),
        "updated_at": raw.get("updatedAt"),
    }


def provider_create_body(desired):
    body = {
        "issuerUrl": desired["issuer_url"],
        "displayName": desired.get("name") or desired["issuer_url"],
        "description": desired.get("description") or "",
        "wellKnownProvider": WKP_PREFIX + str(desired.get("type") or "custom").upper(),
    }
    if desired.get("type") == "spiffe":
        body["spiffe"] = {"bundleEndpointUrl": desired.get("spiffe_bundle_endpoint_url") or ""}
    else:
        body["oidc"] = {}
    return body


def _wire_value(field, value):
    if field == "enabled":
        return not value
    if field == "spiffe_bundle_endpoint_url":
        return {"bundleEndpointUrl": value}
    return value


def _update_body(fields, key, changes):
    """``{<key>: {only the changed wire fields}, "updateMask": "a,b"}`` (the mask in a stable order)."""
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValueError("not updatable in place: %s" % ", ".join(sorted(unknown)))
    obj, mask = {}, []
    for field in fields:
        if field in changes:
            wire, path = fields[field]
            obj[wire] = _wire_value(field, changes[field])
            mask.append(path)
    return {key: obj, "updateMask": ",".join(mask)}


def provider_update_body(current, changes):
    body = _update_body(PROVIDER_FIELDS, "provider", changes)
    body["provider"]["id"] = current["id"]
    return body


def cutename(client_id):
    """``clever-fox-42195@acme.conductorone.com/wfe`` -> ``clever-fox-42195``."""
    return str(client_id or "").split("@", 1)[0]


def trust(raw):
    return {
        "client_id": raw.get("clientId"),
        "name": raw.get("displayName"),
        "description": raw.get("description") or "",
        "service_principal_id": raw.get("servicePrincipalId"),
        "provider_id": raw.get("providerId"),
        "condition": raw.get("conditionExpression"),
        "allowed_cidrs": list(raw.get("allowSourceCidrs") or []),
        "scoped_role_ids": list(raw.get("scopedRoleIds") or []),
        "passthrough_claims": list(raw.get("passthroughClaims") or []),
        "enabled": not raw.get("disabled", False),
        "created_at": raw.get("createdAt"),
        "updated_at": raw.get("updatedAt"),
    }


def trust_search(provider_id=None, principal_id=None):
    """SearchTrusts' filters (its body without the paging); none given: every trust of the tenant."""
    body = {}
    if provider_id:
        body["providerId"] = provider_id
    if principal_id:
        body["servicePrincipalId"] = principal_id
    return body


def trust_create_body(desired):
    body = {
        "displayName": desired["name"],
        "providerId": desired["provider_id"],
        "conditionExpression": desired["condition"],
    }
    if desired.get("description"):
        body["description"] = desired["description"]
    for field in ("allowed_cidrs", "scoped_role_ids", "passthrough_claims"):
        if desired.get(field):
            body[TRUST_FIELDS[field][0]] = list(desired[field])
    return body


def trust_update_body(current, changes):
    body = _update_body(TRUST_FIELDS, "trust", changes)
    body["trust"]["clientId"] = current["client_id"]
    return body


def token_test(raw):
    """TestToken's answer as {matched, steps: [{name, passed, skipped, message}]} (no token, no claims)."""
    steps = []
    for key in TOKEN_STEPS:
        step = raw.get(key)
        if not isinstance(step, dict):
            continue
        message = step.get("detail") or ""
        if step.get("expected") and not step.get("passed") and not step.get("skipped"):
            message = "%s (expected %s, got %s)" % (message, step.get("expected"), step.get("actual") or "nothing")
        steps.append({"name": step.get("stepName") or key, "passed": bool(step.get("passed")),
                      "skipped": bool(step.get("skipped")), "message": redact(message.strip())})
    return {"matched": bool(raw.get("overallResult")), "steps": steps}
