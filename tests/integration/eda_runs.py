# -*- coding: utf-8 -*-
"""ansible-rulebook runs of conductor.principals.rotate_on_expiry against the sandbox (test_eda.py, test_de.py):
a tenant with a credential aged into its rotation window, the rulebook started in the background, its printed
events read back, and waits on the sandbox's state (never sleeps)."""

from __future__ import annotations

import os
import re
import subprocess
import time

import yaml

from conftest import REPO, STORE_PASSWORD
from helpers import live_credentials

EDA_BIN = os.environ.get("CONDUCTOR_EDA_BIN") or str(REPO / ".venv-eda" / "bin")
DAY = 86400
# How the rulebook prints an event's kind (--print-events: a pretty-printed dict).
KIND = re.compile(r"""['"]kind['"]:\s*['"](\w+)['"]""")
IDS = re.compile(r"""['"]id['"]:\s*['"]([^'"]+)['"]""")


def aged_credential(tenant, principal, name, period_days=30, age_days=20, cidrs=("127.0.0.0/8",)):
    """A credential of ``period_days`` created ``age_days`` ago (the sandbox's clock moved back for its
    creation, then forward again): ``period_days - age_days`` days left. Its ID."""
    sp_id = tenant.principal(principal)
    tenant.advance(-age_days)
    try:
        answer = tenant.sandbox.c1_api("POST", "/api/v1/service_principals/%s/credentials" % sp_id, json={
            "displayName": name, "expires": "%ds" % (period_days * DAY), "allowSourceCidrs": list(cidrs)})
        credential_id = answer["credential"]["id"]
        tenant.secrets[credential_id] = (answer["credential"]["clientId"], answer["clientSecret"])
        tenant.use(credential_id)
    finally:
        tenant.advance(age_days)
    return sp_id, credential_id


def rulebook_env(sandbox, store, collections):
    """The connection from the environment, as for the modules, and the store's password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CONDUCTOR"))}
    env.update(PATH="%s:%s" % (EDA_BIN, env.get("PATH", "")), ANSIBLE_COLLECTIONS_PATH=collections,
               CONDUCTORONE_SERVER_URL=sandbox.c1["server_url"], CONDUCTORONE_CLIENT_ID=sandbox.c1["client_id"],
               CONDUCTORONE_CLIENT_SECRET=sandbox.c1["client_secret"],
               CONDUCTOR_PRINCIPALS_STORE_PASSWORD=STORE_PASSWORD, ANSIBLE_LOCAL_TEMP=str(store.parent / "tmp"))
    return env


def rulebook_files(directory, store, **variables):
    """(inventory, vars) files of a run: localhost, a poll a second, the vault_file store."""
    inventory = directory / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    values = dict({"interval": 1, "expiring_within_days": 14, "store": {"type": "vault_file", "path": str(store)}},
                  **variables)
    variables_file = directory / "vars.yml"
    variables_file.write_text(yaml.safe_dump(values))
    return inventory, variables_file


class Rulebook(object):
    """``ansible-rulebook -r conductor.principals.rotate_on_expiry`` in the background, output to a file."""

    def __init__(self, command, env, log):
        self.log = log
        self.stream = open(log, "w", encoding="utf-8")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(command, env=env, stdout=self.stream, stderr=subprocess.STDOUT)

    @property
    def output(self):
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kinds(self):
        return KIND.findall(self.output)

    def wait_for(self, condition, what, timeout=180):
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, "ansible-rulebook ended (rc %s) before %s:\n%s" % (
                self.process.returncode, what, self.output[-4000:])
            assert time.monotonic() < deadline, "no %s in %d s:\n%s" % (what, timeout, self.output[-4000:])
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stream.close()


def local_rulebook(directory, store, collections, sandbox, **variables):
    inventory, variables_file = rulebook_files(directory, store, **variables)
    command = [EDA_BIN + "/ansible-rulebook", "-r", "conductor.principals.rotate_on_expiry", "-i", str(inventory),
               "--vars", str(variables_file), "--print-events"]
    return Rulebook(command, rulebook_env(sandbox, store, collections), directory / "rulebook.log")


CONNECTION_ENV = ("CONDUCTORONE_SERVER_URL", "CONDUCTORONE_CLIENT_ID", "CONDUCTORONE_CLIENT_SECRET",
                  "CONDUCTOR_PRINCIPALS_STORE_PASSWORD")


def container_rulebook(directory, store, sandbox, image, name):
    """The rulebook inside the decision environment ``image``, as an activation runs it: podman, the collection
    and ansible-rulebook of the image, the connection injected as environment variables, the host's network (the
    sandbox), the run's folder (inventory, vars, the vault_file store) mounted at the same path."""
    inventory, variables_file = rulebook_files(directory, store)
    env = rulebook_env(sandbox, store, "/unused")
    command = ["podman", "run", "--rm", "--name", name, "--network=host", "--user=root",
               "--volume", "%s:%s" % (directory, directory)]
    for variable in CONNECTION_ENV:
        command += ["--env", variable]  # the value from podman's environment: never on a command line
    command += [image, "ansible-rulebook", "-r", "conductor.principals.rotate_on_expiry", "-i", str(inventory),
                "--vars", str(variables_file), "--print-events"]
    env = dict({k: v for k, v in os.environ.items() if k not in ("ANSIBLE_COLLECTIONS_PATH",)},
               **{k: env[k] for k in CONNECTION_ENV})
    return Rulebook(command, env, directory / "rulebook.log")


def polls(sandbox):
    """How many listings of the principals the sandbox has answered (one per poll of the source)."""
    return sandbox.counters()["by_route"].get("GET /api/v1/service_principals", 0)


def rotated(sandbox, sp_id, old_id):
    """The live credentials of the principal once the old one is gone and another took its place."""
    live = live_credentials(sandbox, sp_id)
    return live if live and all(c["id"] != old_id for c in live) else None
