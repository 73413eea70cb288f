# -*- coding: utf-8 -*-
"""The AWX job templates run inside the execution environment `make ee` builds, as AWX starts a
job: ansible-runner with process isolation in podman, the credentials injected as the credential
types' injectors render them (environment and files), the sandbox on the host (--network=host),
the vault_file store in a directory mounted from the host.

Run by `make ee-test` after `make ee`; under CI=true a missing image fails the test, elsewhere
it is skipped with the command that builds it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from awx_jobs import containers_left, credential_type, image_name, image_problem, inject, leaks, podman_env, \
    run_job
from conftest import REPO
from helpers import live_credentials, principals_named

PASSWORD = "ee horse battery staple"
STORE_IN_EE = "/var/lib/conductor-principals"
PRINCIPALS = [{"name": "EE CI", "credentials": [{"name": "ee-key", "expires_days": 30}]},
              {"name": "EE batch", "credentials": [{"name": "batch-key", "expires_days": 60}]}]


@pytest.fixture(scope="module")
def ee():
    problem = image_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail("the execution environment cannot run here: %s" % problem)
        pytest.skip("%s; `make ee` builds it" % problem)
    return image_name()


def test_the_image_holds_the_pinned_dependencies_of_the_user_definition(ee):
    """One source of truth: what execution-environment/ (CentOS Stream, for users) declares is what
    the Debian image `make ee` derived from it holds."""
    import yaml  # pylint: disable=import-outside-toplevel

    definition = yaml.safe_load((REPO / "execution-environment" / "execution-environment.yml").read_text())
    wanted = [definition["dependencies"][key]["package_pip"] for key in ("ansible_core", "ansible_runner")]
    frozen = subprocess.run(["podman", "run", "--rm", ee, "python3", "-m", "pip", "freeze"], env=podman_env(),
                            capture_output=True, text=True, check=True, timeout=120).stdout.lower().split()
    for pin in wanted:
        assert pin.lower() in frozen, "the image does not hold %s (execution-environment.yml)" % pin
    frozen_names = {line.split("==")[0].replace("_", "-") for line in frozen}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name = re.match(r"[A-Za-z0-9._-]*", line.split("#", 1)[0].strip()).group(0).lower()
        if name:
            assert name in frozen_names, "the image lacks %s (requirements.txt)" % name
    listed = subprocess.run(["podman", "run", "--rm", ee, "ansible-galaxy", "collection", "list",
                             "conductor.principals", "--format", "json"], env=podman_env(), capture_output=True,
                            text=True, check=True, timeout=120).stdout
    versions = [info["version"] for found in json.loads(listed).values() for info in found.values()]
    assert versions == [yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]]


def _vault_entries(path):
    vault = VaultLib([("default", VaultSecret(PASSWORD.encode()))])
    return json.loads(vault.decrypt(path.read_bytes()))["entries"]


def _c1_state(sandbox):
    state = {}
    for item in PRINCIPALS:
        found = principals_named(sandbox, item["name"])
        state[item["name"]] = {c["id"]: c for p in found for c in live_credentials(sandbox, p["id"])} if found else None
        assert len(found) <= 1, "duplicate principals named %s" % item["name"]
    return state


def test_job_templates_run_in_the_ee_as_awx_runs_them(ee, fresh, reliability, tmp_path):
    store_dir = tmp_path / "store"  # persistent storage on the host, mounted into every job
    store_dir.mkdir()
    store = store_dir / "identities.vault"
    jobs = []

    def job(playbook, extravars):
        private = tmp_path / ("job-%d" % (len(jobs) + 1))
        injected = {}
        injected.update(inject(credential_type("conductorone"), {
            "server_url": fresh.c1["server_url"], "client_id": fresh.c1["client_id"],
            "client_secret": fresh.c1["client_secret"]}, private))
        injected.update(inject(credential_type("secret_store"), {
            "store_type": "vault_file", "store_path": STORE_IN_EE + "/identities.vault",
            "store_password": PASSWORD}, private))
        ident = "ee-%s-%d" % (os.getpid(), len(jobs) + 1)
        result = run_job(private, playbook, injected, extravars, mounts=[(store_dir, STORE_IN_EE)], ident=ident)
        jobs.append(result)
        assert result.status == "successful" and result.rc == 0, "%s: %s (rc %s)\n%s\n%s" % (
            playbook, result.status, result.rc, result.stdout[-6000:], result.output[-2000:])
        assert containers_left(ident) == [], "the job's container is still there"
        issued = fresh.issued()
        leaked = leaks(private, issued, set(injected.values()))
        reliability.record("leak_runs_checked")
        reliability.record("leak_values_checked", len(issued))
        reliability.record("leaks", len(leaked))
        assert not leaked, "%s: secrets or tokens in the job's output or artifacts: %s" % (playbook, leaked)
        return result

    def assert_store_holds_every_live_secret():
        """After the job's container is gone, the store on the host holds each live credential's secret."""
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
        entries = _vault_entries(store)
        issued = set(fresh.issued())
        state = _c1_state(fresh)
        for item in PRINCIPALS:
            for credential in (state[item["name"]] or {}).values():
                entry = entries["conductor-principals/conductorone/%s/%s" % (item["name"], credential["displayName"])]
                assert entry["credential_id"] == credential["id"]
                assert entry["client_secret"] in issued  # the very secret the sandbox issued, so leak scans saw it
                reliability.received([credential["id"]])
        return entries, state

    # provision: both principals with their credentials; every secret in the store on the host
    job("playbooks/provision.yml", {"provision_principals": PRINCIPALS})
    entries, state = assert_store_holds_every_live_secret()
    assert sorted(len(creds) for creds in state.values()) == [1, 1]

    # a second provision job writes nothing
    writes = fresh.counters()["writes"]
    second = job("playbooks/provision.yml", {"provision_principals": PRINCIPALS})
    assert fresh.counters()["writes"] == writes, "the second provision job wrote to the API"
    assert not any(second.stats().get("changed", {}).values()), second.stats()
    assert _vault_entries(store) == entries

    # rotate: every credential replaced, the new secrets in the store, the old ones revoked
    job("playbooks/rotate.yml", {"rotate_principals": PRINCIPALS, "rotate_all": True})
    rotated, after = assert_store_holds_every_live_secret()
    for name in state:
        assert set(after[name]).isdisjoint(state[name]), "%s kept its old credential" % name
        assert len(after[name]) == 1
    assert rotated != entries

    # report: written on the host; the store (the secret store credential) holds each of ours
    report = job("playbooks/report.yml", {"report_dest": STORE_IN_EE + "/report.json", "report_format": "json"})
    written = json.loads((store_dir / "report.json").read_text())
    ours = [row for row in written["credentials"] if row["service_principal"] in after]
    assert sorted(row["id"] for row in ours) == sorted(c for creds in after.values() for c in creds)
    assert [row["flags"] for row in ours if "unheld" in row["flags"]] == []
    # only the sandbox's own bootstrap credential, which no job stored, is unheld
    assert report.stats()["artifact_data"]["credential_report_summary"] == written["summary"]
    assert written["summary"]["unheld"] == len(written["credentials"]) - len(ours)

    # decommission: one principal gone, with its store entry; the other untouched
    job("playbooks/decommission.yml", {"decommission_principals": ["EE batch"]})
    final = _c1_state(fresh)
    assert final["EE batch"] is None and final["EE CI"] == after["EE CI"]
    left = _vault_entries(store)
    assert [k for k in left if "/EE batch/" in k] == []
    assert left["conductor-principals/conductorone/EE CI/ee-key"] == rotated[
        "conductor-principals/conductorone/EE CI/ee-key"]
    assert fresh.audit() == ([], [])


def test_a_job_over_tls_trusts_the_ca_the_credential_injects_as_a_file(ee, tls_sandbox, tmp_path):
    c1 = tls_sandbox["conductorone"]
    inputs = {"server_url": c1["server_url"], "client_id": c1["client_id"], "client_secret": c1["client_secret"]}
    extravars = {"report_dest": "/runner/artifacts/report.json", "report_format": "json"}

    # Without the CA the job fails with the sentence that says what to set.
    private = tmp_path / "untrusted"
    untrusted = run_job(private, "playbooks/report.yml", inject(credential_type("conductorone"), inputs, private),
                        extravars, ident="ee-tls-untrusted-%d" % os.getpid())
    assert untrusted.status == "failed"
    assert "TLS verification of 127.0.0.1" in untrusted.stdout and "set ca_path" in untrusted.stdout

    # The CA certificate pasted into the credential: AWX writes it to a file under /runner/env.
    private = tmp_path / "trusted"
    with open(tls_sandbox["ca_path"]) as pem:
        injected = inject(credential_type("conductorone"), dict(inputs, ca_cert=pem.read()), private)
    assert injected["CONDUCTORONE_CA_PATH"].startswith("/runner/env/")
    on_host = private / injected["CONDUCTORONE_CA_PATH"][len("/runner/"):]
    assert stat.S_IMODE(on_host.stat().st_mode) == 0o600 and "BEGIN CERTIFICATE" in on_host.read_text()
    trusted = run_job(private, "playbooks/report.yml", injected, extravars, ident="ee-tls-%d" % os.getpid())
    assert trusted.status == "successful", trusted.stdout[-6000:]
    assert trusted.stats()["artifact_data"]["credential_report_summary"]["total"] >= 1
