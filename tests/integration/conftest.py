# -*- coding: utf-8 -*-
"""Integration tests: real ansible-playbook runs against the local sandbox.

Every playbook runs with -vvv and ANSIBLE_LOG_PATH set, and every run is checked for
leaks: no secret or token the sandbox ever issued may appear in stdout, stderr or the log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
SANDBOX_SRC = REPO / "sandbox"
SECRET_OPTIONS = ("client_secret", "access_token", "oidc_token")


def _collections_path(tmp_root):
    """Where ansible finds conductor.principals: the installed copy, else a link to this checkout."""
    configured = os.environ.get("CONDUCTOR_TEST_COLLECTIONS_PATH")
    if configured:
        return configured
    link = tmp_root / "collections" / "ansible_collections" / "conductor" / "principals"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO)
    return str(tmp_root / "collections")


class Sandbox(object):
    def __init__(self, process, boot):
        self.process = process
        self.boot = boot
        self.url = boot["server_url"]
        self.c1 = boot["conductorone"]
        self.orkes = boot["orkes"]

    def control(self, method, path, **kwargs):
        response = requests.request(method, self.url + "/_sandbox" + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def reset(self):
        self.control("POST", "/reset")
        self.control("DELETE", "/faults")

    def counters(self):
        return self.control("GET", "/counters")

    def issued(self):
        """Every secret and token the sandbox has issued (for leak checks)."""
        body = self.control("GET", "/issued")
        values = []
        for value in (body.values() if isinstance(body, dict) else [body]):
            values.extend(value if isinstance(value, list) else [value])
        return [v for v in values if isinstance(v, str) and len(v) >= 12]

    def fault(self, method, route, mode, count=1, retry_after=None):
        body = {"method": method, "route": route, "mode": mode, "count": count}
        if retry_after is not None:
            body["retry_after"] = retry_after
        self.control("POST", "/faults", json=body)

    def settings(self, **values):
        self.control("POST", "/settings", json=values)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    work = tmp_path_factory.mktemp("sandbox")
    boot_file = work / "bootstrap.json"
    env = dict(os.environ, PYTHONPATH=str(SANDBOX_SRC))
    log = open(work / "sandbox.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "conductor_sandbox", "--port", "0", "--bootstrap-file", str(boot_file)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not boot_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the sandbox did not start; see %s" % (work / "sandbox.log"))
        time.sleep(0.1)
    instance = Sandbox(process, json.loads(boot_file.read_text()))
    yield instance
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def fresh(sandbox):
    sandbox.reset()
    return sandbox


class PlaybookRun(object):
    def __init__(self, completed, results, log_text):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.log = log_text
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr + self.log


@pytest.fixture
def playbook(sandbox, tmp_path, tmp_path_factory):
    """Run tasks in a real ansible-playbook; return PlaybookRun with registered results.

    Tasks that ``register`` a name listed in ``keep`` have it written (by a no_log task)
    to a JSON file the test reads back.
    """
    collections = _collections_path(tmp_path_factory.getbasetemp())

    def run(tasks, keep=(), extra_env=None, check=False, diff=False, connection_vars=True,
            expect_rc=0, module_defaults=None, forks=None, hosts=None):
        results_file = tmp_path / "results.json"
        if results_file.exists():
            results_file.unlink()
        if connection_vars:
            defaults = {"server_url": sandbox.c1["server_url"], "client_id": sandbox.c1["client_id"],
                        "client_secret": sandbox.c1["client_secret"]}
            defaults.update(module_defaults or {})
        else:
            defaults = module_defaults or {}
        # Secrets go in as variables, as a careful user writes them: ansible-core prints the lines
        # around a failing task, and a secret written into the playbook would be shown there.
        secret_vars = {"conn_" + k: v for k, v in defaults.items() if k in SECRET_OPTIONS}
        defaults = {k: "{{ conn_%s }}" % k if k in SECRET_OPTIONS else v for k, v in defaults.items()}
        vars_file = tmp_path / "secret-vars.json"
        vars_file.write_text(json.dumps(secret_vars))
        play = {
            "name": "test", "hosts": "all" if hosts else "localhost", "gather_facts": False,
            "module_defaults": {"group/conductor.principals.all": defaults} if defaults else {},
            "tasks": tasks + ([{
                "name": "keep results", "ansible.builtin.copy": {
                    "dest": str(results_file), "mode": "0600",
                    "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default(None)" % (k, k) for k in keep)},
                "no_log": True, "check_mode": False, "diff": False}] if keep else []),
        }
        path = tmp_path / "play.yml"
        path.write_text(yaml.safe_dump([play], sort_keys=False))
        log_path = tmp_path / "ansible.log"
        if log_path.exists():
            log_path.unlink()
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_LOG_PATH=str(log_path),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        for name in [n for n in env if n.startswith(("CONDUCTORONE_", "CONDUCTOR_"))]:
            del env[name]
        env.update(extra_env or {})
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                   "-i", ",".join(hosts) + "," if hosts else "localhost,", "-c", "local",
                   "-e", "@" + str(vars_file), str(path)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if forks:
            command += ["--forks", str(forks)]
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        outcome = PlaybookRun(completed, results, log_path.read_text() if log_path.exists() else "")
        leaked = [value[:12] + "..." for value in sandbox.issued() if value in outcome.output]
        assert not leaked, "secrets or tokens leaked into the output: %s" % leaked
        if expect_rc is not None:
            assert outcome.rc == expect_rc, "ansible-playbook exited %d:\n%s\n%s" % (
                outcome.rc, textwrap.shorten(outcome.stdout[-6000:], 6000), outcome.stderr[-3000:])
        return outcome

    return run


@pytest.fixture(scope="session")
def tls_sandbox(tmp_path_factory):
    """A second sandbox that serves HTTPS from its own CA."""
    work = tmp_path_factory.mktemp("tls-sandbox")
    boot_file = work / "bootstrap.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "conductor_sandbox", "--port", "0", "--bootstrap-file", str(boot_file),
         "--tls-dir", str(work / "tls")], env=dict(os.environ, PYTHONPATH=str(SANDBOX_SRC)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not boot_file.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the TLS sandbox did not start"
        time.sleep(0.1)
    yield json.loads(boot_file.read_text())
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=15)
