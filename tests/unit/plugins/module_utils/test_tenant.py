# -*- coding: utf-8 -*-
"""service_principals' own decisions over plain values: the list checked, the tenant planned, the waves' store."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Plan
from ansible_collections.conductor.principals.plugins.module_utils.credentials import Created
from ansible_collections.conductor.principals.plugins.module_utils.parallel import Pool
from ansible_collections.conductor.principals.plugins.module_utils.platforms.base import PlatformAdapter
from ansible_collections.conductor.principals.plugins.module_utils.platforms.c1 import CAPABILITIES as C1_CAPABILITIES
from ansible_collections.conductor.principals.plugins.module_utils.platforms.orkes import (
    CAPABILITIES as ORKES_CAPABILITIES)
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.tenant import (
    TenantRun, check_principals, credential_action, failure_message, plan_tenant)

DEFAULTS = {"rotate_before_days": 14, "force_rotate": False, "revoke_previous": True,
            "revoke_previous_after_unused_hours": None, "max_overlap_days": 7, "verify": True,
            "replace_on_change": False}


class Checker(object):
    """An adapter as check_principals sees it: the platform's declared capabilities, and its principal check."""

    def __init__(self, platform="conductorone"):
        self.capabilities = C1_CAPABILITIES if platform == "conductorone" else ORKES_CAPABILITIES

    def check_principal(self, desired):
        if "BAD" in (desired.get("roles") or ()):
            raise ConfigError("roles: BAD is not an Orkes role")


def checked(principals, platform="conductorone", store=True):
    return check_principals(principals, platform, Checker(platform), DEFAULTS, store)


def key(principal, credential):
    return EntryKey("conductorone", principal, credential)


# ---- the list ----------------------------------------------------------------------------
def test_defaults_fill_each_credential_and_an_entry_overrides_them():
    second = {"name": "x", "rotate_before_days": 3, "verify": False}
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}, second]}])
    ci, x = wanted[0]["credentials"]
    assert (ci["rotate_before_days"], ci["verify"], ci["state"]) == (14, True, "present")
    assert (x["rotate_before_days"], x["verify"]) == (3, False)
    assert wanted[0]["settings"] == {} and wanted[0]["trusts"] == []


@pytest.mark.parametrize("principals, platform, message", [
    ("a", "conductorone", "principals must be a list of principals, not str"),
    ([{"name": "a"}, {"name": "a"}], "conductorone", "principals names principal 'a' more than once; name each once"),
    ([{"name": "a", "credentials": [{"name": "ci", "expire_days": 30}]}], "conductorone",
     "principals: principal 'a', credential 'ci': no option expire_days (did you mean expires_days?)"),
    ([{"name": "a", "tags": {"t": "1"}}], "conductorone",
     "principals: principal 'a' sets tags, which ConductorOne principals cannot have; remove it"),
    ([{"name": "a", "roles": ["BAD"]}], "orkes", "principals: principal 'a': roles: BAD is not an Orkes role"),
    ([{"name": "a", "credentials": [{"name": "ci", "expires_days": 30}]}], "orkes",
     "principals: principal 'a', credential 'ci': expires_days cannot be set on platform orkes; remove it"),
    ([{"name": "a", "credentials": [{"name": "k1"}, {"name": "k2"}]}], "orkes",
     "lists more than one present credential ('k1', 'k2')"),
    ([{"name": "a", "credentials": [{"name": "ci"}, {"name": "ci"}]}], "conductorone",
     "principals: principal 'a' lists credential 'ci' more than once"),
    ([{"name": "a", "platform": "orkes"}], "conductorone",
     "principals: principal 'a' is on platform orkes, but this task connects to conductorone"),
    ([{"name": "a", "trusts": [{"name": "t", "github": {"repository": "o/r"}}]}], "orkes",
     "principals: principal 'a' lists trusts, which Orkes principals cannot have"),
    ([{"name": "a", "trusts": [{"name": "t"}]}], "conductorone",
     "principals: principal 'a', trust 't': give its condition"),
    ([{"name": "a", "trusts": [{"name": "t", "condition": "true", "github": {"repository": "o/r"}}]}],
     "conductorone", "principals: principal 'a', trust 't': Give one condition form"),
    ([{"name": "a", "credentials": [{"name": "ci", "revoke_previous_after_unused_hours": 0}]}], "conductorone",
     "principals: principal 'a', credential 'ci': revoke_previous_after_unused_hours must be 1 or more"),
])
def test_each_mistake_is_one_sentence_naming_its_entry(principals, platform, message):
    with pytest.raises(ConfigError) as caught:
        checked(principals, platform)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_credentials_need_a_store():
    with pytest.raises(ConfigError, match="principal 'a' lists credentials, so give store"):
        checked([{"name": "a", "credentials": [{"name": "ci"}]}], store=False)
    assert checked([{"name": "a"}], store=False)[0]["credentials"] == []


def test_an_absent_principal_carries_no_credentials_or_trusts():
    wanted = checked([{"name": "a", "state": "absent", "credentials": [{"name": "ci"}]}])
    assert wanted == [{"name": "a", "state": "absent", "settings": {}, "credentials": [], "trusts": []}]


# ---- the plan ----------------------------------------------------------------------------
def listed(*names):
    return [{"id": "id-%s-%d" % (name, n), "name": name} for n, name in enumerate(names)]


def actions(plan):
    return {(p["name"], p["action"]) for p in plan["principals"]}


def test_create_keep_ensure_and_duplicate():
    wanted = checked([{"name": "new"}, {"name": "there"}, {"name": "twice"}])
    wanted += checked([{"name": "app", "roles": ["WORKER"]}], platform="orkes")
    plan = plan_tenant(wanted, listed("there", "twice", "twice", "app"), [])
    assert actions(plan) == {("new", "create"), ("there", "keep"), ("twice", "duplicate"), ("app", "ensure")}
    by_name = {p["name"]: p for p in plan["principals"]}
    assert by_name["there"]["id"] == "id-there-0" and by_name["new"]["id"] is None
    assert by_name["twice"]["ids"] == ["id-twice-1", "id-twice-2"]
    assert by_name["app"]["settings"] == {"roles": ["WORKER"]}


def test_absent_removes_and_forgets_its_entries_and_a_gone_one_only_forgets():
    wanted = checked([{"name": "old", "state": "absent"}, {"name": "gone", "state": "absent"}])
    keys = [key("old", "ci"), key("gone", "ci"), key("other", "ci")]
    plan = plan_tenant(wanted, listed("old"), keys)
    assert actions(plan) == {("old", "remove")}
    assert plan["forget"] == [key("old", "ci"), key("gone", "ci")]
    assert plan["credentials"] == []


def test_without_prune_nothing_unlisted_is_touched():
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}]}])
    plan = plan_tenant(wanted, listed("a", "b", "c"), [key("a", "ci"), key("a", "old"), key("b", "ci")])
    assert actions(plan) == {("a", "keep")} and plan["forget"] == []
    assert [(c["principal"], c["params"]["name"], c["params"]["state"]) for c in plan["credentials"]] == [
        ("a", "ci", "present")]


def test_prune_is_bounded_by_the_store():
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}]}])
    keys = [key("a", "ci"), key("a", "old"), key("b", "ci"), key("gone", "ci"),
            EntryKey("conductorone", "@personal", "mine")]
    plan = plan_tenant(wanted, listed("a", "b", "c"), keys, prune=True)
    # c has no entry: not ours. b has one and is not listed: removed. gone: only its entry.
    assert actions(plan) == {("a", "keep"), ("b", "remove")}
    assert plan["forget"] == [key("b", "ci"), key("gone", "ci")]
    assert [(c["params"]["name"], c["params"]["state"], c.get("pruned", False)) for c in plan["credentials"]] == [
        ("ci", "present", False), ("old", "absent", True)]


def test_trusts_of_present_principals_are_planned():
    wanted = checked([{"name": "a", "trusts": [{"name": "gh", "github": {"repository": "o/r"}}]}])
    plan = plan_tenant(wanted, [], [])
    assert [(t["principal"], t["params"]["name"]) for t in plan["trusts"]] == [("a", "gh")]


# ---- what the core's result means ------------------------------------------------------------
@pytest.mark.parametrize("action, word", [("create", "created"), ("rotate", "rotated"), ("replace", "replaced"),
                                          ("revoke", "revoked"), ("set_status", "updated"), ("keep", "unchanged"),
                                          ("none", "unchanged")])
def test_each_plan_action_has_its_word(action, word):
    assert credential_action(Plan(action)) == word


def test_the_failure_message_names_each_item():
    message = failure_message([{"principal": "a", "credential": "ci", "msg": "Could not create credential 'ci'."},
                               {"principal": "b", "trust": "gh", "msg": "refused"}], 10)
    assert message == ("2 of 10 items failed, every other item is done: principal 'a' credential 'ci': Could not "
                       "create credential 'ci'; principal 'b' trust 'gh': refused")


class _Settings(object):
    platform = "conductorone"
    server_url = "https://tenant.example"
    validate_certs = True


class _Client(object):
    settings = _Settings()


@pytest.mark.parametrize("diff", [True, False])
def test_the_diff_is_built_only_when_asked(diff):
    """Without --diff nothing of it is kept while the waves run (1,000 items: the largest part of the result)."""
    run = TenantRun(_Client(), {}, diff=diff)
    run._noted("before", "credentials", "app-00/ci", {})
    run._noted("after", "credentials", "app-00/ci", {"id": "cred-1"})
    result = run._result({}, [], [])
    if diff:
        assert result["diff"] == {"before": {"credentials": {"app-00/ci": {}}},
                                  "after": {"credentials": {"app-00/ci": {"id": "cred-1"}}}}
    else:
        assert "diff" not in result and run.diff is None


def test_a_wave_in_the_store_leaves_no_new_secret_in_the_run(tmp_path):
    """Once the wave's entries are written, its new secrets live in the store and in the wave only (which is
    let go): the run's record of what it read keeps neither them nor the stale entry they replaced."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"})
    run = TenantRun(_Client(), {}, diff=True)
    run.store = store
    new, rotated = key("app-00", "ci"), key("app-01", "ci")
    old = store.write(rotated, {"client_id": "old@t/spc", "client_secret": "secret-token:old", "credential_id": "c0"})
    run.cache = {new: None, rotated: ({"client_secret": "secret-token:old", "credential_id": "c0"}, old)}
    wave = [{"key": k, "plan": SimpleNamespace(stored=stored),
             "created": Created({"id": "c-%d" % i, "client_id": "fox-%d@t/spc" % i}, "secret-token:new-%d" % i)}
            for i, (k, stored) in enumerate([(new, None), (rotated, SimpleNamespace(present=True, version=old))])]
    run._store_wave(wave)
    assert [w.get("version") for w in wave] == [store.read(new).version, store.read(rotated).version]
    assert store.read(rotated).content["client_secret"] == "secret-token:new-1"
    assert "secret-token" not in repr(run.cache)


@pytest.mark.parametrize("diff", [True, False])
def test_the_runner_tells_service_principals_whether_a_diff_is_wanted(monkeypatch, diff):
    from ansible_collections.conductor.principals.plugins.module_utils import runner
    told = []

    def service_principals(client, params, check_mode, environ, diff=False):
        told.append(diff)
        return {"changed": False, "diff": {"before": {}, "after": {}}}
    monkeypatch.setitem(runner.RUNNERS, "service_principals", service_principals)
    result = runner.run("service_principals", {"platform": "conductorone", "server_url": "https://tenant.example",
                                               "access_token": "t"}, diff=diff, environ={}, client=_Client())
    assert told == [diff] and ("diff" in result) is diff


# ---- a wave that raises --------------------------------------------------------------------
class WaveAdapter(PlatformAdapter):
    """C1 credentials in memory, as a wave uses them: made (with a secret), listed, revoked."""

    capabilities = C1_CAPABILITIES

    def __init__(self):
        super().__init__(client=None)
        self.lock = threading.Lock()
        self.live = {}
        self.made = []

    def list_principals(self):
        return []

    def get_principal(self, principal_id):
        return None

    def create_principal(self, desired):
        raise AssertionError("a wave makes no principal")

    update_principal = delete_principal = create_principal

    def list_credentials(self, owner):
        return [c for c in self.live.values() if c["service_principal_id"] == owner]

    def create_credential(self, owner, desired):
        with self.lock:
            credential = {"id": "cred-%d" % len(self.made), "name": desired["name"], "service_principal_id": owner,
                          "client_id": "fox-%d@t/spc" % len(self.made), "created_at": "2026-01-01T00:00:00Z"}
            self.made.append(credential["id"])
            self.live[credential["id"]] = credential
        return dict(credential), "secret-token:%s" % credential["id"]

    def revoke_credential(self, owner, credential):
        with self.lock:
            self.live.pop(credential["id"], None)

    def resolve_role_ids(self, names_or_ids):
        return sorted(names_or_ids)

    def whoami(self):
        return {}


def wave_run(store, count=4):
    """A TenantRun over WaveAdapter, ready to apply one wave of ``count`` new credentials ("app-N"/"ci")."""
    run = TenantRun(_Client(), {})
    run.pool = Pool(2)
    run.adapter = WaveAdapter()
    run.store = store
    run.cache = {}
    run.shared = SimpleNamespace(server_now=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    names = ["app-%d" % n for n in range(count)]
    wanted = checked([{"name": name, "credentials": [{"name": "ci"}]} for name in names])
    work = [run._plan_credential({"principal": w["name"], "params": w["credentials"][0]},
                                 {w["name"]: {"id": "sp-" + w["name"]}}, {"sp-" + w["name"]: []}) for w in wanted]
    return run, work


def test_a_store_write_that_raises_revokes_every_credential_its_wave_made(tmp_path, monkeypatch):
    """Not a ConductorError: the wave stops, but none of its new credentials stays live with its secret unheld."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"})

    def broken(writes):
        raise RuntimeError("a bug in the store")
    monkeypatch.setattr(store, "write_many", broken)
    run, work = wave_run(store)
    with run.pool, pytest.raises(RuntimeError) as caught:
        run._apply_wave(work)
    assert len(run.adapter.made) == 4 and run.adapter.live == {}
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert all("the new credential %s was revoked" % made in notes for made in run.adapter.made) or not hasattr(
        caught.value, "add_note")
    assert "secret-token" not in notes


@pytest.mark.parametrize("with_store", [True, False])
def test_a_bug_in_one_item_after_the_creates_leaves_each_new_credential_held_or_revoked(tmp_path, with_store):
    """With a store the wave's secrets are written before the bug: they stay held, and live. Without one, the
    result that would have returned them never comes: they are revoked."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"}) \
        if with_store else None
    run, work = wave_run(store)

    def prover(credential, secret):
        if credential["id"] == "cred-2":
            raise KeyError("a bug in the proof")
    run._prover = prover
    with run.pool, pytest.raises(KeyError):
        run._apply_wave(work)
    assert len(run.adapter.made) == 4
    if with_store:
        held = {store.read(key("app-%d" % n, "ci")).content["credential_id"] for n in range(4)}
        assert set(run.adapter.live) == held == set(run.adapter.made)
    else:
        assert run.adapter.live == {}
