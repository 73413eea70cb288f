# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic of the provision and rotate roles, as filters the roles' tasks call.

The roles run one ``service_principals`` task per platform (each new secret is stored,
proven and cut over inside it); what is left is bookkeeping: check the list and split it
into one run per platform with every default resolved, index tokens by platform, and turn
the runs' results into the facts the roles set. Everything is keyed by platform first, so
one principal name on ConductorOne and on Orkes never collides.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.module_utils import credential_plan
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.permissions import entry_options
from ansible_collections.conductor.principals.plugins.module_utils.platforms import (
    CAPABILITIES, expiry_choices, permission_choices, platforms_where)
from ansible_collections.conductor.principals.plugins.module_utils.role_inputs import check_entries
from ansible_collections.conductor.principals.plugins.plugin_utils.federation_role import federation_plan

PLATFORMS = tuple(CAPABILITIES)
# The settings of a credential and of a principal that a platform may or may not have: each
# platform's capabilities say which it has.
PLATFORM_CREDENTIAL_SETTINGS = tuple(o for o in credential_plan.CREDENTIAL_SETTINGS if o != "name")
PRINCIPAL_SETTINGS = credential_plan.PRINCIPAL_SETTINGS
CREDENTIAL_SETTINGS = PLATFORM_CREDENTIAL_SETTINGS + ("replace_on_change",)
# The grants of the platforms that have them (one set of names: only Orkes has grants today).
PERMISSION_TARGET_TYPES = permission_choices()[0]
PERMISSION_ACCESS = permission_choices()[1]
# One entry of provision_principals (rotate_principals), checked here rather than by
# meta/argument_specs.yml, whose own check neither names the entry nor stays one sentence.
CREDENTIAL_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    expires_days=dict(type="int", choices=expiry_choices()),
    allowed_cidrs=dict(type="list", elements="str"),
    scoped_roles=dict(type="list", elements="str"),
    require_dpop=dict(type="bool"),
    enabled=dict(type="bool"),
    replace_on_change=dict(type="bool", default=False),
    rotate_before_days=dict(type="int"),
    verify=dict(type="bool"),
)
PRINCIPAL_OPTIONS = dict(
    name=dict(type="str", required=True),
    platform=dict(type="str", choices=list(PLATFORMS)),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    roles=dict(type="list", elements="str"),
    tags=dict(type="dict"),
    permissions=dict(type="list", elements="dict", options=entry_options(PERMISSION_TARGET_TYPES, PERMISSION_ACCESS)),
    credentials=dict(type="list", elements="dict", default=[], options=CREDENTIAL_OPTIONS),
    trusts=dict(type="list", elements="dict", default=[]),  # entries checked by federation_plan
)
# What a caller of the facts gets for each credential (the interface's contract).
FACT_FIELDS = ("client_id", "client_secret", "server_url")


def _given(entry, name):
    return isinstance(entry, dict) and entry.get(name) is not None


def _quoted(names):
    return ", ".join("'%s'" % name for name in names)


def _having(wrong, settings_of):
    """The capabilities of the platforms that have every one of the settings ``wrong``."""
    return [CAPABILITIES[p] for p in platforms_where(lambda c: set(wrong) <= settings_of(c))]


def _check_platform_options(principal, platform, credential=None):
    """One sentence naming the principal (and credential) that sets an option its platform does not have."""
    capabilities = CAPABILITIES[platform]
    if credential is None:
        wrong = [o for o in PRINCIPAL_SETTINGS if _given(principal, o) and o not in capabilities.principal_settings]
        if wrong:
            owners = _having(wrong, lambda c: c.principal_settings)
            raise AnsibleFilterError(
                "Principal '%s' sets %s, which only %s have; remove %s or set platform: %s."
                % (principal["name"], _quoted(wrong), " or ".join("%s %ss" % (c.label, c.principal_noun) for c in owners),
                   "it" if len(wrong) == 1 else "them", " or ".join(c.platform for c in owners)))
        return
    wrong = [o for o in PLATFORM_CREDENTIAL_SETTINGS
             if _given(credential, o) and o not in capabilities.credential_settings]
    if wrong:
        owners = _having(wrong, lambda c: c.credential_settings)
        raise AnsibleFilterError(
            "Credential '%s' of principal '%s' (%s) sets %s, which only %s credentials have; remove %s."
            % (credential.get("name"), principal["name"], platform, _quoted(wrong),
               " or ".join(c.label for c in owners) or "no", "it" if len(wrong) == 1 else "them"))


def provision_plan(principals, platform="conductorone", rotate_before_days=14, force_rotate=False, verify=True,
                   revoke_previous=True, revoke_previous_after_unused_hours=0):
    """Check ``provision_principals`` and split it into one ``service_principals`` run per platform.

    Returns ``platforms`` (each once, in order), ``absent`` principals (each with its platform),
    ``credentials`` (one dict per credential of a present principal, every default resolved),
    ``stored_keys`` (the store entries of the present credentials), ``runs`` (per platform, the
    ``principals`` of its service_principals task, whether it needs the store — ``needs_store``:
    it has credentials, or principals to remove with their entries — and, where its credentials
    record their last use, ``revoke_previous_after_unused_hours``) and ``needs_store`` (whether
    any run does). Raises one
    sentence naming the principal and credential when the list cannot be provisioned.
    """
    if not isinstance(principals, list):
        raise AnsibleFilterError("provision_principals must be a list of principals, not %s."
                                 % type(principals).__name__)
    try:
        check_entries(principals, PRINCIPAL_OPTIONS, "provision_principals")
    except ConfigError as exc:
        raise AnsibleFilterError(str(exc))
    plan = {"platforms": [], "absent": [], "credentials": [], "stored_keys": []}
    runs = {}
    seen = set()
    for principal in principals:
        name = principal["name"]
        where = principal.get("platform") or platform
        if (where, name) in seen:
            raise AnsibleFilterError(
                "provision_principals names a principal more than once on one platform: '%s' (%s); name each once."
                % (name, where))
        seen.add((where, name))
        if where not in plan["platforms"]:
            plan["platforms"].append(where)
            runs[where] = _run(where, revoke_previous, revoke_previous_after_unused_hours)
        if (principal.get("state") or "present") == "absent":
            plan["absent"].append({"name": name, "platform": where})
            runs[where]["principals"].append({"name": name, "platform": where, "state": "absent"})
            runs[where]["needs_store"] = True
            continue
        _check_platform_options(principal, where)
        ensured = {"name": name, "platform": where}
        ensured.update((k, principal[k]) for k in PRINCIPAL_SETTINGS if _given(principal, k))
        credentials = _credentials(principal, where, rotate_before_days, force_rotate, verify)
        plan["credentials"].extend(credentials)
        runs[where]["principals"].append(dict(
            ensured, credentials=[{k: v for k, v in c.items() if k not in ("principal", "platform")} for c in credentials],
            trusts=[{k: v for k, v in t.items() if v is not None} for t in principal.get("trusts") or []]))
        runs[where]["needs_store"] = runs[where]["needs_store"] or bool(credentials)
    plan["stored_keys"] = [{"platform": c["platform"], "principal": c["principal"], "credential": c["name"]}
                           for c in plan["credentials"] if c["state"] == "present"]
    plan["runs"] = [runs[p] for p in plan["platforms"]]
    plan["needs_store"] = any(run["needs_store"] for run in plan["runs"])
    return plan


def _run(platform, revoke_previous, unused_hours):
    """One platform's service_principals task, before its principals are added."""
    run = {"platform": platform, "principals": [], "needs_store": False}
    # Retiring the previous credential by its last use needs a platform that records it; elsewhere
    # revoke_previous alone decides.
    if revoke_previous and unused_hours and int(unused_hours) > 0 and CAPABILITIES[platform].records_credential_use:
        run["revoke_previous_after_unused_hours"] = int(unused_hours)
    return run


def _credentials(principal, platform, rotate_before_days, force_rotate, verify):
    name = principal["name"]
    credentials = principal.get("credentials") or []
    flat, names = [], []
    for credential in credentials:
        if credential["name"] in names:
            raise AnsibleFilterError("Principal '%s' (%s) lists credential '%s' more than once; name each once."
                                     % (name, platform, credential["name"]))
        names.append(credential["name"])
        _check_platform_options(principal, platform, credential)
        state = credential.get("state") or "present"
        entry = {
            "principal": name, "platform": platform, "name": credential["name"], "state": state,
            "rotate_before_days": (credential["rotate_before_days"] if _given(credential, "rotate_before_days")
                                   else rotate_before_days),
            "force_rotate": bool(force_rotate),
            "verify": bool(credential["verify"] if _given(credential, "verify") else verify),
        }
        entry.update((k, credential[k]) for k in CREDENTIAL_SETTINGS if _given(credential, k))
        flat.append(entry)
    present = [c["name"] for c in flat if c["state"] == "present"]
    capabilities = CAPABILITIES[platform]
    if not capabilities.credentials_have_names and len(present) > 1:  # nameless keys: the API cannot tell them apart
        raise AnsibleFilterError(
            "%s %s '%s' lists more than one present credential (%s); an %s has one %s here, so keep one and "
            "mark the others state: absent."
            % (capabilities.label, capabilities.principal_noun, name, _quoted(present), capabilities.principal_noun,
               capabilities.credential_noun))
    return flat


def absent_principals(entries):
    """``decommission_principals`` (names, or dicts with name and platform) as provision_principals to remove."""
    out = []
    for entry in entries or []:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AnsibleFilterError("Each entry of decommission_principals must be a name or a dict with a name; "
                                     "%r is neither." % (entry,))
        removed = {"name": entry["name"], "state": "absent", "credentials": []}
        if entry.get("platform"):
            removed["platform"] = entry["platform"]
        out.append(removed)
    return out


def bearer_tokens(results):
    """{platform: access token} from the looped access_token results.

    DPoP-bound tokens are left out: they need their proof key on every call, so the modules
    then authenticate by themselves.
    """
    return {r["item"]: r["access_token"] for r in _results(results)
            if r.get("token_type") == "Bearer" and r.get("access_token")}


# The summary's words for what happened to a present credential (service_principals' row actions).
SUMMARY_ACTIONS = {"created": "created", "rotated": "rotated", "replaced": "rotated", "updated": "changed"}


def provision_outcome(runs, plan):
    """The facts of a run from the looped service_principals results (one per platform) and the plan.

    Returns ``by_platform`` ({platform: {principal: {credential: {client_id, client_secret,
    server_url}}}}), ``by_name`` (the same without the platform level; on a name used on both
    platforms the later entry of provision_principals wins), ``summary`` (one row per present
    credential, never a secret), ``removed`` (one row per credential marked absent and per
    principal removed) and ``trusts`` ({principal: {trust: {client_id, server_url}}}, present
    trusts). The secrets are the runs' ``secrets``: each new one from its create, any other from
    the store, and only where the entry is of that credential.
    """
    results = {r["item"]["platform"]: r for r in _results(runs)}
    credentials, principals, trusts = {}, {}, {}
    for platform, result in results.items():
        credentials.update(((platform, row["principal"], row["name"]), row) for row in result.get("credentials") or [])
        principals.update(((platform, row["name"]), row) for row in result.get("principals") or [])
        trusts.update(((platform, row["principal"], row["name"]), dict(row, server_url=result.get("server_url")))
                      for row in result.get("trusts") or [])
    outcome = {"by_platform": {}, "by_name": {}, "summary": [], "removed": [], "trusts": {}}
    for item in plan.get("credentials") or []:
        platform, principal, name = item["platform"], item["principal"], item["name"]
        row = credentials.get((platform, principal, name))
        if row is None:  # not reached (its principal failed)
            continue
        revoked = len(row.get("revoked_ids") or [])
        if item["state"] != "present":
            revoked = revoked or (1 if row["action"] == "revoked" else 0)
            outcome["removed"].append({"platform": platform, "principal": principal, "credential": name,
                                       "action": "revoked" if revoked else "absent", "revoked": revoked})
            continue
        outcome["by_platform"].setdefault(platform, {}).setdefault(principal, {})
        outcome["by_name"].setdefault(principal, {})
        secret = (((results[platform].get("secrets") or {}).get(platform) or {}).get(principal) or {}).get(name)
        if secret and secret.get("client_secret"):
            fact = {field: secret.get(field) for field in FACT_FIELDS}
            outcome["by_platform"][platform][principal][name] = fact
            outcome["by_name"][principal][name] = fact
        outcome["summary"].append({
            "principal": principal, "credential": name, "platform": platform, "client_id": row.get("client_id"),
            "credential_id": row.get("id"), "expires_at": row.get("expires_at"),
            "action": SUMMARY_ACTIONS.get(row["action"], "changed" if revoked else "unchanged"),
            "stored": row.get("stored"), "revoked": revoked,
        })
    for item in plan.get("absent") or []:
        row = principals.get((item["platform"], item["name"])) or {}
        outcome["removed"].append({"platform": item["platform"], "principal": item["name"], "credential": "",
                                   "action": "removed" if row.get("action") == "removed" else "absent", "revoked": 0})
    for run in plan.get("runs") or []:
        for principal in run["principals"]:
            for trust in principal.get("trusts") or []:
                row = trusts.get((run["platform"], principal["name"], trust["name"]))
                if row is not None and (trust.get("state") or "present") == "present":
                    outcome["trusts"].setdefault(principal["name"], {})[trust["name"]] = {
                        "client_id": row.get("client_id"), "server_url": row.get("server_url")}
    return outcome


def credential_pairs(by_platform):
    """Every credential of a credentials-by-platform fact as one flat dict, for a loop."""
    return [dict(secret, platform=platform, principal=principal, credential=name)
            for platform, principals in sorted((by_platform or {}).items())
            for principal, credentials in principals.items()
            for name, secret in credentials.items()]


def tokens_by_name(results):
    """{principal: {credential: token}} from access_token looped over credential_pairs."""
    out = {}
    for result in _results(results):
        item = result["item"]
        out.setdefault(item["principal"], {})[item["credential"]] = {
            "access_token": result.get("access_token"), "token_type": result.get("token_type"),
            "expires_at": result.get("expires_at"), "headers": result.get("headers"),
            "dpop_key": result.get("dpop_key"), "platform": item["platform"]}
    return out


def _results(registered):
    """The per-item results of a looped task (the registered dict, or its list), skipped ones left out."""
    if isinstance(registered, dict):
        registered = registered.get("results") or []
    return [r for r in registered or [] if isinstance(r, dict) and not r.get("skipped")]


class FilterModule(object):
    def filters(self):
        return {
            "federation_plan": federation_plan,
            "provision_plan": provision_plan,
            "absent_principals": absent_principals,
            "bearer_tokens": bearer_tokens,
            "provision_outcome": provision_outcome,
            "credential_pairs": credential_pairs,
            "tokens_by_name": tokens_by_name,
        }
