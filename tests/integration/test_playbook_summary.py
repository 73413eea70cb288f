# -*- coding: utf-8 -*-
"""Each ready playbook (provision, rotate, decommission) ends with the table of what it did, per
platform, and the table holds no secret (every value the sandbox issued and the store password
are searched for in the whole -vvv output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

from conftest import REPO, STORE_PASSWORD, _collections_path, role_environment
from helpers import CI, WORKER, api, issuer, live_credentials, principals_named, writes


def _table(stdout):
    """The lines of the last 'What this run did' task's message (the playbook's, or with --diff the role's)."""
    shown = [part for part in stdout.split("What this run did") if '"msg": [' in part.split("TASK [")[0]][-1]
    start = shown.index('"msg": [')
    return json.loads(shown[start + len('"msg": '):shown.index("]", start) + 1])


def _recap(stdout):
    """{'ok': n, 'changed': n, ...} of localhost in the play recap."""
    line = next(line for line in stdout.split("PLAY RECAP")[-1].splitlines() if line.startswith("localhost"))
    return {key: int(value) for key, value in (pair.split("=") for pair in line.split(":", 1)[1].split())}


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store" / "identities.vault"


@pytest.fixture
def run_playbook(fresh, store, tmp_path, tmp_path_factory):
    """``run(name, extra_vars)``: playbooks/<name>.yml as AWX runs it; the table it ended with. ``full=True``:
    the whole run (``rc``, ``stdout``, ``table``)."""
    store.parent.mkdir(exist_ok=True)

    def run(name, extra_vars, expect_rc=0, full=False, flags=()):
        vars_file = tmp_path / ("%s-vars.json" % name)
        vars_file.write_text(json.dumps(extra_vars))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
                   ANSIBLE_NOCOLOR="1", **role_environment(fresh, store))
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                               "-i", "localhost,", "-e", "@" + str(vars_file), *flags,
                               str(REPO / "playbooks" / (name + ".yml"))],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        output = done.stdout + done.stderr
        assert not [v[:12] for v in fresh.issued() if v in output], "a secret leaked"
        assert STORE_PASSWORD not in output
        assert done.returncode == expect_rc, done.stdout[-3000:]
        if expect_rc == 0:
            assert "[WARNING]" not in output.replace("[WARNING]: Collection", ""), "a newcomer sees warnings"
        if full:
            return types.SimpleNamespace(rc=done.returncode, stdout=done.stdout, table=_table(done.stdout))
        return _table(done.stdout)

    return run


def test_provision_rotate_and_decommission_each_end_with_the_table(run_playbook):
    identities = [CI, WORKER]
    provisioned = run_playbook("provision", {"provision_principals": identities})
    assert provisioned[0].split()[:4] == ["PLATFORM", "PRINCIPAL", "CREDENTIAL", "ACTION"]
    rows = {tuple(line.split()[:4]) for line in provisioned[1:]}
    assert {("conductorone", "Terraform", "CI", "ci"), ("orkes", "Worker", "App", "key")} <= {r[:4] for r in rows}
    assert "conductorone: 2 created, 0 rotated, 0 revoked, 0 removed, 0 unchanged" in provisioned
    assert "orkes: 1 created, 0 rotated, 0 revoked, 0 removed, 0 unchanged" in provisioned

    rotated = run_playbook("rotate", {"rotate_principals": identities, "rotate_within_days": 31})
    assert "conductorone: 0 created, 1 rotated, 1 revoked, 0 removed, 1 unchanged" in rotated
    assert "orkes: 0 created, 0 rotated, 0 revoked, 0 removed, 1 unchanged" in rotated

    removed = run_playbook("decommission", {"decommission_principals": [
        "Terraform CI", {"name": "Worker App", "platform": "orkes"}]})
    assert [line.split()[:4] for line in removed[1:] if "removed" in line.split()] == [
        ["conductorone", "Terraform", "CI", "removed"], ["orkes", "Worker", "App", "removed"]]
    assert removed[-2:] == ["conductorone: 0 created, 0 rotated, 2 revoked, 1 removed, 0 unchanged",
                            "orkes: 0 created, 0 rotated, 1 revoked, 1 removed, 0 unchanged"]


def test_decommission_lists_every_credential_it_revokes_wherever_its_secret_was_held(
        fresh, run_playbook, reliability):
    """A principal's credentials go with it: each is a line of the table, the one made by hand (its secret in no
    store of this run) too, in check mode (would revoke) and when done."""
    run_playbook("provision", {"provision_principals": [CI, WORKER]})
    sp_id = principals_named(fresh, "Terraform CI")[0]["id"]
    by_hand = api(fresh, "POST", "/api/v1/service_principals/%s/credentials" % sp_id,
                  json={"displayName": "by-hand", "expires": "86400s"})["credential"]
    reliability.received([by_hand["id"]])  # its secret is the test's own: not an orphan of a run
    gone = {"decommission_principals": ["Terraform CI", {"name": "Worker App", "platform": "orkes"}]}
    every = {credential["clientId"] for credential in live_credentials(fresh, sp_id)}
    assert len(every) == 3
    plan = run_playbook("decommission", gone, flags=["--check"])
    assert plan[0] == "Check mode: nothing was changed. What a run would do:"
    planned = [line for line in plan if "would revoke" in line]
    assert {word for line in planned for word in line.split() if word in every} == every
    assert "conductorone: would create 0, rotate 0, revoke 3, remove 1; 0 unchanged" in plan
    assert "orkes: would create 0, rotate 0, revoke 1, remove 1; 0 unchanged" in plan
    assert len(live_credentials(fresh, sp_id)) == 3

    removed = run_playbook("decommission", gone)
    revoked = [line.split() for line in removed[1:] if "revoked" in line.split()]
    assert {word for words in revoked for word in words if word in every} == every
    assert ["conductorone", "Terraform", "CI", "by-hand", "revoked", by_hand["clientId"], "1"] in revoked
    assert "conductorone: 0 created, 0 rotated, 3 revoked, 1 removed, 0 unchanged" in removed
    assert "orkes: 0 created, 0 rotated, 1 revoked, 1 removed, 0 unchanged" in removed


def test_a_run_that_fails_part_way_still_prints_every_outcome_and_counts_its_writes(fresh, run_playbook):
    """One credential cannot be made: the run fails, and the table still says what was done (the others
    created, the trust with its client ID) and names the failed item with its error; the recap counts the writes."""
    victim = api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "Team 1"})["servicePrincipal"]["id"]
    route = "/api/v1/service_principals/{service_principal_id}/credentials"
    fresh.control("POST", "/faults", json={"method": "POST", "route": route, "mode": "500", "count": 50,
                                           "path": "/api/v1/service_principals/%s/credentials" % victim})
    identities = [{"name": "Team %d" % i, "credentials": [{"name": "ci"}]} for i in range(3)]
    identities.append({"name": "deployer", "trusts": [{"name": "infra-main", "provider": issuer(fresh),
                                                       "github": {"repository": "acme/infra", "ref": "main"}}]})
    try:
        failed = run_playbook("provision", {"provision_principals": identities, "provision_federation_providers": [
            {"issuer_url": issuer(fresh), "type": "github_actions"}]}, expect_rc=2, full=True)
    finally:
        fresh.control("DELETE", "/faults")
    rows = {tuple(line.split()[:4]): line for line in failed.table[1:]}
    assert ("conductorone", "Team", "0", "ci") in rows and "created" in rows[("conductorone", "Team", "0", "ci")]
    assert "created" in rows[("conductorone", "Team", "2", "ci")]
    assert rows[("conductorone", "Team", "1", "ci")].split()[4:] == ["failed"]
    [error] = [line for line in failed.table if line.startswith("failed: ")]
    assert error.startswith("failed: conductorone / Team 1 / ci: Could not create credential 'ci'"), failed.table
    [trust] = [line for line in failed.table if "infra-main" in line]
    deployer = principals_named(fresh, "deployer")[0]["id"]
    client_id = api(fresh, "GET", "/api/v1/service_principals/%s/trusts" % deployer)["list"][0]["clientId"]
    assert client_id in trust and "trust" in trust
    assert "conductorone: 3 created, 0 rotated, 0 revoked, 0 removed, 0 unchanged, 1 failed" in failed.table
    recap = _recap(failed.stdout)
    # The provider's task and the principals' task both wrote: a failed task alone would count nothing.
    assert recap["changed"] == 2 and recap["failed"] == 1, recap


def test_check_mode_reads_as_a_plan_and_the_diff_is_that_plan(fresh, run_playbook):
    """--check --diff: the table says what a run would do, nothing is written, and the roles' diff is that
    plan, a few lines, not the JSON of every item."""
    identities = {"provision_principals": [CI, WORKER]}
    planned = run_playbook("provision", identities, flags=["--check", "--diff"], full=True)
    assert planned.table[0] == "Check mode: nothing was changed. What a run would do:"
    assert "conductorone: would create 2, rotate 0, revoke 0, remove 0; 0 unchanged" in planned.table
    assert "orkes: would create 1, rotate 0, revoke 0, remove 0; 0 unchanged" in planned.table
    assert writes(fresh) == 0
    assert "--- before" not in planned.stdout and "+++ after" not in planned.stdout

    run_playbook("provision", identities)
    rotated = run_playbook("rotate", {"rotate_principals": [CI, WORKER], "rotate_within_days": 31},
                           flags=["--check", "--diff"], full=True)
    [deploy] = [line for line in rotated.table if " deploy " in line]
    assert deploy.split()[4:6] == ["would", "rotate"] and deploy.endswith(" 1")
    assert "conductorone: would create 0, rotate 1, revoke 1, remove 0; 1 unchanged" in rotated.table
    assert "--- before" not in rotated.stdout and "rotated" not in "\n".join(rotated.table)
    assert rotated.stdout.count("Check mode: nothing was changed.") == 1
