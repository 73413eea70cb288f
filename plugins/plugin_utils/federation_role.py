# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The provision role's workload federation: ``provision_federation_providers`` and each principal's
``trusts``, checked before anything is sent (the providers flattened for the role's loop; the trusts
go with their principal to service_principals).

Exported as filters by plugins/filter/provision.py (one FilterModule for the role).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.module_utils.arguments import plain
from ansible_collections.conductor.principals.plugins.module_utils.common_args import provider_options
from ansible_collections.conductor.principals.plugins.module_utils.conditions import check_broad
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.platforms import platforms_where
from ansible_collections.conductor.principals.plugins.module_utils.role_inputs import check_entries
# The options of one entry: the provider's and the trust's own (common_args, as the modules have them),
# read from module_utils rather than the modules, so a role's filter does not import the HTTP stack.
PROVIDER_OPTIONS = provider_options()
PROVIDER_OPTIONS["issuer_url"] = dict(PROVIDER_OPTIONS["issuer_url"], required=True)


def _check(entries, spec, option, kind):
    try:
        check_entries(entries, spec, option, nested=None, kind=kind)
    except ConfigError as exc:
        raise AnsibleFilterError(str(exc))


def federation_plan(providers, principals=None):
    """``provision_federation_providers``, each checked (set options only), for the role's loop, and
    ``platform``, the one they go to. The trusts are checked with the rest of the principals list
    (inputs.check_principals, through provision_plan) and go with their principal to service_principals;
    here each trust of ``principals`` is judged by the safety rule, so a broad condition is refused before
    any provider is written.
    """
    _check(providers or [], PROVIDER_OPTIONS, "provision_federation_providers", "provider")
    _refuse_broad(plain(providers or []), plain(principals or []))
    issuers = {}
    for entry in providers or []:
        key = str(entry["issuer_url"]).lower().rstrip("/")
        if key in issuers:
            raise AnsibleFilterError("provision_federation_providers names the issuer %s more than once; name each "
                                     "once." % entry["issuer_url"])
        issuers[key] = True
    # The providers go to the platform that has federation (the role passes its token to them).
    return {"providers": [{k: v for k, v in entry.items() if v is not None} for entry in providers or []],
            "platform": platforms_where(lambda c: c.has_workload_federation)[0]}


def _provider_named(providers, reference):
    """The entry of ``providers`` a trust names by issuer URL or name; else the reference as an issuer URL (a
    well-known issuer is judged by its own type; any other by the rule every type shares)."""
    key = str(reference or "").strip().lower().rstrip("/")
    for entry in providers:
        if key == str(entry.get("issuer_url") or "").lower().rstrip("/") or reference == entry.get("name"):
            return entry
    return {"issuer_url": reference}


def _judged_trusts(principals):
    """(principal name, trust) of every present trust that does not allow a broad condition."""
    for principal in principals:
        if not isinstance(principal, dict) or principal.get("state", "present") != "present":
            continue
        for trust in principal.get("trusts") or []:
            if isinstance(trust, dict) and not trust.get("allow_broad_condition") and \
                    trust.get("state", "present") == "present":
                yield principal.get("name"), trust


def _refuse_broad(providers, principals):
    """The safety rule on each trust to judge; malformed entries are left to provision_plan, which names them."""
    for principal, trust in _judged_trusts(principals):
        # Imported here, as inputs.py does: the rest of federation (its HTTP client) only when trusts are listed.
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.conductor.principals.plugins.module_utils.federation import build_condition
        try:
            condition = build_condition(dict(trust))
        except ConfigError:
            continue
        if condition is None:
            continue
        provider = _provider_named(providers, trust.get("provider"))
        try:
            check_broad(condition, provider.get("type"), issuer_url=provider.get("issuer_url"))
        except ConfigError as exc:
            raise AnsibleFilterError("provision_principals, principal %r, trust %r: %s."
                                     % (principal, trust.get("name"), exc.message))
