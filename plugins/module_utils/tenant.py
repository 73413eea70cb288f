# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_principals: every principal of a list, its credentials and trusts, in one task.

Three steps, each in its own place:

1. ``check_principals`` turns the ``principals`` option into work or one sentence naming the
   entry to fix (nothing is sent before the whole list passed).
2. ``plan_tenant`` decides, over plain values (the list, the tenant's principals, the keys of
   the store's entries), which principals to create, update, keep or remove, and which
   credential items to run; ``prune`` is bounded by the store: only principals and credentials
   that have entries there and that the list dropped are removed.
3. ``TenantRun`` applies it with at most ``parallelism`` requests in flight (parallel.py):
   principals first; then each credential is planned by the one credential planner
   (``credential_plan.plan``, as sp_credential plans it) and the plans are applied in waves of
   ``WAVE_FACTOR`` x ``parallelism`` items: the creates of a wave in parallel, then ONE batched
   store write of its new secrets (vault_file: its file once), then in parallel the proofs, the
   undo of any item whose write or proof failed, and the revokes of what the new credentials
   replace; then one batched delete of the entries of revoked credentials. Then trusts.

One item's failure does not stop the others: it is undone by the core (the new credential
revoked, the old one kept) and named in ``failed_items``; the task fails at the end.
"""

from __future__ import annotations

import collections

from . import parallel
from .client import ApiClient
from .common_args import trust_options
from .config import PLATFORMS, resolve_settings
from .credential_plan import (Applied, Desired, Owner, Stored, check_params, needs_claims, plan as plan_credential,
                              result_of)
from .credentials import create_credential, entry_of, prove, retire, store_write_failed, undo_create
from .errors import ConductorError, ConfigError
from .federation import build_condition, ensure_trust
from .platforms import adapter_for
from .principals import desired_principal, ensure_principal
from .role_inputs import check_entries
from .stores import SERVICE_PRINCIPAL, EntryKey, StoredEntry, store_for

#: Task options that are defaults of every credential entry (the sp_credential meanings).
CREDENTIAL_DEFAULTS = ("rotate_before_days", "force_rotate", "revoke_previous", "revoke_previous_after_unused_hours",
                       "max_overlap_days", "verify", "replace_on_change")
PRINCIPAL_SETTINGS = ("roles", "tags", "permissions")
# Why a credential was made, as the core says it, when it was made for its age (a rotation).
# What each action of a credential plan is called in the result.
ACTION_WORDS = {"create": "created", "rotate": "rotated", "replace": "replaced", "set_status": "updated",
                "keep": "unchanged", "none": "unchanged", "revoke": "revoked"}
#: A wave of credential items is this many times ``parallelism``: its new secrets wait for one store write.
WAVE_FACTOR = 4


def credential_entry_options():
    """One entry of a principal's ``credentials``."""
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        expires_days=dict(type="int", choices=[30, 60, 90, 180]),
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
        platform=dict(type="str", choices=list(PLATFORMS)),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        roles=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        permissions=dict(type="list", elements="dict"),
        credentials=dict(type="list", elements="dict", default=[], options=credential_entry_options()),
        trusts=dict(type="list", elements="dict", default=[]),  # each entry checked on its own, named
    )


def _labelled(label, check, *args):
    """Run ``check``; its ConfigError comes back as one sentence that starts with ``label``."""
    try:
        return check(*args)
    except ConfigError as exc:
        raise ConfigError("%s: %s" % (label, exc.message))


def _them(names):
    return "it" if len(names) == 1 else "them"


# ---- 1. the list, checked ------------------------------------------------------------------
def check_principals(principals, platform, adapter, defaults, has_store):
    """The ``principals`` option as a list of work, or one ConfigError sentence naming the entry.

    ``has_store``: a new secret has somewhere to go (a store, or the result with return_secrets).

    Each returned principal: {name, state, settings (roles, tags, permissions given), credentials
    (sp_credential parameters, defaults resolved), trusts (sp_trust parameters)}.
    """
    if not isinstance(principals, list):
        raise ConfigError("principals must be a list of principals, not %s" % type(principals).__name__)
    check_entries(principals, principal_entry_options(), "principals")
    wanted, seen = [], set()
    for principal in principals:
        name = principal["name"]
        label = "principals: principal %r" % name
        where = principal.get("platform") or platform
        if where != platform:
            raise ConfigError("%s is on platform %s, but this task connects to %s; give one task per platform"
                              % (label, where, platform))
        if name in seen:
            raise ConfigError("principals names principal %r more than once; name each once" % name)
        seen.add(name)
        state = principal.get("state") or "present"
        settings = {f: principal[f] for f in PRINCIPAL_SETTINGS if principal.get(f) is not None}
        unsupported = [f for f in settings if f not in adapter.capabilities.principal_settings]
        if unsupported:
            raise ConfigError("%s sets %s, which %s principals cannot have; remove %s"
                              % (label, " and ".join(unsupported), adapter.capabilities.label, _them(unsupported)))
        if settings:
            _labelled(label, adapter.check_principal, desired_principal(dict(settings, name=name)))
        credentials = [] if state == "absent" else _credentials(principal, label, adapter, defaults)
        if credentials and not has_store:
            raise ConfigError("%s lists credentials, so give store (each new secret is kept there before anything "
                              "else happens) or return_secrets: true (you keep them from the result)" % label)
        trusts = [] if state == "absent" else _trusts(principal, label, adapter)
        wanted.append({"name": name, "state": state, "settings": settings, "credentials": credentials,
                       "trusts": trusts})
    return wanted


def _credentials(principal, label, adapter, defaults):
    flat, names = [], []
    for entry in principal.get("credentials") or []:
        name = entry["name"]
        where = "%s, credential %r" % (label, name)
        if name in names:
            raise ConfigError("%s lists credential %r more than once; name each once" % (label, name))
        names.append(name)
        params = {k: v for k, v in entry.items() if v is not None}
        for option in CREDENTIAL_DEFAULTS:
            if params.get(option) is None and defaults.get(option) is not None:
                params[option] = defaults[option]
        params.setdefault("state", "present")
        _labelled(where, check_params, params, adapter.capabilities, False, True)
        flat.append(params)
    present = [c["name"] for c in flat if c["state"] == "present"]
    if not adapter.capabilities.credentials_have_names and len(present) > 1:
        raise ConfigError("%s lists more than one present credential (%s); a %s principal has one access key here, "
                          "so keep one and mark the others state: absent"
                          % (label, ", ".join(repr(n) for n in present), adapter.capabilities.label))
    return flat


def _trusts(principal, label, adapter):
    trusts = principal.get("trusts") or []
    if not trusts:
        return []
    if not adapter.capabilities.has_workload_federation:
        raise ConfigError("%s lists trusts, which %s principals cannot have; remove them"
                          % (label, adapter.capabilities.label))
    check_entries(trusts, trust_entry_options(), label + ", trusts", nested=None, kind="trust")
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


# ---- 2. the plan: pure -----------------------------------------------------------------------
def plan_tenant(wanted, listed, stored_keys, prune=False):
    """What to do, from the checked list, the tenant's principals and the store's keys (plain values).

    Returns {"principals": [...], "credentials": [...], "trusts": [...], "forget": [...]}:
    - each principal {name, action, id, settings}: ``create``, ``ensure`` (roles, tags or
      permissions to compare), ``keep``, ``remove`` (listed absent, or pruned), or ``duplicate``
      (several principals have that name: the item fails naming their IDs);
    - each credential {principal, params} for a present principal, and with ``prune`` one with
      ``state: absent`` for each entry of that principal the list does not name;
    - each trust {principal, params};
    - ``forget``: store keys to delete once their principal is removed (or is gone already).
    """
    by_name = {}
    for principal in listed:
        by_name.setdefault(principal.get("name"), []).append(principal)
    entries = {}
    for key in stored_keys:
        if key.owner == SERVICE_PRINCIPAL:
            entries.setdefault(key.principal, []).append(key)
    plan = {"principals": [], "credentials": [], "trusts": [], "forget": []}

    def principal_step(name, action, settings=None):
        found = by_name.get(name) or []
        if action == "remove" and not found:
            return  # gone already: only its entries are forgotten
        if len(found) > 1:
            action = "duplicate"
        elif action != "remove":
            action = "create" if not found else ("ensure" if settings else "keep")
        plan["principals"].append({"name": name, "action": action, "settings": settings or {},
                                   "id": found[0]["id"] if len(found) == 1 else None,
                                   "ids": sorted(str(p["id"]) for p in found)})

    names = set()
    for principal in wanted:
        name = principal["name"]
        names.add(name)
        if principal["state"] == "absent":
            principal_step(name, "remove")
            plan["forget"].extend(entries.get(name, []))
            continue
        principal_step(name, "create", principal["settings"])
        listed_names = {c["name"] for c in principal["credentials"]}
        plan["credentials"].extend({"principal": name, "params": c} for c in principal["credentials"])
        if prune:
            for key in sorted(entries.get(name, []), key=lambda k: k.credential):
                if key.credential not in listed_names:
                    plan["credentials"].append({"principal": name, "params": {"name": key.credential,
                                                                              "state": "absent"}, "pruned": True})
        plan["trusts"].extend({"principal": name, "params": t} for t in principal["trusts"])
    if prune:
        for name in sorted(set(entries) - names):
            principal_step(name, "remove")
            plan["forget"].extend(entries[name])
    return plan


# ---- 3. apply --------------------------------------------------------------------------------
class _LaterDeletes(object):
    """What retire() is given as the store: it notes the entry to delete; the wave deletes them in one batch."""

    def __init__(self):
        self.keys = []

    def delete(self, key):
        self.keys.append(key)


class _FirstListing(object):
    """An adapter whose first listing of principals is the one the plan read; a later listing (a lost
    create looking for what it made) asks the API again."""

    def __init__(self, adapter, principals):
        self._adapter = adapter
        self._principals = principals

    def list_principals(self):
        listed, self._principals = self._principals, None
        return list(listed) if listed is not None else self._adapter.list_principals()

    def __getattr__(self, name):
        return getattr(self._adapter, name)


def credential_action(plan):
    """What a credential plan did (or would do), as the result names it."""
    return ACTION_WORDS[plan.action]


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


class TenantRun(object):
    """One service_principals task: check, plan, apply (or, in check mode, only plan)."""

    def __init__(self, client, params, check_mode=False, environ=None, diff=False):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.environ = environ or {}
        self.platform = client.settings.platform
        self.failed = []
        self.secrets = {}
        # Only when asked (--diff): for a list of 1,000 items it is the largest part of the result.
        self.diff = {"before": {}, "after": {}} if diff else None
        self.wave_batches = 0
        self.forgotten = 0
        self.items = 0
        self.read_errors = {}

    def run(self):
        params = self.params
        checker = adapter_for(self.client)
        parallelism = parallel.check_parallelism(parallel.DEFAULT_PARALLELISM if params.get("parallelism") is None
                                                 else params["parallelism"])
        defaults = {k: params.get(k) for k in CREDENTIAL_DEFAULTS}
        if params.get("prune") and not params.get("store"):
            raise ConfigError("prune removes what the store records as managed, so give store with prune")
        # The whole list first: a mistake anywhere in it is named before the store is opened or anything is sent.
        wanted = check_principals(params.get("principals"), self.platform, checker, defaults,
                                  bool(params.get("store") or params.get("return_secrets")))
        store = store_for(params.get("store"), self.environ)
        with parallel.Pool(parallelism) as pool:
            self.pool = pool
            self.shared = parallel.shared_client(self.client, pool)
            self.adapter = adapter_for(self.shared)
            listed = self.adapter.list_principals()
            keys = store.list(self.platform) if store is not None else []
            plan = plan_tenant(wanted, listed, keys, params.get("prune"))
            self.items = len(plan["principals"]) + len(plan["credentials"]) + len(plan["trusts"])
            self.store = store
            self.cache = {}
            if store is not None:
                self._read_entries(store, plan, keys)
            principals = self._principals(plan, listed)
            del listed  # the tenant's whole listing: not needed once the principals are done
            credentials = self._credentials(plan, principals, keys)
            trusts = self._trusts(plan, principals)
            self._forget(plan, principals)
        return self._result(principals, credentials, trusts)

    # ---- the store, read once --------------------------------------------------------------
    def _key(self, principal, credential):
        return EntryKey(self.platform, principal, credential, SERVICE_PRINCIPAL)

    def _read_entries(self, store, plan, keys):
        wanted = list(dict.fromkeys(list(keys) + [self._key(c["principal"], c["params"]["name"])
                                                  for c in plan["credentials"]]))
        found, errors = store.read_many(wanted)
        for key, entry in found.items():
            self.cache[key] = None if entry is None else (entry.content, entry.version)
        self.read_errors = errors

    # ---- principals ------------------------------------------------------------------------
    def _principals(self, plan, listed):
        """{name: {"id", "action", "ok"}} after creating, updating and removing what the plan says."""
        out = {}
        work = []
        for step in plan["principals"]:
            if step["action"] == "keep":
                out[step["name"]] = {"id": step["id"], "action": "unchanged", "ok": True}
            elif step["action"] == "duplicate":
                out[step["name"]] = {"id": None, "action": "failed", "ok": False}
                self._fail(step["name"], msg="%d service principals are named %r (%s); remove the extra ones or "
                           "manage them by id with conductor.principals.service_principal"
                           % (len(step["ids"]), step["name"], ", ".join(step["ids"])))
            else:
                work.append(step)
        for outcome in self.pool.map(lambda step: self._principal(step, listed), work):
            step = outcome.item
            if outcome.error is not None:
                out[step["name"]] = {"id": step["id"], "action": "failed", "ok": False}
                self._fail(step["name"], msg=outcome.error.message + (
                    "; its credentials and trusts were not touched" if step["action"] != "remove" else ""))
            else:
                out[step["name"]] = outcome.value
        return out

    def _principal(self, step, listed):
        name = step["name"]
        before = next((p for p in listed if p.get("id") == step["id"]), None) if step["id"] else None
        self._noted("before", "principals", name, before or {})
        if step["action"] == "remove":
            if not self.check_mode:
                self.adapter.delete_principal(before)
            self._noted("after", "principals", name, {})
            return {"id": step["id"], "action": "removed", "ok": True}
        principal = dict(step["settings"], name=name, state="present")
        if step["id"]:
            principal["id"] = step["id"]
        adapter = _FirstListing(self.adapter, listed)
        result = ensure_principal(adapter, principal, self.check_mode)
        after = result.get("service_principal") or {}
        self._noted("after", "principals", name, after)
        action = "created" if step["action"] == "create" else ("updated" if result.get("changed") else "unchanged")
        return {"id": after.get("id"), "action": action, "ok": True}

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
        items = [c for c in plan["credentials"] if (principals.get(c["principal"]) or {}).get("ok")]
        # A principal this run made has no credentials yet: only the others are listed (one request each).
        owners = sorted({principals[c["principal"]]["id"] for c in items if principals[c["principal"]]["id"]
                         and principals[c["principal"]]["action"] != "created"})
        listings = {o.item: o.error or o.value for o in self.pool.map(self.adapter.list_credentials, owners)}
        listings.update((p["id"], []) for p in principals.values() if p["action"] == "created" and p["id"])
        work = []
        for outcome in self.pool.map(lambda item: self._plan_credential(item, principals, listings), items):
            if outcome.error is not None:
                self._fail(outcome.item["principal"], credential=outcome.item["params"]["name"],
                           msg=outcome.error.message)
            else:
                work.append(outcome.value)
        del listings  # each plan keeps what it needs of its listing
        rows = []
        size = self.pool.parallelism * WAVE_FACTOR
        waves = collections.deque(work[start:start + size] for start in range(0, len(work), size))
        del work
        while waves:  # a wave done is let go (its plans, listings and new secrets): only its rows are kept
            rows.extend(self._apply_wave(waves.popleft()))
        return rows

    def _plan_credential(self, item, principals, listings):
        """One credential's Plan, from the listing and the store read before (credential_plan.plan)."""
        principal, params = item["principal"], item["params"]
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
        return {"principal": principal, "params": params, "key": key, "owner": owner_id,
                "plan": plan_credential(capabilities, desired, listed, stored, self.shared.server_now(), owner)}

    def _apply_wave(self, work):
        """Creates in parallel, one store write for the wave, then proofs, undos and revokes in parallel.

        Whatever raises in it (a bug, an interrupt), the wave's new credentials end held or revoked first.
        """
        if self.check_mode:
            return [self._row(w, result_of(w["plan"])) for w in work]
        makers = [w for w in work if w["plan"].makes_credential]
        try:
            return self._wave_steps(work, makers)
        except BaseException as exc:
            # Held means in the store: a result with the secrets in it is not returned now. The rest is revoked
            # (revoking one an undo revoked already is no error), so none stays live with its secret unheld.
            unheld = [w for w in makers if "created" in w and (self.store is None or "version" not in w)]
            why = "The task stopped on an unexpected %s in a wave of creates" % type(exc).__name__
            said = [o.value for o in self.pool.map(
                lambda w: undo_create(self.adapter, w["plan"], w["created"].credential, why), unheld)]
            if said and hasattr(exc, "add_note"):  # Python 3.11+: the traceback says what was undone
                exc.add_note("; ".join(said))
            raise

    def _wave_steps(self, work, makers):
        for outcome in self.pool.map(self._create, makers):
            if outcome.error is not None:
                outcome.item["error"] = outcome.error
        made = [w for w in makers if "created" in w]
        if self.store is not None and made:
            self._store_wave(made)
        rows, deletes = [], []
        for outcome in self.pool.map(self._finish, [w for w in work if "error" not in w]):
            w = outcome.item
            if outcome.error is not None:
                w["error"] = outcome.error
            elif w.get("delete"):
                deletes.append((w, outcome.value))
            else:
                rows.append(outcome.value)
        if deletes:  # after the revokes: a secret stays held while its credential lives
            _done, errors = self.store.delete_many([w["key"] for w, _row in deletes])
            for w, row in deletes:
                if w["key"] in errors:
                    w["error"] = errors[w["key"]]
                else:
                    self.cache[w["key"]] = None
                    rows.append(row)
        for w in work:
            if "error" in w:
                if "version" in w:  # prove() put the entry back (or removed it): so does what this task read
                    stored = w["plan"].stored
                    self.cache[w["key"]] = (stored.content, None) if stored is not None and stored.present else None
                self._fail(w["principal"], credential=w["params"]["name"], msg=w["error"].message)
        return rows

    def _create(self, w):
        """Step 1 of the credential core's apply: the create (a lost create found and revoked)."""
        w["created"] = create_credential(self.adapter, w["plan"])

    def _store_wave(self, made):
        """Step 2 for the whole wave: ONE store write of its new secrets, each entry written or refused on its own."""
        writes = []
        for w in made:
            stored = w["plan"].stored
            writes.append((w["key"], entry_of(w["key"], w["created"], self.client.settings.server_url),
                           stored.version if stored is not None and stored.present else None))
        try:
            done, errors = self.store.write_many(writes)
        except ConductorError as exc:
            done, errors = {}, {key: exc for key, _content, _version in writes}
        self.wave_batches += 1
        for (key, _content, _version), w in zip(writes, made):
            if key in done:
                w["version"] = done[key]
                # What this task read of the entry is stale now, and the new secret is let go with its wave
                # (its row and, with return_secrets, the result keep what is needed): nothing reads it later.
                self.cache.pop(key, None)
            else:
                w["write_error"] = errors.get(key) or ConductorError("the store did not write the entry")

    def _finish(self, w):
        """Steps 3 and 4 for one item: the proof (undone on failure), then the revokes and status; its row."""
        plan, created = w["plan"], w.get("created")
        if created is not None:
            if "write_error" in w:  # as keep_secret fails: the new credential revoked, the previous one kept
                raise store_write_failed(self.adapter, plan, created, self.store.type, w["write_error"])
            if plan.desired.verify:
                prove(self.adapter, self._prover, plan, created, self.store, w["key"], w.get("version"))
        later = _LaterDeletes()
        settled, revoked, after = retire(self.adapter, plan, created, later, w["key"])
        w["plan"], w["delete"] = settled, bool(later.keys)
        lost = created.lost if created is not None else ()
        return self._row(w, result_of(plan, Applied(after, created.secret if created is not None else None,
                                                    tuple(lost) + tuple(revoked), settled)))

    def _row(self, w, result):
        """One row of ``credentials`` (never a secret) from the item's result; the diff and secrets noted."""
        principal, params, key = w["principal"], w["params"], w["key"]
        secret = result.pop("client_secret", None)
        credential = result.get("credential") or {}
        row = {"platform": self.platform, "principal": principal, "name": params["name"], "id": credential.get("id"),
               "client_id": credential.get("client_id"), "expires_at": credential.get("expires_at"),
               "action": credential_action(w["plan"]), "revoked_ids": list(result.get("revoked_ids") or []),
               "stored": (None if self.store is None or w["plan"].action in ("revoke", "none")
                          else self.store.location(key))}
        if result.get("reason"):
            row["reason"] = result["reason"]
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
        items = [t for t in plan["trusts"] if (principals.get(t["principal"]) or {}).get("ok")]
        rows = []
        for outcome in self.pool.map(lambda item: self._trust(item, principals), items):
            item = outcome.item
            if outcome.error is not None:
                self._fail(item["principal"], trust=item["params"]["name"], msg=outcome.error.message)
            else:
                rows.append(outcome.value)
        return rows

    def _trust(self, item, principals):
        principal, params = item["principal"], item["params"]
        owner = principals[principal]["id"]
        if owner is None:  # check mode, the principal is still to be made
            return {"platform": self.platform, "principal": principal, "name": params["name"], "client_id": None,
                    "action": "created"}
        result = ensure_trust(self.adapter, dict(params, service_principal_id=owner), self.check_mode)
        diff = result.get("diff") or {}
        action = ("unchanged" if not result.get("changed") else "created" if not diff.get("before")
                  else "removed" if not diff.get("after") else "updated")
        label = "%s/%s" % (principal, params["name"])
        self._noted("before", "trusts", label, diff.get("before") or {})
        self._noted("after", "trusts", label, diff.get("after") or {})
        return {"platform": self.platform, "principal": principal, "name": params["name"],
                "client_id": (result.get("trust") or {}).get("client_id"), "action": action}

    def _forget(self, plan, principals):
        """Delete the entries of removed principals, after the principal (and so its credentials) is gone."""
        keys = [k for k in plan["forget"] if (principals.get(k.principal) or {"ok": True}).get("ok")]
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
        principal_rows = [{"platform": self.platform, "name": name, "id": value["id"], "action": value["action"]}
                          for name, value in principals.items()]
        changed = any(r["action"] not in ("unchanged", "failed") for r in principal_rows + credentials + trusts) \
            or bool(self.forgotten)
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
        if self.failed:
            result.update(failed=True, msg=failure_message(self.failed, max(self.items, len(self.failed))))
        return result


def run_service_principals(client, params, check_mode, environ, diff=False):
    return TenantRun(client, params, check_mode, environ, diff).run()
