# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_principals: every principal of a list, its credentials and trusts, in one task.

Three steps, each in its own place:

1. ``inputs.check_principals`` (the roles' check too) turns the ``principals`` option into work or
   one sentence naming the entry to fix (nothing is sent before the whole list passed).
2. ``plan_tenant`` decides, over plain values (the list, the tenant's principals, the store's
   entries), which principals to create, update, keep or remove, and which credential items to
   run; ``prune`` is bounded by the store and acts on the IDs its entries hold, never on names:
   only principals and credentials that entries prove and that the list dropped are removed.
3. ``TenantRun`` applies it with at most ``parallelism`` requests in flight (parallel.py):
   principals first; then each credential is planned by the one credential planner
   (``credential_plan.plan``, as sp_credential plans it) and the plans are applied by the one
   applier sp_credential uses too (``credentials.apply_wave``), in waves of ``WAVE_FACTOR`` x
   ``parallelism`` items (into a vault_file, at least 1/``WAVE_GROWTH`` of its entries, so rewriting the
   file per wave costs a constant per item): the creates of a wave in parallel, ONE batched store write of its new
   secrets (vault_file: its file once), in parallel the proofs and the revokes, one batched delete
   of the entries of revoked credentials. Then trusts, then the entries of removed principals.

One item's failure does not stop the others: it is undone by the core (the new credential
revoked, the old one kept) and named in ``failed_items``; the task fails at the end. A bug
(any other exception) inside a wave revokes that wave's new credentials the store does not hold;
with ``return_secrets`` and no store the task then ends failed with the result of the waves done
(their secrets are nowhere else), otherwise the exception goes on.
"""

from __future__ import annotations

import collections
import traceback
from dataclasses import dataclass, field

from . import parallel
from .actions import done
from .client import ApiClient
from .config import resolve_settings
from .credential_plan import Desired, Owner, Stored, needs_claims, plan as plan_credential, result_of
from .credentials import Done, Item, apply_wave
from .errors import ConductorError, ConfigError, redact
from .federation import ensure_trust
from .inputs import CREDENTIAL_DEFAULTS, check_principals
from .platforms import adapter_for
from .principals import ensure_principal
from .stores import SERVICE_PRINCIPAL, EntryKey, StoredEntry, store_for

#: A wave of credential items is this many times ``parallelism``: its new secrets wait for one store write.
WAVE_FACTOR = 4
#: Into a store whose write rewrites every entry (vault_file), a wave is at least 1/WAVE_GROWTH of its entries.
WAVE_GROWTH = 8


# ---- 2. the plan: pure -----------------------------------------------------------------------
def entry_owner(content, live):
    """The principal ID an entry proves: the one it records; an older entry, the one whose listing holds its
    credential (``live``: {principal ID: IDs of its live credentials}, of the principals listed so far)."""
    if content.get("service_principal_id"):
        return content["service_principal_id"]
    credential_id = content.get("credential_id")
    if not credential_id:
        return None
    return next((owner for owner, ids in sorted(live.items()) if credential_id in ids), None)


def prune_candidates(wanted, entries):
    """The store keys prune judges: those that no listed credential, nor a principal listed absent, names."""
    listed = {p["name"]: {c["name"] for c in p["credentials"]} for p in wanted}
    absent = {p["name"] for p in wanted if p["state"] == "absent"}
    return [key for key in sorted(entries) if key.owner == SERVICE_PRINCIPAL and key.principal not in absent
            and key.credential not in listed.get(key.principal, ())]


def entry_lookups(keys, listed, entries, live, needs_listing=None):
    """The principal IDs whose credentials must still be listed to judge the entries of ``keys`` by ID.

    An older entry (no ``service_principal_id``) looks for its credential under the entry's name first,
    then in the whole tenant; an entry whose principal exists needs that principal's listing to tell
    whether its credential lives (``needs_listing(principal, key)``, when given, says whether that matters).
    """
    by_id, by_name = {}, {}
    for principal in listed:
        by_id[principal["id"]] = principal
        by_name.setdefault(principal.get("name"), []).append(principal["id"])
    need = set()
    for key in keys:
        content = entries.get(key) or {}
        owner = entry_owner(content, live)
        if owner is None and content.get("credential_id"):
            named = [i for i in by_name.get(key.principal, ()) if i not in live]
            need.update(named or [i for i in by_id if i not in live])
        elif owner in by_id and owner not in live and (needs_listing is None or needs_listing(by_id[owner], key)):
            need.add(owner)
    return sorted(need)


def entry_gone(content, by_id, live):
    """Whether the credential an entry holds is live nowhere: its principal is gone, or that principal's listing
    (in ``live``) lacks it. An entry's secret is forgotten only then."""
    owner = entry_owner(content, live)
    if owner not in by_id or not content.get("credential_id"):
        return True
    return owner in live and content["credential_id"] not in live[owner]


def prune_lookups(wanted, listed, entries, live):
    """The principal IDs whose credentials prune must still list (``live`` holds those listed so far): an older
    entry's owner is looked for; the entry of a principal listed under another name (renamed in place) is
    forgotten only once its credential is gone."""
    present = {p["name"] for p in wanted if p["state"] == "present"}

    def renamed_and_kept(principal, key):
        return principal.get("name") in present and principal.get("name") != key.principal
    return entry_lookups(prune_candidates(wanted, entries), listed, entries, live, renamed_and_kept)


@dataclass(frozen=True)
class PrincipalStep(object):
    """What to do with one principal: ``action`` create, update (roles, tags or permissions to compare), keep,
    delete (listed absent, or pruned) or duplicate (several principals have that name: the item fails naming
    their IDs, ``ids``)."""

    name: str
    action: str
    id: str = None
    ids: tuple = ()
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CredentialStep(object):
    """A credential item of a present principal (``params`` as sp_credential takes them); ``pruned``: one the
    list dropped, revoked by the ID its entry holds."""

    principal: str
    params: dict
    pruned: bool = False


@dataclass(frozen=True)
class TrustStep(object):
    """A trust item of a present principal (``params`` as sp_trust takes them)."""

    principal: str
    params: dict


@dataclass(frozen=True)
class Forget(object):
    """A store entry to delete once the principal of ID ``after`` is deleted (None: now)."""

    key: EntryKey
    after: str = None


@dataclass(frozen=True)
class TenantPlan(object):
    """plan_tenant's answer: the steps in order, and the store keys prune would judge but could not read."""

    principals: tuple = ()
    credentials: tuple = ()
    trusts: tuple = ()
    forget: tuple = ()
    unproven: tuple = ()

    @property
    def size(self):
        return len(self.principals) + len(self.credentials) + len(self.trusts)


def plan_tenant(wanted, listed, entries, prune=False, live=None):
    """What to do, as a TenantPlan, from the checked list, the tenant's principals and the store's entries (plain
    values). ``entries``: {EntryKey: content} of the store (content None: it could not be read); ``live``: the
    credential IDs of the principals prune_lookups asked for.

    With ``prune``, each entry of a present principal that the list does not name adds a CredentialStep with
    ``state: absent`` and the ``id`` the entry holds. Prune acts on the IDs entries prove, never on names: it
    deletes a principal only if an entry records its ID (or holds the ID of a credential it owns), revokes a
    credential only by the ID an entry holds, and forgets an entry once its credential is not live anywhere. A
    principal renamed in place is still the one its entries name.
    """
    live = live or {}
    by_name, by_id = {}, {}
    for principal in listed:
        by_name.setdefault(principal.get("name"), []).append(principal)
        by_id[principal["id"]] = principal
    under = {}
    for key in entries:
        if key.owner == SERVICE_PRINCIPAL:
            under.setdefault(key.principal, []).append(key)
    steps, credentials, trusts, forget = [], [], [], []

    def principal_step(name, action, settings=None):
        found = by_name.get(name) or []
        if action == "delete" and not found:
            return  # gone already: only its entries are forgotten
        if len(found) > 1:
            action = "duplicate"
        elif action != "delete":
            action = "create" if not found else ("update" if settings else "keep")
        steps.append(PrincipalStep(name, action, found[0]["id"] if len(found) == 1 else None,
                                   tuple(sorted(str(p["id"]) for p in found)), settings or {}))

    for principal in wanted:
        name = principal["name"]
        if principal["state"] == "absent":
            principal_step(name, "delete")
            found = by_name.get(name) or []
            if len(found) < 2:  # several of that name: the item fails, its entries stay
                forget.extend(Forget(key, found[0]["id"] if found else None) for key in sorted(under.get(name, [])))
            continue
        principal_step(name, "create", principal["settings"])
        credentials.extend(CredentialStep(name, c) for c in principal["credentials"])
        trusts.extend(TrustStep(name, t) for t in principal["trusts"])
    unproven = []
    if prune:
        pruned = _plan_prune(wanted, by_name, by_id, entries, live)
        steps.extend(pruned.principals)
        credentials.extend(pruned.credentials)
        forget.extend(pruned.forget)
        unproven = pruned.unproven
    return TenantPlan(tuple(steps), tuple(credentials), tuple(trusts), tuple(forget), tuple(unproven))


def _plan_prune(wanted, by_name, by_id, entries, live):
    """What prune adds, as a TenantPlan, judged by the IDs the entries prove (plan_tenant)."""
    present = {p["name"] for p in wanted if p["state"] == "present"}
    absent = {p["name"] for p in wanted if p["state"] == "absent"}
    removed, credentials, forget, unproven = {}, [], [], []
    for key in prune_candidates(wanted, entries):
        content = entries[key]
        if content is None:
            unproven.append(key)
            continue
        credential_id = content.get("credential_id")
        owner = by_id.get(entry_owner(content, live))
        if owner is None:  # its principal is gone, or its credential is live nowhere: nothing it holds lives
            forget.append(Forget(key))
            continue
        name = owner.get("name")
        if name in absent:  # the principal listed absent deletes it (when it is the one of that name)
            forget.append(Forget(key, owner["id"]))
        elif name not in present:  # the list dropped it: deleted (by its ID), then its entries forgotten
            removed.setdefault(owner["id"], owner)
            forget.append(Forget(key, owner["id"]))
        elif len(by_name.get(name) or []) > 1:
            continue  # listed, but several have its name: that item fails, its entries stay
        elif name == key.principal and credential_id:  # a credential the list dropped: revoked by its ID
            credentials.append(CredentialStep(name, {"name": key.credential, "id": credential_id, "state": "absent"},
                                              pruned=True))
        elif entry_gone(content, by_id, live):
            forget.append(Forget(key))  # renamed in place, and its credential is gone
    steps = tuple(PrincipalStep(p.get("name"), "delete", p["id"], (str(p["id"]),))
                  for p in sorted(removed.values(), key=lambda p: (str(p.get("name")), str(p["id"]))))
    return TenantPlan(steps, tuple(credentials), (), tuple(forget), tuple(unproven))


def check_max_removals(plan, wanted, keys, max_removals=None):
    """Refuse, before any write, a prune that would remove more principals than ``max_removals`` (default 10% of
    the principals the store records, at least 1): an empty or cut-short list would otherwise empty the tenant."""
    if max_removals is not None and max_removals < 0:
        raise ConfigError("max_removals must be 0 or more, not %d" % max_removals)
    managed = len({key.principal for key in keys if key.owner == SERVICE_PRINCIPAL})
    limit = max(1, managed // 10) if max_removals is None else max_removals
    absent = {p["name"] for p in wanted if p["state"] == "absent"}
    pruned = [step for step in plan.principals if step.action == "delete" and step.name not in absent]
    if len(pruned) > limit:
        raise ConfigError("prune would remove %d of the %d principals the store records, more than max_removals "
                          "(%d%s); list the ones to keep, or set max_removals: %d if they are all meant to go"
                          % (len(pruned), managed, limit, "" if max_removals is not None else ", 10% by default",
                             len(pruned)))


# ---- 3. apply --------------------------------------------------------------------------------
def _count(rows):
    counts = {}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    return counts


def failure_message(failed, total):
    """The task's one message: how many items failed and, for each, what and why."""
    parts = []
    for item in failed:
        what = "principal %r" % item["principal"]
        if item.get("credential"):
            what += " credential %r" % item["credential"]
        if item.get("trust"):
            what += " trust %r" % item["trust"]
        parts.append("%s: %s" % (what, item["msg"].rstrip(".")))
    return "%d of %d items failed, every other item is done: %s" % (len(failed), total, "; ".join(parts))


def _revoked_row(credential):
    """A credential as the removal of its principal reports it (``revoked_credentials``)."""
    return {k: credential.get(k) for k in ("id", "name", "client_id")}


def _may_mint(wanted):
    """Whether a run over the checked list may make a secret the store must keep: a present principal with a
    present credential. A list that only removes makes none (its store may be long gone: nothing to keep)."""
    return any(p.get("state") != "absent" and any(c.get("state") != "absent" for c in p.get("credentials") or [])
               for p in wanted)


class TenantRun(object):
    """One service_principals task: check, plan, apply (or, in check mode, only plan)."""

    def __init__(self, client, params, check_mode=False, environ=None, diff=False):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.environ = environ or {}
        self.platform = client.settings.platform
        self.failed = []
        self.warnings = []
        self.secrets = {}
        # Only when asked (--diff): for a list of 1,000 items it is the largest part of the result.
        self.diff = {"before": {}, "after": {}} if diff else None
        self.wave_batches = 0
        self.forgotten = 0
        self.items = 0
        self.read_errors = {}
        self.listed_credentials = {}  # {principal ID: its credentials as a removal reports them}, from prune's listing
        self.halted = None  # why the task stopped after a bug in a wave (return_secrets without a store)
        self.exception = None

    def run(self):
        params = self.params
        parallelism = parallel.check_parallelism(parallel.DEFAULT_PARALLELISM if params.get("parallelism") is None
                                                 else params["parallelism"])
        defaults = {k: params.get(k) for k in CREDENTIAL_DEFAULTS}
        if params.get("prune") and not params.get("store"):
            raise ConfigError("prune removes what the store records as managed, so give store with prune")
        # The whole list first: a mistake anywhere in it is named before the store is opened or anything is sent.
        wanted = check_principals(params.get("principals"), "principals", self.platform, defaults,
                                  bool(params.get("store") or params.get("return_secrets")), platform=self.platform,
                                  allow_empty=params.get("allow_empty"))
        store = store_for(params.get("store"), self.environ)
        if store is not None and not self.check_mode and _may_mint(wanted):
            store.check_writable()  # opened, locked and decrypted before the first API write
        with parallel.Pool(parallelism) as pool:
            self.pool = pool
            self.shared = parallel.shared_client(self.client, pool)
            self.adapter = adapter_for(self.shared)
            for item in (p for p in wanted if p["state"] != "absent"):  # the server's roles, read once
                self.adapter.check_roles(item["settings"].get("roles"), "principals: principal %r" % item["name"])
            listed = self.adapter.list_principals()
            keys = store.list(self.platform) if store is not None else []
            self.store = store
            self.cache = {}
            if store is not None:
                self._read_entries(store, wanted, keys)
            entries = {key: (self.cache.get(key) or (None,))[0] for key in keys}
            live = self._prune_listings(wanted, listed, entries) if params.get("prune") else {}
            plan = plan_tenant(wanted, listed, entries, params.get("prune"), live)
            del entries, live
            if params.get("prune"):
                check_max_removals(plan, wanted, keys, params.get("max_removals"))
            self.items = plan.size
            for key in plan.unproven:
                if key in self.read_errors:
                    self._fail(key.principal, credential=key.credential, msg="prune left its entry alone: %s"
                               % self.read_errors[key].message)
            principals = self._principals(plan, listed)
            del listed  # the tenant's whole listing: not needed once the principals are done
            credentials = self._credentials(plan, principals, keys)
            trusts = [] if self.halted else self._trusts(plan, principals)
            if not self.halted:
                self._forget(plan, principals)
        if store is not None:  # a refused Vault metadata step: the writes themselves are done
            self.warnings.extend(store.warnings)
        return self._result(principals, credentials, trusts)

    # ---- the store, read once --------------------------------------------------------------
    def _key(self, principal, credential):
        return EntryKey(self.platform, principal, credential, SERVICE_PRINCIPAL)

    def _read_entries(self, store, wanted, keys):
        """Every entry of the platform and of the listed credentials, once: prune and the credential plans read them."""
        wanted = list(dict.fromkeys(list(keys) + [self._key(p["name"], c["name"])
                                                  for p in wanted for c in p["credentials"]]))
        found, errors = store.read_many(wanted)
        for key, entry in found.items():
            self.cache[key] = None if entry is None else (entry.content, entry.version)
        self.read_errors = errors

    def _prune_listings(self, wanted, listed, entries):
        """{principal ID: IDs of its live credentials} of the principals prune must judge by (prune_lookups)."""
        live = {}
        need = prune_lookups(wanted, listed, entries, live)
        while need:
            for outcome in self.pool.map(self.adapter.list_credentials, need):
                if outcome.error is not None:  # prune cannot prove what it would act on: nothing is done
                    raise ConductorError("prune could not list the credentials of service principal %s: %s"
                                         % (outcome.item, outcome.error.message))
                live[outcome.item] = {c["id"] for c in outcome.value}
                self.listed_credentials[outcome.item] = [_revoked_row(c) for c in outcome.value]
            need = prune_lookups(wanted, listed, entries, live)
        return live

    # ---- principals ------------------------------------------------------------------------
    def _principals(self, plan, listed):
        """{slot: {"name", "id", "action", "ok"}} after creating, updating and removing what the plan says; a slot is
        the name, or for a removal (name, ID): prune may remove several principals of one name."""
        out = {}
        work = []
        named = collections.Counter(step.name for step in plan.principals)
        held = {p["id"]: p.get("role_ids") for p in listed}  # the roles each principal holds, from the listing

        def slot(step):
            return step.name if step.action != "delete" else (step.name, step.id)
        for step in plan.principals:
            if step.action == "keep":
                out[slot(step)] = {"name": step.name, "id": step.id, "action": done("keep"), "ok": True,
                                   "role_ids": held.get(step.id)}
            elif step.action == "duplicate":
                out[slot(step)] = {"name": step.name, "id": None, "action": "failed", "ok": False}
                self._fail(step.name, msg="%d service principals are named %r (%s); remove the extra ones or "
                           "manage them by id with conductor.principals.service_principal"
                           % (len(step.ids), step.name, ", ".join(step.ids)))
            else:
                work.append(step)
        for outcome in self.pool.map(lambda step: self._principal(step, listed, named[step.name] > 1), work):
            step = outcome.item
            if outcome.error is not None:
                out[slot(step)] = {"name": step.name, "id": step.id, "action": "failed", "ok": False}
                self._fail(step.name, msg=outcome.error.message + (
                    "; its credentials and trusts were not touched" if step.action != "delete" else ""))
            else:
                out[slot(step)] = dict(outcome.value, name=step.name)
        return out

    def _principal(self, step, listed, shared_name=False):
        name = step.name
        label = "%s (%s)" % (name, step.id) if shared_name and step.action == "delete" else name
        before = next((p for p in listed if p.get("id") == step.id), None) if step.id else None
        self._noted("before", "principals", label, before or {})
        if step.action == "delete":
            # Its credentials go with it, wherever their secrets are held: read first, so the result names each.
            gone = self.listed_credentials.get(step.id)  # prune listed them already: not asked twice
            if gone is None:
                gone = [_revoked_row(c) for c in self.adapter.list_credentials(step.id)]
            if not self.check_mode:
                self.adapter.delete_principal(before)
            self._noted("after", "principals", label, {})
            return {"id": step.id, "action": done("delete"), "ok": True, "revoked_credentials": gone}
        principal = dict(step.settings, name=name, state="present")
        if step.id:
            principal["id"] = step.id
        result = ensure_principal(self.adapter, principal, self.check_mode, listed=listed)
        after = result.get("service_principal") or {}
        self._noted("after", "principals", name, after)
        return {"id": after.get("id"), "action": done(result["action"]), "ok": True,
                "role_ids": after.get("role_ids")}

    # ---- credentials -----------------------------------------------------------------------
    def _prover(self, credential, secret):
        """``verify``: the new secret obtains a token by itself, through the pool (it counts against the cap)."""
        settings = self.client.settings
        fresh = resolve_settings({
            "platform": settings.platform, "server_url": settings.server_url, "client_id": credential["client_id"],
            "client_secret": secret, "validate_certs": settings.validate_certs, "ca_path": settings.ca_path,
            "timeout": settings.timeout, "retries": settings.retries}, environ={})
        client = ApiClient(fresh, transport=self.pool.transport(fresh))
        client.auth.ensure_token(client.transport)

    def _credentials(self, plan, principals, keys):
        """Plan every credential item (one listing per principal), then apply the plans wave by wave."""
        items = [c for c in plan.credentials if (principals.get(c.principal) or {}).get("ok")]
        # A principal this run made has no credentials yet: only the others are listed (one request each).
        owners = sorted({principals[c.principal]["id"] for c in items if principals[c.principal]["id"]
                         and principals[c.principal]["action"] != "created"})
        listings = {o.item: o.error or o.value for o in self.pool.map(self.adapter.list_credentials, owners)}
        listings.update((p["id"], []) for p in principals.values() if p["action"] == "created" and p["id"])
        work = []
        for outcome in self.pool.map(lambda item: self._plan_credential(item, principals, listings), items):
            if outcome.error is not None:
                self._fail(outcome.item.principal, credential=outcome.item.params["name"],
                           msg=outcome.error.message)
            else:
                work.append(outcome.value)
        del listings  # each plan keeps what it needs of its listing
        rows = []
        work = collections.deque(work)
        held = len(keys)
        while work:  # a wave done is let go (its plans, listings and new secrets): only its rows are kept
            wave = [work.popleft() for _item in range(min(len(work), self._wave_size(held)))]
            try:
                rows.extend(self._apply_wave(wave))
            except Exception as exc:
                if self.store is not None or not self.secrets:
                    raise
                # The wave that raised is undone (apply_wave); the secrets of earlier ones live in this result only.
                self._halt(exc, -(-len(work) // self._wave_size(held)))
                break
            held += len(wave)
        return rows

    def _wave_size(self, held):
        """WAVE_FACTOR x parallelism items; into a store that rewrites all its entries at each write (vault_file), at
        least 1/WAVE_GROWTH of the ``held`` entries: a write then costs a constant per item, however large the store."""
        size = self.pool.parallelism * WAVE_FACTOR
        if getattr(self.store, "rewrites_all", False):
            size = max(size, held // WAVE_GROWTH)
        return size

    def _halt(self, exc, left):
        """Stop after a bug in a wave, keeping the result (and the secrets it returns) of the waves done."""
        secrets = [c["client_secret"] for by_name in self.secrets.get(self.platform, {}).values()
                   for c in by_name.values()]
        # The exception's own words may hold a secret of the wave that raised (an Orkes secret has no shape to
        # redact by): the message names its type and the traceback gives its frames, never its text.
        self.halted = (
            "The task stopped on an unexpected %s: the credentials of the waves done are in this result with "
            "their secrets, that wave's new credentials were revoked, %d later waves, the trusts and prune were not "
            "run" % (type(exc).__name__, left))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        self.exception = redact("Traceback (most recent call last):\n%s%s (its message is withheld: it may hold "
                                "a secret)\n" % (frames, type(exc).__name__), secrets)

    def _plan_credential(self, item, principals, listings):
        """(principal, params, Item): one credential's Plan (credential_plan.plan) from the listing and the store
        read before."""
        principal, params = item.principal, item.params
        owner_id = principals[principal]["id"]
        key = self._key(principal, params["name"])
        if key in self.read_errors:
            raise self.read_errors[key]
        listed = listings.get(owner_id) if owner_id else []
        if isinstance(listed, ConductorError):
            raise listed
        capabilities = self.adapter.capabilities
        desired = Desired.from_params(params, capabilities, with_store=True, checked=True)
        if desired.needs_roles:
            desired = desired.with_role_ids(self.adapter.resolve_role_ids(list(desired.scoped_roles)))
        if desired.scoped_role_ids and desired.state != "absent" and owner_id:  # before any write of this item
            self.adapter.check_held_roles(desired.scoped_role_ids, {
                "id": owner_id, "name": principal, "role_ids": principals[principal].get("role_ids")})
        stored = None
        if self.store is not None:
            held = self.cache.get(key)
            claimed = None
            if needs_claims(capabilities, desired):  # the principal's other entries hold other keys
                claimed = {entry[0].get("credential_id") for other, entry in self.cache.items()
                           if other != key and other.principal == principal and entry
                           and entry[0].get("credential_id")}
            stored = Stored.of_entry(None if held is None else StoredEntry(held[0], held[1]), self.store.type,
                                     self.store.location(key), claimed)
        owner = Owner.principal(owner_id, principal) if owner_id else Owner.pending(principal)
        planned = plan_credential(capabilities, desired, listed, stored, self.shared.server_now(), owner)
        return principal, params, Item(planned, key)

    def _apply_wave(self, wave):
        """One wave of (principal, params, Item): applied by credentials.apply_wave (check mode: only the plans);
        a row per item done, a failed item per error."""
        items = [item for _principal, _params, item in wave]
        if self.check_mode:
            done = [Done(item, None, None, None) for item in items]
        else:
            done = apply_wave(self.adapter, items, self.store, self.pool, self.client.settings.server_url,
                              self._prover)
            self.wave_batches += any(d.version is not None for d in done)
        rows = []
        for (principal, params, item), outcome in zip(wave, done):
            if outcome.version is not None:  # what this task read of the entry is stale: let go, nothing reads it
                self.cache.pop(item.key, None)
            if outcome.error is not None:
                self._fail(principal, credential=params["name"], msg=outcome.error.message)
            else:
                rows.append(self._row(principal, params, item, outcome.applied))
        return rows

    def _row(self, principal, params, item, applied):
        """One row of ``credentials`` (never a secret) from the item's result; the diff and secrets noted."""
        key, result = item.key, result_of(item.plan, applied)
        settled = applied.plan if applied is not None and applied.plan is not None else item.plan
        secret = result.pop("client_secret", None)
        credential = result.get("credential") or {}
        row = {"platform": self.platform, "principal": principal, "name": params["name"], "id": credential.get("id"),
               "client_id": credential.get("client_id"), "expires_at": credential.get("expires_at"),
               "action": done(settled.action), "revoked_ids": list(result.get("revoked_ids") or []),
               "kept_ids": list(result.get("kept_ids") or []), "kept_reasons": dict(result.get("kept_reasons") or {}),
               "stored": (None if self.store is None or settled.action in ("revoke", "none")
                          else self.store.location(key))}
        if result.get("reason"):
            row["reason"] = result["reason"]
        self.warnings.extend(result.get("warnings") or ())  # a refused revoke of the previous credential
        label = "%s/%s" % (principal, params["name"])
        diff = result.get("diff") or {}
        self._noted("before", "credentials", label, diff.get("before") or {})
        self._noted("after", "credentials", label, diff.get("after") or {})
        if self.params.get("return_secrets") and params.get("state") != "absent":
            self._keep_secret(principal, params["name"], credential, secret, key)
        return row

    def _keep_secret(self, principal, name, credential, secret, key):
        """``return_secrets``: a new secret from its create, any other from the store (the entry of that credential)."""
        if secret:
            value = {"client_id": credential.get("client_id"), "client_secret": secret,
                     "server_url": self.client.settings.server_url}
        else:
            held = self.cache.get(key)
            content = held[0] if held else {}
            if not content.get("client_secret") or content.get("credential_id") != credential.get("id"):
                return
            value = {f: content.get(f) for f in ("client_id", "client_secret", "server_url")}
        self.secrets.setdefault(self.platform, {}).setdefault(principal, {})[name] = value

    # ---- trusts and forgotten entries --------------------------------------------------------
    def _trusts(self, plan, principals):
        items = [t for t in plan.trusts if (principals.get(t.principal) or {}).get("ok")]
        rows = []
        for outcome in self.pool.map(lambda item: self._trust(item, principals), items):
            item = outcome.item
            if outcome.error is not None:
                self._fail(item.principal, trust=item.params["name"], msg=outcome.error.message)
            else:
                rows.append(outcome.value)
        return rows

    def _trust(self, item, principals):
        principal, params = item.principal, item.params
        owner = principals[principal]["id"]
        if owner is None:  # check mode, the principal is still to be made
            return {"platform": self.platform, "principal": principal, "name": params["name"], "client_id": None,
                    "action": done("create")}
        result = ensure_trust(self.adapter, dict(params, service_principal_id=owner), self.check_mode)
        diff = result.get("diff") or {}
        label = "%s/%s" % (principal, params["name"])
        self._noted("before", "trusts", label, diff.get("before") or {})
        self._noted("after", "trusts", label, diff.get("after") or {})
        return {"platform": self.platform, "principal": principal, "name": params["name"],
                "client_id": (result.get("trust") or {}).get("client_id"), "action": done(result["action"])}

    def _forget(self, plan, principals):
        """Delete the entries of removed principals, after the principal (and so its credentials) is gone."""
        removed = {value["id"] for value in principals.values() if value["action"] == "removed"}
        keys = [f.key for f in plan.forget if f.after is None or f.after in removed]
        for key in keys:
            label = "%s/%s" % (key.principal, key.credential)
            self._noted("before", "entries", label, {"location": self.store.location(key)})
            self._noted("after", "entries", label, {})
        self.forgotten = len(keys)
        if self.check_mode or not keys:
            return
        _done, errors = self.store.delete_many(keys)
        for key, error in errors.items():
            self._fail(key.principal, credential=key.credential, msg=error.message)

    # ---- the result --------------------------------------------------------------------------
    def _noted(self, side, section, label, value):
        """One item's side of the diff, when the diff is kept."""
        if self.diff is not None:
            self.diff[side].setdefault(section, {})[label] = value

    def _fail(self, principal, msg, credential=None, trust=None):
        item = {"platform": self.platform, "principal": principal, "msg": msg}
        if credential:
            item["credential"] = credential
        if trust:
            item["trust"] = trust
        self.failed.append(item)

    def _result(self, principals, credentials, trusts):
        principal_rows = [dict({"platform": self.platform, "name": value["name"], "id": value["id"],
                                "action": value["action"]},
                               **({"revoked_credentials": value["revoked_credentials"]}
                                  if "revoked_credentials" in value else {})) for value in principals.values()]
        # An unchanged credential may still have retired an older one of its name (revoked_ids): a write too.
        changed = any(r["action"] not in ("unchanged", "failed") for r in principal_rows + credentials + trusts) \
            or any(r["revoked_ids"] for r in credentials) or bool(self.forgotten)
        result = {
            "changed": changed,
            "principals": principal_rows,
            "credentials": credentials,
            "trusts": trusts,
            "summary": {"principals": _count(principal_rows), "credentials": _count(credentials),
                        "trusts": _count(trusts), "entries_removed": self.forgotten, "failed": len(self.failed),
                        "store_batches": self.wave_batches},
            "failed_items": self.failed,  # ``failed`` is Ansible's own key (a boolean): the list is under this name
            "server_url": self.client.settings.server_url,
        }
        if self.diff is not None:
            result["diff"] = self.diff
        if self.params.get("return_secrets"):
            result["secrets"] = self.secrets
        if self.warnings:
            result["warnings"] = self.warnings
        if self.failed:
            result.update(failed=True, msg=failure_message(self.failed, max(self.items, len(self.failed))))
        if self.halted:
            result.update(failed=True, exception=self.exception,
                          msg=self.halted + ("; and " + result["msg"] if self.failed else ""))
        return result


def run_service_principals(client, params, check_mode, environ, diff=False):
    return TenantRun(client, params, check_mode, environ, diff).run()
