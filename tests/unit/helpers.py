# -*- coding: utf-8 -*-
"""Test helpers built independently of the code under test."""

from __future__ import annotations

import base64
import json
import threading
from types import SimpleNamespace
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, PrivateFormat, NoEncryption

from ansible_collections.conductor.principals.plugins.module_utils import tenant
from ansible_collections.conductor.principals.plugins.module_utils.errors import (
    ConductorError, ConfigError, OutcomeUnknownError)
from ansible_collections.conductor.principals.plugins.module_utils.platforms.base import PlatformAdapter
from ansible_collections.conductor.principals.plugins.module_utils.platforms.c1 import CAPABILITIES as C1_CAPABILITIES
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import (
    SecretStore, StoreConflictError, StoredEntry)

SERVER = "https://tenant.example.test:8443"
CLIENT_ID = "clever-fox-42195@tenant.example.test:8443/spc"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_v1_secret(key=None):
    """A C1 v1 secret built independently of the code under test."""
    key = key or Ed25519PrivateKey.generate()
    d = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    x = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "d": b64url(d), "x": b64url(x)}
    return "secret-token:conductorone.com:v1:" + b64url(json.dumps(jwk).encode()), key


class FakeClock(object):
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now


# ---- an in-memory platform and store, for the core's logic (the sandbox tests cover the wire) ----------
#: The moment MemoryPlatform's credentials are made at (and aged from).
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def stamp(moment):
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Faults(object):
    """Injected failures. ``faults`` decides, per call of a method, whether it fails: a callable
    ``(method, number) -> exception, True or None`` (``number`` counts that method's calls from 1; True is
    a ConductorError), or a dict {method: how many of its next calls fail}. A fault that is an
    OutcomeUnknownError comes after the change is made: its answer was lost."""

    def __init__(self, faults=None):
        self.faults = {} if faults is None else faults
        self.call_counts = {}
        self.fault_lock = threading.Lock()

    def fault(self, method):
        with self.fault_lock:
            number = self.call_counts[method] = self.call_counts.get(method, 0) + 1
            if callable(self.faults):
                error = self.faults(method, number)
            elif self.faults.get(method):
                self.faults[method] -= 1
                error = True
            else:
                error = None
        if error is True:
            error = ConductorError("%s failed (injected, call %d)" % (method, number))
        return error

    def check(self, method, changes=False):
        """Raise the call's fault, unless the call ``changes`` something and the fault is a lost answer: that one
        is returned, for the caller to raise once the change is made."""
        error = self.fault(method)
        if error is not None and not (changes and isinstance(error, OutcomeUnknownError)):
            raise error
        return error


class MemoryPlatform(Faults, PlatformAdapter):
    """The platform interface over dicts (C1's capabilities), with fault injection (Faults).

    ``writes`` records every change in order, as (what, subject): ("create", credential ID), ("revoke", ID),
    ("create principal", ID), ("delete principal", ID); a MemoryStore given the same list adds its own.
    """

    capabilities = C1_CAPABILITIES

    def __init__(self, client=None, faults=None, log=None, now=NOW):
        PlatformAdapter.__init__(self, client)
        Faults.__init__(self, faults)
        self.now = now
        self.principals = []
        self.credentials = {}  # {owner ID (None: the personal keys): [credential]}, live ones only
        self.secrets = {}  # {credential ID: its secret}
        self.made = []  # the IDs create_credential made, in order
        self.every = {}  # {credential ID: credential} of every credential there was, live or revoked
        self.writes = [] if log is None else log
        self.roles = {}  # {role ID or name: role ID}
        self.counters = {"principal": 0, "credential": 0}
        self.lock = threading.RLock()

    # ---- set up by a test -----------------------------------------------------------------
    def principal(self, name):
        with self.lock:
            self.counters["principal"] += 1
            principal = {"id": "sp%d" % self.counters["principal"], "name": name, "created_at": stamp(self.now),
                         "updated_at": stamp(self.now)}
            self.principals.append(principal)
            self.credentials.setdefault(principal["id"], [])
            return dict(principal)

    def add_credential(self, owner, name, age_days=0, lifetime=90, used_days_ago=None, secret=None, **extra):
        """A live credential of ``owner`` (an ID; None: a personal key) made ``age_days`` ago (lifetime 0: forever)."""
        with self.lock:
            number = self.counters["credential"] = self.counters["credential"] + 1
            created = self.now - timedelta(days=age_days)
            credential = {"id": "c%d" % number, "name": name, "client_id": "fox-%d@h/spc" % number,
                          "service_principal_id": owner, "created_at": stamp(created),
                          "expires_at": stamp(created + timedelta(days=lifetime)) if lifetime else None,
                          "allowed_cidrs": [], "scoped_role_ids": [], "require_dpop": False,
                          "last_used_at": None if used_days_ago is None else stamp(self.now - timedelta(
                              days=used_days_ago)), "status": "ACTIVE"}
            credential.update(extra)
            self.credentials.setdefault(owner, []).append(credential)
            self.every[credential["id"]] = credential
            self.secrets[credential["id"]] = secret or "secret-token:%s" % credential["id"]
            return credential

    def live(self):
        """{credential ID: credential} of every live credential."""
        with self.lock:
            return {c["id"]: c for owned in self.credentials.values() for c in owned}

    def prove(self, credential, secret):
        """What a token request with a new secret answers: ConductorError unless it is that live credential's."""
        self.check("prove")
        if credential["id"] not in self.live() or self.secrets.get(credential["id"]) != secret:
            raise ConductorError("the secret of credential %s obtains no token" % credential["id"])

    # ---- service principals ---------------------------------------------------------------------
    def list_principals(self):
        self.check("list_principals")
        with self.lock:
            return [dict(p) for p in self.principals]

    def get_principal(self, principal_id):
        self.check("get_principal")
        with self.lock:
            return next((dict(p) for p in self.principals if p["id"] == principal_id), None)

    def create_principal(self, desired):
        lost = self.check("create_principal", changes=True)
        principal = self.principal(desired["name"])
        self.writes.append(("create principal", principal["id"]))
        if lost:
            raise lost
        return principal

    def update_principal(self, current, desired):
        lost = self.check("update_principal", changes=True)
        with self.lock:
            principal = next(p for p in self.principals if p["id"] == current["id"])
            principal.update(desired)
            self.writes.append(("update principal", principal["id"]))
        if lost:
            raise lost
        return dict(principal)

    def delete_principal(self, principal):
        lost = self.check("delete_principal", changes=True)
        with self.lock:
            self.principals = [p for p in self.principals if p["id"] != principal["id"]]
            self.credentials.pop(principal["id"], None)  # its credentials go with it
            self.writes.append(("delete principal", principal["id"]))
        if lost:
            raise lost

    # ---- credentials --------------------------------------------------------------------------
    def list_credentials(self, owner):
        self.check("list_credentials")
        with self.lock:
            return [dict(c) for c in self.credentials.get(owner, [])]

    def create_credential(self, owner, desired):
        lost = self.check("create_credential", changes=True)
        with self.lock:
            credential = self.add_credential(owner, desired.get("name"), lifetime=desired.get("expires_days") or 0,
                                             allowed_cidrs=list(desired.get("allowed_cidrs") or []),
                                             scoped_role_ids=list(desired.get("scoped_role_ids") or []),
                                             require_dpop=bool(desired.get("require_dpop")))
            secret = self.secrets[credential["id"]] = "secret-token:new-%s" % credential["id"]
            self.made.append(credential["id"])
            self.writes.append(("create", credential["id"]))
        if lost:
            raise lost
        return dict(credential), secret

    def revoke_credential(self, owner, credential):
        lost = self.check("revoke_credential", changes=True)
        with self.lock:
            if owner in self.credentials:  # a credential already gone is no error
                self.credentials[owner] = [c for c in self.credentials[owner] if c["id"] != credential["id"]]
            self.writes.append(("revoke", credential["id"]))
        if lost:
            raise lost

    # ---- roles and identity -----------------------------------------------------------------------
    def resolve_role_ids(self, names_or_ids):
        missing = [n for n in names_or_ids if n not in self.roles]
        if missing:
            raise ConfigError("scoped_roles: no role has the ID or name %r" % missing[0])
        return sorted({self.roles[n] for n in names_or_ids})

    def whoami(self):
        return {"id": "memory"}


class OnePrincipalPlatform(MemoryPlatform):
    """MemoryPlatform for the tests of one principal's credentials (principal "sp", the credential core's tests)."""

    def __init__(self):
        super().__init__()
        self.roles = {"Read-Only Admin": "role-ro", "role-ro": "role-ro"}

    def add(self, name, age_days=0, lifetime=90, **extra):
        return self.add_credential("sp", name, age_days, lifetime, **extra)

    def lose_creates(self, times):
        """The answers to the next ``times`` creates are lost (each credential is made all the same)."""
        self.faults = lambda method, number: (OutcomeUnknownError("lost") if method == "create_credential"
                                              and number <= times else None)


def credential_params(**overrides):
    """sp_credential's parameters for credential "ci", with ``overrides``."""
    base = dict(name="ci", state="present", rotate_before_days=0, force_rotate=False, revoke_previous=True,
                replace_on_change=False)
    base.update(overrides)
    return base


class MemoryStore(Faults, SecretStore):
    """A secret store in a dict (its batches are the base class's loops over the single calls), with fault
    injection (Faults: methods read, write, delete, list). ``writes`` records ("store write", key, credential
    ID) and ("store delete", key) in order (give it MemoryPlatform's to see one order of both)."""

    type = "memory"

    def __init__(self, faults=None, log=None):
        SecretStore.__init__(self, {})
        Faults.__init__(self, faults)
        self.entries = {}  # {path: (key, content, version)}
        self.writes = [] if log is None else log
        self.versions = 0
        self.lock = threading.Lock()

    def put(self, key, content):
        """An entry as a test sets it up (not recorded in ``writes``)."""
        with self.lock:
            self.versions += 1
            self.entries[self.path(key)] = (key, dict(content), self.versions)

    def held(self, key):
        """The content at ``key``, or None."""
        found = self.entries.get(self.path(key))
        return None if found is None else found[1]

    def read(self, key):
        self.check("read")
        found = self.entries.get(self.path(key))
        return None if found is None else StoredEntry(dict(found[1]), found[2])

    def write(self, key, content, version=None):
        lost = self.check("write", changes=True)
        with self.lock:
            found = self.entries.get(self.path(key))
            if (found[2] if found else None) != version:
                raise StoreConflictError("the entry at %s changed since it was read" % self.location(key))
            self.versions += 1
            self.entries[self.path(key)] = (key, dict(content), self.versions)
            self.writes.append(("store write", key, content.get("credential_id")))
        if lost:
            raise lost
        return self.versions

    def delete(self, key):
        lost = self.check("delete", changes=True)
        with self.lock:
            self.entries.pop(self.path(key), None)
            self.writes.append(("store delete", key))
        if lost:
            raise lost

    def list(self, platform=None, principal=None):
        self.check("list")
        return [key for key, _content, _version in list(self.entries.values())
                if (platform is None or key.platform == platform) and (principal is None or key.principal == principal)]


class ReportPlatform(MemoryPlatform):
    """MemoryPlatform as the report tests read it: no trusts (their rows are tested apart), each listing noted
    in ``calls``, a credential added for a principal (dict) or None (a personal key)."""

    capabilities = replace(MemoryPlatform.capabilities, has_workload_federation=False)

    def __init__(self):
        super().__init__()
        self.calls = []

    def credential(self, owner, name, age_days=0, lifetime=90, used_days_ago=None):
        return self.add_credential(owner and owner["id"], name, age_days, lifetime, used_days_ago)

    def list_principals(self):
        self.calls.append("principals")
        return super().list_principals()

    def list_credentials(self, owner):
        self.calls.append(owner)
        return super().list_credentials(owner)


# ---- one service_principals task on the real engine (TenantRun), over MemoryPlatform -----------------------------
TENANT_DEFAULTS = {"rotate_before_days": 14, "force_rotate": False, "revoke_previous": True,
                   "revoke_previous_after_unused_hours": None, "max_overlap_days": 7, "verify": True,
                   "replace_on_change": False}


class TenantSettings(object):
    platform = "conductorone"
    server_url = "https://tenant.example"
    validate_certs = True


class TenantClient(object):
    """The client a TenantRun is given: only its settings are read once the adapter is MemoryPlatform."""
    settings = TenantSettings()


def run_tenant_task(platform, params, open_store):
    """One service_principals task's result: TenantRun over ``platform`` (MemoryPlatform), ``open_store()`` as the
    store it opens, the proofs asked of the platform."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tenant, "store_for", lambda options, environ=None: open_store())
        patch.setattr(tenant, "adapter_for", lambda client: platform)
        patch.setattr(tenant.parallel, "shared_client",
                      lambda client, pool: SimpleNamespace(server_now=lambda: platform.now))
        run = tenant.TenantRun(TenantClient(), params)
        run._prover = platform.prove
        return run.run()
