# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The principals list, parsed and checked once for every caller.

``service_principals`` (its ``principals`` option) and the provision and rotate roles (their
``provision_principals``) call ``check_principals``; each credential entry goes through
``credential_plan.check_params``, the check ``sp_credential`` runs. So a mistake is one sentence,
in the same words whoever asked, naming the list option, the principal and the credential or
trust. Nothing here sends a request or imports the HTTP stack (the roles call it from a filter).
"""

from __future__ import annotations

from .common_args import trust_options
from .credential_plan import PRINCIPAL_SETTINGS, check_params
from .errors import ConfigError
from .platforms import ADAPTERS, CAPABILITIES, expiry_choices, platforms_where
from .role_inputs import check_entries

#: Task options that are defaults of every credential entry (the sp_credential meanings).
CREDENTIAL_DEFAULTS = ("rotate_before_days", "force_rotate", "revoke_previous", "revoke_previous_after_unused_hours",
                       "max_overlap_days", "verify", "replace_on_change")


def credential_entry_options():
    """One entry of a principal's ``credentials``."""
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        expires_days=dict(type="int", choices=expiry_choices()),
        allowed_cidrs=dict(type="list", elements="str"),
        scoped_roles=dict(type="list", elements="str"),
        require_dpop=dict(type="bool"),
        enabled=dict(type="bool"),
        replace_on_change=dict(type="bool"),
        rotate_before_days=dict(type="int"),
        force_rotate=dict(type="bool"),
        revoke_previous=dict(type="bool"),
        revoke_previous_after_unused_hours=dict(type="int"),
        max_overlap_days=dict(type="int"),
        verify=dict(type="bool"),
    )


def trust_entry_options():
    """One entry of a principal's ``trusts``: the options of sp_trust that belong to the trust."""
    options = trust_options()
    options["name"] = dict(options["name"], required=True)
    return options


def principal_entry_options():
    """One entry of ``principals`` (the ``provision_principals`` shape)."""
    return dict(
        name=dict(type="str", required=True),
        platform=dict(type="str", choices=list(ADAPTERS)),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        roles=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        permissions=dict(type="list", elements="dict"),
        credentials=dict(type="list", elements="dict", default=[], options=credential_entry_options()),
        trusts=dict(type="list", elements="dict", default=[]),  # each entry checked on its own, named
    )


def desired_principal(params):
    """The managed fields of a principal from its parameters (a field left out is not managed)."""
    desired = {"name": params.get("name")}
    if params.get("roles") is not None:
        desired["roles"] = sorted(set(params["roles"]))
    if params.get("tags") is not None:
        desired["tags"] = {str(k): str(v) for k, v in params["tags"].items()}
    if params.get("permissions") is not None:
        desired["permissions"] = list(params["permissions"])
    return desired


def _labelled(label, check, *args):
    """Run ``check``; its ConfigError comes back as one sentence that starts with ``label``."""
    try:
        return check(*args)
    except ConfigError as exc:
        raise ConfigError("%s: %s" % (label, exc.message))


def _them(names):
    return "it" if len(names) == 1 else "them"


def _quoted(names):
    return ", ".join(repr(n) for n in names)


def _where_instead(names, settings_of):
    """'; remove it or set platform: orkes' (the platforms that have every one of ``names``)."""
    owners = platforms_where(lambda c: set(names) <= set(settings_of(c)))
    return "; remove %s%s" % (_them(names), " or set platform: %s" % " or ".join(owners) if owners else "")


def check_principals(principals, option, default_platform, defaults, has_store, platform=None, allow_empty=False):
    """``principals`` as a list of work, or one ConfigError sentence naming the entry to fix.

    ``option`` is the list's name as the user gave it (``principals``, ``provision_principals``);
    an entry without ``platform`` is on ``default_platform``; with ``platform``, every entry must be
    on it (one task connects to one platform). ``defaults`` fill each credential's unset
    CREDENTIAL_DEFAULTS; ``has_store``: a new secret has somewhere to go (a store, or the result). An empty list
    is refused unless ``allow_empty``: a misnamed list arrives empty, and a run over nothing would succeed.
    Every value is typed as its option says (``"14"`` from a command line or a survey is 14).

    Each returned principal: {name, platform, state, settings (roles, tags, permissions given),
    credentials (sp_credential parameters, defaults resolved), trusts (sp_trust parameters)}.
    """
    if not isinstance(principals, list):
        raise ConfigError("%s must be a list of principals, not %s" % (option, type(principals).__name__))
    if not principals and not allow_empty:
        raise ConfigError("%s is empty, so there is nothing to manage (with prune, every managed principal would be "
                          "removed); list the principals, or set allow_empty: true if an empty list is meant" % option)
    principals = check_entries(principals, principal_entry_options(), option)
    wanted, seen = [], set()
    for principal in principals:
        name = principal["name"]
        label = "%s: principal %r" % (option, name)
        where = principal.get("platform") or default_platform
        if platform is not None and where != platform:
            raise ConfigError("%s is on platform %s, but this task connects to %s; give one task per platform"
                              % (label, where, platform))
        if (where, name) in seen:
            raise ConfigError("%s names principal %r more than once on %s; name each once"
                              % (option, name, CAPABILITIES[where].label))
        seen.add((where, name))
        capabilities = CAPABILITIES[where]
        state = principal.get("state") or "present"
        settings = {f: principal[f] for f in PRINCIPAL_SETTINGS if principal.get(f) is not None}
        unsupported = [f for f in settings if f not in capabilities.principal_settings]
        if unsupported:
            raise ConfigError("%s sets %s, which %s %ss cannot have%s"
                              % (label, " and ".join(unsupported), capabilities.label, capabilities.principal_noun,
                                 _where_instead(unsupported, lambda c: c.principal_settings)))
        if settings:
            _labelled(label, ADAPTERS[where].check_principal, desired_principal(dict(settings, name=name)))
        credentials = [] if state == "absent" else _credentials(principal, label, capabilities, defaults)
        if credentials and not has_store:
            raise ConfigError("%s lists credentials, so give store (each new secret is kept there before anything "
                              "else happens) or return_secrets: true (you keep them from the result)" % label)
        trusts = [] if state == "absent" else _trusts(principal, label, capabilities)
        wanted.append({"name": name, "platform": where, "state": state, "settings": settings,
                       "credentials": credentials, "trusts": trusts})
    return wanted


def _credentials(principal, label, capabilities, defaults):
    flat, names = [], []
    for entry in principal.get("credentials") or []:
        name = entry["name"]
        if name in names:
            raise ConfigError("%s lists credential %r more than once; name each once" % (label, name))
        names.append(name)
        params = {k: v for k, v in entry.items() if v is not None}
        for option in CREDENTIAL_DEFAULTS:
            if params.get(option) is None and defaults.get(option) is not None:
                params[option] = defaults[option]
        params.setdefault("state", "present")
        _labelled("%s, credential %r" % (label, name), check_params, params, capabilities, False, True)
        flat.append(params)
    present = [c["name"] for c in flat if c["state"] == "present"]
    if not capabilities.credentials_have_names and len(present) > 1:  # nameless keys: the API cannot tell them apart
        raise ConfigError("%s lists more than one present credential (%s); an %s %s has one %s here, so keep one "
                          "and mark the others state: absent"
                          % (label, _quoted(present), capabilities.label, capabilities.principal_noun,
                             capabilities.credential_noun))
    return flat


def _trusts(principal, label, capabilities):
    trusts = principal.get("trusts") or []
    if not trusts:
        return []
    if not capabilities.has_workload_federation:
        federated = platforms_where(lambda c: c.has_workload_federation)
        raise ConfigError("%s lists trusts, which %s %ss cannot have; remove them or set platform: %s"
                          % (label, capabilities.label, capabilities.principal_noun, " or ".join(federated)))
    # The condition builders live with the rest of federation; imported only when a trust is listed.
    from .federation import build_condition  # pylint: disable=import-outside-toplevel
    trusts = check_entries(trusts, trust_entry_options(), label + ", trusts", nested=None, kind="trust")
    flat, names = [], []
    for trust in trusts:
        if trust["name"] in names:
            raise ConfigError("%s lists trust %r more than once; name each once" % (label, trust["name"]))
        names.append(trust["name"])
        params = {k: v for k, v in trust.items() if v is not None}
        where = "%s, trust %r" % (label, trust["name"])
        if _labelled(where, build_condition, params) is None and params.get("state", "present") == "present":
            raise ConfigError("%s: give its condition (condition, github, gitlab or kubernetes)" % where)
        flat.append(params)
    return flat
