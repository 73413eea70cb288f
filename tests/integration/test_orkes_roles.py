# -*- coding: utf-8 -*-
"""platform: orkes — roles as the server lists them (system and custom), the documented grant target types,
the identity check and who made an application, through real ansible-playbook runs."""

from __future__ import annotations

import pytest

from helpers import SP, SP_INFO, TOKEN, one_sentence, orkes, principals_named, run_on_orkes, writes

TENANT = "conductor.principals.service_principals"
CUSTOM = "payments-deployer"
# The sentence names the unknown role and every known one, the custom role included (it came from the server).
REFUSAL = "roles: NOT_A_ROLE is not a role on this Orkes server; use one of "


def add_custom_role(sandbox):
    sandbox.orkes_api("POST", "/roles", json={"name": CUSTOM, "permissions": ["WORKFLOW_EXECUTE"]})
    sandbox.control("POST", "/counters/reset")


def route_calls(sandbox, route):
    return sandbox.counters()["by_route"].get(route, 0)


def admin_user(sandbox):
    """The user the sandbox's bootstrap key acts as: app:<id of the application sandbox-admin>."""
    return "app:" + next(a["id"] for a in sandbox.orkes_api("GET", "/applications") if a["name"] == "sandbox-admin")


def held_roles(sandbox, app_id):
    return sorted(r["name"] for r in sandbox.orkes_api("GET", "/users/app:" + app_id)["roles"])


def test_a_documented_system_role_and_a_custom_role_are_assigned(fresh, playbook):
    add_custom_role(fresh)
    done = run_on_orkes(playbook, fresh, [{SP: {"name": "ci-app", "roles": ["METADATA_API", CUSTOM]}, "register": "a"}],
                        keep=["a"])
    app = done.results["a"]["service_principal"]
    assert app["roles"] == ["METADATA_API", CUSTOM] and held_roles(fresh, app["id"]) == ["METADATA_API", CUSTOM]
    assert route_calls(fresh, "GET /api/roles") == 1  # checked against the server's list, once
    before = writes(fresh)
    again = run_on_orkes(playbook, fresh, [{SP: {"name": "ci-app", "roles": [CUSTOM, "METADATA_API"]},
                                            "register": "a"}], keep=["a"]).results["a"]
    assert again["changed"] is False and writes(fresh) == before


def test_the_principals_list_takes_custom_roles(fresh, playbook):
    add_custom_role(fresh)
    apps = [{"name": "deployer-%d" % n, "roles": [CUSTOM, "APPLICATION_CREATOR"]} for n in range(3)]
    done = playbook([{TENANT: {"principals": apps}, "register": "t"}], keep=["t"], connection_vars=False,
                    module_defaults=orkes(fresh))
    assert done.results["t"]["summary"]["principals"] == {"created": 3}
    assert route_calls(fresh, "GET /api/roles") == 1  # one list for the whole task
    listed = {a["name"]: a["id"] for a in fresh.orkes_api("GET", "/applications")}
    assert [held_roles(fresh, listed["deployer-%d" % n]) for n in range(3)] == [["APPLICATION_CREATOR", CUSTOM]] * 3


def refusal_of(outcome):
    """The line of the run's output that carries the refusal."""
    lines = [line for line in outcome.stdout.splitlines() if REFUSAL in line]
    assert lines, outcome.stdout[-2000:]
    return lines[0]


@pytest.mark.parametrize("how", ["service_principal", "service_principals", "provision role"])
def test_an_unknown_role_is_named_with_the_known_ones_and_nothing_is_written(fresh, playbook, roles, how):
    add_custom_role(fresh)
    existing = fresh.orkes_api("POST", "/applications", json={"name": "existing"})
    fresh.control("POST", "/counters/reset")
    bad = ["WORKER", "NOT_A_ROLE"]
    if how == "service_principal":
        outcome = run_on_orkes(playbook, fresh, [{SP: {"name": "existing", "roles": bad}}], expect_rc=2)
    elif how == "service_principals":
        # The bad role is on the last principal: the first two are not made either.
        principals = [{"name": "new-1", "roles": ["WORKER"]}, {"name": "existing", "tags": {"a": "b"}},
                      {"name": "new-2", "roles": bad}]
        outcome = playbook([{TENANT: {"principals": principals}}], connection_vars=False,
                           module_defaults=orkes(fresh), expect_rc=2)
    else:
        outcome = roles("provision", {"provision_principals": [
            {"name": "new-1", "platform": "orkes", "roles": ["WORKER"], "credentials": [{"name": "key"}]},
            {"name": "new-2", "platform": "orkes", "roles": bad, "credentials": [{"name": "key"}]}]}, expect_rc=2)
    sentence = refusal_of(outcome)
    assert "METADATA_API" in sentence and CUSTOM in sentence and "UNRESTRICTED_WORKER" in sentence
    assert writes(fresh) == 0
    assert [a["name"] for a in fresh.orkes_api("GET", "/applications")] == ["sandbox-admin", "existing"]
    assert held_roles(fresh, existing["id"]) == []


def test_a_list_over_both_platforms_writes_nothing_on_either_when_the_server_refuses_a_role(fresh, roles):
    """The role plans each platform's part first: the ConductorOne principal is not made before Orkes refuses."""
    fresh.control("POST", "/counters/reset")
    outcome = roles("provision", {"provision_principals": [
        {"name": "c1-first", "credentials": [{"name": "ci"}]},
        {"name": "orkes-second", "platform": "orkes", "roles": ["NOT_A_ROLE"], "credentials": [{"name": "key"}]}]},
        expect_rc=2)
    assert "METADATA_API" in refusal_of(outcome) and writes(fresh) == 0
    assert principals_named(fresh, "c1-first") == []


def test_the_refusal_is_one_sentence(fresh, playbook):
    outcome = run_on_orkes(playbook, fresh, [{SP: {"name": "x", "roles": ["NOT_A_ROLE"]}, "register": "a",
                                              "ignore_errors": True}], keep=["a"])
    message = outcome.results["a"]["msg"]
    assert one_sentence(message) is None and message.startswith(REFUSAL) and writes(fresh) == 0


@pytest.mark.parametrize("target_type", ["INTEGRATION_PROVIDER", "PROMPT", "WORKFLOW_SCHEDULE", "EVENT_HANDLER",
                                         "WEBHOOK", "ENV_VARIABLE", "SCHEMA"])
def test_a_grant_on_a_documented_target_type(fresh, playbook, target_type):
    wanted = [{"type": target_type, "id": "billing", "access": ["READ"]}]
    app = run_on_orkes(playbook, fresh, [{SP: {"name": "typed", "permissions": wanted}, "register": "a"}],
                       keep=["a"]).results["a"]["service_principal"]
    assert app["permissions"] == wanted
    answer = fresh.orkes_api("GET", "/users/app:%s/permissions" % app["id"])
    assert answer["grantedAccess"] == [{"target": {"type": target_type, "id": "billing"}, "access": ["READ"]}]


def test_created_by_and_updated_by_are_in_the_result(fresh, playbook):
    admin = admin_user(fresh)
    done = run_on_orkes(playbook, fresh, [{SP: {"name": "made"}, "register": "a"},
                                          {SP_INFO: {"name": "made"}, "register": "i"}], keep=["a", "i"])
    made = done.results["a"]["service_principal"]
    assert (made["created_by"], made["updated_by"]) == (admin, admin)
    assert done.results["i"]["service_principals"][0]["created_by"] == admin


def test_validate_asks_who_the_key_is_without_listing_applications(fresh, playbook):
    """GET /api/token/userInfo answers for any valid key; listing applications needs the rights to read them."""
    done = run_on_orkes(playbook, fresh, [{TOKEN: {"validate": True}, "register": "t"}], keep=["t"])
    assert route_calls(fresh, "GET /api/token/userInfo") == 1 and route_calls(fresh, "GET /api/applications") == 0
    identity = done.results["t"]["identity"]
    assert identity["key_id"] == fresh.orkes["key_id"] and identity["user_id"] == admin_user(fresh)
