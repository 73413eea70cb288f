# -*- coding: utf-8 -*-
"""What AWX does around a job, for the tests: credential injectors rendered as AWX renders them,
and a job run in the execution environment the way AWX starts one (ansible-runner, process
isolation, podman).

AWX (awx/main/models/credential, CredentialType.inject_credential) renders every injector in a
sandboxed Jinja environment whose namespace is the credential's inputs plus ``tower``: each file
template is written to a new 0600 file in the private data directory's env/, and its path as the
job sees it (under /runner) becomes ``tower.filename`` (one file) or ``tower.filename.<name>``.
An optional input left empty is undefined and renders as "".
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = Path(__file__).resolve().parents[2]
CREDENTIAL_TYPES = REPO / "awx" / "credential_types"
CONTAINER_ROOT = "/runner"  # where ansible-runner mounts the private data directory
EE_VENV = REPO / ".venv-ee"
CONTAINERS_CONF = REPO / "tools" / "ee" / "containers.conf"


def credential_type(stem):
    return yaml.safe_load((CREDENTIAL_TYPES / (stem + ".yml")).read_text())


class _Namespace(object):
    """AWX's TowerNamespace: attributes set as files are rendered."""


def inject(definition, inputs, private_data_dir=None):
    """The environment a credential of this type injects; its files are written into
    ``private_data_dir``/env (a throw-away directory when none is given)."""
    sandbox_env = ImmutableSandboxedEnvironment()
    namespace = dict(inputs)
    tower = namespace["tower"] = _Namespace()
    injectors = definition["injectors"]
    if injectors.get("file"):
        base = Path(private_data_dir or tempfile.mkdtemp(prefix="awx-private-"))
        env_dir = base / "env"
        env_dir.mkdir(parents=True, exist_ok=True)
        for label, template in injectors["file"].items():
            handle, path = tempfile.mkstemp(dir=str(env_dir))
            with os.fdopen(handle, "w") as out:
                out.write(sandbox_env.from_string(template).render(**namespace))
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            in_container = CONTAINER_ROOT + "/" + str(Path(path).relative_to(base))
            if "." not in label:
                tower.filename = in_container
            else:
                if not isinstance(getattr(tower, "filename", None), _Namespace):
                    tower.filename = _Namespace()
                setattr(tower.filename, label.split(".", 1)[1], in_container)
    return {name: sandbox_env.from_string(template).render(**namespace)
            for name, template in injectors.get("env", {}).items()}


def image_name():
    """The image `make ee` builds: localhost/conductor-principals-ee:<galaxy.yml version>."""
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    return os.environ.get("CONDUCTOR_EE_IMAGE", "localhost/conductor-principals-ee:%s" % version)


def podman_env():
    return dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))


def image_problem():
    """Why no job can run in the EE here (None when it can)."""
    if not shutil.which("podman"):
        return "podman is not installed (make ee-host)"
    if not (EE_VENV / "bin" / "ansible-runner").exists():
        return "%s has no ansible-runner (make ee-venvs)" % EE_VENV
    found = subprocess.run(["podman", "image", "exists", image_name()], env=podman_env(), check=False)
    if found.returncode != 0:
        return "the image %s is not built (make ee)" % image_name()
    return None


class JobResult(object):
    def __init__(self, private, ident, completed):
        self.private = Path(private)
        self.artifacts = self.private / "artifacts" / ident
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.status = (self.artifacts / "status").read_text().strip() if (self.artifacts / "status").exists() \
            else "no status"
        self.stdout = (self.artifacts / "stdout").read_text() if (self.artifacts / "stdout").exists() else ""

    def events(self):
        return [json.loads(p.read_text()) for p in sorted((self.artifacts / "job_events").glob("*.json"))]

    def stats(self):
        """The playbook_on_stats event: changed/failed counts and set_stats' artifact_data."""
        found = [e for e in self.events() if e.get("event") == "playbook_on_stats"]
        return found[-1]["event_data"] if found else {}


def run_job(private, playbook, env, extravars=None, mounts=(), ident="job"):
    """A job template run as AWX starts it: the project (this repository's playbooks/) under
    /runner/project, the injected environment in env/envvars, the survey or extra vars in
    env/extravars, and ansible-runner with process isolation in the execution environment,
    as root (runner's 0700 artifacts directory), on the host's network."""
    private = Path(private)
    shutil.copytree(REPO / "playbooks", private / "project" / "playbooks")
    (private / "env").mkdir(exist_ok=True)
    (private / "inventory").mkdir()
    # AWX's inventory for a job against the controller itself (localhost, connection local).
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    (private / "env" / "envvars").write_text(yaml.safe_dump(dict(
        env, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_FORCE_COLOR="0")))
    (private / "env" / "extravars").write_text(yaml.safe_dump(extravars or {}))
    command = [str(EE_VENV / "bin" / "ansible-runner"), "run", str(private), "-p", playbook, "--ident", ident,
               "--process-isolation", "--process-isolation-executable", "podman",
               "--container-image", image_name(),
               "--container-option=--user=root", "--container-option=--network=host", "-vvv"]
    for host_path, container_path in mounts:
        command += ["--container-volume-mount", "%s:%s" % (host_path, container_path)]
    completed = subprocess.run(command, env=podman_env(), capture_output=True, text=True, timeout=600, check=False)
    return JobResult(private, ident, completed)


def containers_left(ident):
    """Containers of a job still there (runner names them ansible_runner_<ident>)."""
    listed = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], env=podman_env(),
                            capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if name == "ansible_runner_" + ident]


def leaks(private, issued, injected):
    """Issued secrets found in anything the job left: stdout, job events, every artifact.

    The injected inputs are expected where AWX and runner keep the job's environment (env/, and
    runner's command and env.list); AWX deletes the private data directory after the job.
    """
    found = set()
    for path in Path(private).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            in_env = path.name in ("command", "env.list") or path.parent.name == "env"
            allowed = injected if in_env else set()
            found |= {value[:12] + "..." for value in issued if value not in allowed and value in text}
    return found
