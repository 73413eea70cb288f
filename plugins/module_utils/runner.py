# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of every module: plain parameters in, a plain result dict out.

The same function runs inside an AnsiballZ module on a remote host and in-process
in the action plugin on the controller; it never imports AnsibleModule.
"""

from __future__ import annotations

import os

from .client import ApiClient
from .common_args import connection_options
from .config import plain_http_warnings, resolve_settings
from .credential_plan import Owner, check_params
from .credentials import CredentialRun, credential_info
from .errors import ConductorError, ConfigError
from .federation import ensure_provider, ensure_trust, provider_info, trust_info
from .platforms import adapter_for, platforms_where
from .principals import ensure_principal, find_by_name, principal_info
from .public_view import SECRET_RESULT_KEYS
from .report import credential_report, pooled
from .stores import PERSONAL, SERVICE_PRINCIPAL, EntryKey, store_for, store_warnings
from .tenant import run_service_principals
from .timestamps import from_epoch

#: Given by the action plugin (never by the task) when the task registers no result: a new secret it would mint
#: without a store would then be kept nowhere, and such a task is refused before any write.
UNREGISTERED_ARG = "_conductor_principals_unregistered"

# The principal segment of a personal API key's store entry (documented in doc_fragments/store.py).
PERSONAL_PRINCIPAL = "@personal"


def _owner(adapter, params, check_mode, need_name=False):
    """The service principal that owns the credentials, as an Owner (with the roles it holds).

    Owner.pending when (in check mode) it is yet to be made; the principal is read from an ID only
    when ``need_name`` (a store entry is keyed by it) or scoped_roles must be among the roles it holds.
    """
    if params.get("service_principal_id"):
        if not need_name and not (params.get("scoped_roles") and params.get("state") != "absent"):
            return Owner.principal(params["service_principal_id"])
        found = adapter.get_principal(params["service_principal_id"])
        if found is None:
            raise ConfigError("No service principal has id %r; check service_principal_id"
                              % params["service_principal_id"])
        return Owner.principal(found["id"], found["name"], found.get("role_ids"))
    if not params.get("service_principal"):
        raise ConfigError("Give service_principal (a name) or service_principal_id")
    found = find_by_name(adapter.list_principals(), params["service_principal"])
    if found is None:
        if check_mode:
            return Owner.pending(params["service_principal"])
        raise ConfigError("No service principal is named %r; create it first with "
                          "conductor.principals.service_principal" % params["service_principal"])
    return Owner.principal(found["id"], found["name"], found.get("role_ids"))


def _platforms_with(fact):
    """The platforms whose capabilities have ``fact``, for messages."""
    return " or ".join(platforms_where(lambda capabilities: getattr(capabilities, fact)))


def _prover(client):
    """``verify``: a new secret must obtain a token by itself (no other credential of the run)."""
    def prove(credential, secret):
        settings = client.settings
        fresh = ApiClient(resolve_settings({
            "platform": settings.platform, "server_url": settings.server_url, "client_id": credential["client_id"],
            "client_secret": secret, "validate_certs": settings.validate_certs, "ca_path": settings.ca_path,
            "timeout": settings.timeout, "retries": settings.retries}, environ={}))
        fresh.auth.ensure_token(fresh.transport)
    return prove


def _credential_run(client, adapter, owner, params, check_mode, store, kind=SERVICE_PRINCIPAL):
    """A CredentialRun (over params already checked) with the task's store (if any) and the proof of a new secret."""
    key = EntryKey(client.settings.platform, owner.name, params.get("name"), kind) if store else None
    return CredentialRun(adapter, owner, params, check_mode, store=store, key=key, checked=True,
                         server_url=client.settings.server_url, prover=_prover(client), clock=client.server_now,
                         unregistered=bool(params.get(UNREGISTERED_ARG)))


def _service_principals(client, params, check_mode, environ, diff=False):
    """service_principals; with return_secrets, no store and no register, a run that would mint a secret (a check
    mode run says) is refused before any write: the secret would be kept nowhere."""
    if params.get(UNREGISTERED_ARG) and params.get("return_secrets") and not params.get("store") and not check_mode:
        planned = run_service_principals(client, params, True, environ)
        minted = ["%r of %r" % (row["name"], row["principal"]) for row in planned.get("credentials") or ()
                  if row.get("action") in ("created", "rotated", "replaced")]
        if minted:
            raise ConfigError(
                "This task would make new secrets (credential%s %s), and they would be kept nowhere: return_secrets "
                "is set but neither store nor register; give store (each secret is written there before anything "
                "else happens) or register the result and keep its secrets at once"
                % ("s" if len(minted) > 1 else "", ", ".join(minted)))
    return run_service_principals(client, params, check_mode, environ, diff)


def _with_store_warnings(result, store):
    """What the store warned of while the task ran (a refused Vault metadata step), in the result."""
    if store is not None and store.warnings:
        result.setdefault("warnings", []).extend(store.warnings)
    return result


def _credential_result(client, result):
    result["server_url"] = client.settings.server_url
    credential = result.get("credential")
    result["client_id"] = credential.get("client_id") if credential else None
    return result


def _without_action(result):
    """A single-item module's result: the plan's ``action`` is for the bulk rows (the module says ``changed``)."""
    result.pop("action", None)
    return result


def run_service_principal(client, params, check_mode, environ, diff=False):
    return _without_action(ensure_principal(adapter_for(client), params, check_mode))


def run_service_principal_info(client, params, check_mode, environ, diff=False):
    return principal_info(adapter_for(client), params)


def run_sp_credential(client, params, check_mode, environ, diff=False):
    adapter = adapter_for(client)
    check_params(params, adapter.capabilities)  # bad input is named before any lookup
    store = store_for(params.get("store"), environ)  # a bad store option too, before any lookup
    owner = _owner(adapter, params, check_mode, need_name=store is not None)
    result = _credential_run(client, adapter, owner, params, check_mode, store).ensure()
    return _credential_result(client, _with_store_warnings(result, store))


def run_sp_credential_info(client, params, check_mode, environ, diff=False):
    adapter = adapter_for(client)
    return credential_info(adapter, _owner(adapter, params, False).api_id, params)


def run_personal_client(client, params, check_mode, environ, diff=False):
    adapter = adapter_for(client)
    if not adapter.capabilities.has_personal_credentials:
        raise ConfigError("personal_client exists only on platform %s" % _platforms_with("has_personal_credentials"))
    check_params(params, adapter.capabilities, personal=True)
    store = store_for(params.get("store"), environ)
    run = _credential_run(client, adapter, Owner.personal(PERSONAL_PRINCIPAL), params, check_mode, store,
                          kind=PERSONAL)
    return _credential_result(client, _with_store_warnings(run.ensure(), store))


def run_credential_report(client, params, check_mode, environ=None, diff=False):
    """Read-only: the same in check mode; ``dest`` is the report itself, so it is written then too. The
    per-principal listings run on a parallel.Pool (report.pooled), on the client's one token."""
    with pooled(client) as (adapter, pool, clock):
        return credential_report(adapter, params, clock, server_url=client.settings.server_url, environ=environ,
                                 pool=pool)


def run_access_token(client, params, check_mode, environ, diff=False):
    token = client.auth.ensure_token(client.transport)
    auth = client.auth
    result = {
        "changed": False,
        "access_token": token.access_token,
        "token_type": "DPoP" if auth.dpop is not None else "Bearer",
        "expires_in": token.expires_in or None,
        "expires_at": from_epoch(auth.expires_at) if auth.expires_at else None,
        "server_url": client.settings.server_url,
        "headers": auth.token_header(),
    }
    if auth.dpop is not None:
        result["dpop_key"] = auth.dpop.private_jwk
    if params.get("validate"):
        result["identity"] = adapter_for(client).whoami()
    return result


def _federation(client):
    adapter = adapter_for(client)
    if not adapter.capabilities.has_workload_federation:
        raise ConfigError("Workload federation (providers and trusts) exists only on platform %s"
                          % _platforms_with("has_workload_federation"))
    return adapter


def run_federation_provider(client, params, check_mode, environ, diff=False):
    return ensure_provider(_federation(client), params, check_mode)


def run_federation_provider_info(client, params, check_mode, environ, diff=False):
    return provider_info(_federation(client), params)


def run_sp_trust(client, params, check_mode, environ, diff=False):
    result = _without_action(ensure_trust(_federation(client), params, check_mode))
    trust = result.get("trust")
    if trust is not None:
        # What the workload sets as CONDUCTORONE_CLIENT_ID and CONDUCTORONE_SERVER_URL.
        result["client_id"] = trust.get("client_id")
        result["server_url"] = client.settings.server_url
    return result


def run_sp_trust_info(client, params, check_mode, environ, diff=False):
    return trust_info(_federation(client), params)


RUNNERS = {
    "service_principal": run_service_principal,
    "service_principal_info": run_service_principal_info,
    "sp_credential": run_sp_credential,
    "sp_credential_info": run_sp_credential_info,
    "personal_client": run_personal_client,
    "access_token": run_access_token,
    "credential_report": run_credential_report,
    "federation_provider": run_federation_provider,
    "federation_provider_info": run_federation_provider_info,
    "sp_trust": run_sp_trust,
    "sp_trust_info": run_sp_trust_info,
    "service_principals": _service_principals,
}


def run(kind, params, check_mode=False, diff=False, environ=None, client=None, unregistered=False):
    """Run module ``kind``; return its result, or {"failed": True, "msg": ...} for a ConductorError.
    ``unregistered``: the task registers no result (only the action plugin knows; see UNREGISTERED_ARG)."""
    params = dict(params, **{UNREGISTERED_ARG: True}) if unregistered else params
    try:
        environ = os.environ if environ is None else environ
        client = client or ApiClient(resolve_settings(connection_options(params), environ))
        # Every runner is told whether a diff is wanted; one that builds a large one (service_principals) skips it.
        result = RUNNERS[kind](client, params, check_mode, environ, diff=diff)
    except ConductorError as exc:
        failure = {"failed": True, "msg": str(exc)}
        failure.update({k: v for k, v in exc.to_dict().items() if v is not None})
        return failure
    if not diff:
        result.pop("diff", None)
    if not client.settings.validate_certs:
        result.setdefault("warnings", []).append(
            "validate_certs is false: the identity of %s is not verified; give ca_path instead" % client.host)
    warnings = plain_http_warnings(client.settings) + store_warnings(params.get("store"), environ)
    if warnings:
        result.setdefault("warnings", []).extend(warnings)
    return result


def carries_secret(result):
    return any(result.get(key) for key in SECRET_RESULT_KEYS)
