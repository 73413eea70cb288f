# -*- coding: utf-8 -*-
"""The modules on a remote host: an inventory host reached over a real OpenSSH connection.

The suite starts its own sshd on 127.0.0.1 (a free port, a throwaway host key and client key)
and stops it by its PID. Every run goes through the conftest's ``playbook`` at -vvv with
ANSIBLE_LOG_PATH, so each one is scanned for leaks: over ssh the connection prints the
module's raw answer, which must carry its secrets sealed (module_utils/sealing.py) only.
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from conftest import STORE_PASSWORD, entries
from helpers import CRED, CRED_INFO, SEALED, SP, SP_INFO, TOKEN, c1_secret_works, orkes, orkes_key_works, writes


@pytest.fixture(params=[False, True], ids=["sftp", "pipelining"])
def bastion(request, sshd, tmp_path):
    return sshd.inventory(tmp_path / "inventory.yml", pipelining=request.param)


def assert_travelled_sealed(run):
    """The raw module answers are in the -vvv output (so the leak scan saw them), their secrets sealed."""
    assert "ESTABLISH SSH CONNECTION" in run.output
    assert SEALED in run.stdout and SEALED in run.log
    assert SEALED not in repr(run.results)  # register got the opened values


def test_c1_credential_lifecycle_over_ssh(fresh, playbook, bastion):
    cred = {"service_principal": "Bastion CI", "name": "deploy", "expires_days": 30,
            "allowed_cidrs": ["127.0.0.0/8"]}
    create = playbook([
        {SP: {"name": "Bastion CI"}, "register": "sp"},
        {CRED: cred, "register": "cred"},
        {TOKEN: {"client_id": "{{ cred.client_id }}", "client_secret": "{{ cred.client_secret }}", "validate": True},
         "register": "tok"},
        # the registered headers work as they are, from the host
        {"ansible.builtin.uri": {"url": "{{ tok.server_url }}/api/v1/auth/introspect", "headers": "{{ tok.headers }}"},
         "no_log": True, "register": "who"},
    ], keep=["sp", "cred", "tok", "who"], inventory=bastion)
    assert_travelled_sealed(create)
    made, tok = create.results["cred"], create.results["tok"]
    assert made["changed"] and made["client_secret"].startswith("secret-token:conductorone.com:v1:")
    assert c1_secret_works(fresh, made["client_id"], made["client_secret"])
    assert tok["token_type"] == "Bearer" and tok["headers"] == {"Authorization": "Bearer " + tok["access_token"]}
    assert tok["identity"] and create.results["who"]["status"] == 200
    assert "censored" in create.stdout

    before = writes(fresh)
    again = playbook([{CRED: cred, "register": "cred"}], keep=["cred"], inventory=bastion).results["cred"]
    assert again["changed"] is False and "client_secret" not in again and writes(fresh) == before
    assert again["credential"]["id"] == made["credential"]["id"]

    checked = playbook([{CRED: dict(cred, force_rotate=True), "register": "cred"}], keep=["cred"], check=True,
                       inventory=bastion).results["cred"]
    assert checked["changed"] is True and "client_secret" not in checked and writes(fresh) == before

    rotated = playbook([{CRED: dict(cred, force_rotate=True), "register": "cred"}], keep=["cred"],
                       inventory=bastion)
    assert_travelled_sealed(rotated)
    new = rotated.results["cred"]
    assert new["changed"] and new["credential"]["id"] != made["credential"]["id"]
    assert new["revoked_ids"] == [made["credential"]["id"]]
    assert c1_secret_works(fresh, new["client_id"], new["client_secret"])
    assert not c1_secret_works(fresh, made["client_id"], made["client_secret"])


def test_orkes_access_key_lifecycle_over_ssh(fresh, playbook, bastion):
    def run(tasks, **kwargs):
        return playbook(tasks, connection_vars=False, module_defaults=orkes(fresh), inventory=bastion, **kwargs)

    create = run([
        {SP: {"name": "bastion-app", "roles": ["WORKER"]}, "register": "app"},
        {CRED: {"service_principal": "bastion-app"}, "register": "key"},
        {TOKEN: {"client_id": "{{ key.client_id }}", "client_secret": "{{ key.client_secret }}"}, "register": "tok"},
    ], keep=["app", "key", "tok"])
    assert_travelled_sealed(create)
    key, tok = create.results["key"], create.results["tok"]
    assert key["changed"] and orkes_key_works(fresh, key["client_id"], key["client_secret"])
    assert tok["headers"] == {"X-Authorization": tok["access_token"]}

    before = writes(fresh)
    again = run([{CRED: {"service_principal": "bastion-app"}, "register": "key"}],
                keep=["key"]).results["key"]
    assert again["changed"] is False and "client_secret" not in again and writes(fresh) == before

    checked = run([{CRED: {"service_principal": "bastion-app", "force_rotate": True},
                    "register": "key"}], keep=["key"], check=True).results["key"]
    assert checked["changed"] is True and writes(fresh) == before

    rotated = run([{CRED: {"service_principal": "bastion-app", "force_rotate": True},
                    "register": "key"}], keep=["key"]).results["key"]
    assert rotated["changed"] and rotated["client_id"] != key["client_id"]
    assert orkes_key_works(fresh, rotated["client_id"], rotated["client_secret"])
    assert not orkes_key_works(fresh, key["client_id"], key["client_secret"])


# Values that differ between any two runs (new IDs, times, secrets): compared by type only.
VOLATILE = frozenset((
    "id", "client_id", "client_secret", "access_token", "created_at", "updated_at", "expires_at",
    "service_principal_id", "revoked_ids", "headers", "expires_in", "last_used_at", "identity"))


def comparable(value, volatile=VOLATILE, key=None):
    """``value`` without Ansible's ``invocation`` (only a module run has one), ``volatile`` keys by type only."""
    if key in volatile:
        return type(value).__name__
    if isinstance(value, dict):
        return {k: comparable(v, volatile, k) for k, v in value.items() if k != "invocation"}
    if isinstance(value, list):
        return [comparable(item, volatile) for item in value]
    return value


def test_results_over_ssh_equal_results_on_the_controller(fresh, playbook, bastion):
    def tasks(name):
        return [
            {SP: {"name": name}, "register": "sp"},
            {SP: {"name": name}, "register": "sp_again"},
            {CRED: {"service_principal": name, "name": "deploy", "expires_days": 60}, "register": "cred"},
            {CRED: {"service_principal": name, "name": "deploy", "expires_days": 60}, "register": "cred_again"},
            {CRED_INFO: {"service_principal": name}, "register": "info"},
            {SP_INFO: {"name": name}, "register": "sp_info"},
            {TOKEN: {}, "register": "tok"},
        ]
    keep = ["sp", "sp_again", "cred", "cred_again", "info", "sp_info", "tok"]
    # Made on the controller; then the same tasks again on the controller path and over ssh.
    assert playbook(tasks("same"), keep=keep).results["cred"]["changed"] is True
    here = playbook(tasks("same"), keep=keep).results
    there = playbook(tasks("same"), keep=keep, inventory=bastion).results
    for name in keep:
        assert there[name]["changed"] is False, name
        if name != "tok":  # a new token each time; everything else is exactly the same
            assert comparable(there[name], volatile=()) == comparable(here[name], volatile=()), name
        assert comparable(there[name]) == comparable(here[name]), name
    # A create on each path, from the same empty tenant: the same results but for new IDs, times and secrets.
    fresh.reset()
    made_here = playbook(tasks("made"), keep=keep).results
    fresh.reset()
    made_there = playbook(tasks("made"), keep=keep, inventory=bastion).results
    for name in keep:
        assert comparable(made_there[name]) == comparable(made_here[name]), name
    assert made_there["cred"]["changed"] and made_there["cred"]["client_secret"].startswith("secret-token:")
    assert made_there["tok"]["headers"]["Authorization"] == "Bearer " + made_there["tok"]["access_token"]
    assert c1_secret_works(fresh, made_there["cred"]["client_id"], made_there["cred"]["client_secret"])


def test_service_principals_over_ssh_stores_on_the_host_and_returns_its_secrets_sealed(
        fresh, playbook, bastion, tmp_path):
    directory = tmp_path / "host-store"
    directory.mkdir(mode=0o700)
    store = directory / "principals.vault"  # the task's host is this machine: its file is here
    principals = [{"name": "Remote %d" % i, "credentials": [{"name": "ci"}]} for i in range(3)]
    task = {"conductor.principals.service_principals": {
        "principals": principals, "store": {"path": str(store), "password": STORE_PASSWORD},
        "return_secrets": True, "verify": True, "parallelism": 2}, "register": "tenant"}
    made = playbook([task], keep=["tenant"], inventory=bastion)
    assert_travelled_sealed(made)
    assert STORE_PASSWORD not in made.output
    result = made.results["tenant"]
    assert result["failed_items"] == [] and result["summary"]["credentials"] == {"created": 3}
    # Written on the host by ansible-core's own VaultLib (a child of the host's Python), read here by it too.
    held = {e["names"]["principal"]: e for e in entries(store).values()}
    for principal in principals:
        secret = result["secrets"]["conductorone"][principal["name"]]["ci"]
        assert c1_secret_works(fresh, secret["client_id"], secret["client_secret"])
        assert held[principal["name"]]["client_secret"] == secret["client_secret"]

    before = writes(fresh)
    again = playbook([task], keep=["tenant"], inventory=bastion)
    assert_travelled_sealed(again)  # the stored secrets come back sealed too
    rerun = again.results["tenant"]
    assert rerun["changed"] is False and writes(fresh) == before
    assert rerun["secrets"] == result["secrets"]

    wrong = playbook([dict(task, **{"conductor.principals.service_principals": dict(
        task["conductor.principals.service_principals"], store={"path": str(store), "password": "not it"})})],
        inventory=bastion, expect_rc=2)
    assert "Could not decrypt the vault_file store %s: the password is wrong" % store in wrong.stdout
    assert writes(fresh) == before


def test_host_without_requests_fails_with_one_clear_sentence(fresh, playbook, sshd, tmp_path):
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    assert subprocess.run([python, "-c", "import requests"], capture_output=True, check=False).returncode != 0
    inventory = sshd.inventory(tmp_path / "inventory.yml", pipelining=True, python=python)
    run = playbook([{SP: {"name": "never made"}, "register": "sp"}], keep=["sp"], inventory=inventory, expect_rc=2)
    message = ("The Python libraries requests, PyJWT, cryptography are missing on %s's Python %s; install them "
               "there (see the collection's requirements.txt) or set ansible_python_interpreter to a Python that "
               "has them" % (platform.node(), python))
    assert '"msg": "%s"' % message in run.stdout
    assert writes(fresh) == 0


def test_the_sealing_key_is_not_a_user_option(fresh, playbook, sshd, tmp_path):
    for inventory in (None, sshd.inventory(tmp_path / "inventory.yml", pipelining=True)):
        run = playbook([{SP: {"name": "x", "_conductor_principals_seal_key": "AAAA"}}], inventory=inventory,
                       expect_rc=2)
        assert "_conductor_principals_seal_key is set by the collection itself; remove it from the task" in run.stdout
    assert writes(fresh) == 0


def test_a_module_warning_reaches_the_controller_over_ssh(fresh, playbook, bastion):
    # A warning of the core travels as AnsibleModule.warn, not as a result key (which ansible-core refuses).
    run = playbook([{SP: {"name": "Warned over ssh", "validate_certs": False}, "register": "sp"}], keep=["sp"],
                   inventory=bastion)
    assert "validate_certs is false: the identity of" in run.stdout
    assert "Passing `warnings`" not in run.output
    assert run.results["sp"]["changed"] and run.results["sp"]["service_principal"]["name"] == "Warned over ssh"


# The same bad tasks on both paths: one argument check (module_utils/arguments.py) for both.
BAD_TASKS = [
    ("name-a-list", CRED, {"service_principal": "Both Paths", "name": ["a", "b"]},
     "name must be a string, not a list"),
    ("store-typo", CRED, {"service_principal": "Both Paths", "name": "ci", "store": {"typ": "vault_file"}},
     "Unsupported parameters for (conductor.principals.sp_credential option store) module: typ (did you mean "
     "type?)"),
    ("store-path-a-list", CRED, {"service_principal": "Both Paths", "name": "ci", "store": {"path": ["a"]}},
     "store.path must be a string, not a list"),
    ("top-level-typo", SP, {"name": "Both Paths", "stat": "absent"},
     "Unsupported parameters for (conductor.principals.service_principal) module: stat (did you mean state?)"),
    ("wrong-type", CRED, {"service_principal": "Both Paths", "name": "ci", "rotate_before_days": "soon"},
     "argument 'rotate_before_days' is of type str and we were unable to convert to int"),
    ("secret-a-dict", SP_INFO, {"name": "Both Paths", "client_secret": {"not": "text"}},
     "client_secret must be a string, not a dict"),
    ("accepted", SP_INFO, {"name": "Both Paths"}, None),
]


def test_the_same_bad_arguments_are_refused_alike_in_process_and_over_ssh(fresh, playbook, sshd, tmp_path):
    tasks = [{"name": row[0], row[1]: row[2], "register": row[0].replace("-", "_"), "ignore_errors": True}
             for row in BAD_TASKS]
    keep = [row[0].replace("-", "_") for row in BAD_TASKS]
    here = playbook(tasks, keep=keep).results
    there = playbook(tasks, keep=keep, inventory=sshd.inventory(tmp_path / "inventory.yml", pipelining=True)).results
    for (name, expected), key in zip([(row[0], row[3]) for row in BAD_TASKS], keep):
        if expected is None:
            assert not here[key].get("failed") and not there[key].get("failed"), name
            assert here[key]["service_principals"] == there[key]["service_principals"] == [], name
            continue
        assert here[key]["failed"] and there[key]["failed"], name
        assert here[key]["msg"] == there[key]["msg"], name
        assert here[key]["msg"].startswith(expected), (name, here[key]["msg"])
    assert writes(fresh) == 0


def test_sp_credential_over_ssh_refuses_a_secret_nothing_keeps(fresh, playbook, sshd, tmp_path):
    # The module on the host cannot see register: the action plugin tells it (a hidden argument).
    inventory = sshd.inventory(tmp_path / "inventory.yml", pipelining=True)
    playbook([{SP: {"name": "Bastion unkept"}}])
    before = writes(fresh)
    done = playbook([{CRED: {"service_principal": "Bastion unkept", "name": "ci"}}], inventory=inventory,
                    expect_rc=2)
    assert "would be kept nowhere" in done.stdout and writes(fresh) == before
