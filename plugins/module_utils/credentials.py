# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client credentials (Orkes: access keys): ensure, rotate, revoke; written once for every platform.

A credential's secret exists only in the answer to its create. So: a create whose
answer was lost leaves a credential nobody can use; it is found and revoked before
trying again, and never left alive silently.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta, timezone

from .compare import describe, differences
from .errors import ConductorError, ConfigError, OutcomeUnknownError, redact
from .stores.base import entry_content
from .timestamps import format_time, parse_time

EXPIRY_CHOICES = (30, 60, 90, 180)
DEFAULT_EXPIRES_DAYS = 90
# Settings the API cannot change on a live credential.
IMMUTABLE_FIELDS = ("expires_days", "allowed_cidrs", "scoped_role_ids", "require_dpop")
CREATE_ATTEMPTS = 2


def normalise_cidrs(cidrs):
    """Validated, canonical, sorted CIDRs: ``10.0.0.5/24`` -> ``10.0.0.0/24``, ``2001:DB8::/32`` lowered."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise ConfigError("allowed_cidrs: %r is not an IPv4 or IPv6 CIDR such as 192.168.1.0/24 or "
                              "2001:db8::/32" % (cidr,))
    return sorted({str(n) for n in networks})


def lifetime_days(credential):
    created, expires = parse_time(credential.get("created_at")), parse_time(credential.get("expires_at"))
    if not created or not expires:
        return None
    return int(round((expires - created).total_seconds() / 86400.0))


def expires_in_days(credential, now):
    expires = parse_time(credential.get("expires_at"))
    if expires is None:
        return None
    return (expires - now).total_seconds() / 86400.0


def with_expiry(credential, now):
    """The credential plus ``expires_in_days`` and ``expired`` (for the info module)."""
    left = expires_in_days(credential, now)
    return dict(credential, expires_in_days=None if left is None else int(math.floor(left)),
                expired=bool(left is not None and left <= 0))


def validate_params(adapter, params, never_expiring=False, with_store=None):
    """Refuse what the platform cannot do and impossible values, before any request.

    ``never_expiring`` allows expires_days 0 (personal API keys can live forever);
    ``with_store`` (default: whether params has a store) allows a name where credentials have none.
    """
    with_store = bool(params.get("store")) if with_store is None else with_store
    given = [name for name in ("name", "expires_days", "allowed_cidrs", "scoped_roles", "require_dpop", "enabled")
             if params.get(name) is not None]
    # Where credentials have no name (Orkes), a name is only the key of the store entry: allowed with a store.
    unsupported = [name for name in given if name not in adapter.credential_features
                   and not (name == "name" and with_store)]
    if unsupported:
        raise ConfigError("%s cannot be set on platform %s; remove %s"
                          % (", ".join(unsupported), adapter.platform, "them" if len(unsupported) > 1 else "it"))
    choices = ((0,) if never_expiring else ()) + EXPIRY_CHOICES
    if params.get("expires_days") is not None and params["expires_days"] not in choices:
        raise ConfigError("expires_days must be one of %s, not %s"
                          % (", ".join(str(c) for c in choices), params["expires_days"]))
    if (params.get("rotate_before_days") or 0) < 0:
        raise ConfigError("rotate_before_days must be 0 (never) or more, not %s" % params["rotate_before_days"])
    if adapter.credentials_have_names and not params.get("name") and not params.get("id"):
        raise ConfigError("Give name (or id) to say which credential to manage")
    if with_store and not params.get("name"):
        raise ConfigError("Give name with store: the credential's name is the key of its store entry")
    from .retire import validate_retire_params  # here, not at the top: retire.py reads our parse_time
    validate_retire_params(adapter, params)


def desired_credential(adapter, params):
    """Managed settings from module parameters; None means "not managed"."""
    desired = {
        "name": params.get("name") if adapter.credentials_have_names else None,
        "expires_days": params.get("expires_days"),
        "allowed_cidrs": None if params.get("allowed_cidrs") is None else normalise_cidrs(params["allowed_cidrs"]),
        "scoped_role_ids": (None if params.get("scoped_roles") is None
                            else adapter.resolve_role_ids(params["scoped_roles"])),
        "require_dpop": params.get("require_dpop"),
    }
    if params.get("enabled") is not None:
        desired["status"] = "ACTIVE" if params["enabled"] else "INACTIVE"
    return desired


def _comparable(credential):
    days = lifetime_days(credential)
    return dict(credential, expires_days=0 if days is None and not credential.get("expires_at") else days,
                allowed_cidrs=normalise_cidrs(credential.get("allowed_cidrs") or []))


def _select(credentials, params, adapter, held=None, claimed=None):
    """(current, previous): the credential this task manages and older ones it replaces.

    For nameless credentials with a store, ``held`` is the ID in this task's entry and
    ``claimed`` the IDs held by the principal's other entries: those belong to other names.
    """
    if params.get("id"):
        match = [c for c in credentials if c["id"] == params["id"]]
        return (match[0] if match else None), []
    if adapter.credentials_have_names:
        candidates = [c for c in credentials if c.get("name") == params.get("name")]
    elif claimed is not None:  # nameless keys with a store: the entry says which key is this name's
        mine = [c for c in credentials if c["id"] == held]
        if params.get("state") == "absent":
            return (mine[0] if mine else None), []
        others = [c for c in credentials if c["id"] != held and c["id"] not in claimed]
        if mine:
            return mine[0], sorted(others, key=_age)
        candidates = [c for c in others if c.get("status") == "ACTIVE"] or others
    elif params.get("state") == "absent":  # nameless keys (Orkes): absent means none at all
        candidates = list(credentials)
    else:  # nameless keys: the newest active one stands for "a key exists"
        candidates = [c for c in credentials if c.get("status") == "ACTIVE"] or list(credentials)
    candidates.sort(key=_age)
    if not candidates:
        return None, []
    return candidates[-1], candidates[:-1]


def _age(credential):
    return (parse_time(credential.get("created_at")) or datetime.min.replace(tzinfo=timezone.utc), credential["id"])


def _still_live(older):
    """The end of a failure message: which previous credentials the failure leaves live."""
    if not older:
        return ""
    ids = ", ".join(c["id"] for c in older)
    return (" and the previous credential %s stays live" % ids if len(older) == 1
            else " and the previous credentials %s stay live" % ids)


def _public(credential):
    return {k: v for k, v in credential.items() if k != "expires_days"} if credential else {}


class CredentialRun(object):
    """One task's work on the credentials of one owner.

    With a ``store`` (a stores.SecretStore) and its entry ``key``, a secret this run creates is
    written to the store before anything else happens; ``prover(credential, secret)`` (with
    ``verify``) proves a new secret before the previous credential is revoked. ``clock()``, when
    given, is read after the listing: the server's time (ApiClient.server_now).
    """

    def __init__(self, adapter, owner, params, check_mode=False, now=None, store=None, key=None,
                 server_url=None, prover=None, clock=None):
        self.adapter = adapter
        self.owner = owner
        self.params = params
        self.check_mode = check_mode
        self.now = now or datetime.now(timezone.utc)
        self.clock = clock
        self.revoked = []
        self.previous = []
        self.store = store
        self.key = key
        self.server_url = server_url
        self.prover = prover

    def revoke(self, credential):
        if not self.check_mode:
            self.adapter.revoke_credential(self.owner, credential)
        self.revoked.append(credential["id"])

    def create(self, desired, known_ids):
        """Create one credential and return (credential, secret), revoking any lost ones."""
        spec = dict(desired)
        if spec.get("expires_days") is None and self.adapter.credentials_expire:
            spec["expires_days"] = DEFAULT_EXPIRES_DAYS
        lost_ids = []
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                credential, secret = self.adapter.create_credential(self.owner, spec)
            except OutcomeUnknownError:
                for lost in self.adapter.list_credentials(self.owner):
                    if lost["id"] not in known_ids and lost.get("name") == spec.get("name"):
                        # Made, but its secret never reached us: useless to us, a risk to everyone.
                        self.revoke(lost)
                        lost_ids.append(lost["id"])
                if attempt == CREATE_ATTEMPTS:
                    raise ConductorError(
                        "Could not create credential %r: the answer to the create was lost %d times; %s"
                        % (spec.get("name") or "", attempt,
                           "the credentials it made (%s) were revoked" % ", ".join(lost_ids)
                           if lost_ids else "no credential was made"))
                continue
            if not secret:
                self.revoke(credential)
                raise ConductorError("The API created credential %s but returned no secret; it was revoked"
                                     % credential["id"])
            return credential, secret

    # ---- the store ------------------------------------------------------------------
    def _read_store(self):
        """(this task's entry or None, IDs held by the principal's other entries or None)."""
        stored = self.store.read(self.key)
        claimed = None
        if not self.adapter.credentials_have_names and not self.params.get("id"):
            claimed = set()
            for other in self.store.list(self.key.platform, self.key.principal):
                if other != self.key:
                    entry = self.store.read(other)
                    if entry and entry.content.get("credential_id"):
                        claimed.add(entry.content["credential_id"])
        return stored, claimed

    def _store_reason(self, current, stored):
        """Why a live credential must be replaced for the store's sake, or None."""
        if stored is None:
            return "its secret is not in the %s store (no entry at %s)" % (
                self.store.type, self.store.location(self.key))
        held = stored.content.get("credential_id")
        if held != current["id"]:
            return "the %s store entry at %s holds credential %s, not the live credential %s" % (
                self.store.type, self.store.location(self.key), held, current["id"])
        return None

    def _undo(self, credential, why):
        """Revoke a credential this run just made; the failure message names what happened."""
        try:
            self.adapter.revoke_credential(self.owner, credential)
        except ConductorError as exc:
            return ("%s; revoking the new credential %s failed too (%s), so revoke it by hand: nobody holds "
                    "its secret" % (why, credential["id"], exc.message))
        return "%s; the new credential %s was revoked" % (why, credential["id"])

    def _keep_secret(self, credential, secret, stored, kept):
        """Write the new secret to the store (check-and-set); on failure revoke the credential and fail."""
        content = entry_content(self.key, credential, credential.get("client_id"), secret, self.server_url)
        try:
            return self.store.write(self.key, content, stored.version if stored else None)
        except ConductorError as exc:
            why = "Could not write the secret of new credential %s to the %s store (%s)" % (
                credential["id"], self.store.type, redact(exc.message, [secret]))
            raise ConductorError(self._undo(credential, why) + kept)

    def _prove(self, credential, secret, stored, version, kept):
        """``verify``: the new secret must obtain a token, else undo the create and the store write."""
        try:
            self.prover(credential, secret)
            return
        except ConductorError as exc:
            why = "The new credential %s did not obtain an access token (%s)" % (
                credential["id"], redact(exc.message, [secret]))
        message = self._undo(credential, why)
        if self.store is not None:
            try:
                if stored is None:
                    self.store.delete(self.key)
                else:
                    self.store.write(self.key, stored.content, version)
                message += ", its store entry was put back as it was"
            except ConductorError as exc:
                message += ", and putting its store entry back failed (%s)" % exc.message
        raise ConductorError(message + kept)

    def _stored_view(self, credential_id):
        return {"location": self.store.location(self.key), "credential_id": credential_id}

    # ---- the task -------------------------------------------------------------------
    def ensure(self):
        validate_params(self.adapter, self.params, never_expiring=self.owner is None,
                        with_store=self.store is not None)
        desired = desired_credential(self.adapter, self.params)
        credentials = self.adapter.list_credentials(self.owner)
        if self.clock is not None:
            self.now = self.clock()
        stored, claimed = self._read_store() if self.store is not None else (None, None)
        held = stored.content.get("credential_id") if stored else None
        current, previous = _select(credentials, self.params, self.adapter, held, claimed)
        result = {"changed": False, "revoked_ids": self.revoked, "diff": {"before": _public(current)}}
        if self.store is not None:
            result["diff"]["before"]["stored"] = self._stored_view(held) if stored else None

        if self.params.get("state") == "absent":
            for credential in ([current] if current else []) + previous:
                self.revoke(credential)
            if stored is not None and not self.check_mode:
                self.store.delete(self.key)  # after the revoke: a secret stays held while its credential lives
            result.update(changed=bool(self.revoked) or stored is not None, credential=None)
            result["diff"]["after"] = {}
            return result

        if current is None and self.params.get("id"):
            raise ConfigError("No credential has id %r here; remove id to create one" % self.params["id"])

        replace = self._replacement_reason(current, desired)
        if not replace and self.store is not None:
            replace = self._store_reason(current, stored)
        if self.store is not None:
            result["stored"] = self.store.described(self.key)
        if replace:
            after = self.predicted(desired) if self.check_mode else None
            older = ([current] if current else []) + previous
            if not self.check_mode:
                after, secret = self.create(desired, {c["id"] for c in credentials})
                kept = _still_live(older)
                # The secret is kept before anything else can fail, or the credential is undone.
                version = self._keep_secret(after, secret, stored, kept) if self.store is not None else None
                if self.params.get("verify"):
                    self._prove(after, secret, stored, version, kept)
                result["client_secret"] = secret
            result["rotated"] = current is not None
            result["reason"] = replace
            self._retire(older, None if after is None else after.get("created_at"), result)
            result.update(changed=True, credential=after)
        else:
            after = current
            self._retire(previous, current.get("created_at"), result)  # the end of an overlap, when it is due
            status = desired.get("status")
            if status and status != current.get("status"):
                after = (dict(current, status=status) if self.check_mode
                         else self.adapter.set_credential_status(self.owner, current, status))
            result.update(changed=bool(self.revoked) or after is not current, credential=after)
        result["diff"]["after"] = _public(result["credential"])
        if self.previous:  # which of the older credentials of that name would stay, and which go
            result["diff"]["before"]["previous_ids"] = self.previous
            result["diff"]["after"]["previous_ids"] = result["kept_ids"]
        if self.store is not None:
            result["diff"]["after"]["stored"] = self._stored_view(result["credential"].get("id"))
        return result

    def _retire(self, older, newer_created_at, result):
        """Revoke the older credentials that are due; report the kept ones with a reason."""
        from .retire import retire  # here, not at the top: retire.py reads our parse_time
        self.previous = [c["id"] for c in older]
        if not self.params.get("revoke_previous", True):
            kept = dict((c["id"], "revoke_previous is false: kept for an overlap") for c in older)
        else:
            due, kept = retire(older, newer_created_at, self.now, self.params.get("revoke_previous_after_unused_hours"),
                               self.params.get("max_overlap_days"))
            for credential in due:
                self.revoke(credential)
        result["kept_ids"] = list(kept)
        result["kept_reasons"] = kept

    def _replacement_reason(self, current, desired):
        """Why a new credential is needed, or None. Drift without replace_on_change is an error."""
        if current is None:
            return "missing"
        drift = differences(_comparable(current), {f: desired.get(f) for f in IMMUTABLE_FIELDS})
        if drift and not self.params.get("replace_on_change"):
            raise ConductorError(
                "Credential %r (%s) differs in settings the API cannot change in place: %s; set "
                "replace_on_change: true to replace it with a new credential"
                % (current.get("name") or current["id"], current["id"], describe(drift)))
        if drift:
            return "changed settings: " + describe(drift)
        if self.params.get("force_rotate"):
            return "force_rotate"
        left = expires_in_days(current, self.now)
        if left is not None and left <= 0:
            return "expired"
        before = self.params.get("rotate_before_days") or 0
        if before and left is not None and left <= before:
            return "expires in %.1f days, within rotate_before_days %d" % (left, before)
        if current.get("status") == "INACTIVE" and desired.get("status") is None \
                and not self.adapter.credentials_have_names and not self.params.get("id"):
            return "no active key"
        return None

    def predicted(self, desired):
        """What a create would make, for check mode (IDs unknown)."""
        days = desired.get("expires_days") or (DEFAULT_EXPIRES_DAYS if self.adapter.credentials_expire else None)
        return {
            "id": None, "name": desired.get("name"), "client_id": None, "service_principal_id": self.owner,
            "created_at": None, "expires_at": format_time(self.now + timedelta(days=days)) if days else None,
            "allowed_cidrs": desired.get("allowed_cidrs") or [], "scoped_role_ids": desired.get("scoped_role_ids")
            or [], "require_dpop": bool(desired.get("require_dpop")), "last_used_at": None,
            "status": desired.get("status") or "ACTIVE",
        }


def credential_info(adapter, owner, params, now=None):
    now = now or datetime.now(timezone.utc)
    found = adapter.list_credentials(owner)
    if params.get("name"):
        found = [c for c in found if c.get("name") == params["name"]]
    if params.get("id"):
        found = [c for c in found if c["id"] == params["id"]]
    return {"changed": False, "credentials": [with_expiry(c, now) for c in found]}
