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

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.validation import check_type_bool, check_type_int

from ansible_collections.conductor.principals.plugins.module_utils.arguments import plain
from ansible_collections.conductor.principals.plugins.module_utils.common_args import store_argument_spec
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.inputs import check_principals
from ansible_collections.conductor.principals.plugins.module_utils.platforms import ADAPTERS, CAPABILITIES
from ansible_collections.conductor.principals.plugins.module_utils.role_inputs import check_option
from ansible_collections.conductor.principals.plugins.plugin_utils.federation_role import federation_plan

# What a caller of the facts gets for each credential (the interface's contract).
FACT_FIELDS = ("client_id", "client_secret", "server_url")


# Each setting of a run of the provision role: its type and its value when no variable gives it.
SETTINGS = {
    "principals": ("list", []), "federation_providers": ("list", []), "platform": ("str", "conductorone"),
    "store": ("dict", None), "rotate_before_days": ("int", 14), "force_rotate": ("bool", False),
    "revoke_previous": ("bool", True), "revoke_previous_after_unused_hours": ("int", 0),
    "max_overlap_days": ("int", 7), "verify": ("bool", True), "parallelism": ("int", 8),
    "fetch_tokens": ("bool", False), "allow_empty": ("bool", False),
}
# The rotate role's names that are not its prefix plus the setting's name.
RENAMED = {"within_days": "rotate_before_days", "all": "force_rotate"}
ROLE_PREFIXES = ("provision_", "rotate_", "decommission_")
# What a run does to its list, for the sentence about an empty one.
VERBS = {"provision_": "provision", "rotate_": "rotate", "decommission_": "decommission"}


def _setting(variable):
    prefix = next(p for p in ROLE_PREFIXES if variable.startswith(p))
    rest = variable[len(prefix):]
    return prefix, RENAMED.get(rest, rest)


def _typed(variable, kind, value):
    """``value`` of role variable ``variable`` as its documented type, whatever its source: ``-e key=value`` and
    AWX surveys give text ("14", "true"; a list as JSON or YAML), JSON gives what it says."""
    try:
        if kind == "int":
            return check_type_int(value)
        if kind == "bool":
            return check_type_bool(value)
    except TypeError:
        raise ConfigError("%s must be %s, not %r" % (variable, "a whole number" if kind == "int" else "true or false",
                                                     value))
    if kind in ("list", "dict") and isinstance(value, str):
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        value = parsed if parsed is not None else ([] if kind == "list" else None)
    if kind == "list" and not isinstance(value, list):
        raise ConfigError("%s must be a list, not %s" % (variable, type(value).__name__))
    if kind == "dict" and value is not None and not isinstance(value, dict):
        raise ConfigError("%s must be a dictionary, not %s" % (variable, type(value).__name__))
    if kind == "str" and value is not None:
        value = str(value)
    return value


def provision_inputs(given, handed=None, conductor_principals=None):
    """A run of the provision role from its variables: ``{error}`` (one sentence, for the role's fail task) or
    ``{settings, plan, federation}``.

    ``given`` are the provision role's own variables (``provision_principals``, ``provision_store``, ...);
    ``handed`` those the rotate role or a playbook hands on under a private name (``rotate_principals``,
    ``rotate_within_days``, ``decommission_principals``, ...), so that no extra var of a provision_ name outranks
    them; each setting handed replaces the one given. Every value is typed as documented, whatever its source.
    ``conductor_principals``: the one list, named in a sentence about the list when it is the list given.
    """
    try:
        return _provision_inputs(plain(given or {}), plain(handed or {}), plain(conductor_principals))
    except (ConfigError, AnsibleFilterError) as exc:
        return {"error": str(getattr(exc, "message", exc)).rstrip(".") + "."}


def _provision_inputs(given, handed, conductor_principals):
    settings, names = {}, {}
    for variables in (given, handed):
        for variable, value in variables.items():
            prefix, setting = _setting(variable)
            settings[setting] = value
            names[setting] = variable
            if setting == "principals":
                names["verb"] = VERBS[prefix]
                names["allow_empty"] = prefix + "allow_empty"
    for setting, (kind, default) in SETTINGS.items():
        value = settings.get(setting)
        settings[setting] = default if value is None else _typed(names.get(setting, setting), kind, value)
    if settings["platform"] not in ADAPTERS:
        raise ConfigError("%s must be one of %s, not %r"
                          % (names.get("platform", "platform"), ", ".join(ADAPTERS), settings["platform"]))
    option = names.get("principals", "provision_principals")
    if conductor_principals and settings["principals"] == _typed("conductor_principals", "list", conductor_principals):
        option = "conductor_principals"
    if option == "decommission_principals" or names.get("verb") == "decommission":
        settings["principals"] = absent_principals(settings["principals"], option)
    if not settings["principals"] and not settings["allow_empty"]:
        raise ConfigError(
            "%s is empty, so there is nothing to %s; give the list as conductor_principals (the one list of "
            "provision, rotate and decommission; a list under another name, such as principals, is not read), or "
            "set %s: true if an empty run is meant" % (option, names.get("verb", "provision"), names["allow_empty"]))
    if settings["store"] is not None:
        check_option(settings["store"], store_argument_spec()["options"], names.get("store", "provision_store"))
    plan = provision_plan(settings["principals"], settings["platform"], settings["rotate_before_days"],
                          settings["force_rotate"], settings["verify"], settings["revoke_previous"],
                          settings["revoke_previous_after_unused_hours"], option=option)
    federation = federation_plan(settings["federation_providers"], settings["principals"])
    return {"error": None, "settings": settings, "plan": plan, "federation": federation}


def provision_plan(principals, platform="conductorone", rotate_before_days=14, force_rotate=False, verify=True,
                   revoke_previous=True, revoke_previous_after_unused_hours=0, option="provision_principals"):
    """Check ``provision_principals`` and split it into one ``service_principals`` run per platform.

    The list is checked by ``inputs.check_principals``, the check service_principals runs, so a
    mistake is the same sentence through the role and through the module. Returns ``platforms``
    (each once, in order), ``absent`` principals (each with its platform), ``credentials`` (one
    dict per credential of a present principal, every default resolved), ``stored_keys`` (the
    store entries of the present credentials), ``runs`` (per platform, the ``principals`` of its
    service_principals task, whether it needs the store — ``needs_store``: it has credentials, or
    principals to remove with their entries — and, where its credentials record their last use,
    ``revoke_previous_after_unused_hours``), ``needs_store`` (whether any run does) and ``preflight`` (over several
    platforms: the runs to plan in check mode first, see _preflight).
    """
    defaults = {"rotate_before_days": _typed("rotate_before_days", "int", rotate_before_days),
                "force_rotate": _typed("force_rotate", "bool", force_rotate),
                "verify": _typed("verify", "bool", verify)}
    try:
        wanted = check_principals(plain(principals), option, platform, defaults, has_store=True, allow_empty=True)
    except ConfigError as exc:
        raise AnsibleFilterError("%s." % exc.message)
    plan = {"platforms": [], "absent": [], "credentials": [], "stored_keys": []}
    runs = {}
    for principal in wanted:
        name, where = principal["name"], principal["platform"]
        if where not in runs:
            plan["platforms"].append(where)
            runs[where] = _run(where, revoke_previous, revoke_previous_after_unused_hours)
        if principal["state"] == "absent":
            plan["absent"].append({"name": name, "platform": where})
            runs[where]["principals"].append({"name": name, "platform": where, "state": "absent"})
            runs[where]["needs_store"] = True
            continue
        credentials = principal["credentials"]
        plan["credentials"].extend(dict(c, principal=name, platform=where) for c in credentials)
        runs[where]["principals"].append(dict(principal["settings"], name=name, platform=where,
                                              credentials=credentials, trusts=principal["trusts"]))
        runs[where]["needs_store"] = runs[where]["needs_store"] or bool(credentials)
    plan["stored_keys"] = [{"platform": c["platform"], "principal": c["principal"], "credential": c["name"]}
                           for c in plan["credentials"] if c["state"] == "present"]
    plan["runs"] = [runs[p] for p in plan["platforms"]]
    plan["needs_store"] = any(run["needs_store"] for run in plan["runs"])
    plan["preflight"] = _preflight(plan["runs"])
    # The role's tasks loop over platform names and read their run here (a failed item then shows only its name).
    plan["run_of"] = dict(runs)
    plan["preflight_of"] = {run["platform"]: run for run in plan["preflight"]}
    return plan


def _preflight(runs):
    """A list over several platforms is first planned on each (check mode) before any write on any: what only a
    server can refuse (an Orkes role it does not list, a scoped role a principal lacks) is named before the first
    platform's writes. Its trusts are left out: a trust may name a provider the role writes first."""
    if len(runs) < 2:
        return []
    checks = []
    for run in runs:
        principals = [dict(p, trusts=[]) for p in run["principals"] if p.get("state") != "absent"]
        if principals:
            checks.append(dict(run, principals=principals))
    return checks


def _run(platform, revoke_previous, unused_hours):
    """One platform's service_principals task, before its principals are added."""
    run = {"platform": platform, "principals": [], "needs_store": False}
    # Retiring the previous credential by its last use needs a platform that records it; elsewhere
    # revoke_previous alone decides.
    if revoke_previous and unused_hours and int(unused_hours) > 0 and CAPABILITIES[platform].records_credential_use:
        run["revoke_previous_after_unused_hours"] = int(unused_hours)
    return run


def absent_principals(entries, option="decommission_principals"):
    """``decommission_principals`` (names, or dicts with name and platform) as provision_principals to remove."""
    out = []
    for entry in entries or []:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AnsibleFilterError("Each entry of %s must be a name or a dict with a name; %r is neither."
                                     % (option, entry))
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
    credential, per trust with its client ID, and per failed item with its error; never a secret),
    ``removed`` (one row per credential marked absent, per principal removed and per credential it took
    with it), ``trusts`` ({principal: {trust: {client_id, server_url}}}, present trusts) and ``failure``
    (the failed runs' messages as one sentence, "" when none failed). The secrets are the runs'
    ``secrets``: each new one from its create, any other from the store, and only where the entry is of
    that credential. Runs that failed count too: what they did before the failure is in their rows.
    """
    results = {_platform(r["item"]): r for r in _results(runs)}
    credentials, principals, trusts = {}, {}, {}
    for platform, result in results.items():
        credentials.update(((platform, row["principal"], row["name"]), row) for row in result.get("credentials") or [])
        principals.update(((platform, row["name"]), row) for row in result.get("principals") or [])
        trusts.update(((platform, row["principal"], row["name"]), dict(row, server_url=result.get("server_url")))
                      for row in result.get("trusts") or [])
    outcome = {"by_platform": {}, "by_name": {}, "summary": [], "removed": [], "trusts": {},
               "failure": _failure(results)}
    for item in plan.get("credentials") or []:
        platform, principal, name = item["platform"], item["principal"], item["name"]
        row = credentials.get((platform, principal, name))
        if row is None:  # not reached (its principal failed), or failed: a row of _failed_rows
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
        # Every credential it took with it, whether or not this run's store held its secret.
        outcome["removed"].extend({"platform": item["platform"], "principal": item["name"],
                                   "credential": gone.get("name") or "", "client_id": gone.get("client_id"),
                                   "credential_id": gone.get("id"), "action": "revoked", "revoked": 1}
                                  for gone in row.get("revoked_credentials") or [])
    for run in plan.get("runs") or []:
        for principal in run["principals"]:
            for trust in principal.get("trusts") or []:
                row = trusts.get((run["platform"], principal["name"], trust["name"]))
                if row is None:
                    continue
                outcome["summary"].append({"platform": run["platform"], "principal": principal["name"],
                                           "credential": trust["name"], "kind": "trust", "action": row["action"],
                                           "client_id": row.get("client_id")})
                if (trust.get("state") or "present") == "present":
                    outcome["trusts"].setdefault(principal["name"], {})[trust["name"]] = {
                        "client_id": row.get("client_id"), "server_url": row.get("server_url")}
    outcome["summary"].extend(_failed_rows(results))
    return outcome


def _failed_rows(results):
    """One summary row per failed item, with its error; a run that failed as a whole (its store, a bug) is one
    row of its platform."""
    rows = []
    for platform, result in results.items():
        for item in result.get("failed_items") or []:
            kind = "trust" if item.get("trust") else "credential" if item.get("credential") else "principal"
            rows.append({"platform": platform, "principal": item.get("principal") or "", "kind": kind,
                         "credential": item.get("trust") or item.get("credential") or "", "action": "failed",
                         "error": item.get("msg") or ""})
        if result.get("failed") and not result.get("failed_items"):
            rows.append({"platform": platform, "principal": "", "credential": "", "kind": "run", "action": "failed",
                         "error": result.get("msg") or "the task failed without a message"})
    return rows


def _failure(results):
    """The failed runs' messages, one sentence (each prefixed by its platform when several platforms ran)."""
    failed = [(platform, r.get("msg") or "the task failed without a message")
              for platform, r in results.items() if r.get("failed")]
    if len(results) == 1:
        return "; ".join(msg for _platform, msg in failed)
    return "; ".join("%s: %s" % (platform, msg) for platform, msg in failed)


def _platform(item):
    """The platform of a looped run's item: its name (the role loops over names), or a run."""
    return item if isinstance(item, str) else item["platform"]


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
            "provision_inputs": provision_inputs,
            "provision_plan": provision_plan,
            "absent_principals": absent_principals,
            "bearer_tokens": bearer_tokens,
            "provision_outcome": provision_outcome,
            "credential_pairs": credential_pairs,
            "tokens_by_name": tokens_by_name,
        }
