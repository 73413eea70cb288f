# -*- coding: utf-8 -*-
"""platform: orkes — an application's permissions (grants) through real ansible-playbook runs."""

from __future__ import annotations

import pytest

from helpers import run_on_orkes, writes

SP = "conductor.principals.service_principal"
REPORT = "conductor.principals.credential_report"
WORKER = [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]},
          {"type": "TASK_DEF", "id": "charge_card", "access": ["READ"]}]


def granted(sandbox, app_id):
    """What the sandbox holds for the application's user, as sorted triples."""
    answer = sandbox.orkes_api("GET", "/users/app:%s/permissions" % app_id)
    return sorted((g["target"]["type"], g["target"]["id"], a) for g in answer["grantedAccess"] for a in g["access"])


def grant_writes(sandbox):
    by_route = sandbox.counters()["by_route"]
    return {m: by_route.get("%s /api/auth/authorization" % m, 0) for m in ("POST", "DELETE")}


def ensure(playbook, sandbox, permissions, name="payments-worker", **kwargs):
    done = run_on_orkes(playbook, sandbox, [{SP: {"name": name, "permissions": permissions}, "register": "a"}], keep=["a"],
                        **kwargs)
    return done, done.results["a"]


@pytest.mark.matrix
def test_the_exact_set_is_applied_and_a_rerun_in_another_order_writes_nothing(fresh, playbook):
    done, first = ensure(playbook, fresh, WORKER)
    app_id = first["service_principal"]["id"]
    assert first["changed"] and granted(fresh, app_id) == [
        ("TASK_DEF", "charge_card", "READ"), ("WORKFLOW_DEF", "payments", "EXECUTE"), ("WORKFLOW_DEF", "payments", "READ")]
    assert first["service_principal"]["permissions"] == [
        {"type": "TASK_DEF", "id": "charge_card", "access": ["READ"]},
        {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]}]
    assert grant_writes(fresh) == {"POST": 2, "DELETE": 0}  # one call per target

    before = writes(fresh)
    shuffled = [{"type": "TASK_DEF", "id": "charge_card", "access": ["READ"]},
                {"type": "WORKFLOW_DEF", "id": "payments", "access": ["READ"]},
                {"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]}]
    done, again = ensure(playbook, fresh, shuffled)
    assert again["changed"] is False and writes(fresh) == before
    assert again["service_principal"]["permissions"] == first["service_principal"]["permissions"]


def test_a_narrower_set_removes_what_is_gone_and_an_empty_list_removes_all(fresh, playbook):
    dummy, first = ensure(playbook, fresh, WORKER)
    app_id = first["service_principal"]["id"]
    fresh.control("POST", "/counters/reset")
    narrower = [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]},
                {"type": "TAG", "id": "team:payments", "access": ["READ"]}]
    done, changed = ensure(playbook, fresh, narrower, diff=True)
    assert changed["changed"] and granted(fresh, app_id) == [("TAG", "team:payments", "READ"),
                                                             ("WORKFLOW_DEF", "payments", "EXECUTE")]
    assert grant_writes(fresh) == {"POST": 1, "DELETE": 2}  # add on one target, remove on two
    assert "charge_card" in done.stdout and "team:payments" in done.stdout  # the diff: removed and added

    done, cleared = ensure(playbook, fresh, [])
    assert cleared["changed"] and cleared["service_principal"]["permissions"] == [] and granted(fresh, app_id) == []
    unmanaged = run_on_orkes(playbook, fresh, [{SP: {"name": "payments-worker", "roles": ["WORKER"]}, "register": "a"}],
                             keep=["a"]).results["a"]
    assert unmanaged["service_principal"]["permissions"] == []


def test_check_mode_writes_nothing_and_predicts_the_set(fresh, playbook):
    done, predicted = ensure(playbook, fresh, WORKER, check=True)
    assert predicted["changed"] and writes(fresh) == 0
    assert predicted["service_principal"]["permissions"][1] == {"type": "WORKFLOW_DEF", "id": "payments",
                                                                "access": ["EXECUTE", "READ"]}
    dummy, made = ensure(playbook, fresh, WORKER)
    before = writes(fresh)
    done, narrowed = ensure(playbook, fresh, WORKER[:1], check=True, diff=True)
    assert narrowed["changed"] and writes(fresh) == before and "charge_card" in done.stdout
    assert granted(fresh, made["service_principal"]["id"])[0] == ("TASK_DEF", "charge_card", "READ")


def test_conductorone_refuses_the_option_by_name(fresh, playbook):
    failed = playbook([{SP: {"name": "Worker", "permissions": WORKER}, "register": "a", "ignore_errors": True}],
                      keep=["a"]).results["a"]
    assert failed["failed"] and failed["msg"].startswith("permissions is only for platform orkes")
    assert fresh.counters()["writes"] == 0


def test_an_application_deleted_takes_its_grants_and_the_report_counts_them(fresh, playbook):
    dummy, made = ensure(playbook, fresh, WORKER)
    ensure(playbook, fresh, [], name="idle-worker")
    run_on_orkes(playbook, fresh, [{"conductor.principals.sp_credential": {"service_principal": "payments-worker"},
                                    "register": "key"}])
    report = run_on_orkes(playbook, fresh, [{REPORT: {}, "register": "r"}], keep=["r"]).results["r"]
    counts = {p["service_principal"]: p["grants"] for p in report["permissions"]}
    assert counts["payments-worker"] == 3 and counts["idle-worker"] == 0
    assert [r["grants"] for r in report["credentials"] if r["service_principal"] == "payments-worker"] == [3]
    run_on_orkes(playbook, fresh, [{SP: {"name": "payments-worker", "state": "absent"}}])
    assert fresh.orkes_api("GET", "/auth/authorization/WORKFLOW_DEF/payments") == {}


def test_the_provision_role_passes_permissions_per_orkes_principal(fresh, roles, store):
    app = {"name": "Payments Worker", "platform": "orkes", "roles": ["WORKER"], "permissions": WORKER,
           "credentials": [{"name": "key"}]}
    roles("provision", {"provision_principals": [app]})
    app_id = [a for a in fresh.orkes_api("GET", "/applications") if a["name"] == "Payments Worker"][0]["id"]
    assert len(granted(fresh, app_id)) == 3
    before = writes(fresh)
    roles("provision", {"provision_principals": [dict(app, permissions=list(reversed(WORKER)))]})
    assert writes(fresh) == before
    roles("provision", {"provision_principals": [dict(app, permissions=[])]})
    assert granted(fresh, app_id) == []


@pytest.mark.parametrize("permissions, message", [
    ([{"type": "WORKFLOW", "id": "payments", "access": ["EXECUTE"]}], "WORKFLOW"),
    ([{"type": "WORKFLOW_DEF", "id": "payments", "access": ["RUN"]}], "RUN"),
], ids=["type", "access"])
def test_the_role_refuses_unknown_values_naming_the_principal(fresh, roles, permissions, message):
    app = {"name": "Payments Worker", "platform": "orkes", "permissions": permissions}
    failed = roles("provision", {"provision_principals": [app]}, expect_rc=2)
    assert "Payments Worker" in failed.stdout and message in failed.stdout
    assert fresh.counters()["writes"] == 0
