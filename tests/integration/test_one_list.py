# -*- coding: utf-8 -*-
"""One identity list, conductor_principals, drives provision.yml, rotate.yml and decommission.yml alike, from the
inventory or an extra-vars file; an empty or misnamed list fails instead of succeeding over nothing; and prune
removes at most max_removals principals (real ansible-playbook runs against the sandbox)."""

from __future__ import annotations

import pytest
import yaml

from conftest import entries, ready_playbook, role_environment
from helpers import held, live_credentials, principals_named

MODULE = "conductor.principals.service_principals"
SOLO = {"name": "Solo", "credentials": [{"name": "ci"}]}
EMPTY = ("is empty, so there is nothing to %s; give the list as conductor_principals (the one list of provision, "
         "rotate and decommission; a list under another name, such as principals, is not read), or set %s: true if "
         "an empty run is meant.")


@pytest.fixture
def run_playbook(fresh, tmp_path, tmp_path_factory):
    store = tmp_path / "store" / "identities.vault"
    store.parent.mkdir()

    def run(name, extra_vars, expect_rc=0, args=()):
        out = ready_playbook(fresh, role_environment(fresh, store), name, extra_vars, tmp_path, tmp_path_factory,
                             expect_rc, args=args)
        return " ".join(out.split())

    run.store = store
    return run


def test_conductor_principals_from_the_inventory_or_a_vars_file_drives_all_three_playbooks(
        fresh, run_playbook, tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "conductor_principals": [SOLO]}}}}))
    from_inventory = ["-i", str(inventory)]

    run_playbook("provision", {}, args=from_inventory)
    [sp] = principals_named(fresh, "Solo")
    first = {c["id"] for c in live_credentials(fresh, sp["id"])}
    assert set(held(run_playbook.store).values()) == first

    run_playbook("rotate", {"conductor_principals": [SOLO], "rotate_all": True})
    second = {c["id"] for c in live_credentials(fresh, sp["id"])}
    assert second and second.isdisjoint(first) and set(held(run_playbook.store).values()) == second

    run_playbook("rotate", {"rotate_all": True}, args=from_inventory)
    assert {c["id"] for c in live_credentials(fresh, sp["id"])}.isdisjoint(second)

    run_playbook("decommission", {}, args=from_inventory)
    assert not principals_named(fresh, "Solo") and held(run_playbook.store) == {}


@pytest.mark.parametrize("playbook, verb, allow", [("provision", "provision", "provision_allow_empty"),
                                                   ("rotate", "rotate", "rotate_allow_empty")])
def test_a_misnamed_list_fails_instead_of_succeeding_over_nothing(fresh, run_playbook, playbook, verb, allow):
    out = run_playbook(playbook, {"principals": [SOLO]}, expect_rc=2)
    name = "provision_principals" if playbook == "provision" else "rotate_principals"
    assert name + " " + EMPTY % (verb, allow) in out
    assert fresh.counters()["writes"] == 0 and not run_playbook.store.exists()

    # Meant empty: said so, the run succeeds and does nothing.
    run_playbook(playbook, {allow: True})
    assert fresh.counters()["writes"] == 0


def test_decommission_of_an_empty_list_fails(fresh, run_playbook):
    out = run_playbook("decommission", {"decommission_principals": []}, expect_rc=2)
    assert "decommission_principals " + EMPTY % ("decommission", "decommission_allow_empty") in out


def bulk(store, principals, register="tenant", **options):
    return {MODULE: dict({"principals": principals, "store": {"path": str(store)}}, **options), "register": register,
            "ignore_errors": True}


def test_service_principals_refuses_an_empty_list_unless_allow_empty(run, fresh, store):
    done = run([bulk(store, []), bulk(store, [], "allowed", allow_empty=True)], keep=["tenant", "allowed"])
    assert not done.results["allowed"].get("failed") and done.results["allowed"]["changed"] is False
    assert done.results["tenant"]["msg"] == (
        "principals is empty, so there is nothing to manage (with prune, every managed principal would be removed); "
        "list the principals, or set allow_empty: true if an empty list is meant.")
    assert fresh.counters()["writes"] == 0


def test_prune_that_would_remove_more_than_max_removals_fails_before_any_write(run, fresh, store):
    team = [{"name": "team-%d" % n, "credentials": [{"name": "ci"}]} for n in range(3)]
    run([bulk(store, team)])
    stored, writes = entries(store), fresh.counters()["writes"]

    # The list cut short: prune would remove two of the three principals the store records (10%: at most 1).
    for check in (True, False):
        done = run([bulk(store, team[:1], prune=True)], keep=["tenant"], check=check)
        assert done.results["tenant"]["msg"] == (
            "prune would remove 2 of the 3 principals the store records, more than max_removals (1, 10% by default); "
            "list the ones to keep, or set max_removals: 2 if they are all meant to go.")
    assert fresh.counters()["writes"] == writes and entries(store) == stored
    assert all(principals_named(fresh, p["name"]) for p in team)

    done = run([bulk(store, team[:1], prune=True, max_removals=2)], keep=["tenant"])
    assert done.results["tenant"]["failed_items"] == []
    assert [p["name"] for p in team if principals_named(fresh, p["name"])] == ["team-0"]
