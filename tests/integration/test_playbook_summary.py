# -*- coding: utf-8 -*-
"""Each ready playbook (provision, rotate, decommission) ends with the table of what it did, per
platform, and the table holds no secret (every value the sandbox issued and the store password
are searched for in the whole -vvv output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, STORE_PASSWORD, _collections_path, role_environment
from helpers import CI, WORKER


def _table(stdout):
    """The lines of the last 'What this run did' task's message."""
    shown = stdout.split("TASK [What this run did (no secret in it)]")[-1].split("PLAY RECAP")[0]
    start = shown.index('"msg": [')
    return json.loads(shown[start + len('"msg": '):shown.index("]", start) + 1])


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store" / "identities.vault"


@pytest.fixture
def run_playbook(fresh, store, tmp_path, tmp_path_factory):
    store.parent.mkdir(exist_ok=True)

    def run(name, extra_vars):
        vars_file = tmp_path / ("%s-vars.json" % name)
        vars_file.write_text(json.dumps(extra_vars))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
                   ANSIBLE_NOCOLOR="1", **role_environment(fresh, store))
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                               "-i", "localhost,", "-e", "@" + str(vars_file),
                               str(REPO / "playbooks" / (name + ".yml"))],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        output = done.stdout + done.stderr
        assert not [v[:12] for v in fresh.issued() if v in output], "a secret leaked"
        assert STORE_PASSWORD not in output
        assert done.returncode == 0, done.stdout[-3000:]
        assert "[WARNING]" not in output.replace("[WARNING]: Collection", ""), "a newcomer sees warnings"
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
    assert [line.split()[-1] for line in removed[1:3]] == ["removed", "removed"]
    assert removed[-2:] == ["conductorone: 0 created, 0 rotated, 0 revoked, 1 removed, 0 unchanged",
                            "orkes: 0 created, 0 rotated, 0 revoked, 1 removed, 0 unchanged"]
