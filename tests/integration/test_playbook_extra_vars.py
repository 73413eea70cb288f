# -*- coding: utf-8 -*-
"""rotate.yml and decommission.yml hand their lists to the provision role as role vars, which extra vars
outrank: an extra var provision_principals (left on an AWX job template, say) would replace them. Each
playbook refuses such a variable with one sentence before it changes anything."""

from __future__ import annotations

import pytest

from conftest import ready_playbook, role_environment
from helpers import live_credentials, principals_named
from helpers import CI, held

OTHER = {"name": "Not To Be Made", "credentials": [{"name": "x"}]}


@pytest.fixture
def run_playbook(fresh, tmp_path, tmp_path_factory):
    store = tmp_path / "store" / "identities.vault"
    store.parent.mkdir()

    def run(name, extra_vars, expect_rc=0):
        return ready_playbook(fresh, role_environment(fresh, store), name, extra_vars, tmp_path, tmp_path_factory,
                              expect_rc)

    run.store = store
    return run


def test_rotate_refuses_an_extra_var_provision_principals_and_changes_nothing(fresh, run_playbook):
    run_playbook("provision", {"provision_principals": [CI]})
    sp = principals_named(fresh, "Terraform CI")[0]
    before_ids, before_store, writes = live_credentials(fresh, sp["id"]), held(run_playbook.store), fresh.counters()["writes"]

    out = run_playbook("rotate", {"rotate_principals": [CI], "rotate_all": True, "provision_principals": [OTHER]},
                       expect_rc=2)
    assert ("provision_principals is set, and it would outrank what rotate.yml hands the provision role (extra vars "
            "beat role parameters); remove it and give rotate_principals instead.") in " ".join(out.split())
    assert fresh.counters()["writes"] == writes and not principals_named(fresh, OTHER["name"])
    assert live_credentials(fresh, sp["id"]) == before_ids and held(run_playbook.store) == before_store

    # Each setting the role hands on is checked, and the sentence names the rotate_ one to give.
    out = run_playbook("rotate", {"rotate_principals": [CI], "provision_force_rotate": False}, expect_rc=2)
    assert "provision_force_rotate is set" in out and "give rotate_all instead" in " ".join(out.split())
    assert fresh.counters()["writes"] == writes

    # Without it, the same run rotates the list it was given.
    run_playbook("rotate", {"rotate_principals": [CI], "rotate_all": True})
    assert {c["id"] for c in live_credentials(fresh, sp["id"])}.isdisjoint(c["id"] for c in before_ids)


def test_decommission_refuses_an_extra_var_provision_principals_and_removes_nothing(fresh, run_playbook):
    run_playbook("provision", {"provision_principals": [CI]})
    before_store, writes = held(run_playbook.store), fresh.counters()["writes"]

    out = run_playbook("decommission", {"decommission_principals": ["Terraform CI"], "provision_principals": [CI]},
                       expect_rc=2)
    assert ("provision_principals is set, and it would outrank what decommission.yml hands the provision role "
            "(extra vars beat role parameters), provisioning that list instead; remove it and give "
            "decommission_principals.") in " ".join(out.split())
    assert fresh.counters()["writes"] == writes
    assert principals_named(fresh, "Terraform CI") and held(run_playbook.store) == before_store

    run_playbook("decommission", {"decommission_principals": ["Terraform CI"]})
    assert not principals_named(fresh, "Terraform CI") and held(run_playbook.store) == {}
