# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client credentials (Orkes: access keys): ensure, rotate, revoke; written once for every platform.

A task is: check the input once, list, read the store, plan (credential_plan.plan, pure),
then, unless in check mode, apply the plans; the result and the diff come from each plan
(credential_plan.result_of).

``apply_wave(adapter, items, store, pool, ...)`` applies plans (a single-item module's one plan,
a wave of service_principals' many) in one order, each step returning values:

1. ``create_credential(adapter, plan) -> Created``, the creates in parallel. A credential's secret
   exists only in the answer to its create, so a create whose answer was lost leaves a credential
   nobody can use: it is found (not among ``plan.known_ids``) and revoked before trying again,
   and never left alive silently.
2. ONE store write of the new secrets (check-and-set per entry; vault_file writes its file once),
   before anything else can fail; an item whose write fails has its new credential revoked
   (``undo_create``) and fails.
3. In parallel, each item's proof and retire: with ``verify`` the new secret must obtain a token by
   itself, else the create and the store write are undone (``prove``); then ``retire`` revokes
   the older credentials that are due (counted from the new one's created_at) and pauses or
   resumes or renames in place. After a create a refused revoke does not fail: the new credential is held
   and stays the caller's, the older one is kept with the API's refusal (``keep_refused``) and a
   later run retires it.
4. ONE store delete of the entries of revoked credentials (state absent), after the revokes: a
   secret stays held while its credential lives.

Whatever raises inside a wave (a bug, an interrupt), its new credentials end held (in the store)
or revoked before the exception goes on.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .credential_plan import (
    Applied, Desired, Stored, keep_refused, needs_claims, plan, result_of, settle, still_live, with_expiry)
from .errors import ConductorError, ConfigError, OutcomeUnknownError, redact
from .parallel import InOrder
from .stores.base import entry_content, names_of

CREATE_ATTEMPTS = 2

__all__ = ["CredentialRun", "Created", "Done", "Item", "apply_wave", "create_credential", "credential_info",
           "prove", "retire", "store_write_failed", "undo_create", "unkept_message"]


@dataclass(frozen=True)
class Created(object):
    """A credential this run made, its secret, and the IDs of lost creates revoked on the way."""

    credential: dict
    secret: str = field(repr=False)
    lost: tuple = ()


@dataclass(frozen=True)
class Item(object):
    """One credential plan to apply, and the store key its secret is kept under (None without a store)."""

    plan: object
    key: object = None


#: What applying an Item came to: ``applied`` (an Applied) or ``error`` (a ConductorError); ``version``: of the
#: store entry that now holds its new secret (None: no new secret written).
Done = namedtuple("Done", "item applied error version")


# ---- apply, step by step ------------------------------------------------------------------------
def create_credential(adapter, plan_):
    """Create the plan's credential; return Created, revoking any credential a lost create made."""
    owner = plan_.owner.api_id
    spec = dict(plan_.create_spec)
    lost_ids = []
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            credential, secret = adapter.create_credential(owner, spec)
        except OutcomeUnknownError:
            _revoke_lost(adapter, owner, plan_.known_ids, spec.get("name"), lost_ids)
            if attempt == CREATE_ATTEMPTS:
                raise ConductorError(
                    "Could not create credential %r: the answer to the create was lost %d times; %s"
                    % (spec.get("name") or "", attempt,
                       "the credentials it made (%s) were revoked" % ", ".join(lost_ids)
                       if lost_ids else "no credential was made"))
            continue
        if not secret:
            adapter.revoke_credential(owner, credential)
            raise ConductorError("The API created credential %s but returned no secret; it was revoked"
                                 % credential["id"])
        return Created(credential, secret, tuple(lost_ids))


def _revoke_lost(adapter, owner, known_ids, name, lost_ids):
    """Find and revoke what a create whose answer was lost made (adding their IDs to ``lost_ids``); when that
    fails, the error says what may be live with nobody holding its secret."""
    lost = None
    try:
        for lost in adapter.list_credentials(owner):
            if lost["id"] not in known_ids and lost.get("name") == name:
                # Made, but its secret never reached us: useless to us, a risk to everyone.
                adapter.revoke_credential(owner, lost)
                lost_ids.append(lost["id"])
    except ConductorError as exc:
        what = ("the credential %s it made is live and nobody holds its secret; revoke it by hand" % lost["id"]
                if lost is not None else "a credential named %r may be live that nobody holds; look for it among "
                "the credentials of its owner and revoke it" % (name or ""))
        raise ConductorError("Could not create credential %r: the answer to the create was lost and %s failed (%s); "
                             "%s" % (name or "", "revoking" if lost is not None else "listing the credentials",
                                     exc.message.rstrip("."), what))


def undo_create(adapter, plan_, credential, why):
    """Revoke a credential this run just made; return the failure message naming what happened."""
    try:
        adapter.revoke_credential(plan_.owner.api_id, credential)
    except ConductorError as exc:
        return ("%s; revoking the new credential %s failed too (%s), so revoke it by hand: nobody holds "
                "its secret" % (why, credential["id"], exc.message))
    return "%s; the new credential %s was revoked" % (why, credential["id"])


def store_write_failed(adapter, plan_, created, store_type, error):
    """The error for a new secret the store refused, after revoking its credential (the older ones stay)."""
    why = "Could not write the secret of new credential %s to the %s store (%s)" % (
        created.credential["id"], store_type, redact(error.message, [created.secret]))
    return ConductorError(undo_create(adapter, plan_, created.credential, why) + still_live(plan_.older))


def source_address(server_url):
    """The address this host connects to ``server_url`` from (None: unknown). A proxy or NAT may show the server
    another one: a hint for messages, never a check."""
    try:
        parts = urlsplit(server_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname, port), timeout=5) as connection:
            return connection.getsockname()[0].split("%")[0]
    except (OSError, ValueError, TypeError):
        return None


def outside_cidrs(credential, server_url):
    """Why a refused proof may be the credential's allowed_cidrs (this host outside them), or ""."""
    cidrs = credential.get("allowed_cidrs") or []
    address = source_address(server_url) if cidrs and server_url else None
    if address is None:
        return ""
    try:
        if any(ipaddress.ip_address(address) in ipaddress.ip_network(c, strict=False) for c in cidrs):
            return ""
    except ValueError:
        return ""
    return ("; this controller connects from %s, outside the credential's allowed_cidrs (%s), and the server issues "
            "tokens only inside them: run the task from inside them, or set verify: false to skip the proof"
            % (address, ", ".join(cidrs)))


def prove(adapter, prover, plan_, created, store=None, key=None, version=None, server_url=None):
    """``verify``: the new secret must obtain a token, else undo the create and the store write."""
    try:
        prover(created.credential, created.secret)
        return
    except ConductorError as exc:
        why = "The new credential %s did not obtain an access token (%s%s)" % (
            created.credential["id"], redact(exc.message, [created.secret]).rstrip("."),
            outside_cidrs(created.credential, server_url))
    message = undo_create(adapter, plan_, created.credential, why)
    if store is not None:
        stored = plan_.stored
        try:
            if stored is None or not stored.present:
                store.delete(key)
            else:
                store.write(key, stored.content, version)
            message += ", its store entry was put back as it was"
        except ConductorError as exc:
            # A store's error may quote what it was given: neither secret may reach the message.
            held = [created.secret, ((stored.content or {}).get("client_secret") if stored else None)]
            message += ", and putting its store entry back failed (%s)" % redact(exc.message, held)
    raise ConductorError(message + still_live(plan_.older))


def retire(adapter, plan_, created=None):
    """Revoke what is due and set the status.

    Returns (the plan settled against the new credential, the IDs revoked, the credential after); the
    caller deletes the store entry when the settled plan's ``store_delete`` says so, after these revokes.
    """
    settled = settle(plan_, created.credential) if created is not None else plan_
    owner = plan_.owner.api_id
    revoked, refused = [], {}
    for credential, _why in settled.retire:
        try:
            adapter.revoke_credential(owner, credential)
        except ConductorError as exc:
            if created is None:
                raise
            # The new credential is made and held: it stays the caller's, the older one waits for a later run.
            refused[credential["id"]] = redact(str(exc), [created.secret]).rstrip(".")
            continue
        revoked.append(credential["id"])
    settled = keep_refused(settled, refused)
    after = created.credential if created is not None else settled.current
    if settled.action == "set_status":
        after = adapter.set_credential_status(owner, settled.current, settled.status)
    elif settled.action == "rename":
        after = adapter.rename_credential(owner, settled.current, settled.desired.credential_name)
    return settled, revoked, after


def _stored_version(plan_):
    stored = plan_.stored
    return stored.version if stored is not None and stored.present else None


def _keep_secrets(store, items, created, server_url):
    """Step 2: ONE write of the new secrets (``created``: {index: Created}); ({index: version}, {index: error})."""
    order = sorted(created)
    writes = [(items[i].key, entry_content(items[i].key, created[i].credential, created[i].credential.get("client_id"),
                                           created[i].secret, server_url), _stored_version(items[i].plan))
              for i in order]
    try:
        done, refused = store.write_many(writes)
    except ConductorError as exc:
        done, refused = {}, {key: exc for key, _content, _version in writes}
    versions = {i: done[items[i].key] for i in order if items[i].key in done}
    errors = {i: refused.get(items[i].key) or ConductorError("the store did not write the entry")
              for i in order if i not in versions}
    return versions, errors


def _finish(adapter, store, prover, item, created, write_error, version, server_url=None):
    """Step 3 for one item: a refused write undone, the proof, then the retire; what was done as Applied."""
    plan_ = item.plan
    if created is not None:
        if write_error is not None:  # the new credential revoked, the previous one kept
            raise store_write_failed(adapter, plan_, created, store.type, write_error)
        if plan_.desired.verify:
            prove(adapter, prover, plan_, created, store, item.key, version, server_url)
    settled, revoked, after = retire(adapter, plan_, created)
    return Applied(credential=after, secret=created.secret if created is not None else None,
                   revoked=(created.lost if created is not None else ()) + tuple(revoked), plan=settled)


def apply_wave(adapter, items, store=None, pool=None, server_url=None, prover=None):
    """Apply the plans of ``items`` (a list of Item) in the module docstring's four steps; a Done per item, in
    order. ``pool``: what runs a step over many items (parallel.Pool; by default one after the other)."""
    pool = pool or InOrder()
    created, versions = {}, {}
    try:
        errors = {}
        makers = [i for i, item in enumerate(items) if item.plan.makes_credential]
        for outcome in pool.map(lambda i: create_credential(adapter, items[i].plan), makers):
            if outcome.error is not None:
                errors[outcome.item] = outcome.error
            else:
                created[outcome.item] = outcome.value
        write_errors = {}
        if store is not None and created:
            versions, write_errors = _keep_secrets(store, items, created, server_url)
        applied = {}
        for outcome in pool.map(lambda i: _finish(adapter, store, prover, items[i], created.get(i),
                                                  write_errors.get(i), versions.get(i), server_url),
                                [i for i in range(len(items)) if i not in errors]):
            if outcome.error is not None:
                errors[outcome.item] = outcome.error
            else:
                applied[outcome.item] = outcome.value
        deletes = [i for i in sorted(applied) if applied[i].plan.store_delete]
        if deletes:
            _deleted, refused = store.delete_many([items[i].key for i in deletes])
            for i in deletes:
                if items[i].key in refused:
                    errors[i] = refused[items[i].key]
                    del applied[i]
    except BaseException as exc:
        # Held means in the store (a result is not returned now): the rest is revoked (revoking one an undo
        # revoked already is no error), so none stays live with its secret unheld.
        why = "The task stopped on an unexpected %s in a wave of creates" % type(exc).__name__
        unheld = [i for i in sorted(created) if store is None or i not in versions]
        said = [o.value for o in pool.map(
            lambda i: undo_create(adapter, items[i].plan, created[i].credential, why), unheld)]
        if said and hasattr(exc, "add_note"):  # Python 3.11+: the traceback says what was undone
            exc.add_note("; ".join(said))
        raise
    return [Done(item, applied.get(i), errors.get(i), versions.get(i) if i in applied else None)
            for i, item in enumerate(items)]


# ---- one task ---------------------------------------------------------------------------------
class CredentialRun(object):
    """One task's work on the credentials of one owner (a credential_plan.Owner).

    With a ``store`` (a stores.SecretStore) and its entry ``key``, a secret this run creates is
    written to the store before anything else happens; ``prover(credential, secret)`` (with
    ``verify``) proves a new secret before the previous credential is revoked. ``clock()``, when
    given, is read after the listing: the server's time (ApiClient.server_now). ``checked``: the
    caller already ran credential_plan.check_params on ``params``. ``unregistered``: the task registers no result
    (the action plugin knows), so without a store a new secret would be kept nowhere: such a plan is refused.
    """

    def __init__(self, adapter, owner, params, check_mode=False, now=None, store=None, key=None,
                 server_url=None, prover=None, clock=None, checked=False, unregistered=False):
        self.adapter = adapter
        self.capabilities = adapter.capabilities
        self.owner = owner
        self.params = params
        self.check_mode = check_mode
        self.now = now or datetime.now(timezone.utc)
        self.clock = clock
        self.store = store
        self.key = key
        self.server_url = server_url
        self.prover = prover
        self.checked = checked
        self.unregistered = unregistered
        self.moved_from = None  # the entry's key before a rename in place (read_store)

    def desired(self):
        """The task as a Desired value, its scoped_roles resolved to IDs."""
        desired = Desired.from_params(self.params, self.capabilities, personal=self.owner.kind == "personal",
                                      with_store=self.store is not None, checked=self.checked)
        if desired.needs_roles and not (self.owner.kind == "pending" and desired.state == "absent"):
            desired = desired.with_role_ids(self.adapter.resolve_role_ids(list(desired.scoped_roles)))
        if desired.scoped_role_ids and desired.state != "absent" and self.owner.kind == "principal":
            self.adapter.check_held_roles(desired.scoped_role_ids, self.owner.as_principal())
        return desired

    def read_store(self, desired, listed=()):
        """This task's entry as a Stored value (None without a store), with the other entries' claims. A
        credential named by ``id`` under a new name: its entry is still under its current name (``moved_from``)."""
        self.moved_from = None
        if self.store is None:
            return None
        location = self.store.location(self.key)
        if self.owner.kind == "pending":  # nothing can be stored for a principal not made yet
            return Stored(False, store_type=self.store.type, location=location)
        entry = self.store.read(self.key)
        if entry is None and desired.id:
            entry = self._entry_before_rename(desired.id, listed)
        claimed = None
        if needs_claims(self.capabilities, desired):
            claimed = set()
            for other in self.store.list(self.key.platform, self.key.principal):
                if other != self.key:
                    held = self.store.read(other)
                    if held and held.content.get("credential_id"):
                        claimed.add(held.content["credential_id"])
        return Stored.of_entry(entry, self.store.type, location, claimed)

    def _entry_before_rename(self, credential_id, listed):
        """The entry that holds credential ``credential_id`` under the credential's current name, when the task
        renames it (the entry moves with it once the API renamed it), else None."""
        current = next((c for c in listed if c.get("id") == credential_id), None)
        if current is None or not current.get("name") or current["name"] == self.key.credential:
            return None
        before = self.key._replace(credential=current["name"])
        entry = self.store.read(before)
        if entry is None or entry.content.get("credential_id") != credential_id:
            return None
        self.moved_from = before
        return entry

    def plan(self):
        """List, read the clock and the store, and plan."""
        desired = self.desired()
        listed = []
        if self.owner.kind != "pending":
            listed = self.adapter.list_credentials(self.owner.api_id)
            if self.clock is not None:
                self.now = self.clock()
        return plan(self.capabilities, desired, listed, self.read_store(desired, listed), self.now, self.owner)

    def ensure(self):
        """The task's result: the plan's, after applying it as a wave of one (check mode: plan, do not apply)."""
        planned = self.plan()
        if self.check_mode:
            return result_of(planned)
        if self.unregistered and self.store is None and planned.makes_credential:
            raise ConfigError(unkept_message(planned))
        if self.store is not None and planned.makes_credential:  # before the create: its secret must be keepable
            self.store.check_writable()
        done, = apply_wave(self.adapter, [Item(planned, self.key)], self.store, server_url=self.server_url,
                           prover=self.prover)
        if done.error is not None:
            raise done.error
        if self.moved_from is not None and done.applied.plan.action == "rename":
            self._move_entry(planned.stored)
        return result_of(planned, done.applied)

    def _move_entry(self, stored):
        """After a rename in place: the entry (the same secret) under the new name, then the old one deleted."""
        try:
            self.store.write(self.key, dict(stored.content, names=names_of(self.key)), None)
            self.store.delete(self.moved_from)
        except ConductorError as exc:
            before, after = self.store.location(self.moved_from), self.store.location(self.key)
            why = redact(exc.message, [stored.content.get("client_secret")])
            raise ConductorError("Credential %s was renamed in place, but moving its store entry from %s to %s failed "
                                 "(%s); its secret is still held at %s"
                                 % (stored.credential_id, before, after, why, before))


def unkept_message(plan_):
    """The refusal of a plan that would mint a secret nothing keeps (no store, no register): before any write."""
    owner = plan_.owner
    whose = " of the personal keys" if owner.kind == "personal" else " of %r" % (owner.name or owner.id,) \
        if owner.name or owner.id else ""
    verb = "create" if plan_.current is None else plan_.action
    return ("This task would %s credential %r%s, and its new secret would be kept nowhere: neither store nor "
            "register is set; give store (the secret is written there before anything else happens) or register "
            "the result and keep its client_secret at once" % (verb, plan_.desired.name, whose))


def credential_info(adapter, owner, params, now=None):
    now = now or datetime.now(timezone.utc)
    found = adapter.list_credentials(owner)
    if params.get("name"):
        found = [c for c in found if c.get("name") == params["name"]]
    if params.get("id"):
        found = [c for c in found if c["id"] == params["id"]]
    return {"changed": False, "credentials": [with_expiry(c, now) for c in found]}
