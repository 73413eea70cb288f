# -*- coding: utf-8 -*-
"""service_principals' own decisions over plain values: the tenant planned, the waves' store."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Plan
from ansible_collections.conductor.principals.plugins.module_utils.credentials import Created
from ansible_collections.conductor.principals.plugins.module_utils.inputs import check_principals
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.tenant import (
    TenantRun, credential_action, failure_message, plan_tenant)

DEFAULTS = {"rotate_before_days": 14, "force_rotate": False, "revoke_previous": True,
            "revoke_previous_after_unused_hours": None, "max_overlap_days": 7, "verify": True,
            "replace_on_change": False}


def checked(principals, platform="conductorone"):
    return check_principals(principals, "principals", platform, DEFAULTS, True, platform=platform)


def key(principal, credential):
    return EntryKey("conductorone", principal, credential)


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
