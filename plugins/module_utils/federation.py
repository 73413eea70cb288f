# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload federation (C1): providers (trusted OIDC issuers) and trusts of service principals.

The decisions are pure functions over plain values (conditions, the safety rule, what differs,
the plan); ``ensure_provider`` and ``ensure_trust`` apply a plan through the adapter's neutral
federation calls (platforms/c1.py). Neutral shapes:
  provider {id, name, issuer_url, type, description, enabled, spiffe_bundle_endpoint_url,
            created_at, updated_at}
  trust    {client_id, name, description, service_principal_id, provider_id, condition,
            allowed_cidrs, scoped_role_ids, passthrough_claims, enabled, created_at, updated_at}
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from urllib.parse import urlsplit, urlunsplit

from .cidrs import normalise_cidrs
from .client import create_once
from .common_args import CONDITION_FORMS, PROVIDER_TYPES
from .compare import describe, differences
from .conditions import broad_reason, check_broad, issuer_type
from .errors import ConductorError, ConfigError, redact
from .principals import find_by_name

MAX_CONDITION_BYTES = 1024

# What the provider fields are called in plans and messages; the mutable ones change in place.
PROVIDER_MUTABLE = ("name", "description", "enabled", "spiffe_bundle_endpoint_url")
PROVIDER_IMMUTABLE = ("issuer_url", "type")
TRUST_MUTABLE = ("name", "description", "condition", "allowed_cidrs", "scoped_role_ids", "passthrough_claims",
                 "enabled")
# The options whose text goes into a request (a condition, a wire body, a lookup), at any depth.
PROVIDER_TEXT = ("id", "issuer_url", "name", "description", "spiffe_bundle_endpoint_url")
TRUST_TEXT = ("service_principal", "service_principal_id", "name", "trust_client_id", "description", "provider",
              "condition", "github", "gitlab", "kubernetes", "allowed_cidrs", "scoped_roles", "passthrough_claims",
              "tests", "test_token", "test_token_source_ip")


# ---- text -----------------------------------------------------------------------------------
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value, path):
    """(path, code point) of the first lone surrogate in ``value`` (text, or lists and dicts of it), or None."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return (path, "U+%04X" % ord(found.group())) if found else None
    if isinstance(value, dict):
        in_key = _lone_surrogate(list(value), path)
        if in_key:  # named by its dict: the key itself cannot be shown
            return path, in_key[1]
        items = [(item, "%s.%s" % (path, key)) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(item, "%s[%d]" % (path, index)) for index, item in enumerate(value)]
    else:
        return None
    return next((hit for hit in (_lone_surrogate(item, where) for item, where in items) if hit), None)


def check_text(params, options):
    """Refuse a lone surrogate (text decoded from bytes that are not UTF-8) in any of ``options``: no API takes it
    as UTF-8, and the value is never shown (it may be a token)."""
    for option in options:
        hit = _lone_surrogate(params.get(option), option)
        if hit:
            raise ConfigError("%s: holds a lone surrogate (%s), which is not Unicode text; give it as valid UTF-8 "
                              "(it may come from bytes decoded as the wrong encoding)" % hit)


# ---- providers ------------------------------------------------------------------------------
def normalise_issuer(url):
    """The issuer URL as C1 keeps it: lowercase scheme and host, no trailing slash."""
    text = str(url or "").strip()
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        raise ConfigError("issuer_url: %r is not an absolute URL such as https://token.actions.githubusercontent.com"
                          % text)
    if parts.scheme.lower() not in ("https", "http", "spiffe"):
        raise ConfigError("issuer_url: %r must start with https:// (an OIDC issuer) or spiffe:// (a SPIFFE trust "
                          "domain)" % text)
    if parts.scheme.lower() == "http" and not _loopback(parts.hostname):
        raise ConfigError("issuer_url: %r must be https:// (C1 accepts http:// only for a loopback host such as "
                          "127.0.0.1)" % text)
    if parts.query or parts.fragment:
        raise ConfigError("issuer_url: %r must not carry a query or fragment" % text)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def desired_provider(params):
    """The managed provider fields from module parameters (None = not managed). Without ``type`` a well-known
    issuer gives its own (GitHub's is github_actions), any other is custom."""
    issuer = normalise_issuer(params["issuer_url"]) if params.get("issuer_url") else None
    kind = params.get("type") or issuer_type(issuer) or (issuer and "custom")
    if kind is not None and kind not in PROVIDER_TYPES:
        raise ConfigError("type: %r is not one of %s" % (kind, ", ".join(PROVIDER_TYPES)))
    bundle = params.get("spiffe_bundle_endpoint_url")
    if bundle and kind not in ("spiffe", None):
        raise ConfigError("spiffe_bundle_endpoint_url applies only to type spiffe; remove it or set type: spiffe")
    if issuer and (kind == "spiffe") != issuer.startswith("spiffe://"):
        raise ConfigError("issuer_url: type spiffe takes a spiffe:// trust domain and every other type an "
                          "https:// issuer; %r does not fit type %s" % (issuer, kind))
    return {
        "issuer_url": issuer,
        "type": kind,
        "name": params.get("name"),
        "description": params.get("description"),
        "enabled": params.get("enabled"),
        "spiffe_bundle_endpoint_url": bundle,
    }


def find_provider(providers, reference):
    """The provider a trust names by issuer URL, display name or ID, or None."""
    reference = str(reference or "").strip()
    by_id = [p for p in providers if p.get("id") == reference]
    if by_id:
        return by_id[0]
    if "://" in reference:
        try:
            issuer = normalise_issuer(reference)
        except ConfigError:
            issuer = None
        found = [p for p in providers if p.get("issuer_url") == issuer]
        if found:
            return found[0]
    named = [p for p in providers if p.get("name") == reference]
    if len(named) > 1:
        raise ConfigError("provider: %d providers are named %r (%s); give the issuer URL or the ID"
                          % (len(named), reference, ", ".join(sorted(p["issuer_url"] for p in named))))
    return named[0] if named else None


@dataclasses.dataclass(frozen=True)
class ObjectPlan(object):
    """What to do with one provider or trust: ``action`` none, create, update, replace or delete (actions.DONE);
    ``changes`` {field: (current, desired)} to PATCH. C1's create takes no ``disabled``: one made disabled is
    created, then disabled in the same task (``disable_after_create``), and deleted again if that fails."""

    action: str
    changes: dict = dataclasses.field(default_factory=dict)
    disable_after_create: bool = False


def _plan(action, changes=None, disable_after_create=False):
    return ObjectPlan(action, changes or {}, disable_after_create)


def _made_disabled(desired, current):
    """Whether the object a create makes must end disabled: as desired, else as the one it replaces."""
    enabled = desired.get("enabled")
    if enabled is None and current is not None:
        enabled = current.get("enabled")
    return enabled is False


def plan_provider(current, desired, state="present", replace_on_change=False):
    """What to do with one provider, as an ObjectPlan.

    ``changes`` holds {field: (current, desired)} of the mutable fields to PATCH; a difference of an
    immutable field (issuer_url, type) is refused naming it unless ``replace_on_change``.
    """
    if state == "absent":
        return _plan("delete" if current else "none")
    if current is None:
        if not desired.get("issuer_url"):
            raise ConfigError("Give issuer_url to create a provider")
        return _plan("create", disable_after_create=_made_disabled(desired, None))
    wanted = dict(desired)
    if wanted.get("issuer_url") is None:
        wanted.pop("issuer_url")
    changes = differences(current, wanted)
    fixed = {k: v for k, v in changes.items() if k in PROVIDER_IMMUTABLE}
    if fixed and not replace_on_change:
        raise ConfigError("%s cannot change on the live provider %s (%s); set replace_on_change: true to "
                          "replace it" % (" and ".join(sorted(fixed)), current.get("id"), describe(fixed)))
    if fixed:
        return _plan("replace", changes, _made_disabled(desired, current))
    return _plan("update" if changes else "none", changes)


def trusts_using(adapter, provider_id):
    """"principal/trust" labels of every trust that references the provider: one search (SearchTrusts),
    and the principals' names only when some trust uses it."""
    # The filter checked again: a refusal names only the trusts that do use the provider.
    users = [t for t in adapter.search_trusts(provider_id=provider_id) if t.get("provider_id") == provider_id]
    if not users:
        return []
    names = {p["id"]: p.get("name") for p in adapter.list_principals()}
    return sorted("%s/%s" % (names.get(t.get("service_principal_id"), t.get("service_principal_id")),
                             t.get("name") or t.get("client_id")) for t in users)


def _refuse_in_use(adapter, provider, doing):
    users = trusts_using(adapter, provider["id"])
    if users:
        raise ConfigError("The provider %s (%s) cannot be %s: %d trust%s use%s it (%s); remove or move %s first"
                          % (provider.get("name") or provider["id"], provider.get("issuer_url"), doing, len(users),
                             "" if len(users) == 1 else "s", "s" if len(users) == 1 else "", ", ".join(users),
                             "it" if len(users) == 1 else "them"))


def _current_provider(adapter, params, desired):
    providers = adapter.list_providers()
    if params.get("id"):
        found = [p for p in providers if p.get("id") == params["id"]]
        if not found:
            raise ConfigError("No federation provider has id %r; remove id to create one by issuer_url" % params["id"])
        return found[0]
    if desired.get("issuer_url"):
        found = [p for p in providers if p.get("issuer_url") == desired["issuer_url"]]
        return found[0] if found else None
    if params.get("name"):
        return find_provider(providers, params["name"])
    raise ConfigError("Give issuer_url (or id) to say which federation provider to manage")


def _created_provider(desired):
    created = dict(desired)
    created.update(id=None, created_at=None, updated_at=None)
    created["name"] = created.get("name") or created["issuer_url"]
    created["enabled"] = True if created.get("enabled") is None else created["enabled"]
    created["description"] = created.get("description") or ""
    return created


def ensure_provider(adapter, params, check_mode=False):
    check_text(params, PROVIDER_TEXT)
    desired = desired_provider(params)
    state = params.get("state") or "present"
    current = _current_provider(adapter, params, desired)
    plan = plan_provider(current, desired, state, params.get("replace_on_change"))
    action = plan.action
    if action == "none":
        return {"changed": False, "provider": current, "diff": {"before": current or {}, "after": current or {}}}
    if action == "delete":
        _refuse_in_use(adapter, current, "removed")
        if not check_mode:
            adapter.delete_provider(current)
        return {"changed": True, "diff": {"before": current, "after": {}}}
    if action == "update":
        after = dict(current, **{field: pair[1] for field, pair in plan.changes.items()})
        if not check_mode:
            after = adapter.update_provider(current, {field: pair[1] for field, pair in plan.changes.items()})
        return {"changed": True, "provider": after, "diff": {"before": current, "after": after}}
    # create, or replace (the issuer keeps one provider: the old one goes first when the issuer stays)
    if action == "replace":
        _refuse_in_use(adapter, current, "replaced")
    merged = dict(desired)
    if current is not None:
        for field in PROVIDER_MUTABLE + ("issuer_url",):
            if merged.get(field) is None:
                merged[field] = current.get(field)
    after = _created_provider(merged)
    if check_mode:
        return {"changed": True, "provider": after, "diff": {"before": current or {}, "after": after}}
    if action == "replace" and merged["issuer_url"] == current.get("issuer_url"):
        adapter.delete_provider(current)
        current_deleted = True
    else:
        current_deleted = False
    created, _recovered = create_once(
        lambda: adapter.create_provider(after),
        lambda: next((p for p in adapter.list_providers() if p.get("issuer_url") == after["issuer_url"]), None))
    if plan.disable_after_create and created.get("enabled") is not False:
        created = disable_or_undo("provider", created, lambda: adapter.update_provider(created, {"enabled": False}),
                                  lambda: adapter.delete_provider(created))
    if action == "replace" and not current_deleted:
        adapter.delete_provider(current)
    return {"changed": True, "provider": created, "diff": {"before": current or {}, "after": created}}


def provider_info(adapter, params):
    providers = adapter.list_providers()
    if params.get("name"):
        providers = [p for p in providers if p.get("name") == params["name"]]
    if params.get("issuer_url"):
        issuer = normalise_issuer(params["issuer_url"])
        providers = [p for p in providers if p.get("issuer_url") == issuer]
    return {"changed": False, "providers": providers}


# ---- conditions -----------------------------------------------------------------------------
def cel_string(value):
    """A CEL string literal for ``value`` (JSON's escapes are CEL's)."""
    return json.dumps(str(value), ensure_ascii=False)


def _equals(claim, value):
    return "claims.%s == %s" % (claim, cel_string(value))


def github_condition(spec):
    """CEL over the claims of a GitHub Actions OIDC token (token.actions.githubusercontent.com).

    repository -> claims.repository == "owner/repo"; ref -> claims.ref == "refs/heads/<branch>"
    (a value without "refs/" is a branch name); environment -> claims.environment; event_name ->
    claims.event_name; workflow_ref -> claims.workflow_ref ("owner/repo/.github/workflows/x.yml@ref").
    """
    if not spec.get("repository"):
        raise ConfigError("github needs repository (owner/name, for example acme/infra)")
    if "/" not in str(spec["repository"]):
        raise ConfigError("github.repository: %r must be owner/name, for example acme/infra" % spec["repository"])
    parts = [_equals("repository", spec["repository"])]
    if spec.get("ref"):
        ref = str(spec["ref"])
        parts.append(_equals("ref", ref if ref.startswith("refs/") else "refs/heads/" + ref))
    for claim in ("environment", "event_name", "workflow_ref"):
        if spec.get(claim):
            parts.append(_equals(claim, spec[claim]))
    return " && ".join(parts)


def gitlab_condition(spec):
    """CEL over the claims of a GitLab CI ID token (id_tokens:, issuer https://gitlab.com or yours).

    project_path -> claims.project_path == "group/project"; ref -> claims.ref == "<branch or tag>";
    ref_protected -> claims.ref_protected == "true" (GitLab puts the string "true" or "false");
    environment -> claims.environment.
    """
    if not spec.get("project_path"):
        raise ConfigError("gitlab needs project_path (group/project, for example acme/infra)")
    parts = [_equals("project_path", spec["project_path"])]
    if spec.get("ref"):
        parts.append(_equals("ref", spec["ref"]))
    if spec.get("ref_protected") is not None:
        parts.append(_equals("ref_protected", "true" if spec["ref_protected"] else "false"))
    if spec.get("environment"):
        parts.append(_equals("environment", spec["environment"]))
    return " && ".join(parts)


def kubernetes_condition(spec):
    """CEL over a Kubernetes service account token: claims.sub == "system:serviceaccount:<ns>:<name>"."""
    missing = [k for k in ("namespace", "service_account") if not spec.get(k)]
    if missing:
        raise ConfigError("kubernetes needs %s" % " and ".join(missing))
    return _equals("sub", "system:serviceaccount:%s:%s" % (spec["namespace"], spec["service_account"]))


BUILDERS = {"github": github_condition, "gitlab": gitlab_condition, "kubernetes": kubernetes_condition}


def build_condition(params):
    """The CEL of a trust from exactly one of condition, github, gitlab, kubernetes; None if none given.

    It checks the text of every trust option first: service_principals checks its list through here,
    before anything is written.
    """
    check_text(params, TRUST_TEXT)
    given = [form for form in CONDITION_FORMS if params.get(form) not in (None, "", {})]
    if len(given) > 1:
        raise ConfigError("Give one condition form, not %s" % " and ".join(given))
    if not given:
        return None
    form = given[0]
    if form == "condition":
        condition = str(params["condition"]).strip()
    else:
        condition = BUILDERS[form](params[form])
    size = len(condition.encode("utf-8"))
    if size > MAX_CONDITION_BYTES:
        raise ConfigError("The condition is %d bytes; C1 accepts at most %d: shorten it" % (size, MAX_CONDITION_BYTES))
    return condition


def check_samples(adapter, condition, samples):
    """Each ``{claims, expect}`` sample evaluated by the server (test-cel); a mismatch is bad input."""
    for index, sample in enumerate(samples or []):
        if not isinstance(sample, dict) or not isinstance(sample.get("claims"), dict) or "expect" not in sample:
            raise ConfigError("tests[%d] must be {claims: {...}, expect: true|false}" % index)
        expect = sample["expect"]
        if not isinstance(expect, bool):
            raise ConfigError("tests[%d].expect must be true or false, not %r" % (index, expect))
        answer = adapter.test_cel(condition, sample["claims"])
        # An evaluation error (a claim the sample lacks) refuses the token, as the exchange does.
        if answer.get("error") and expect:
            raise ConfigError("tests[%d]: the server could not evaluate the condition for these claims: %s"
                              % (index, redact(answer["error"])))
        matched = bool(answer.get("matched")) and not answer.get("error")
        if matched != expect:
            raise ConfigError("tests[%d]: the condition gave %s for these claims, expected %s; nothing was written"
                              % (index, str(matched).lower(), str(expect).lower()))
    return len(samples or [])


# ---- trusts ---------------------------------------------------------------------------------
def desired_trust(adapter, params, condition):
    """The managed trust fields (None = not managed)."""
    passthrough = params.get("passthrough_claims")
    return {
        "name": params.get("name"),
        "description": params.get("description"),
        "condition": condition,
        "allowed_cidrs": None if params.get("allowed_cidrs") is None else normalise_cidrs(params["allowed_cidrs"]),
        "scoped_role_ids": None if params.get("scoped_roles") is None else adapter.resolve_role_ids(
            params["scoped_roles"]),
        "passthrough_claims": None if passthrough is None else sorted({str(c) for c in passthrough}),
        "enabled": params.get("enabled"),
    }


def plan_trust(current, desired, provider_id, state="present", replace_on_change=False):
    """What to do with one trust, as an ObjectPlan."""
    if state == "absent":
        return _plan("delete" if current else "none")
    if current is None:
        if desired.get("condition") is None:
            raise ConfigError("Give the trust's condition: condition, github, gitlab or kubernetes")
        return _plan("create", disable_after_create=_made_disabled(desired, None))
    changes = differences(current, {k: desired.get(k) for k in TRUST_MUTABLE})
    if provider_id and current.get("provider_id") != provider_id:
        if not replace_on_change:
            raise ConfigError("The provider of trust %s cannot change (it is %s, wanted %s); set replace_on_change: "
                              "true to make a new trust (a new client ID) and delete this one"
                              % (current.get("client_id"), current.get("provider_id"), provider_id))
        return _plan("replace", changes, _made_disabled(desired, current))
    return _plan("update" if changes else "none", changes)


def disable_or_undo(kind, created, disable, undo):
    """Disable what a create just made, or delete it again: an object meant to be disabled is never left live.

    Returns what ``disable`` returns; when it fails, ``undo`` deletes the new object and the task fails
    with one sentence saying so (with the HTTP details of the refused disable).
    """
    label = "%s %r (%s)" % (kind, created.get("name"), created.get("client_id") or created.get("id"))
    try:
        return disable()
    except ConductorError as refused:
        try:
            undo()
        except ConductorError as kept:
            raise ConductorError("The new %s could not be disabled (%s) nor deleted again (%s), so it is live: "
                                 "delete it (state: absent)" % (label, _reason(refused, True), _reason(kept, True)))
        raise ConductorError("The new %s could not be disabled (%s), so its create was undone: it was deleted again"
                             % (label, _reason(refused)), status=refused.status, api_message=refused.api_message,
                             request_id=refused.request_id, attempts=refused.attempts)


def _reason(error, details=False):
    """"the API refused it" of "Could not update trust x: the API refused it", with its HTTP details if asked."""
    text = str(error).rstrip(".") if details else error.message
    what, _sep, reason = text.partition(": ")
    return reason if what.startswith("Could not ") and reason else text


def _trust_owner(adapter, params, check_mode):
    if params.get("service_principal_id"):
        found = adapter.get_principal(params["service_principal_id"])
        if found is None:
            raise ConfigError("No service principal has id %r; check service_principal_id"
                              % params["service_principal_id"])
        return found
    if not params.get("service_principal"):
        raise ConfigError("Give service_principal (a name) or service_principal_id")
    found = find_by_name(adapter.list_principals(), params["service_principal"])
    if found is None and not check_mode:
        raise ConfigError("No service principal is named %r; create it first with "
                          "conductor.principals.service_principal" % params["service_principal"])
    return found


def find_trust(trusts, name=None, client_id=None):
    if client_id:
        cute = str(client_id).split("@", 1)[0]
        return next((t for t in trusts if str(t.get("client_id") or "").split("@", 1)[0] == cute), None)
    matches = [t for t in trusts if t.get("name") == name]
    if len(matches) > 1:
        raise ConductorError("%d trusts of this service principal are named %r (%s); give trust_client_id for the "
                             "one you mean" % (len(matches), name, ", ".join(sorted(t["client_id"] for t in matches))))
    return matches[0] if matches else None


class TokenTestFailed(ConductorError):
    """test_token was refused: the failure carries the steps and what the task did before."""

    def __init__(self, message, token_test, changed, trust):
        super().__init__(message)
        self.token_test = token_test
        self.changed = changed
        self.trust = trust

    def to_dict(self):
        base = super().to_dict()
        base.update(token_test=self.token_test, changed=self.changed, trust=self.trust,
                    client_id=(self.trust or {}).get("client_id"))
        return base


def token_test_result(steps, matched):
    """``token_test`` of the result, from the adapter's neutral steps."""
    return {"matched": bool(matched), "steps": steps}


def failing_steps(token_test):
    return [s for s in token_test["steps"] if not s.get("passed") and not s.get("skipped")]


def check_source_ip(value):
    """TestToken's ``sourceIp``: an IPv4 or IPv6 address, optionally with a prefix (bad input otherwise)."""
    if value is None:
        return None
    try:
        ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise ConfigError("test_token_source_ip: %r is not an IPv4 or IPv6 address (such as 10.0.0.5 or 2001:db8::1)"
                          % value)
    return str(value).strip()


def run_token_test(adapter, trust, token, source_ip=None):
    answer = adapter.test_token(trust, token, source_ip)
    result = token_test_result(answer["steps"], answer["matched"])
    failed = failing_steps(result)
    if not result["matched"] or failed:
        detail = "; ".join("%s: %s" % (s["name"], s.get("message") or "failed") for s in failed) or "no step passed"
        raise result_error(result, trust, detail)
    return result


def result_error(token_test, trust, detail):
    return TokenTestFailed("test_token was refused by trust %s (%s): %s"
                           % (trust.get("name") or "", trust.get("client_id"), detail), token_test, None, trust)


def _predicted_trust(desired, owner_id, provider_id):
    trust = {k: desired.get(k) for k in TRUST_MUTABLE}
    trust.update(client_id=None, service_principal_id=owner_id, provider_id=provider_id, created_at=None,
                 updated_at=None)
    for field, empty in (("allowed_cidrs", []), ("scoped_role_ids", []), ("passthrough_claims", []),
                         ("description", "")):
        if trust[field] is None:
            trust[field] = empty
    trust["enabled"] = True if trust["enabled"] is None else trust["enabled"]
    return trust


def ensure_trust(adapter, params, check_mode=False):
    """Make one trust match ``params``; return the module result, and its plan's ``action`` (actions.DONE)."""
    check_text(params, TRUST_TEXT)
    state = params.get("state") or "present"
    if not params.get("name") and not params.get("trust_client_id"):
        raise ConfigError("Give name (or trust_client_id) to say which trust to manage")
    condition = None if state == "absent" else build_condition(params)
    source_ip = check_source_ip(params.get("test_token_source_ip"))
    if source_ip and not params.get("test_token"):
        raise ConfigError("test_token_source_ip needs test_token: give the token to test from that address")
    desired = None if state == "absent" else desired_trust(adapter, params, condition)
    provider = None
    if state != "absent" and params.get("provider"):
        provider = find_provider(adapter.list_providers(), params["provider"])
        if provider is None:
            raise ConfigError("provider: no federation provider has the issuer URL, name or ID %r; create it with "
                              "conductor.principals.federation_provider" % params["provider"])
    owner = _trust_owner(adapter, params, check_mode)
    if desired and desired["scoped_role_ids"] and owner:  # a scope the principal lacks gives nothing: refused
        adapter.check_held_roles(desired["scoped_role_ids"], owner, "trust")
    trusts = adapter.list_trusts(owner["id"]) if owner else []
    current = find_trust(trusts, params.get("name"), params.get("trust_client_id"))
    if current is None and params.get("trust_client_id") and state != "absent":
        raise ConfigError("No trust of this service principal has client_id %r; remove trust_client_id to create one "
                          "by name" % params["trust_client_id"])
    if state != "absent" and current is None and provider is None:
        raise ConfigError("Give provider (its issuer URL, name or ID) to create the trust")

    plan = plan_trust(current, desired, provider and provider["id"], state, params.get("replace_on_change"))
    action = plan.action
    warnings = []
    if action in ("create", "update", "replace") and desired.get("condition") is not None:
        judged = provider or _provider_of(adapter, current) or {}
        reason = check_broad(desired["condition"], judged.get("type"), params.get("allow_broad_condition"),
                             judged.get("issuer_url"))
        if reason:
            warnings.append("The trust's condition is broad (allowed by allow_broad_condition): %s" % reason)
    if params.get("tests"):
        check_condition = (desired or {}).get("condition") or (current or {}).get("condition")
        if check_condition is None:
            raise ConfigError("tests need a condition to evaluate: give condition, github, gitlab or kubernetes")
        check_samples(adapter, check_condition, params["tests"])

    result = dict(_apply_trust(adapter, plan, current, desired, owner, provider, check_mode), action=action)
    if warnings:
        result["warnings"] = warnings
    trust = result.get("trust")
    if params.get("test_token") and state != "absent":
        if trust and trust.get("client_id") and not (check_mode and result["changed"]):
            try:
                result["token_test"] = run_token_test(adapter, trust, params["test_token"], source_ip)
            except TokenTestFailed as exc:
                exc.changed = result["changed"]
                raise
        else:
            result.setdefault("warnings", []).append(
                "test_token was not checked: in check mode the trust would change first")
    return result


def _provider_of(adapter, trust):
    return next((p for p in adapter.list_providers() if p.get("id") == (trust or {}).get("provider_id")), None)


def _apply_trust(adapter, plan, current, desired, owner, provider, check_mode):
    action = plan.action
    if action == "none":
        return {"changed": False, "trust": current, "diff": {"before": current or {}, "after": current or {}}}
    if action == "delete":
        if not check_mode:
            adapter.delete_trust(current)
        return {"changed": True, "diff": {"before": current, "after": {}}}
    if action == "update":
        changes = {field: pair[1] for field, pair in plan.changes.items()}
        after = dict(current, **changes)
        if not check_mode:
            after = adapter.update_trust(current, changes)
        return {"changed": True, "trust": after, "diff": {"before": current, "after": after}}
    merged = dict(desired)
    if current is not None:  # replace: what is not given is kept from the old trust
        for field in TRUST_MUTABLE:
            if merged.get(field) is None:
                merged[field] = current.get(field)
    owner_id = owner["id"] if owner else None
    after = _predicted_trust(merged, owner_id, provider["id"])
    if not after.get("name"):
        raise ConfigError("Give name to create the trust")
    if check_mode:
        return {"changed": True, "trust": after, "diff": {"before": current or {}, "after": after}}
    known = {t.get("client_id") for t in adapter.list_trusts(owner_id)}
    created, _recovered = create_once(
        lambda: adapter.create_trust(owner_id, after),
        lambda: next((t for t in adapter.list_trusts(owner_id)
                      if t.get("name") == after["name"] and t.get("client_id") not in known), None))
    if plan.disable_after_create and created.get("enabled") is not False:
        created = disable_or_undo("trust", created, lambda: adapter.update_trust(created, {"enabled": False}),
                                  lambda: adapter.delete_trust(created))
    if current is not None:
        adapter.delete_trust(current)
    return {"changed": True, "trust": created, "diff": {"before": current or {}, "after": created}}


def trust_info(adapter, params):
    """The trusts of one principal (its listing), or of every principal (one search, SearchTrusts)."""
    if params.get("service_principal") or params.get("service_principal_id"):
        trusts = adapter.list_trusts(_trust_owner(adapter, params, check_mode=False)["id"])
    else:
        trusts = adapter.search_trusts()
    if params.get("name"):
        trusts = [t for t in trusts if t.get("name") == params["name"]]
    return {"changed": False, "trusts": trusts}


def trust_rows(adapter, principals):
    """credential_report's rows of the trusts (``kind: trust``) of ``principals``, read with one search
    (SearchTrusts, page by page): flags ``broad`` (the safety rule) and ``disabled``; no expiry and no last use."""
    providers = {p["id"]: p for p in adapter.list_providers()}
    trusts = {}
    for trust in adapter.search_trusts():  # one search for every principal, not one listing each
        trusts.setdefault(trust.get("service_principal_id"), []).append(trust)
    rows = []
    for principal in principals:
        for trust in trusts.get(principal["id"], ()):
            flags = []
            provider = providers.get(trust.get("provider_id")) or {}
            if broad_reason(trust.get("condition") or "", provider.get("type"), provider.get("issuer_url")):
                flags.append("broad")
            if trust.get("enabled") is False:
                flags.append("disabled")
            rows.append({
                "kind": "trust", "service_principal": principal["name"], "service_principal_id": principal["id"],
                "personal": False, "name": trust.get("name"), "id": trust.get("client_id"),
                "client_id": trust.get("client_id"), "status": "ACTIVE" if trust.get("enabled") else "INACTIVE",
                "created_at": trust.get("created_at"), "expires_at": None, "expires_in_days": None,
                "last_used_at": None, "days_unused": None, "provider_id": trust.get("provider_id"),
                "condition": trust.get("condition"), "flags": flags,
            })
    return rows
