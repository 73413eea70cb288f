# -*- coding: utf-8 -*-
"""The ready playbooks as AWX and a shell run them: rotate.yml and decommission.yml hand their lists to the provision
role under a private name, so a provision_ extra var (left on an AWX job template, say) neither replaces them nor
stops the run; and every role input is typed as documented whatever its source (``-e key=value`` text, JSON, an AWX
survey's strings)."""

from __future__ import annotations

import pytest

from conftest import ready_playbook, role_environment
from helpers import live_credentials, principals_named
from helpers import CI, held

OTHER = {"name": "Not To Be Made", "credentials": [{"name": "x"}]}
SOLO = {"name": "Solo", "credentials": [{"name": "ci", "expires_days": 30}]}


@pytest.fixture
def run_playbook(fresh, tmp_path, tmp_path_factory):
    store = tmp_path / "store" / "identities.vault"
    store.parent.mkdir()

    def run(name, extra_vars, expect_rc=0, args=()):
        return ready_playbook(fresh, role_environment(fresh, store), name, extra_vars, tmp_path, tmp_path_factory,
                              expect_rc, args=args)

    run.store = store
    return run


def ids(credentials):
    return {c["id"] for c in credentials}


def test_rotate_rotates_its_list_while_an_extra_var_provision_principals_is_set(fresh, run_playbook):
    run_playbook("provision", {"provision_principals": [CI]})
    sp = principals_named(fresh, "Terraform CI")[0]
    before = ids(live_credentials(fresh, sp["id"]))

    run_playbook("rotate", {"rotate_principals": [CI], "rotate_all": True, "provision_principals": [OTHER],
                            "provision_force_rotate": False})
    assert not principals_named(fresh, OTHER["name"])
    assert ids(live_credentials(fresh, sp["id"])).isdisjoint(before)


def test_decommission_removes_its_list_while_an_extra_var_provision_principals_is_set(fresh, run_playbook):
    run_playbook("provision", {"provision_principals": [CI]})
    run_playbook("decommission", {"decommission_principals": ["Terraform CI"], "provision_principals": [OTHER]})
    assert not principals_named(fresh, "Terraform CI") and not principals_named(fresh, OTHER["name"])
    assert held(run_playbook.store) == {}


def test_role_inputs_given_as_text_on_the_command_line_are_typed(fresh, run_playbook):
    run_playbook("provision", {"provision_principals": [SOLO]}, args=["-e", "provision_rotate_before_days=14"])
    sp = principals_named(fresh, "Solo")[0]
    first = ids(live_credentials(fresh, sp["id"]))

    # A 30-day credential: within 45 days it rotates, within 14 it does not; "false" is false.
    run_playbook("rotate", {"rotate_principals": [SOLO]},
                 args=["-e", "rotate_within_days=14", "-e", "rotate_all=false", "-e", "rotate_verify=false"])
    assert ids(live_credentials(fresh, sp["id"])) == first
    run_playbook("rotate", {"rotate_principals": [SOLO]}, args=["-e", "rotate_within_days=45"])
    second = ids(live_credentials(fresh, sp["id"]))
    assert second.isdisjoint(first)

    # JSON as an AWX survey sends it: every value text, the list too.
    run_playbook("rotate", {"rotate_principals": [SOLO], "rotate_within_days": "0", "rotate_all": "true",
                            "rotate_parallelism": "2"})
    assert ids(live_credentials(fresh, sp["id"])).isdisjoint(second)


@pytest.mark.parametrize("name, key", [("provision", "provision_verify"), ("rotate", "rotate_verify")])
def test_a_value_that_is_no_boolean_is_one_sentence_through_the_ready_playbooks(fresh, run_playbook, name, key):
    """Text no type conversion reads (a survey's "maybe") is the role's one sentence, not ansible-core's dump of
    the role's argument spec."""
    stdout = run_playbook(name, {"conductor_principals": [SOLO]}, expect_rc=2, args=("-e", "%s=maybe" % key))
    assert "%s must be true or false, not 'maybe'." % key in stdout
    assert "argument_spec_data" not in stdout and "Validating arguments against arg spec" not in stdout
    assert principals_named(fresh, "Solo") == []
