# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credential planner: what one task would do to one owner's credentials, and why.

Pure: plain values in, a plain value out; no request, no store, no clock. ``credentials.py``
reads the API and the store, calls ``plan`` and then applies the plan (check mode: it stops
after planning). A bulk caller plans many owners first and applies the plans in waves.

API (every value is a frozen dataclass):

- ``Capabilities(platform, credential_settings, credentials_have_names, credentials_expire,
  credentials_can_pause, records_credential_use, has_personal_credentials, ...)``: the
  platform's facts, declared once per adapter as ``CAPABILITIES`` (platforms/*.py).
- ``Owner.principal(id, name)`` | ``Owner.personal()`` | ``Owner.pending(name)`` (a principal
  not made yet, check mode); ``owner.api_id`` is what the adapter calls take (None: personal).
- ``check_params(params, capabilities, personal=False, with_store=None)``: bad input, one
  ConfigError sentence, before any request. ``Desired.from_params(params, capabilities,
  role_ids=None, personal=False, with_store=None)`` checks and builds; give ``role_ids`` (the
  scoped_roles resolved to IDs) or call ``desired.with_role_ids(ids)`` later (plan refuses
  unresolved roles). ``desired.needs_roles`` says whether roles must be resolved.
- ``Stored.of_entry(entry, store_type, location, claimed)`` (``Stored(present, credential_id,
  version, store_type, location, claimed)``): what the store holds at this task's entry (None:
  no store at all). ``claimed``: IDs held by the principal's other entries (nameless
  credentials only, else None). ``stored.content`` is the old entry (the store's own dict, shared,
  never changed in place): it holds a secret, so it is no field (never in repr, asdict, equality
  or a result).
- ``plan(capabilities, desired, listed, stored, now, owner=None) -> Plan``. ``listed``: the
  credential dicts the adapter's list_credentials returns. Drift in a setting the API cannot
  change, without replace_on_change, raises ConductorError (one sentence).
  ``Plan.action`` is one of ACTIONS: ``create`` (none yet), ``rotate`` (a new one replaces the
  current one: age, force_rotate, expired, the store does not hold it, no active key),
  ``replace`` (settings drift with replace_on_change), ``keep``, ``rename`` (given by ``id``
  with another name: renamed in place), ``set_status`` (pause or resume in place), ``revoke``
  (state absent, something to revoke or an entry to delete),
  ``none`` (absent, nothing there). ``Plan.makes_credential``, ``retire`` ((credential, why)
  pairs to revoke), ``kept`` ({id: reason}), ``store_delete``, ``create_spec`` (what to pass
  to adapter.create_credential), ``known_ids`` (for finding lost creates), ``status``.
- A rotate or replace makes the new credential with the settings the task gives and, for each it leaves
  out, the live credential's (``kept_settings``: CIDRs, scoped roles, DPoP, the expiry period).
- ``settle(plan, created, now)``: after a create, the retire decision again against the new
  credential's own created_at (the overlap's end is counted from it). ``keep_refused(plan,
  refused)``: after a create, the older credentials whose revoke the API refused are kept
  (``Plan.refused``; the result warns), and the new one stays the caller's.
- ``result_of(plan, applied=None) -> dict``: the module result and diff, built here only.
  ``Applied(credential, secret, revoked)`` says what apply did; without it (check mode)
  the result is the plan's prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace as _replace
from datetime import datetime, timedelta, timezone

from .cidrs import normalise_cidrs
from .compare import describe, differences
from .errors import ConductorError, ConfigError
from .retire import retire as _retire_due, validate_retire_params
from .timestamps import days_between, days_until, format_time, parse_time

EXPIRY_CHOICES = (30, 60, 90, 180)
DEFAULT_EXPIRES_DAYS = 90
# Settings the API cannot change on a live credential.
IMMUTABLE_FIELDS = ("expires_days", "allowed_cidrs", "scoped_role_ids", "require_dpop")
# The module options that set a credential, in the order bad input names them.
CREDENTIAL_SETTINGS = ("name", "expires_days", "allowed_cidrs", "scoped_roles", "require_dpop", "enabled")
# The module options that set a principal beyond its name, likewise.
PRINCIPAL_SETTINGS = ("roles", "tags", "permissions")
# Ways of authenticating (Capabilities.auth_methods), each named by the option that selects it.
AUTH_METHODS = {"token": "access_token", "oidc": "oidc_token", "secret": "client_secret"}
# How a client ID and secret become a token: an OAuth token endpoint (v1 secrets sign an
# assertion, other secrets are posted), or an access key and secret posted for a token.
SECRET_EXCHANGES = ("oauth_token_endpoint", "access_key_token")
ACTIONS = ("create", "rotate", "replace", "keep", "rename", "set_status", "revoke", "none")
MAKES_CREDENTIAL = ("create", "rotate", "replace")
KEPT_NO_REVOKE = "revoke_previous is false: kept for an overlap"


# ---- values --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capabilities(object):
    """What a platform can do with principals and credentials; each adapter declares one."""

    #: The ``platform`` option value.
    platform: str
    #: Module options a credential can carry (of CREDENTIAL_SETTINGS); others are refused by name.
    credential_settings: frozenset = frozenset()
    #: Module options a principal can carry beyond its name.
    principal_settings: frozenset = frozenset()
    #: A credential has a display name that identifies it. Without names "present" means "an
    #: active credential exists" and "absent" means "none at all" (or, with a store, the entry says).
    credentials_have_names: bool = False
    #: Credentials are made with a lifetime (expires_days applies and has a default).
    credentials_expire: bool = False
    #: A credential can be paused and resumed in place (the ``enabled`` option).
    credentials_can_pause: bool = False
    #: Each credential records its last use (``last_used_at``).
    records_credential_use: bool = False
    #: The caller has personal API keys besides the principals' credentials.
    has_personal_credentials: bool = False
    #: Workload federation (providers and trusts).
    has_workload_federation: bool = False
    #: Grants on named resources: target types and access values.
    permission_target_types: tuple = ()
    permission_access: tuple = ()
    #: The lifetimes a credential can be made with, and the one it gets when none is given.
    expiry_choices: tuple = EXPIRY_CHOICES
    default_expires_days: int = DEFAULT_EXPIRES_DAYS
    #: The names users know the platform, its principals and its credentials by, for messages
    #: (``product_name``: the product's full name, where it differs from ``display_name``).
    display_name: str = ""
    product_name: str = ""
    principal_noun: str = "service principal"
    credential_noun: str = "credential"
    # ---- connecting (config.py, auth/) ----
    #: (option, environment variable) pairs: where an unset connection option is read from.
    environment: tuple = ()
    #: How a task can authenticate, of AUTH_METHODS: a ready access token, an OIDC token to
    #: exchange, a client ID and secret. Options of a method the platform lacks are refused.
    auth_methods: tuple = ("token", "secret")
    #: How a client ID and secret become a token, of SECRET_EXCHANGES (auth/__init__.py).
    secret_exchange: str = "oauth_token_endpoint"
    #: The header that carries the access token ("Authorization" takes "Bearer "/"DPoP ").
    token_header: str = "Authorization"
    #: What the API base URL ends in (added when missing), and an example URL for messages.
    server_url_suffix: str = ""
    server_url_example: str = ""
    #: Client IDs look like NAME@HOST/SUFFIX: checked as such, and the server URL can come from HOST.
    client_id_names_server: bool = False
    #: What to set when no credentials were given, for "No <label> credentials were given; set ...".
    credentials_hint: str = "client_id and client_secret"

    @property
    def label(self):
        return self.display_name or self.platform

    @property
    def full_label(self):
        return self.product_name or self.label

    def environment_variable(self, option):
        """The environment variable an unset ``option`` is read from, or None."""
        return dict(self.environment).get(option)


@dataclass(frozen=True)
class Owner(object):
    """Whose credentials: a service principal, the caller's personal keys, or a principal not made yet."""

    kind: str  # "principal" | "personal" | "pending"
    id: str = None
    name: str = None
    #: The roles the principal holds (None: not read), which a credential's scoped roles must be among.
    role_ids: tuple = None

    @classmethod
    def principal(cls, principal_id, name=None, role_ids=None):
        return cls("principal", principal_id, name, None if role_ids is None else tuple(role_ids))

    def as_principal(self):
        """The owner as the adapter's neutral principal (for adapter.check_held_roles)."""
        return {"id": self.id, "name": self.name, "role_ids": None if self.role_ids is None else list(self.role_ids)}

    @classmethod
    def personal(cls, name=None):
        return cls("personal", None, name)

    @classmethod
    def pending(cls, name):
        return cls("pending", None, name)

    @property
    def api_id(self):
        """The owner as the adapter's credential calls take it (None: the personal keys)."""
        if self.kind == "pending":
            raise ConductorError("principal %r does not exist yet; its credentials cannot be changed" % (self.name,))
        return self.id


@dataclass(frozen=True)
class Desired(object):
    """One credential task: the managed settings (None: not managed) and the policy."""

    state: str = "present"
    name: str = None  # the task's name (the store entry's key; where credentials have names, theirs)
    id: str = None
    credential_name: str = None  # the name the credential itself carries (None where there are none)
    expires_days: int = None
    allowed_cidrs: tuple = None
    scoped_roles: tuple = None  # as given (names or IDs)
    scoped_role_ids: tuple = None  # resolved
    require_dpop: bool = None
    enabled: bool = None
    rotate_before_days: int = 0
    force_rotate: bool = False
    replace_on_change: bool = False
    revoke_previous: bool = True
    revoke_previous_after_unused_hours: int = None
    max_overlap_days: int = None
    verify: bool = False

    @classmethod
    def from_params(cls, params, capabilities, role_ids=None, personal=False, with_store=None, checked=False):
        """Check ``params`` (unless ``checked``: check_params already ran) and build the value."""
        if not checked:
            check_params(params, capabilities, personal=personal, with_store=with_store)
        roles = params.get("scoped_roles")
        desired = cls(
            state=params.get("state") or "present",
            name=params.get("name"),
            id=params.get("id"),
            credential_name=params.get("name") if capabilities.credentials_have_names else None,
            expires_days=params.get("expires_days"),
            allowed_cidrs=(None if params.get("allowed_cidrs") is None
                           else tuple(normalise_cidrs(params["allowed_cidrs"]))),
            scoped_roles=None if roles is None else tuple(roles),
            require_dpop=params.get("require_dpop"),
            enabled=params.get("enabled"),
            rotate_before_days=params.get("rotate_before_days") or 0,
            force_rotate=bool(params.get("force_rotate")),
            replace_on_change=bool(params.get("replace_on_change")),
            revoke_previous=params.get("revoke_previous", True) is not False,
            revoke_previous_after_unused_hours=params.get("revoke_previous_after_unused_hours"),
            max_overlap_days=params.get("max_overlap_days"),
            verify=bool(params.get("verify")),
        )
        return desired if role_ids is None else desired.with_role_ids(role_ids)

    @property
    def needs_roles(self):
        """scoped_roles are given and not yet resolved to IDs (adapter.resolve_role_ids)."""
        return self.scoped_roles is not None and self.scoped_role_ids is None

    def with_role_ids(self, role_ids):
        return _replace(self, scoped_role_ids=tuple(sorted(role_ids)))

    @property
    def status(self):
        """ACTIVE / INACTIVE when ``enabled`` is managed, else None."""
        if self.enabled is None:
            return None
        return "ACTIVE" if self.enabled else "INACTIVE"

    def settings(self):
        """The managed settings as adapter.create_credential takes them (None: not managed)."""
        settings = {
            "name": self.credential_name,
            "expires_days": self.expires_days,
            "allowed_cidrs": None if self.allowed_cidrs is None else list(self.allowed_cidrs),
            "scoped_role_ids": None if self.scoped_role_ids is None else list(self.scoped_role_ids),
            "require_dpop": self.require_dpop,
        }
        if self.status is not None:
            settings["status"] = self.status
        return settings


@dataclass(frozen=True)
class Stored(object):
    """This task's store entry: present or not, the credential it holds, its version."""

    present: bool
    credential_id: str = None
    version: object = None
    store_type: str = None
    location: str = None
    #: IDs the principal's other entries hold (nameless credentials without an id), else None.
    claimed: frozenset = None

    @classmethod
    def of_entry(cls, entry, store_type, location, claimed=None):
        """From a store's read(): a StoredEntry(content, version) or None."""
        claimed = None if claimed is None else frozenset(claimed)
        if entry is None:
            return cls(False, None, None, store_type, location, claimed)
        stored = cls(True, entry.content.get("credential_id"), entry.version, store_type, location, claimed)
        # Not a field: asdict (of a Plan too), repr, == and replace never reach the secret it holds. The store's
        # own dict, not a copy (nothing changes an entry in place): a copy per plan held the decrypted store twice.
        object.__setattr__(stored, "_content", entry.content)
        return stored

    @property
    def content(self):
        """The entry as it was (holds a secret), for putting it back; None without an entry."""
        return self.__dict__.get("_content")

    def view(self, credential_id):
        """The ``stored`` part of the diff (never a secret)."""
        return {"location": self.location, "credential_id": credential_id}


@dataclass(frozen=True)
class Plan(object):
    """What to do for one task, and why; apply does it, result_of reports it."""

    action: str
    reason: str = None
    current: dict = None
    #: The older credentials this task replaces (their IDs show in the diff as previous_ids).
    older: tuple = ()
    #: (credential, why) pairs to revoke, in order.
    retire: tuple = ()
    #: {id: reason} of the older credentials kept for now.
    kept: dict = field(default_factory=dict)
    #: {id: the API's refusal} of the older credentials kept because their revoke failed after the create.
    refused: dict = field(default_factory=dict)
    store_delete: bool = False
    #: What to pass to adapter.create_credential (actions in MAKES_CREDENTIAL).
    create_spec: dict = None
    #: The status to set (action set_status).
    status: str = None
    #: The IDs listed before the create: a credential found after a lost create is not one of them.
    known_ids: frozenset = frozenset()
    #: Check mode's picture of the credential after the plan (a create's IDs unknown).
    predicted: dict = None
    desired: Desired = None
    stored: Stored = None
    owner: Owner = None
    now: datetime = None

    @property
    def makes_credential(self):
        return self.action in MAKES_CREDENTIAL

    @property
    def rotated(self):
        return self.makes_credential and self.current is not None

    @property
    def changed(self):
        if self.action in ("keep", "none", "revoke"):
            return bool(self.retire) or self.store_delete
        return True

    @property
    def revoke_ids(self):
        return [credential["id"] for credential, _why in self.retire]


class Applied(object):
    """What apply did: the credential after it, the new secret (or None), every ID it revoked
    (lost creates first), and the plan as it was settled after the create (see settle).

    Not a dataclass, unlike the others: it holds a new secret, which asdict, astuple and
    replace would copy out; its repr leaves the secret out."""

    __slots__ = ("credential", "secret", "revoked", "plan")

    def __init__(self, credential=None, secret=None, revoked=(), plan=None):
        self.credential = credential
        self.secret = secret
        self.revoked = tuple(revoked)
        self.plan = plan

    def __repr__(self):
        return "Applied(credential=%r, revoked=%r)" % (self.credential, self.revoked)


# ---- helpers -----------------------------------------------------------------------------
def lifetime_days(credential):
    created, expires = parse_time(credential.get("created_at")), parse_time(credential.get("expires_at"))
    if not created or not expires:
        return None
    return int(round(days_between(created, expires)))


def with_expiry(credential, now):
    """The credential plus ``expires_in_days`` and ``expired`` (for the info module)."""
    left = days_until(credential.get("expires_at"), now)
    return dict(credential, expires_in_days=None if left is None else int(math.floor(left)),
                expired=bool(left is not None and left <= 0))


def _comparable(credential):
    days = lifetime_days(credential)
    return dict(credential, expires_days=0 if days is None and not credential.get("expires_at") else days,
                allowed_cidrs=normalise_cidrs(credential.get("allowed_cidrs") or []))


def _age(credential):
    return (parse_time(credential.get("created_at")) or datetime.min.replace(tzinfo=timezone.utc), credential["id"])


def public(credential):
    """A credential as results and diffs show it."""
    return {k: v for k, v in credential.items() if k != "expires_days"} if credential else {}


def still_live(older):
    """The end of a failure message: which previous credentials the failure leaves live."""
    if not older:
        return ""
    ids = ", ".join(c["id"] for c in older)
    return (" and the previous credential %s stays live" % ids if len(older) == 1
            else " and the previous credentials %s stay live" % ids)


# ---- bad input -----------------------------------------------------------------------------
def check_params(params, capabilities, personal=False, with_store=None):
    """Refuse what the platform cannot do and impossible values, before any request.

    ``personal`` allows expires_days 0 (personal API keys can live forever); ``with_store``
    (default: whether params has a store) allows a name where credentials have none.
    """
    with_store = bool(params.get("store")) if with_store is None else with_store
    given = [name for name in CREDENTIAL_SETTINGS if params.get(name) is not None]
    # Where credentials have no name (Orkes), a name is only the key of the store entry: allowed with a store.
    unsupported = [name for name in given if name not in capabilities.credential_settings
                   and not (name == "name" and with_store)]
    if unsupported:
        raise ConfigError("%s cannot be set on platform %s; remove %s"
                          % (", ".join(unsupported), capabilities.platform, "them" if len(unsupported) > 1 else "it"))
    choices = ((0,) if personal else ()) + tuple(capabilities.expiry_choices)
    if params.get("expires_days") is not None and params["expires_days"] not in choices:
        raise ConfigError("expires_days must be one of %s, not %s"
                          % (", ".join(str(c) for c in choices), params["expires_days"]))
    if (params.get("rotate_before_days") or 0) < 0:
        raise ConfigError("rotate_before_days must be 0 (never) or more, not %s" % params["rotate_before_days"])
    if capabilities.credentials_have_names and not params.get("name") and not params.get("id"):
        raise ConfigError("Give name (or id) to say which credential to manage")
    if with_store and not params.get("name"):
        raise ConfigError("Give name with store: the credential's name is the key of its store entry")
    validate_retire_params(capabilities, params)


def _roles_phrase(role_ids, names):
    shown = ["%r (%s)" % (names[i], i) if names.get(i) else str(i) for i in role_ids]
    return shown[0] if len(shown) == 1 else "%s and %s" % (", ".join(shown[:-1]), shown[-1])


def check_held_roles(role_ids, held, names, whose, what="credential", product="the platform"):
    """Refuse scoped ``role_ids`` the principal ``whose`` does not hold (``held``: its role IDs; ``names``: {ID:
    display name}): a credential's or trust's permissions are those of its scoped roles that its principal holds, so
    a scope it lacks would give nothing. One ConfigError sentence naming each missing role and the held ones."""
    missing = [i for i in sorted(set(role_ids or ())) if i not in set(held)]
    if not missing:
        return
    raise ConfigError(
        "scoped_roles: service principal %r does not hold the role%s %s, so the %s would get no permission from %s "
        "(its permissions are those of its scoped roles that its principal holds); %s; scope the %s to roles it "
        "holds, or give the principal the missing role%s in the %s console (no public API sets a principal's roles)"
        % (whose, "s" if len(missing) > 1 else "", _roles_phrase(missing, names), what,
           "them" if len(missing) > 1 else "it",
           "it holds %s" % _roles_phrase(sorted(held), names) if held else "it holds no role", what,
           "s" if len(missing) > 1 else "", product))


def needs_claims(capabilities, desired):
    """Whether the store's other entries of the principal must be read (Stored.claimed)."""
    return not capabilities.credentials_have_names and not desired.id


# ---- the planner -------------------------------------------------------------------------
def select(capabilities, desired, listed, held=None, claimed=None):
    """(current, older): the credential this task manages and the older ones it replaces.

    ``held`` is the ID in this task's entry (with a store). For nameless credentials ``claimed``
    is the IDs held by the principal's other entries: those belong to other names. Otherwise the
    newest is current; of two made in the same second, the held one (the caller has its secret).
    """
    if desired.id:
        match = [c for c in listed if c["id"] == desired.id]
        return (match[0] if match else None), []
    if capabilities.credentials_have_names:
        candidates = [c for c in listed if c.get("name") == desired.name]
    elif claimed is not None:  # nameless keys with a store: the entry says which key is this name's
        mine = [c for c in listed if c["id"] == held]
        if desired.state == "absent":
            return (mine[0] if mine else None), []
        others = [c for c in listed if c["id"] != held and c["id"] not in claimed]
        if mine:
            return mine[0], sorted(others, key=_age)
        candidates = [c for c in others if c.get("status") == "ACTIVE"] or others
    elif desired.state == "absent":  # nameless keys: absent means none at all
        candidates = list(listed)
    else:  # nameless keys: the newest active one stands for "a key exists"
        candidates = [c for c in listed if c.get("status") == "ACTIVE"] or list(listed)
    candidates.sort(key=lambda c: (_age(c)[0], c["id"] == held, c["id"]))
    if not candidates:
        return None, []
    return candidates[-1], candidates[:-1]


def replacement_reason(capabilities, desired, current, now):
    """Why a new credential is needed, or None. Drift without replace_on_change is an error."""
    if current is None:
        return "missing"
    wanted = desired.settings()
    drift = differences(_comparable(current), {f: wanted.get(f) for f in IMMUTABLE_FIELDS})
    if drift and not desired.replace_on_change:
        raise ConductorError(
            "Credential %r (%s) differs in settings the API cannot change in place: %s; set "
            "replace_on_change: true to replace it with a new credential"
            % (current.get("name") or current["id"], current["id"], describe(drift)))
    if drift:
        return "changed settings: " + describe(drift)
    if desired.force_rotate:
        return "force_rotate"
    left = days_until(current.get("expires_at"), now)
    if left is not None and left <= 0:
        return "expired"
    before = desired.rotate_before_days or 0
    if before and left is not None and left <= before:
        return "expires in %.1f days, within rotate_before_days %d" % (left, before)
    if current.get("status") == "INACTIVE" and desired.status is None \
            and not capabilities.credentials_have_names and not desired.id:
        return "no active key"
    return None


def store_reason(stored, current):
    """Why a live credential must be replaced for the store's sake, or None."""
    if stored is None:
        return None
    if not stored.present:
        return "its secret is not in the %s store (no entry at %s)" % (stored.store_type, stored.location)
    if stored.credential_id != current["id"]:
        return "the %s store entry at %s holds credential %s, not the live credential %s" % (
            stored.store_type, stored.location, stored.credential_id, current["id"])
    return None


def retire_decision(desired, older, newer_created_at, now):
    """((credential, why) pairs to revoke, {id: reason} kept) among the older credentials."""
    if not desired.revoke_previous:
        return (), dict((c["id"], KEPT_NO_REVOKE) for c in older)
    due, kept = _retire_due(older, newer_created_at, now, desired.revoke_previous_after_unused_hours,
                            desired.max_overlap_days)
    why = ("unused long enough or past max_overlap_days" if desired.revoke_previous_after_unused_hours is not None
           else "replaced")
    return tuple((c, why) for c in due), kept


def create_spec(capabilities, desired):
    spec = desired.settings()
    if spec.get("expires_days") is None and capabilities.credentials_expire:
        spec["expires_days"] = capabilities.default_expires_days
    return spec


def kept_settings(capabilities, desired, current, owner):
    """``desired`` with each setting it leaves out (None: not managed) taken from the live ``current``: a
    rotation that names a credential without its settings makes the new one as the live one is (its CIDRs,
    scoped roles, DPoP binding and expiry period); a setting given is wanted."""
    if current is None:
        return desired
    kept = {}
    settings = capabilities.credential_settings
    if desired.expires_days is None and "expires_days" in settings:
        days = lifetime_days(current)
        if days is not None:  # the live lifetime, as the nearest period the API offers
            kept["expires_days"] = min(capabilities.expiry_choices, key=lambda choice: (abs(choice - days), choice))
        elif not current.get("expires_at") and owner is not None and owner.kind == "personal":
            kept["expires_days"] = 0  # a personal key that never expires stays so
    if desired.allowed_cidrs is None and "allowed_cidrs" in settings:
        kept["allowed_cidrs"] = tuple(normalise_cidrs(current.get("allowed_cidrs") or []))
    if desired.scoped_roles is None and "scoped_roles" in settings:
        kept["scoped_roles"] = kept["scoped_role_ids"] = tuple(sorted(current.get("scoped_role_ids") or []))
    if desired.require_dpop is None and "require_dpop" in settings:
        kept["require_dpop"] = bool(current.get("require_dpop"))
    return _replace(desired, **kept)


def predicted(capabilities, desired, owner_id, now):
    """What a create would make, for check mode (IDs unknown)."""
    days = desired.expires_days or (capabilities.default_expires_days if capabilities.credentials_expire else None)
    return {
        "id": None, "name": desired.credential_name, "client_id": None, "service_principal_id": owner_id,
        "created_at": None, "expires_at": format_time(now + timedelta(days=days)) if days else None,
        "allowed_cidrs": list(desired.allowed_cidrs or []), "scoped_role_ids": list(desired.scoped_role_ids or []),
        "require_dpop": bool(desired.require_dpop), "last_used_at": None,
        "status": desired.status or "ACTIVE",
    }


def plan(capabilities, desired, listed, stored, now, owner=None):
    """The Plan for one credential task (module docstring). Pure; raises ConductorError for drift."""
    if desired.needs_roles:
        raise ValueError("plan: scoped_roles are not resolved to IDs; call Desired.with_role_ids first")
    owner = owner or Owner.principal(None)
    base = dict(desired=desired, stored=stored, owner=owner, now=now,
                known_ids=frozenset(c["id"] for c in listed))
    if owner.kind == "pending":  # check mode, principal not there yet: everything would be created
        if desired.state == "absent":
            return Plan("none", **base)
        return Plan("create", reason="missing", create_spec=create_spec(capabilities, desired),
                    predicted=predicted(capabilities, desired, None, now), **base)
    held = stored.credential_id if stored is not None and stored.present else None
    claimed = stored.claimed if stored is not None else None
    current, older = select(capabilities, desired, listed, held, claimed)
    older = tuple(older)

    if desired.state == "absent":
        gone = ((current,) if current else ()) + older
        store_delete = stored is not None and stored.present
        return Plan("revoke" if gone or store_delete else "none", reason="state absent", current=current,
                    retire=tuple((c, "state absent") for c in gone), store_delete=store_delete, **base)

    if current is None and desired.id:
        raise ConfigError("No credential has id %r here; remove id to create one" % desired.id)

    reason = replacement_reason(capabilities, desired, current, now)
    if not reason:
        reason = store_reason(stored, current)
    if reason:
        replaced = ((current,) if current else ()) + older
        action = "create" if current is None else "replace" if reason.startswith("changed settings") else "rotate"
        due, kept = retire_decision(desired, replaced, None, now)
        made = kept_settings(capabilities, desired, current, owner)
        return Plan(action, reason=reason, current=current, older=replaced, retire=due, kept=kept,
                    create_spec=create_spec(capabilities, made),
                    predicted=predicted(capabilities, made, owner.id, now), **base)

    due, kept = retire_decision(desired, older, current.get("created_at"), now)  # the end of an overlap
    if desired.id and desired.credential_name and current.get("name") != desired.credential_name:
        # Named by its ID: a new name renames it in place (same client ID, no new secret).
        return Plan("rename", reason="name is %r, wanted %r" % (current.get("name"), desired.credential_name),
                    current=current, older=older, retire=due, kept=kept,
                    predicted=dict(current, name=desired.credential_name), **base)
    status = desired.status
    if status and status != current.get("status"):
        return Plan("set_status", reason="status is %s, wanted %s" % (current.get("status"), status),
                    current=current, older=older, retire=due, kept=kept, status=status,
                    predicted=dict(current, status=status), **base)
    return Plan("keep", current=current, older=older, retire=due, kept=kept, predicted=current, **base)


def settle(plan_, created, now=None):
    """The plan after its create: the older credentials' retire decision against the new one's created_at."""
    if not plan_.makes_credential or not plan_.older:
        return plan_
    due, kept = retire_decision(plan_.desired, plan_.older, created.get("created_at"), now or plan_.now)
    return _replace(plan_, retire=due, kept=kept)


def keep_refused(plan_, refused):
    """The plan after the revokes of ``refused`` ({id: the API's refusal}) failed once its create was done.

    The new credential is held (stored, or returned) and stays the caller's: the refused older
    ones are kept, and a later run retires them (the new one is the newest of its name, so the
    planner keeps it and retires the older)."""
    if not refused:
        return plan_
    kept = dict(plan_.kept)
    kept.update((cid, "revoking it failed: %s; a later run revokes it" % why) for cid, why in refused.items())
    return _replace(plan_, retire=tuple(pair for pair in plan_.retire if pair[0]["id"] not in refused),
                    kept=kept, refused=dict(refused))


def refusal_warnings(plan_, credential):
    """One warning per older credential whose revoke was refused after the create (never a secret)."""
    owner = plan_.owner or Owner.principal(None)
    whose = "the personal keys" if owner.kind == "personal" else repr(owner.name or owner.id)
    return ["Credential %r of %s: the new credential %s is in place and held, but the previous credential %s "
            "stays live: %s; a later run revokes it" % (plan_.desired.name, whose, (credential or {}).get("id"),
                                                        cid, why) for cid, why in plan_.refused.items()]


# ---- the result --------------------------------------------------------------------------
def result_of(plan_, applied=None):
    """The module result (with its diff) for a plan; ``applied`` None: check mode's prediction.

    The credential IDs revoked are ``applied.revoked`` (lost creates first, then the retired
    ones), or in check mode the plan's retire list.
    """
    if applied is not None and applied.plan is not None:
        plan_ = applied.plan
    revoked = list(applied.revoked) if applied is not None else plan_.revoke_ids
    stored = plan_.stored
    if plan_.owner is not None and plan_.owner.kind == "pending":
        if plan_.action == "none":
            return {"changed": False, "credential": None, "revoked_ids": [], "diff": {"before": {}, "after": {}}}
        after = applied.credential if applied is not None and applied.credential is not None else plan_.predicted
        result = {"changed": True, "revoked_ids": [], "credential": after, "diff": {"before": {}, "after": after}}
        if stored is not None:
            result["stored"] = {"type": stored.store_type, "location": stored.location}
        return result

    before = public(plan_.current)
    if stored is not None:
        before["stored"] = stored.view(stored.credential_id) if stored.present else None
    result = {"changed": plan_.changed, "revoked_ids": revoked, "diff": {"before": before}}
    if plan_.action in ("revoke", "none"):
        result["credential"] = None
        result["diff"]["after"] = {}
        return result

    if stored is not None:
        result["stored"] = {"type": stored.store_type, "location": stored.location}
    if applied is not None and applied.credential is not None:
        credential = applied.credential
    else:
        credential = plan_.predicted
    if plan_.makes_credential:
        if applied is not None and applied.secret:
            result["client_secret"] = applied.secret
        result["rotated"] = plan_.rotated
        result["reason"] = plan_.reason
    result["kept_ids"] = list(plan_.kept)
    result["kept_reasons"] = dict(plan_.kept)
    if plan_.refused:
        result["warnings"] = refusal_warnings(plan_, credential)
    result["credential"] = credential
    result["diff"]["after"] = public(credential)
    if plan_.older:  # which of the older credentials of that name would stay, and which go
        result["diff"]["before"]["previous_ids"] = [c["id"] for c in plan_.older]
        result["diff"]["after"]["previous_ids"] = list(plan_.kept)
    if stored is not None:
        result["diff"]["after"]["stored"] = stored.view(credential.get("id"))
    return result
