# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client credentials (Orkes: access keys): ensure, rotate, revoke; written once for every platform.

A task is: check the input once, list, read the store, plan (credential_plan.plan, pure),
then, unless in check mode, apply the plan; the result and the diff come from the plan
(credential_plan.result_of).

Apply keeps one order and its guarantees, in four steps a caller can also drive one by one
(a bulk caller runs each step over a wave of plans):

1. ``create_credential(adapter, plan) -> Created``: the API. A credential's secret exists only
   in the answer to its create, so a create whose answer was lost leaves a credential nobody
   can use: it is found (not among ``plan.known_ids``) and revoked before trying again, and
   never left alive silently.
2. ``keep_secret(adapter, store, key, plan, created, server_url) -> version``: the new secret is written
   to the store (check-and-set) before anything else can fail; if the write fails the new
   credential is revoked (``undo_create``) and the task fails.
3. ``prove(adapter, prover, plan, created, store=None, key=None, version=None)``: with
   ``verify``, the new secret must obtain a token by itself, else the create and the store
   write are undone.
4. ``retire(adapter, plan, created=None) -> (plan, revoked, credential)``: revoke the older
   credentials that are due (counted from the new one's created_at) and pause or resume in place;
   for state absent the settled plan's ``store_delete`` tells the caller to delete the store entry,
   which it does after the revokes (a secret stays held while its credential lives). After a create a refused revoke does not fail: the
   new credential is held and stays the caller's, the older one is kept with the API's refusal
   (``keep_refused``) and a later run retires it.

``apply(adapter, plan, store=None, key=None, server_url=None, prover=None) -> Applied`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .credential_plan import (
    Applied, Desired, Stored, keep_refused, needs_claims, plan, result_of, settle, still_live, with_expiry)
from .errors import ConductorError, OutcomeUnknownError, redact
from .stores.base import entry_content

CREATE_ATTEMPTS = 2

__all__ = ["CredentialRun", "Created", "apply", "create_credential", "credential_info", "entry_of", "keep_secret",
           "prove", "retire", "store_write_failed", "undo_create"]


@dataclass(frozen=True)
class Created(object):
    """A credential this run made, its secret, and the IDs of lost creates revoked on the way."""

    credential: dict
    secret: str = field(repr=False)
    lost: tuple = ()


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


def entry_of(key, created, server_url):
    """The store entry for a new credential (it holds the secret, and the ID of its principal: prune acts on IDs)."""
    content = entry_content(key, created.credential, created.credential.get("client_id"), created.secret, server_url)
    content["service_principal_id"] = created.credential.get("service_principal_id")
    return content


def keep_secret(adapter, store, key, plan_, created, server_url):
    """Write the new secret to the store (check-and-set); on failure revoke the credential and fail."""
    version = plan_.stored.version if plan_.stored is not None else None
    try:
        return store.write(key, entry_of(key, created, server_url), version)
    except ConductorError as exc:
        raise store_write_failed(adapter, plan_, created, store.type, exc)


def store_write_failed(adapter, plan_, created, store_type, error):
    """The error for a new secret the store refused, after revoking its credential (the older ones stay)."""
    why = "Could not write the secret of new credential %s to the %s store (%s)" % (
        created.credential["id"], store_type, redact(error.message, [created.secret]))
    return ConductorError(undo_create(adapter, plan_, created.credential, why) + still_live(plan_.older))


def prove(adapter, prover, plan_, created, store=None, key=None, version=None):
    """``verify``: the new secret must obtain a token, else undo the create and the store write."""
    try:
        prover(created.credential, created.secret)
        return
    except ConductorError as exc:
        why = "The new credential %s did not obtain an access token (%s)" % (
            created.credential["id"], redact(exc.message, [created.secret]))
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
    return settled, revoked, after


def apply(adapter, plan_, store=None, key=None, server_url=None, prover=None):
    """Do the plan's writes in order (module docstring); return what was done as Applied."""
    created = None
    if plan_.makes_credential:
        created = create_credential(adapter, plan_)
        # The secret is kept before anything else can fail, or the credential is undone.
        version = keep_secret(adapter, store, key, plan_, created, server_url) if store is not None else None
        if plan_.desired.verify:
            prove(adapter, prover, plan_, created, store, key, version)
    settled, revoked, after = retire(adapter, plan_, created)
    if settled.store_delete:
        store.delete(key)  # after the revokes: a secret stays held while its credential lives
    return Applied(credential=after, secret=created.secret if created is not None else None,
                   revoked=(created.lost if created is not None else ()) + tuple(revoked), plan=settled)


# ---- one task ---------------------------------------------------------------------------------
class CredentialRun(object):
    """One task's work on the credentials of one owner (a credential_plan.Owner).

    With a ``store`` (a stores.SecretStore) and its entry ``key``, a secret this run creates is
    written to the store before anything else happens; ``prover(credential, secret)`` (with
    ``verify``) proves a new secret before the previous credential is revoked. ``clock()``, when
    given, is read after the listing: the server's time (ApiClient.server_now). ``checked``: the
    caller already ran credential_plan.check_params on ``params``.
    """

    def __init__(self, adapter, owner, params, check_mode=False, now=None, store=None, key=None,
                 server_url=None, prover=None, clock=None, checked=False):
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

    def desired(self):
        """The task as a Desired value, its scoped_roles resolved to IDs."""
        desired = Desired.from_params(self.params, self.capabilities, personal=self.owner.kind == "personal",
                                      with_store=self.store is not None, checked=self.checked)
        if desired.needs_roles and not (self.owner.kind == "pending" and desired.state == "absent"):
            desired = desired.with_role_ids(self.adapter.resolve_role_ids(list(desired.scoped_roles)))
        return desired

    def read_store(self, desired):
        """This task's entry as a Stored value (None without a store), with the other entries' claims."""
        if self.store is None:
            return None
        location = self.store.location(self.key)
        if self.owner.kind == "pending":  # nothing can be stored for a principal not made yet
            return Stored(False, store_type=self.store.type, location=location)
        entry = self.store.read(self.key)
        claimed = None
        if needs_claims(self.capabilities, desired):
            claimed = set()
            for other in self.store.list(self.key.platform, self.key.principal):
                if other != self.key:
                    held = self.store.read(other)
                    if held and held.content.get("credential_id"):
                        claimed.add(held.content["credential_id"])
        return Stored.of_entry(entry, self.store.type, location, claimed)

    def plan(self):
        """List, read the clock and the store, and plan."""
        desired = self.desired()
        listed = []
        if self.owner.kind != "pending":
            listed = self.adapter.list_credentials(self.owner.api_id)
            if self.clock is not None:
                self.now = self.clock()
        return plan(self.capabilities, desired, listed, self.read_store(desired), self.now, self.owner)

    def ensure(self):
        """The task's result: the plan's, after applying it (check mode: plan, do not apply)."""
        planned = self.plan()
        if self.check_mode:
            return result_of(planned)
        return result_of(planned, apply(self.adapter, planned, self.store, self.key, self.server_url, self.prover))


def credential_info(adapter, owner, params, now=None):
    now = now or datetime.now(timezone.utc)
    found = adapter.list_credentials(owner)
    if params.get("name"):
        found = [c for c in found if c.get("name") == params["name"]]
    if params.get("id"):
        found = [c for c in found if c["id"] == params["id"]]
    return {"changed": False, "credentials": [with_expiry(c, now) for c in found]}
