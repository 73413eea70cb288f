# -*- coding: utf-8 -*-
"""Permissions (grants) as sets: the check, the comparison, the plan, and the calls the Orkes adapter makes."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.conductor.principals.plugins.module_utils import permissions
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.platforms import ADAPTERS
from ansible_collections.conductor.principals.plugins.module_utils.platforms.orkes import (
    PERMISSION_ACCESS, PERMISSION_TARGET_TYPES, OrkesAdapter)
from ansible_collections.conductor.principals.plugins.module_utils.principals import ensure_principal
from ansible_collections.conductor.principals.plugins.modules import service_principal

TYPES, ACCESS = PERMISSION_TARGET_TYPES, PERMISSION_ACCESS
PAYMENTS = {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]}
CHARGE = {"type": "TASK_DEF", "id": "charge_card", "access": ["READ"]}


def test_a_set_ignores_order_grouping_and_repeats():
    split = [{"type": "TASK_DEF", "id": "charge_card", "access": ["READ", "READ"]},
             {"type": "WORKFLOW_DEF", "id": "payments", "access": ["READ"]},
             {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]}]
    assert permissions.grant_set(split) == permissions.grant_set([PAYMENTS, CHARGE])
    assert permissions.as_entries(permissions.grant_set(split)) == [CHARGE, PAYMENTS]
    assert permissions.plan(permissions.grant_set(split), permissions.grant_set([CHARGE, PAYMENTS])) == (
        permissions.GrantPlan(add=[], remove=[]))


def test_the_plan_is_one_add_and_one_remove_per_target_at_most():
    current = permissions.grant_set([PAYMENTS, {"type": "TAG", "id": "team:ci", "access": ["READ"]}])
    desired = permissions.grant_set([{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "UPDATE",
                                                                                           "DELETE"]}, CHARGE])
    assert permissions.plan(current, desired) == permissions.GrantPlan(
        add=[{"type": "TASK_DEF", "id": "charge_card", "access": ["READ"]},
             {"type": "WORKFLOW_DEF", "id": "payments", "access": ["DELETE", "UPDATE"]}],
        remove=[{"type": "TAG", "id": "team:ci", "access": ["READ"]},
                {"type": "WORKFLOW_DEF", "id": "payments", "access": ["READ"]}])
    everything = permissions.plan(current, frozenset())
    assert everything.add == [] and len(everything.remove) == 2
    assert not everything.empty and permissions.plan(current, current).empty


@pytest.mark.parametrize("entries, message", [
    ([{"type": "WORKFLOW", "id": "p", "access": ["READ"]}],
     "permissions entry 1: type 'WORKFLOW' is not a target type; use one of WORKFLOW_DEF, TASK_DEF"),
    ([CHARGE, {"type": "TASK_DEF", "id": "t", "access": ["RUN", "READ"]}],
     "permissions entry 2 (TASK_DEF t): access RUN is not an access value; use CREATE, READ"),
    ([{"type": "TASK_DEF", "id": "t", "access": ["RUN", "WRITE"]}], "access RUN, WRITE are not access values"),
    ([{"type": "TASK_DEF", "id": "t", "access": []}], "permissions entry 1 (TASK_DEF t) needs access"),
    ([{"type": "TASK_DEF", "id": "", "access": ["READ"]}], "permissions entry 1 (TASK_DEF) needs id"),
    ([{"type": "TASK_DEF", "id": "t", "access": ["READ"], "scope": "x"}], "only the keys type, id and access"),
    ("READ", "permissions must be a list of {type, id, access}, not str"),
])
def test_bad_entries_are_one_sentence(entries, message):
    with pytest.raises(ConfigError) as refused:
        permissions.check(entries, TYPES, ACCESS)
    assert message in str(refused.value) and str(refused.value).count(". ") == 0


def test_the_module_documents_the_values_the_adapter_allows():
    docs = yaml.safe_load(service_principal.DOCUMENTATION)["options"]["permissions"]["suboptions"]
    assert docs["type"]["choices"] == list(TYPES)
    assert docs["access"]["choices"] == list(ACCESS)
    spec = service_principal.MODULE_SPEC["argument_spec"]["permissions"]["options"]
    assert spec == permissions.entry_options(TYPES, ACCESS)


class RecordingClient(object):
    """Answers the Orkes calls of one application from plain state and records every write."""

    def __init__(self, granted=(), roles=()):
        self.granted = [dict(g) for g in granted]
        self.roles = list(roles)
        self.writes = []

    def call(self, method, path, what, json=None, ok=(200,), idempotent=None, params=None):
        if method != "GET":
            self.writes.append((method, path, json))
            return {}
        if path == "/applications":
            return [{"id": "A1", "name": "worker"}]
        if path == "/applications/A1":
            return {"id": "A1", "name": "worker"}
        if path == "/users/app%3AA1":
            return {"roles": [{"name": r} for r in self.roles]}
        if path == "/users/app%3AA1/permissions":
            return {"grantedAccess": [{"target": {"type": g["type"], "id": g["id"]}, "access": g["access"]}
                                      for g in self.granted]}
        if path == "/applications/A1/tags":
            return []
        if path == "/roles":
            return [{"name": "WORKER", "permissions": []}, {"name": "deployer", "permissions": []}]
        raise AssertionError("unexpected call %s %s" % (method, path))


def run(client, check_mode=False, **params):
    return ensure_principal(OrkesAdapter(client), dict(dict(name="worker", state="present"), **params), check_mode)


def test_orkes_sends_one_call_per_target_and_direction():
    client = RecordingClient(granted=[PAYMENTS, {"type": "TAG", "id": "old", "access": ["READ"]}])
    result = run(client, permissions=[CHARGE, {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]}])
    user = {"type": "USER", "id": "app:A1"}
    assert client.writes == [
        ("POST", "/auth/authorization", {"subject": user, "target": {"type": "TASK_DEF", "id": "charge_card"},
                                         "access": ["READ"]}),
        ("DELETE", "/auth/authorization", {"subject": user, "target": {"type": "TAG", "id": "old"},
                                           "access": ["READ"]}),
        ("DELETE", "/auth/authorization", {"subject": user, "target": {"type": "WORKFLOW_DEF", "id": "payments"},
                                           "access": ["READ"]})]
    assert result["changed"] and result["service_principal"]["permissions"] == [
        CHARGE, {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]}]
    assert result["diff"]["before"]["permissions"] == [
        {"type": "TAG", "id": "old", "access": ["READ"]}, PAYMENTS]


def test_orkes_in_any_order_is_unchanged_and_check_mode_writes_nothing():
    client = RecordingClient(granted=[PAYMENTS, CHARGE])
    again = run(client, permissions=[CHARGE, dict(PAYMENTS, access=["READ", "EXECUTE"])])
    assert not again["changed"] and client.writes == []
    predicted = run(client, check_mode=True, permissions=[])
    assert predicted["changed"] and predicted["service_principal"]["permissions"] == [] and client.writes == []
    unmanaged = run(client)
    assert not unmanaged["changed"] and unmanaged["service_principal"]["permissions"] == [CHARGE, PAYMENTS]


def test_bad_permissions_fail_before_any_call():
    client = RecordingClient()
    with pytest.raises(ConfigError, match="type 'WORKFLOW' is not a target type"):
        run(client, permissions=[{"type": "WORKFLOW", "id": "p", "access": ["READ"]}])
    assert client.writes == []


def test_a_platform_without_permissions_refuses_the_option_by_name():
    assert "permissions" not in ADAPTERS["conductorone"].capabilities.principal_settings
    assert ADAPTERS["conductorone"].capabilities.permission_target_types == ()
    with pytest.raises(ConfigError, match="^permissions is only for platform orkes"):
        ensure_principal(ADAPTERS["conductorone"](client=None), {"name": "x", "permissions": []})


def test_an_unknown_role_is_refused_before_any_write_and_a_custom_one_is_granted():
    client = RecordingClient(roles=["WORKER"])
    with pytest.raises(ConfigError, match=r"^roles: NOPE is not a role on this Orkes server; use one of WORKER, "
                                          r"deployer\.$"):
        run(client, roles=["WORKER", "NOPE"], permissions=[])
    assert client.writes == []
    run(client, roles=["WORKER", "deployer"])
    assert client.writes == [("POST", "/applications/A1/roles/deployer", None)]
