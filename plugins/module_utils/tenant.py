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
from .config import resolve_settings
from .credential_plan import Applied, Desired, Owner, Stored, needs_claims, plan as plan_credential, result_of
from .credentials import create_credential, entry_of, prove, retire, store_write_failed, undo_create
from .errors import ConductorError, ConfigError
from .federation import ensure_trust
from .inputs import CREDENTIAL_DEFAULTS, check_principals
from .platforms import adapter_for
from .principals import ensure_principal
from .stores import SERVICE_PRINCIPAL, EntryKey, StoredEntry, store_for

# Why a credential was made, as the core says it, when it was made for its age (a rotation).
# What each action of a credential plan is called in the result.
ACTION_WORDS = {"create": "created", "rotate": "rotated", "replace": "replaced", "set_status": "updated",
                "keep": "unchanged", "none": "unchanged", "revoke": "revoked"}
#: A wave of credential items is this many times ``parallelism``: its new secrets wait for one store write.
WAVE_FACTOR = 4


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


def plan_tenant(wanted, listed, entries, prune=False, live=None):
    """What to do, from the checked list, the tenant's principals and the store's entries (plain values).

    ``entries``: {EntryKey: content} of the store (content None: it could not be read); ``live``: the
    credential IDs of the principals prune_lookups asked for. Returns {"principals", "credentials",
    "trusts", "forget", "unproven"}:
    - each principal {name, action, id, ids, settings}: ``create``, ``ensure`` (roles, tags or
      permissions to compare), ``keep``, ``remove`` (listed absent, or pruned), or ``duplicate``
      (several principals have that name: the item fails naming their IDs);
    - each credential {principal, params} for a present principal, and with ``prune`` one with
      ``state: absent`` and the ``id`` its entry holds for each entry of that principal the list does not name;
    - each trust {principal, params};
    - ``forget``: {key, after}: store keys to delete once the principal of ID ``after`` is removed (None: now);
    - ``unproven``: keys prune would judge but could not read.

    Prune acts on the IDs entries prove, never on names: it removes a principal only if an entry records its ID
    (or holds the ID of a credential it owns), revokes a credential only by the ID an entry holds, and forgets an
    entry once its credential is not live anywhere. A principal renamed in place is still the one its entries name.
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
    plan = {"principals": [], "credentials": [], "trusts": [], "forget": [], "unproven": []}

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

    for principal in wanted:
        name = principal["name"]
        if principal["state"] == "absent":
            principal_step(name, "remove")
            found = by_name.get(name) or []
            if len(found) < 2:  # several of that name: the item fails, its entries stay
                plan["forget"].extend({"key": key, "after": found[0]["id"] if found else None}
                                      for key in sorted(under.get(name, [])))
            continue
        principal_step(name, "create", principal["settings"])
        plan["credentials"].extend({"principal": name, "params": c} for c in principal["credentials"])
        plan["trusts"].extend({"principal": name, "params": t} for t in principal["trusts"])
    if prune:
        _plan_prune(plan, wanted, by_name, by_id, entries, live)
    return plan


def _plan_prune(plan, wanted, by_name, by_id, entries, live):
    """Add to ``plan`` what prune does, judged by the IDs the entries prove (plan_tenant)."""
    present = {p["name"] for p in wanted if p["state"] == "present"}
    absent = {p["name"] for p in wanted if p["state"] == "absent"}
    removed = {}
    for key in prune_candidates(wanted, entries):
        content = entries[key]
        if content is None:
            plan["unproven"].append(key)
            continue
        credential_id = content.get("credential_id")
        owner = by_id.get(entry_owner(content, live))
        if owner is None:  # its principal is gone, or its credential is live nowhere: nothing it holds lives
            plan["forget"].append({"key": key, "after": None})
            continue
        name = owner.get("name")
        if name in absent:  # the principal listed absent removes it (when it is the one of that name)
            plan["forget"].append({"key": key, "after": owner["id"]})
        elif name not in present:  # the list dropped it: removed (by its ID), then its entries forgotten
            removed.setdefault(owner["id"], owner)
            plan["forget"].append({"key": key, "after": owner["id"]})
        elif len(by_name.get(name) or []) > 1:
            continue  # listed, but several have its name: that item fails, its entries stay
        elif name == key.principal and credential_id:  # a credential the list dropped: revoked by its ID
            plan["credentials"].append({"principal": name, "params": {"name": key.credential, "id": credential_id,
                                                                      "state": "absent"}, "pruned": True})
        elif entry_gone(content, by_id, live):
            plan["forget"].append({"key": key, "after": None})  # renamed in place, and its credential is gone
    for principal in sorted(removed.values(), key=lambda p: (str(p.get("name")), str(p["id"]))):
        plan["principals"].append({"name": principal.get("name"), "action": "remove", "settings": {},
                                   "id": principal["id"], "ids": [str(principal["id"])]})


# ---- 3. apply --------------------------------------------------------------------------------
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
        self.warnings = []
        self.secrets = {}
        # Only when asked (--diff): for a list of 1,000 items it is the largest part of the result.
        self.diff = {"before": {}, "after": {}} if diff else None
        self.wave_batches = 0
        self.forgotten = 0
        self.items = 0
        self.read_errors = {}

    def run(self):
        params = self.params
        parallelism = parallel.check_parallelism(parallel.DEFAULT_PARALLELISM if params.get("parallelism") is None
                                                 else params["parallelism"])
        defaults = {k: params.get(k) for k in CREDENTIAL_DEFAULTS}
        if params.get("prune") and not params.get("store"):
            raise ConfigError("prune removes what the store records as managed, so give store with prune")
        # The whole list first: a mistake anywhere in it is named before the store is opened or anything is sent.
        wanted = check_principals(params.get("principals"), "principals", self.platform, defaults,
                                  bool(params.get("store") or params.get("return_secrets")), platform=self.platform)
        store = store_for(params.get("store"), self.environ)
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
            self.items = len(plan["principals"]) + len(plan["credentials"]) + len(plan["trusts"])
            for key in plan["unproven"]:
                if key in self.read_errors:
                    self._fail(key.principal, credential=key.credential, msg="prune left its entry alone: %s"
                               % self.read_errors[key].message)
            principals = self._principals(plan, listed)
            del listed  # the tenant's whole listing: not needed once the principals are done
            credentials = self._credentials(plan, principals, keys)
            trusts = self._trusts(plan, principals)
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
            need = prune_lookups(wanted, listed, entries, live)
        return live

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
        result = ensure_principal(self.adapter, principal, self.check_mode, listed=listed)
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
        settled, revoked, after = retire(self.adapter, plan, created)
        w["plan"], w["delete"] = settled, settled.store_delete  # the wave deletes the entries in one batch
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
               "kept_ids": list(result.get("kept_ids") or []), "kept_reasons": dict(result.get("kept_reasons") or {}),
               "stored": (None if self.store is None or w["plan"].action in ("revoke", "none")
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
        removed = {value["id"] for value in principals.values() if value["action"] == "removed"}
        keys = [f["key"] for f in plan["forget"] if f["after"] is None or f["after"] in removed]
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
        return result


def run_service_principals(client, params, check_mode, environ, diff=False):
    return TenantRun(client, params, check_mode, environ, diff).run()
