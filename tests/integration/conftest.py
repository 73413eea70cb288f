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

from ansible_collections.conductor.principals.tests import servers
# Real secret store servers (bao server -dev, moto) as session fixtures, for test_store_backends.py.
from ansible_collections.conductor.principals.tests.servers import bao_server, moto_server  # noqa: F401 pylint: disable=unused-import
import ssh_server

REPO = Path(__file__).resolve().parents[2]
SANDBOX_SRC = REPO / "sandbox"
SECRET_OPTIONS = ("client_secret", "access_token", "oidc_token")
# Tokens a test hands to a task (OIDC tokens of the sandbox's issuer, or any other): each given value is
# also looked for in the output, whether it came as a task option, a connection default or an env var.
GIVEN_TOKEN_OPTIONS = ("oidc_token", "test_token")
GIVEN_TOKEN_ENV = ("CONDUCTORONE_OIDC_TOKEN",)

# ---- reliability figures -------------------------------------------------------------------
# What the run actually did, counted by the fixtures below and the tests that audit; printed at the
# end of the session and written as JSON (CONDUCTOR_RELIABILITY_REPORT, else under pytest's basetemp).
FIGURES = {
    "faults_injected": 0,            # Sandbox.fault calls
    "fault_answers_armed": 0,        # the sum of their counts
    "retries_observed": 0,           # requests the sandbox answered with an injected fault
    "duplicate_checks": 0,           # audits of every principal's name
    "principals_checked": 0,
    "duplicates": 0,                 # principals beyond the first of one name (must be 0)
    "credentials_checked": 0,
    "orphaned_credentials": 0,       # live credentials whose secret no run received (must be 0)
    "leak_runs_checked": 0,          # ansible-playbook runs whose stdout, stderr and log were scanned
    "leak_values_checked": 0,        # issued secrets and tokens looked for, summed over those runs
    "leaks": 0,
    "bad_input_rows": 0,
    "bad_input_clean": 0,            # rows that failed with one sentence and wrote nothing
}
RECEIVED_SECRETS = set()  # IDs of credentials whose secret a playbook run received in a kept result
_REPORT_DIR = []


def record(name, amount=1):
    FIGURES[name] += amount


def _note_received(value):
    """Remember every credential ID that came back together with its secret."""
    if isinstance(value, dict):
        credential = value.get("credential")
        if value.get("client_secret") and isinstance(credential, dict) and credential.get("id"):
            RECEIVED_SECRETS.add(credential["id"])
        for item in value.values():
            _note_received(item)
    elif isinstance(value, list):
        for item in value:
            _note_received(item)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _is_xdist_worker(config):
        return  # the controller sums the workers' figures and reports them once
    if not any(FIGURES.values()):
        return  # no integration test ran
    path = os.environ.get("CONDUCTOR_RELIABILITY_REPORT")
    if not path and _REPORT_DIR:
        path = str(_REPORT_DIR[0] / "reliability.json")
    terminalreporter.section("reliability figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line("%-22s %d" % (name, value))
    if path:
        Path(path).write_text(json.dumps(FIGURES, indent=2) + "\n")
        terminalreporter.write_line("written to %s" % path)


# ---- ansible-core matrix and parallel runs (pytest-xdist) -------------------------------------
# `make matrix-<line>` runs the tests marked matrix on each other ansible-core line. Under xdist
# every worker is a session of its own, so each starts its own sandbox (port 0) and counts its own
# figures; it hands them to the controller in workeroutput, and the controller adds them up.

def pytest_configure(config):
    config.addinivalue_line("markers", "matrix: also run on every other supported ansible-core line "
                                       "(make matrix-<line>): a module's create/rerun/check path, the roles, the leak scan")


def _is_xdist_worker(config):
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)  # after the session fixtures' teardown, which still records figures
def pytest_sessionfinish(session, exitstatus):
    if _is_xdist_worker(session.config):
        session.config.workeroutput["conductor_figures"] = dict(FIGURES)
        session.config.workeroutput["conductor_basetemp"] = str(_REPORT_DIR[0]) if _REPORT_DIR else ""


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist, on the controller: add up what one worker counted."""
    output = getattr(node, "workeroutput", None) or {}
    for name, value in (output.get("conductor_figures") or {}).items():
        FIGURES[name] += value
    if output.get("conductor_basetemp") and not _REPORT_DIR:
        _REPORT_DIR[:] = [Path(output["conductor_basetemp"]).parent]  # each worker's basetemp is <run>/gwN


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
        self.pending_faults = []  # (route key, count, that route's request count when armed)
        self.baseline_credentials = set()

    def control(self, method, path, **kwargs):
        response = requests.request(method, self.url + "/_sandbox" + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def reset(self):
        self.settle_faults()  # before the counters go
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
        key = "%s %s" % (method.upper(), route)
        self.pending_faults.append((key, count, self.counters()["by_route"].get(key, 0)))
        self.control("POST", "/faults", json=body)
        record("faults_injected")
        record("fault_answers_armed", count)

    def settle_faults(self):
        """Count the injected faults the sandbox served: the requests to each faulted route since it
        was armed, up to the number armed (the sandbox answers the first ones of a route with them)."""
        if not self.pending_faults:
            return
        by_route = self.counters()["by_route"]
        armed, since = {}, {}
        for key, count, before in self.pending_faults:
            armed[key] = armed.get(key, 0) + count
            since[key] = min(since.get(key, before), before)
        for key in armed:
            after = by_route.get(key, 0)
            record("retries_observed", min(armed[key], after - since[key] if after >= since[key] else after))
        self.pending_faults = []

    # ---- direct API access for audits (the bootstrap credentials; reads only) ------------------
    def c1_token(self):
        return requests.post(self.c1["server_url"] + "/auth/v1/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": self.c1["client_id"],
            "client_secret": self.c1["client_secret"]}).json()["access_token"]

    def c1_api(self, method, path, token=None, **kwargs):
        token = token or self.c1_token()
        response = requests.request(method, self.c1["server_url"] + path, timeout=10,
                                    headers={"Authorization": "Bearer " + token}, **kwargs)
        response.raise_for_status()
        return response.json()

    def orkes_api(self, method, path, **kwargs):
        base = self.orkes["server_url"]
        token = requests.post(base + "/token", timeout=10, json={
            "keyId": self.orkes["key_id"], "keySecret": self.orkes["key_secret"]}).json()["token"]
        response = requests.request(method, base + path, timeout=10, headers={"X-Authorization": token}, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def inventory(self):
        """{platform: [(principal name, [credential IDs])]} of everything in the sandbox now."""
        c1, page = [], ""
        token = self.c1_token()
        while True:
            body = self.c1_api("GET", "/api/v1/service_principals", token=token,
                               params={"page_size": 100, "page_token": page})
            for principal in body.get("list") or []:
                creds = self.c1_api("GET", "/api/v1/service_principals/%s/credentials" % principal["id"],
                                    token=token, params={"page_size": 100}).get("list") or []
                c1.append((principal["displayName"], [c["id"] for c in creds]))
            page = body.get("nextPageToken")
            if not page:
                break
        orkes = []
        for app in self.orkes_api("GET", "/applications") or []:
            keys = self.orkes_api("GET", "/applications/%s/accessKeys" % app["id"]) or []
            orkes.append((app["name"], [k["id"] for k in keys]))
        return {"conductorone": c1, "orkes": orkes}

    def audit(self):
        """Record and return (duplicate names, orphaned credential IDs) across the whole sandbox."""
        self.settle_faults()
        self.control("DELETE", "/faults")  # faults a test left unspent must not hit the audit's reads
        duplicates, orphans = [], []
        for principals in self.inventory().values():
            names = [name for name, dummy in principals]
            duplicates += sorted({name for name in names if names.count(name) > 1})
            record("principals_checked", len(names))
            record("duplicates", len(names) - len(set(names)))
            for dummy, credential_ids in principals:
                created = [c for c in credential_ids if c not in self.baseline_credentials]
                record("credentials_checked", len(created))
                orphans += [c for c in created if c not in RECEIVED_SECRETS]
        record("duplicate_checks")
        record("orphaned_credentials", len(orphans))
        return duplicates, orphans

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
    instance.baseline_credentials = {c for principals in instance.inventory().values()
                                     for dummy, ids in principals for c in ids}
    _REPORT_DIR[:] = [tmp_path_factory.getbasetemp()]
    yield instance
    instance.settle_faults()
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


class Reliability(object):
    """What tests add to the figures: ``record(name, amount)`` and ``received(ids)`` (credential IDs whose
    secret the test itself saw come back, for runs whose results ``keep`` does not hold)."""

    record = staticmethod(record)

    @staticmethod
    def received(ids):
        RECEIVED_SECRETS.update(ids)


@pytest.fixture(scope="session")
def reliability():
    return Reliability()


@pytest.fixture
def fresh(sandbox):
    sandbox.reset()
    return sandbox


# ---- a vault_file store, and the ready playbooks as AWX runs them ---------------------------------------
STORE_PASSWORD = "store password 4 integration"


def entries(path, password=STORE_PASSWORD):
    """{path: entry} of a vault_file store, read with ansible-core's own VaultLib ({} without the file)."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # pylint: disable=import-outside-toplevel
    if not path.exists():
        return {}
    data = json.loads(VaultLib([("default", VaultSecret(password.encode()))]).decrypt(path.read_bytes()))
    assert data["format"] == 2
    return data["entries"]


def rewrite(path, new_entries, password=STORE_PASSWORD):
    """Replace a vault_file store's entries behind the collection's back (as VaultLib writes it)."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # pylint: disable=import-outside-toplevel
    path.write_bytes(VaultLib([("default", VaultSecret(password.encode()))]).encrypt(
        json.dumps({"format": 2, "entries": new_entries})))
    os.chmod(path, 0o600)


@pytest.fixture
def store(tmp_path):
    """The path of a vault_file store in a directory only its owner can read."""
    directory = tmp_path / "store"
    directory.mkdir(mode=0o700)
    return directory / "principals.vault"


@pytest.fixture
def run(fresh, playbook):
    """A playbook with the store password in the environment, checked not to leak."""
    def go(tasks, **kwargs):
        done = playbook(tasks, extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": STORE_PASSWORD}, **kwargs)
        assert STORE_PASSWORD not in done.output, "the store password leaked into the output"
        return done
    return go


def ready_playbook(sandbox, env, name, extra_vars, directory, tmp_path_factory, expect_rc=0, args=()):
    """playbooks/<name>.yml as an AWX job template runs it (``env`` plus an extra-vars file, then ``args``, such as
    ``-e key=value`` or ``-i inventory``); its stdout.

    Checked like every run: no secret the sandbox issued, nor the store password, in the -vvv output."""
    vars_file = directory / ("%s-vars.json" % name)
    vars_file.write_text(json.dumps(extra_vars))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", **env)
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                           "-e", "@" + str(vars_file), *args, str(REPO / "playbooks" / (name + ".yml"))],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert not [v[:12] for v in sandbox.issued() if v in output], "a secret leaked"
    assert STORE_PASSWORD not in output, "the store password leaked into the output"
    assert done.returncode == expect_rc, done.stdout[-3000:]
    return done.stdout


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


@pytest.fixture(scope="session")
def playbook_in(sandbox, tmp_path_factory):
    """``playbook_in(directory)``: the runner of ``playbook`` working in a directory of the caller's
    choice, for fixtures wider than one test (such as a batch of bad-input rows)."""
    collections = _collections_path(tmp_path_factory.getbasetemp())
    return lambda directory: _runner(sandbox, directory, collections)


@pytest.fixture
def playbook(playbook_in, tmp_path):
    """Run tasks in a real ansible-playbook; return PlaybookRun with registered results.

    Tasks that ``register`` a name listed in ``keep`` have it written (by a no_log task)
    to a JSON file the test reads back.
    """
    return playbook_in(tmp_path)


def _lift_tokens(value, lifted):
    """``value`` with each literal oidc_token / test_token replaced by a variable (a careful user's way;
    ansible-core shows the lines of a failing task); the values go to ``lifted`` for the leak scan."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in GIVEN_TOKEN_OPTIONS and isinstance(item, str) and "{{" not in item:
                name = "conn_given_token_%d" % len(lifted)
                lifted[name] = item
                out[key] = "{{ %s }}" % name
            else:
                out[key] = _lift_tokens(item, lifted)
        return out
    if isinstance(value, list):
        return [_lift_tokens(item, lifted) for item in value]
    return value


def _runner(sandbox, tmp_path, collections):
    def run(tasks, keep=(), extra_env=None, check=False, diff=False, connection_vars=True,
            expect_rc=0, module_defaults=None, forks=None, hosts=None, inventory=None):
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
        given = {}
        tasks = _lift_tokens(tasks, given)
        given.update(("env_" + k, v) for k, v in (extra_env or {}).items() if k in GIVEN_TOKEN_ENV and v)
        given.update(("default_" + k, v) for k, v in defaults.items() if k in GIVEN_TOKEN_OPTIONS and v)
        secret_vars.update((k, v) for k, v in given.items() if k.startswith("conn_"))
        defaults = {k: "{{ conn_%s }}" % k if k in SECRET_OPTIONS else v for k, v in defaults.items()}
        vars_file = tmp_path / "secret-vars.json"
        vars_file.write_text(json.dumps(secret_vars))
        play = {
            "name": "test", "hosts": "all" if hosts or inventory else "localhost", "gather_facts": False,
            "module_defaults": {"group/conductor.principals.all": defaults} if defaults else {},
            "tasks": tasks + ([{
                "name": "keep results", "ansible.builtin.copy": {
                    "dest": str(results_file), "mode": "0600",
                    "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default(None)" % (k, k) for k in keep)},
                "no_log": True, "check_mode": False, "diff": False,
                # the results file is the controller's, whatever connection the tasks used
                **({"delegate_to": "localhost"} if inventory else {})}] if keep else []),
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
        # ``inventory``: a file whose hosts bring their own connection (tests/integration/test_remote.py)
        where = ["-i", str(inventory)] if inventory else [
            "-i", ",".join(hosts) + "," if hosts else "localhost,", "-c", "local"]
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv"] + where + [
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
        _note_received(results)
        # Also the root token, unseal key, tokens and AWS keys of every secret store server started.
        issued = sandbox.issued() + servers.leak_values()
        issued += [v for v in given.values() if isinstance(v, str) and len(v) >= 12 and v not in issued]
        leaked = [value[:12] + "..." for value in issued if value in outcome.output]
        record("leak_runs_checked")
        record("leak_values_checked", len(issued))
        record("leaks", len(leaked))
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


# ---- an aged C1 tenant (credential_report, retiring by use) ------------------------------------
class Tenant(object):
    """Set-up straight through the C1 API with the bootstrap credential; the clock moves the sandbox."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.advanced = 0
        self.secrets = {}

    def advance(self, days):
        self.sandbox.control("POST", "/clock", json={"advance_seconds": days * 86400})
        self.advanced += days * 86400

    def principal(self, name):
        return self.sandbox.c1_api("POST", "/api/v1/service_principals", json={"displayName": name})[
            "servicePrincipal"]["id"]

    def credential(self, sp_id, name, days=90, used=True):
        answer = self.sandbox.c1_api("POST", "/api/v1/service_principals/%s/credentials" % sp_id,
                                     json={"displayName": name, "expires": "%ds" % (days * 86400)})
        credential_id = answer["credential"]["id"]
        self.secrets[credential_id] = (answer["credential"]["clientId"], answer["clientSecret"])
        if used:
            self.use(credential_id)
        return credential_id

    def use(self, credential_id):
        """A consumer obtains a token with the credential (the sandbox records last_used_at)."""
        client_id, secret = self.secrets[credential_id]
        response = requests.post(self.sandbox.c1["server_url"] + "/auth/v1/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        response.raise_for_status()

    def connection(self):
        """A token for the modules: after a clock jump a client assertion signed now would be refused."""
        return {"server_url": self.sandbox.c1["server_url"], "access_token": self.sandbox.c1_token()}


@pytest.fixture
def tenant(fresh):
    aged = Tenant(fresh)
    yield aged
    if aged.advanced:
        fresh.control("POST", "/clock", json={"advance_seconds": -aged.advanced})


# ---- an sshd of the tests' own, for the remote path (module scope: one per test file) ----------------
@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = ssh_server.SshServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()


# ---- the roles, run as AWX runs them -------------------------------------------------------------
def role_environment(sandbox, store):
    """What AWX gives a role's job: the API credentials of both platforms and the vault_file store."""
    return {"CONDUCTORONE_SERVER_URL": sandbox.c1["server_url"], "CONDUCTORONE_CLIENT_ID": sandbox.c1["client_id"],
            "CONDUCTORONE_CLIENT_SECRET": sandbox.c1["client_secret"],
            "CONDUCTOR_SERVER_URL": sandbox.orkes["server_url"], "CONDUCTOR_AUTH_KEY": sandbox.orkes["key_id"],
            "CONDUCTOR_AUTH_SECRET": sandbox.orkes["key_secret"],
            "CONDUCTOR_PRINCIPALS_STORE_PATH": str(store), "CONDUCTOR_PRINCIPALS_STORE_PASSWORD": STORE_PASSWORD}


def role_runner(playbook, env):
    def run(role, variables, keep=(), tasks_after=(), extra_env=None, **kwargs):
        task = {"ansible.builtin.include_role": {"name": "conductor.principals." + role}, "vars": variables}
        done = playbook([task] + list(tasks_after), keep=keep, connection_vars=False,
                        extra_env=dict(env, **(extra_env or {})), **kwargs)
        # The conftest checks every issued secret; the store's vault password is ours to check.
        assert STORE_PASSWORD not in done.output, "the store password leaked into the output"
        return done

    run.env = env
    return run


@pytest.fixture
def roles(fresh, playbook, store):
    """Run a role with AWX-style environment variables (API credentials and the store)."""
    store.parent.mkdir(exist_ok=True)
    return role_runner(playbook, role_environment(fresh, store))


@pytest.fixture
def roles_in(fresh, playbook_in, store, tmp_path):
    """``roles_in(name)``: a role runner working in a directory of its own, for runs at the same time."""
    store.parent.mkdir(exist_ok=True)

    def make(name):
        directory = tmp_path / name
        directory.mkdir()
        return role_runner(playbook_in(directory), role_environment(fresh, store))
    return make
