# -*- coding: utf-8 -*-
"""What AWX needs: the execution environment definition, the custom credential types, and
playbooks/provision.yml run through ansible-runner (as AWX runs jobs) with the environment
those credential types inject.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import ansible_runner
import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from awx_jobs import credential_type, inject
from conftest import REPO, _collections_path
from helpers import live_credentials, principals_named

BIN = Path(sys.executable).parent
EE_DIR = REPO / "execution-environment"
CREDENTIAL_TYPES = REPO / "awx" / "credential_types"
PASSWORD = "awx horse battery staple"
STORE_ENV = re.compile(r"lookup\('ansible\.builtin\.env',\s*'([A-Z0-9_]+)'\)")


def _run(command, **kwargs):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300,
                          check=False, **kwargs)
    assert done.returncode == 0, "%s exited %d:\n%s\n%s" % (command[0], done.returncode, done.stdout[-3000:],
                                                            done.stderr[-3000:])
    return done.stdout


def _requirement_names(text):
    """Distribution names in a pip requirements text, lower-cased."""
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.match(r"[A-Za-z0-9._-]+", line).group(0).lower())
    return names


def _pin(name):
    """The version requirements-dev.txt pins for a tool."""
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.lower().startswith(name + "=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("requirements-dev.txt does not pin %s" % name)


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    return _collections_path(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def tarball(collections, tmp_path_factory):
    """The collection tarball: the one `make build` made next to the collections path, else a new build."""
    built = sorted(Path(collections).parent.glob("conductor-principals-*.tar.gz"))
    if os.environ.get("CONDUCTOR_TEST_COLLECTIONS_PATH") and len(built) == 1:
        return built[0]
    out = tmp_path_factory.mktemp("tarball")
    _run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", out, REPO])
    return next(out.glob("conductor-principals-*.tar.gz"))


@pytest.fixture(scope="module")
def config(collections):
    """plugins/module_utils/config.py of the collection under test (its ENV_FALLBACKS and resolver)."""
    if collections not in sys.path:
        sys.path.insert(0, collections)  # module_utils import each other relatively, as a package
    return importlib.import_module("ansible_collections.conductor.principals.plugins.module_utils.config")


# ---- the execution environment ---------------------------------------------------------

def test_collection_declares_its_python_requirements_for_ansible_builder(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        ee_meta = yaml.safe_load(archive.extractfile("meta/execution-environment.yml"))
        python_file = ee_meta["dependencies"]["python"]
        assert python_file in names, "%s is not in the collection tarball (build_ignore?)" % python_file
        declared = _requirement_names(archive.extractfile(python_file).read().decode())
    assert declared == _requirement_names((REPO / "requirements.txt").read_text())
    assert {"requests", "pyjwt", "cryptography", "hvac", "boto3"} <= declared  # boto3, hvac: secret stores
    assert manifest["collection_info"]["version"] == yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    # Users of the collection get the credential types; the EE recipe is for this repository.
    assert "awx/credential_types/conductorone.yml" in names
    assert not [n for n in names if n.startswith("execution-environment/")]


def test_ansible_builder_creates_a_build_context_with_the_collection(tarball, tmp_path):
    # The definition expects the tarball beside it, as the README's build steps put it.
    ee = tmp_path / "ee"
    shutil.copytree(EE_DIR, ee)
    shutil.copy(tarball, ee)
    context = tmp_path / "context"
    _run([BIN / "ansible-builder", "create", "-f", ee / "execution-environment.yml", "-c", context,
          "--output-filename", "Containerfile"])

    containerfile = (context / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==%s"' % (
        _pin("ansible-core"), _pin("ansible-runner")) in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile  # collection requirements are gathered in the build

    # requirements.yml names the tarball where additional_build_files put it.
    build_dir = context / "_build"
    wanted = yaml.safe_load((build_dir / "requirements.yml").read_text())["collections"]
    assert [entry["name"] for entry in wanted] == ["collections/" + tarball.name], (
        "execution-environment/requirements.yml does not name %s; keep it in step with galaxy.yml" % tarball.name)
    assert (build_dir / "collections" / tarball.name).is_file()

    # What the galaxy and builder stages do, without a container: install from the context
    # as the image does (from /build), then gather the collections' Python requirements.
    installed = tmp_path / "usr-share-ansible-collections"
    # --force: `make integration` puts the built collection on PYTHONPATH, where galaxy would find it
    # "already installed" and install nothing.
    _run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-r", "requirements.yml",
          "--collections-path", installed], cwd=build_dir)
    report = yaml.safe_load(_run([BIN / "ansible-builder", "introspect", "--sanitize", installed]))
    ours = {entry for entry in report["python"] if entry.endswith("from collection conductor.principals")}
    assert _requirement_names("\n".join(ours)) == _requirement_names((REPO / "requirements.txt").read_text())
    assert report["system"] == []


# ---- the credential types --------------------------------------------------------------

def _read_by_roles(collections):
    """Environment variables the roles' defaults read with lookup('ansible.builtin.env', ...)."""
    roles = Path(collections) / "ansible_collections" / "conductor" / "principals" / "roles"
    found = set()
    for defaults in roles.glob("*/defaults/main.yml"):
        found.update(STORE_ENV.findall(defaults.read_text()))
    return found


def expected_env(stem, config, collections):
    fallbacks = config.ENV_FALLBACKS
    if stem == "conductorone":
        # A client credential: access and OIDC tokens are per-run values, not stored credentials.
        return {fallbacks[config.C1][k] for k in ("server_url", "client_id", "client_secret", "ca_path")}
    if stem == "orkes":
        return set(fallbacks[config.ORKES].values())
    # What the roles' store defaults read, what the vault_file store reads for its password, and the
    # hashi_vault store's server settings (interface.md, "Secret stores").
    stores = importlib.import_module("ansible_collections.conductor.principals.plugins.module_utils.stores.vault_file")
    return {name for name in _read_by_roles(collections) if name.startswith("CONDUCTOR_PRINCIPALS_STORE_")} | {
        stores.PASSWORD_ENV, "VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT"}


SAMPLES = {
    "conductorone": {"client_id": "ci-robot@example.conductor.one/spc",
                     "client_secret": "secret-token:conductorone.com:v1:sample", "server_url": "https://c1.example",
                     "ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB{{ not a template }}\n-----END CERTIFICATE-----\n"},
    "orkes": {"server_url": "https://orkes.example/api", "key_id": "key-1", "key_secret": "s3cr{{ et }}",
              "ca_cert": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"},
    "secret_store": {"store_type": "vault_file", "store_prefix": "team-a", "store_path": "/runner/store/identities.vault",
                     "store_password": "pass word", "vault_url": "https://vault.example:8200", "vault_token": "hvs.t0ken",
                     "ca_cert": "-----BEGIN CERTIFICATE-----\nMIID{{ vault }}\n-----END CERTIFICATE-----\n"},
}


@pytest.mark.parametrize("stem", sorted(SAMPLES))
def test_credential_type_injects_exactly_what_the_collection_reads(stem, config, collections, tmp_path):
    definition = credential_type(stem)
    assert set(definition) == {"name", "description", "kind", "inputs", "injectors"}
    assert definition["kind"] == "cloud"  # the only kinds AWX allows for custom types: cloud, net
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    for field in fields.values():
        assert {"id", "label", "type"} <= set(field) and field["type"] == "string"
        assert field.get("secret", False) is bool(re.search("secret|password|token", field["id"])), field["id"]
    assert set(definition["inputs"]["required"]) <= set(fields)
    assert set(definition["injectors"]) <= {"env", "file"}

    # Every template uses only defined fields and AWX's tower namespace (tower.filename, the path
    # of a file injector; AWX refuses others), and every field is injected.
    env = ImmutableSandboxedEnvironment()
    used = set()
    for kind in definition["injectors"].values():
        for template in kind.values():
            used |= meta.find_undeclared_variables(env.parse(template))
    assert used - {"tower"} == set(fields)
    assert ("tower" in used) is bool(definition["injectors"].get("file"))

    private = tmp_path / "private"
    injected = inject(definition, SAMPLES[stem], private)
    assert set(injected) == expected_env(stem, config, collections)
    files = {"/runner/" + str(p.relative_to(private)): p.read_text() for p in private.rglob("*") if p.is_file()}
    # verbatim, never re-rendered; a file's content where its path is injected
    assert sorted(files.get(v, v) for v in injected.values()) == sorted(SAMPLES[stem].values())


def test_injected_environment_is_what_the_modules_resolve(config):
    # The CA file path is one inside the job's container (test_ee.py runs a job over TLS with it);
    # left empty, no CA path is injected and the system's trust store applies.
    c1 = {k: v for k, v in SAMPLES["conductorone"].items() if k != "ca_cert"}
    assert inject(credential_type("conductorone"), c1)["CONDUCTORONE_CA_PATH"] == ""
    settings = config.resolve_settings({}, inject(credential_type("conductorone"), c1))
    assert (settings.server_url, settings.client_id, settings.client_secret) == (
        c1["server_url"], c1["client_id"], c1["client_secret"])

    # The optional server URL left empty: AWX injects "", which the modules treat as unset.
    del c1["server_url"]
    environ = inject(credential_type("conductorone"), c1)
    assert environ["CONDUCTORONE_SERVER_URL"] == ""
    assert config.resolve_settings({}, environ).server_url == "https://example.conductor.one"

    orkes = {k: v for k, v in SAMPLES["orkes"].items() if k != "ca_cert"}
    settings = config.resolve_settings({"platform": "orkes"}, inject(credential_type("orkes"), orkes))
    assert (settings.server_url, settings.client_id, settings.client_secret) == (
        orkes["server_url"], orkes["key_id"], orkes["key_secret"])


@pytest.fixture(scope="module")
def tls_bao(tmp_path_factory):
    """bao server -dev over HTTPS with a certificate of its own CA (not in any trust store)."""
    from ansible_collections.conductor.principals.tests.servers import BaoServer  # pylint: disable=import-outside-toplevel

    server = BaoServer(tmp_path_factory.mktemp("bao-tls"), tls=True).start()
    yield server
    server.stop()


def _on_host(environ, private):
    """The injected environment with /runner/... paths as the host sees them (the job runs here, not in the EE)."""
    return {name: str(private) + value[len("/runner"):] if value.startswith("/runner/") else value
            for name, value in environ.items()}


def test_secret_store_ca_cert_lets_the_store_trust_a_private_vault(fresh, playbook, tls_bao, tmp_path):
    path = "conductor-principals/conductorone/AWX TLS/awx-key"
    inputs = {"store_type": "hashi_vault", "vault_url": tls_bao.url, "vault_token": tls_bao.token}
    store = {"type": "{{ lookup('ansible.builtin.env', 'CONDUCTOR_PRINCIPALS_STORE_TYPE') }}"}
    tasks = [{"conductor.principals.service_principal": {"name": "AWX TLS"}},
             {"conductor.principals.sp_credential": {"service_principal": "AWX TLS", "name": "awx-key", "store": store},
              "register": "cred"}]

    # Left empty: no CA path is injected, the system's trust store does not know the CA, nothing is written.
    untrusted = inject(credential_type("secret_store"), inputs)
    assert untrusted["VAULT_CACERT"] == ""
    failed = playbook(tasks, extra_env=untrusted, expect_rc=2)
    assert "the TLS certificate of the server could not be verified" in failed.stdout, failed.stdout[-3000:]
    assert not live_credentials(fresh, principals_named(fresh, "AWX TLS")[0]["id"])

    private = tmp_path / "private"
    pem = Path(tls_bao.ca_path).read_text()
    injected = inject(credential_type("secret_store"), dict(inputs, ca_cert=pem), private)
    assert injected["VAULT_CACERT"].startswith("/runner/env/")
    host_env = _on_host(injected, private)
    assert Path(host_env["VAULT_CACERT"]).read_text() == pem
    assert stat.S_IMODE(Path(host_env["VAULT_CACERT"]).stat().st_mode) == 0o600
    made = playbook(tasks, extra_env=host_env, keep=["cred"]).results["cred"]
    assert made["stored"] == {"type": "hashi_vault", "location": "secret/" + path}
    entry = tls_bao.api("GET", "secret/data/" + path)["data"]["data"]
    assert entry["client_secret"] == made["client_secret"]
    assert [c["id"] for c in live_credentials(fresh, principals_named(fresh, "AWX TLS")[0]["id"])] == [
        made["credential"]["id"]]

    # A path that is no file: one sentence naming the variable, nothing written.
    writes = fresh.counters()["writes"]
    wrong = playbook(tasks, extra_env=dict(host_env, VAULT_CACERT=str(tmp_path / "no-such-ca.pem")), expect_rc=2)
    assert "the environment variable VAULT_CACERT names %s, which is not a file" % (tmp_path / "no-such-ca.pem") in (
        wrong.stdout), wrong.stdout[-3000:]
    assert fresh.counters()["writes"] == writes


# ---- provision.yml through ansible-runner ----------------------------------------------

PRINCIPALS = [{"name": "AWX CI", "credentials": [{"name": "awx-key", "expires_days": 30}]}]


def _leaks(private_data_dir, issued, injected):
    """Issued secrets found in anything runner kept: stdout, job_events, every artifact.

    Runner's artifacts/*/command records the job's environment, so the injected inputs are
    expected there (AWX deletes the private data directory); nothing newly issued may be.
    """
    found = set()
    for path in Path(private_data_dir).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            allowed = injected if path.name == "command" else set()
            found |= {value[:12] + "..." for value in issued if value not in allowed and value in text}
    return found


def test_provision_playbook_runs_in_ansible_runner_with_awx_credentials(fresh, collections, tmp_path, monkeypatch):
    playbook = REPO / "playbooks" / "provision.yml"
    if not playbook.exists():
        pytest.fail("playbooks/provision.yml is missing")
    for name in [n for n in os.environ if n.startswith(("CONDUCTORONE_", "CONDUCTOR_"))]:
        monkeypatch.delenv(name)  # only what the credentials inject
    # Runner starts the ansible-playbook it finds on PATH: this Python's.
    monkeypatch.setenv("PATH", str(BIN) + os.pathsep + os.environ.get("PATH", ""))

    store = tmp_path / "store" / "identities.vault"
    store.parent.mkdir()
    injected = {}
    injected.update(inject(credential_type("conductorone"), {
        "server_url": fresh.c1["server_url"], "client_id": fresh.c1["client_id"],
        "client_secret": fresh.c1["client_secret"]}))
    injected.update(inject(credential_type("secret_store"), {"store_type": "vault_file", "store_path": str(store),
                                                             "store_password": PASSWORD}))
    envvars = dict(injected, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    # A job template's project: the installed collection, whose playbooks/ AWX would list.
    project = Path(collections) / "ansible_collections" / "conductor" / "principals"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}}}}

    def job(number):
        private = tmp_path / ("job-%d" % number)
        private.mkdir()
        result = ansible_runner.run(
            private_data_dir=str(private), project_dir=str(project), playbook="playbooks/provision.yml",
            inventory=inventory, envvars=envvars, extravars={"provision_principals": PRINCIPALS},
            verbosity=3, quiet=True,
            suppress_env_files=True)  # as AWX: no env/ files holding the injected secrets
        stdout = result.stdout.read()
        assert result.status == "successful", "job %d: %s rc=%s\n%s" % (number, result.status, result.rc,
                                                                        stdout[-6000:])
        events = list(Path(private, "artifacts").rglob("job_events/*.json"))
        assert events, "runner kept no job events"
        leaked = _leaks(private, fresh.issued(), set(injected.values()))
        assert not leaked, "job %d: secrets or tokens in runner's output or artifacts: %s" % (number, leaked)
        return result

    job(1)
    principal = principals_named(fresh, "AWX CI")
    assert len(principal) == 1
    credentials = live_credentials(fresh, principal[0]["id"])
    assert [c["displayName"] for c in credentials] == ["awx-key"]

    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert store.read_bytes().startswith(b"$ANSIBLE_VAULT")
    vault = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    stored = json.loads(vault.decrypt(store.read_bytes()))["entries"]["conductor-principals/conductorone/AWX CI/awx-key"]
    assert stored["credential_id"] == credentials[0]["id"]
    assert stored["client_secret"] in fresh.issued()  # so the leak checks looked for it

    writes = fresh.counters()["writes"]
    second = job(2)
    assert fresh.counters()["writes"] == writes, "the second job wrote to the API"
    assert not any(second.stats["changed"].values()), "the second job reported changes: %s" % second.stats
    assert [c["id"] for c in live_credentials(fresh, principal[0]["id"])] == [c["id"] for c in credentials]
