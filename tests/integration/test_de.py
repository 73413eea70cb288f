# -*- coding: utf-8 -*-
"""The rulebook conductor.principals.rotate_on_expiry inside the decision environment `make de` builds, as an
EDA Controller activation runs it (podman, the image's ansible-rulebook, Java and collection, the connection
injected as environment variables), against the sandbox on the host.

Run by `make de-test` after `make de`; under CI=true a missing image fails the test, elsewhere it is skipped
with the command that builds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO, entries
from eda_runs import aged_credential, container_rulebook, polls, rotated
from helpers import c1_secret_works

VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
IMAGE = os.environ.get("CONDUCTOR_DE_IMAGE", "localhost/conductor-principals-de:%s" % VERSION)


@pytest.fixture(scope="module")
def image():
    found = shutil.which("podman") and subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode == 0
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("the decision environment %s is not there" % IMAGE)
        pytest.skip("the decision environment %s is not built; `make de` builds it" % IMAGE)
    return IMAGE


def test_the_rulebook_in_the_decision_environment_rotates_a_credential_of_the_window_once(image, tenant, store,
                                                                                          tmp_path):
    requirements = yaml.safe_load((REPO / "decision-environment" / "requirements.yml").read_text())
    assert requirements["collections"][0]["name"].endswith("-%s.tar.gz" % VERSION), \
        "decision-environment/requirements.yml names another version than galaxy.yml's %s" % VERSION
    store.parent.mkdir(exist_ok=True)
    (store.parent / "tmp").mkdir()
    sp_id, old_id = aged_credential(tenant, "Nightly batch", "batch-key", period_days=30, age_days=20)
    run = container_rulebook(tmp_path, store, tenant.sandbox, image, "conductor-de-test-%d" % os.getpid())
    try:
        run.wait_for(lambda: rotated(tenant.sandbox, sp_id, old_id), "rotation of batch-key", timeout=300)
        after = polls(tenant.sandbox)
        run.wait_for(lambda: polls(tenant.sandbox) >= after + 3, "three more polls after the rotation")
    finally:
        run.stop()
    [new] = rotated(tenant.sandbox, sp_id, old_id)
    entry = next(v for k, v in entries(store).items() if k.endswith("/Nightly batch/batch-key"))
    assert entry["credential_id"] == new["id"]
    assert c1_secret_works(tenant.sandbox, entry["client_id"], entry["client_secret"])
    assert run.output.count("PLAY RECAP") == 1, "the rotate playbook ran more than once"
    for secret in tenant.sandbox.issued() + [entry["client_secret"], tenant.sandbox.c1["client_secret"]]:
        assert secret not in run.output, "a secret is in the rulebook's output"
