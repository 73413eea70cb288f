# -*- coding: utf-8 -*-
"""`molecule test` of extensions/molecule/default against the local sandbox.

The scenario provisions, checks idempotence, proves the stored secrets and decommissions; this
test supplies the API and the store through the environment, as AWX would, and then checks
that no secret reached molecule's output and that the destroy step left nothing behind.
"""

from __future__ import annotations

import os
import subprocess
import sys

import requests

from conftest import REPO, _collections_path
from helpers import api

SCENARIO = "default"
PRINCIPALS = ("Molecule CI", "molecule-worker")


def orkes_applications(sandbox):
    token = requests.post(sandbox.orkes["server_url"] + "/token", timeout=10, json={
        "keyId": sandbox.orkes["key_id"], "keySecret": sandbox.orkes["key_secret"]}).json()["token"]
    response = requests.get(sandbox.orkes["server_url"] + "/applications", timeout=10,
                            headers={"X-Authorization": token})
    response.raise_for_status()
    return response.json()


def test_molecule_scenario_provisions_idempotently_verifies_and_decommissions(sandbox, tmp_path, tmp_path_factory):
    sandbox.reset()
    store = tmp_path / "store" / "identities.vault"
    log_path = tmp_path / "ansible.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CONDUCTORONE_", "CONDUCTOR_"))}
    env.update({
        "CONDUCTORONE_SERVER_URL": sandbox.c1["server_url"], "CONDUCTORONE_CLIENT_ID": sandbox.c1["client_id"],
        "CONDUCTORONE_CLIENT_SECRET": sandbox.c1["client_secret"], "CONDUCTOR_SERVER_URL": sandbox.orkes["server_url"],
        "CONDUCTOR_AUTH_KEY": sandbox.orkes["key_id"], "CONDUCTOR_AUTH_SECRET": sandbox.orkes["key_secret"],
        "CONDUCTOR_PRINCIPALS_STORE_PATH": str(store),
        "CONDUCTOR_PRINCIPALS_STORE_PASSWORD": "molecule horse battery staple",
        "ANSIBLE_COLLECTIONS_PATH": _collections_path(tmp_path_factory.getbasetemp()),
        # Interpreter discovery may find a Python without the collection's requirements.
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        # -vvv and a log file give the leak check below the most output to search.
        "ANSIBLE_VERBOSITY": "3", "ANSIBLE_LOG_PATH": str(log_path),
        # Molecule's state stays in this test's directory, not in ~/.ansible.
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
        "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })
    molecule = os.path.join(os.path.dirname(sys.executable), "molecule")
    assert os.path.exists(molecule), "molecule is not installed; pip install -r requirements-dev.txt"

    done = subprocess.run([molecule, "test", "--scenario-name", SCENARIO], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = done.stdout + done.stderr + (log_path.read_text() if log_path.exists() else "")
    (tmp_path / "molecule.out").write_text(done.stdout + done.stderr)  # for a post-mortem

    leaked = [value[:12] + "..." for value in sandbox.issued() if value in output]
    assert not leaked, "secrets or tokens leaked into molecule's output: %s" % leaked
    # Molecule's own log (which step failed, and why) is on stderr; Ansible's output on stdout.
    assert done.returncode == 0, "molecule test exited %d:\n%s\n...\n%s" % (
        done.returncode, done.stderr[-6000:], done.stdout[-6000:])
    # Each step really ran (a missing playbook is skipped, not failed).
    for step in ("converge", "idempotence", "verify", "destroy"):
        assert "[%s > %s] Executed: Successful" % (SCENARIO, step) in output, "the %s step did not run" % step
    # The principal was created once: the idempotence run and the verify step created nothing.
    counters = sandbox.counters()["by_route"]
    assert counters.get("POST /api/v1/service_principals") == 1, counters

    # The destroy step decommissioned everything it provisioned.
    c1_names = {p["displayName"] for p in api(sandbox, "GET", "/api/v1/service_principals",
                                              params={"page_size": 100}).get("list") or []}
    orkes_names = {app["name"] for app in orkes_applications(sandbox)}
    assert not (c1_names | orkes_names) & set(PRINCIPALS)
    assert store.exists() and "$ANSIBLE_VAULT" in store.read_text()
