# -*- coding: utf-8 -*-
"""The provision and rotate roles, and the ready playbooks, against the sandbox.

Connection settings and the store come from environment variables, as AWX injects them; every
run goes through the conftest leak check (stdout, stderr and the -vvv log against every secret
issued). The store file is read back with ansible-core's VaultLib (the conftest's helpers).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, _collections_path, entries, ready_playbook, rewrite
from helpers import CI, WORKER, held, live_credentials, orkes_key_works, principals_named

TOKEN = "conductor.principals.access_token"


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store" / "identities.vault"


def key(principal, credential, platform="conductorone"):
    """The entry's path in a vault_file store with the default prefix."""
    return "conductor-principals/%s/%s/%s" % (platform, principal, credential)


def stored(path, principal, credential, platform="conductorone"):
    """The entry of one credential, or None."""
    return entries(path).get(key(principal, credential, platform)) if path.exists() else None


def live_by_name(fresh, sp_id):
    return {c["displayName"]: c["id"] for c in live_credentials(fresh, sp_id)}


def provision_then_forget(fresh, roles, store, credential):
    """Provision CI, then drop one credential's secret from the store; (principal ID, live IDs by name)."""
    roles("provision", {"provision_principals": [CI]})
    sp_id = c1_principal(fresh, "Terraform CI")["id"]
    rewrite(store, {k: v for k, v in entries(store).items() if k != key("Terraform CI", credential)})
    return sp_id, live_by_name(fresh, sp_id)


def c1_principal(fresh, name):
    found = principals_named(fresh, name)
    assert len(found) == 1, "expected exactly one principal named %r, found %d" % (name, len(found))
    return found[0]


@pytest.mark.matrix
def test_provision_stores_every_secret_encrypted_and_a_rerun_changes_nothing(fresh, roles, store):
    first = roles("provision", {"provision_principals": [CI, WORKER], "provision_fetch_tokens": True},
                  keep=["conductor_principals_credentials", "conductor_principals_credentials_by_platform",
                        "provision_summary", "conductor_principals_tokens"], diff=True)
    credentials = first.results["conductor_principals_credentials"]
    assert sorted(credentials) == ["Terraform CI", "Worker App"]
    assert sorted(credentials["Terraform CI"]) == ["ci", "deploy"] and list(credentials["Worker App"]) == ["key"]
    for by_name in credentials.values():
        for entry in by_name.values():
            assert sorted(entry) == ["client_id", "client_secret", "server_url"] and entry["client_secret"]

    by_platform = first.results["conductor_principals_credentials_by_platform"]
    assert by_platform == {"conductorone": {"Terraform CI": credentials["Terraform CI"]},
                           "orkes": {"Worker App": credentials["Worker App"]}}

    # The store: Ansible Vault text, mode 0600, no plaintext secret, and the same secrets as the fact.
    raw = store.read_text()
    assert raw.startswith("$ANSIBLE_VAULT;")
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert not [value for value in fresh.issued() if value in raw]
    content = store.read_bytes()
    assert stored(store, "Terraform CI", "ci")["client_secret"] == credentials["Terraform CI"]["ci"]["client_secret"]
    assert stored(store, "Worker App", "key", "orkes")["client_secret"] == \
        credentials["Worker App"]["key"]["client_secret"]

    # Exactly one principal and one live credential per name; the summary names them without secrets.
    sp = c1_principal(fresh, "Terraform CI")
    assert sorted(c["displayName"] for c in live_credentials(fresh, sp["id"])) == ["ci", "deploy"]
    summary = {(row["principal"], row["credential"]): row for row in first.results["provision_summary"]}
    assert summary[("Terraform CI", "ci")]["action"] == "created" and summary[("Terraform CI", "ci")]["expires_at"]
    assert summary[("Terraform CI", "ci")]["stored"] == "%s#%s" % (store, key("Terraform CI", "ci"))
    assert not [value for value in fresh.issued() if value in json.dumps(first.results["provision_summary"])]

    tokens = first.results["conductor_principals_tokens"]
    assert tokens["Terraform CI"]["deploy"]["token_type"] == "DPoP" and tokens["Terraform CI"]["deploy"]["dpop_key"]
    assert tokens["Worker App"]["key"]["headers"] == {"X-Authorization": tokens["Worker App"]["key"]["access_token"]}

    before = fresh.counters()
    again = roles("provision", {"provision_principals": [CI, WORKER]})
    after = fresh.counters()
    assert "changed=0" in again.stdout
    assert after["writes"] == before["writes"]
    # One token per platform for the whole run, not one per task.
    assert after["token_requests"] - before["token_requests"] == 2
    assert store.read_bytes() == content  # no store write either (a rewrite changes the vault salt)


def test_stored_secrets_obtain_tokens(fresh, roles):
    run = roles("provision", {"provision_principals": [CI, WORKER], "provision_verify": False},
                keep=["proof"], tasks_after=[{
                    TOKEN: {"platform": "{{ item.platform }}", "client_id": "{{ item.client_id }}",
                            "client_secret": "{{ item.client_secret }}", "server_url": "{{ item.server_url }}",
                            "validate": True},
                    "loop": "{{ [conductor_principals_credentials['Terraform CI']['ci'] | combine({'platform': "
                            "'conductorone'}), conductor_principals_credentials['Worker App']['key'] | "
                            "combine({'platform': 'orkes'})] }}",
                    "register": "proof", "no_log": True}])
    assert [bool(result["identity"]) for result in run.results["proof"]["results"]] == [True, True]


def test_a_secret_missing_from_the_store_is_rotated_not_lost(fresh, roles, store):
    sp_id, old = provision_then_forget(fresh, roles, store, "deploy")
    run = roles("provision", {"provision_principals": [CI]}, keep=["provision_summary"])
    actions = {row["credential"]: row["action"] for row in run.results["provision_summary"]}
    assert actions == {"ci": "unchanged", "deploy": "rotated"}
    live = live_by_name(fresh, sp_id)
    assert live["ci"] == old["ci"] and live["deploy"] != old["deploy"] and len(live) == 2
    assert stored(store, "Terraform CI", "deploy")["credential_id"] == live["deploy"]


def test_a_secret_of_another_credential_in_the_store_is_replaced(fresh, roles, store, playbook):
    roles("provision", {"provision_principals": [CI]})
    sp = c1_principal(fresh, "Terraform CI")
    # Rotated outside the role: the stored secret now belongs to a revoked credential.
    playbook([{"conductor.principals.sp_credential": {"service_principal": "Terraform CI", "name": "ci",
                                                      "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"],
                                                      "scoped_roles": ["Read-Only Admin"], "force_rotate": True},
               "no_log": True, "register": "outside"}])
    outside = live_by_name(fresh, sp["id"])["ci"]
    run = roles("provision", {"provision_principals": [CI]}, keep=["conductor_principals_credentials"])
    live = live_by_name(fresh, sp["id"])
    assert live["ci"] != outside and len(live) == 2
    assert stored(store, "Terraform CI", "ci")["credential_id"] == live["ci"]
    assert run.results["conductor_principals_credentials"]["Terraform CI"]["ci"]["client_id"] == \
        [c for c in live_credentials(fresh, sp["id"]) if c["id"] == live["ci"]][0]["clientId"]


def test_a_store_whose_lock_cannot_be_taken_stops_the_rotation_before_any_create(fresh, roles, store):
    # First run keeps its secrets; then "ci" must be rotated (its entry is gone) but the store cannot be
    # written: a directory where the store's lock file goes. It is found before the create (check_writable),
    # so nothing is made; a write failing after a create is undone by apply_wave's guard (unit-tested).
    sp_id, old = provision_then_forget(fresh, roles, store, "ci")
    Path(str(store) + ".lock").unlink()
    Path(str(store) + ".lock").mkdir()
    failed = roles("provision", {"provision_principals": [CI]}, expect_rc=2)
    assert "vault_file store" in failed.stdout and "lock" in failed.stdout
    assert "Could not write the secret of new credential" not in failed.stdout
    # Nothing alive that nobody can use: the old credentials stay, no new one was made.
    assert live_by_name(fresh, sp_id) == old
    assert stored(store, "Terraform CI", "ci") is None


def test_failed_verification_revokes_the_new_credential_and_keeps_the_old(fresh, roles, store):
    outside = {"name": "Edge", "credentials": [{"name": "edge", "allowed_cidrs": ["192.0.2.0/24"], "verify": False}]}
    roles("provision", {"provision_principals": [outside]})
    sp = c1_principal(fresh, "Edge")
    old = [c["id"] for c in live_credentials(fresh, sp["id"])]
    content = entries(store)
    # The controller (127.0.0.1) is outside 192.0.2.0/24: the new secret cannot get a token.
    verifying = {"name": "Edge", "credentials": [{"name": "edge", "allowed_cidrs": ["192.0.2.0/24"]}]}
    failed = roles("rotate", {"rotate_principals": [verifying], "rotate_all": True}, expect_rc=2)
    assert "did not obtain an access token" in failed.stdout and "was revoked" in failed.stdout
    assert [c["id"] for c in live_credentials(fresh, sp["id"])] == old
    assert entries(store) == content


@pytest.mark.matrix
def test_check_mode_writes_nothing_and_creates_no_store(fresh, roles, store):
    run = roles("provision", {"provision_principals": [CI, WORKER]}, check=True)
    assert fresh.counters()["writes"] == 0 and not store.exists()
    assert "changed=0" not in run.stdout and not principals_named(fresh, "Terraform CI")


@pytest.mark.matrix
def test_rotate_renews_what_expires_soon_with_overlap_then_revokes(fresh, roles, store):
    soon = {"name": "Batch", "credentials": [{"name": "nightly", "expires_days": 30}]}
    roles("provision", {"provision_principals": [soon]})
    sp = c1_principal(fresh, "Batch")
    [old] = live_credentials(fresh, sp["id"])

    quiet = roles("rotate", {"rotate_principals": [soon], "rotate_within_days": 14})
    assert "changed=0" in quiet.stdout and [c["id"] for c in live_credentials(fresh, sp["id"])] == [old["id"]]

    rotated = roles("rotate", {"rotate_principals": [soon], "rotate_within_days": 31},
                    keep=["provision_summary", "conductor_principals_credentials"])
    [new] = live_credentials(fresh, sp["id"])
    assert new["id"] != old["id"] and rotated.results["provision_summary"][0]["action"] == "rotated"
    assert stored(store, "Batch", "nightly")["credential_id"] == new["id"]
    assert rotated.results["conductor_principals_credentials"]["Batch"]["nightly"]["client_id"] == new["clientId"]

    forced = roles("rotate", {"rotate_principals": [soon], "rotate_all": True})
    assert "changed=0" not in forced.stdout
    assert [c["id"] for c in live_credentials(fresh, sp["id"])] != [new["id"]]


def test_absent_entries_remove_principals_and_purge_their_secrets(fresh, roles, store):
    roles("provision", {"provision_principals": [CI, WORKER]})
    trimmed = dict(CI, credentials=[CI["credentials"][0], {"name": "deploy", "state": "absent"}])
    roles("provision", {"provision_principals": [trimmed, dict(WORKER, state="absent")]})
    sp = c1_principal(fresh, "Terraform CI")
    assert [c["displayName"] for c in live_credentials(fresh, sp["id"])] == ["ci"]
    assert list(held(store)) == [("conductorone", "Terraform CI", "ci")]

    gone = roles("provision", {"provision_principals": [dict(CI, state="absent")]})
    assert not principals_named(fresh, "Terraform CI") and held(store) == {}
    again = roles("provision", {"provision_principals": [dict(CI, state="absent")]})
    assert "changed=0" in again.stdout and "changed=0" not in gone.stdout


@pytest.mark.matrix
@pytest.mark.parametrize("variables, message", [
    ({"provision_principals": [{"credentials": []}]}, "missing required arguments: name"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c", "expires_days": 45}]}]},
     "provision_principals: principal 'x', credential 'c': value of expires_days must be one of: 30, 60, 90, 180"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c", "expire_days": 90}]}]},
     "provision_principals: principal 'x', credential 'c': no option expire_days (did you mean expires_days?)"),
    ({"provision_principals": [{"name": "x", "platform": "azure"}]}, "platform"),
    ({"provision_principals": [{"name": "x"}, {"name": "x"}]},
     "provision_principals names principal 'x' more than once on ConductorOne; name each once."),
    ({"provision_principals": [{"name": "x", "platform": "orkes", "credentials": [{"name": "a"}, {"name": "b"}]}]},
     "more than one present credential"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c"}, {"name": "c"}]}]},
     "provision_principals: principal 'x' lists credential 'c' more than once; name each once."),
    ({"provision_principals": [{"name": "x", "platform": "orkes", "credentials": [{"name": "c", "expires_days": 30}]}]},
     "provision_principals: principal 'x', credential 'c': expires_days cannot be set on platform orkes; remove it."),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c"}]}]},
     "store.password is required for store type vault_file"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c"}]}],
      "provision_store": {"type": "vault_file"}}, "store.path is required for store type vault_file"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c", "allowed_cidrs": [{"cidr": "10.0.0.0/8"}]}]}]},
     "provision_principals: principal 'x', credential 'c': allowed_cidrs[0] must be a string, not a dict"),
], ids=["no-name", "bad-expiry", "typo", "bad-platform", "duplicate", "orkes-two-keys", "duplicate-credential",
        "c1-option-on-orkes", "no-store-password", "no-store-path", "cidr-a-dict"])
def test_bad_role_input_fails_clearly_and_writes_nothing(fresh, roles, variables, message):
    env = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": ""} if "password" in message else None
    failed = roles("provision", variables, expect_rc=2, extra_env=env)
    assert message in failed.stdout
    assert "argument_spec_data" not in failed.stdout  # one sentence, not a dump of the spec
    assert fresh.counters()["writes"] == 0


def test_a_store_others_can_read_is_refused(fresh, roles, store):
    roles("provision", {"provision_principals": [{"name": "Solo", "credentials": [{"name": "c"}]}]})
    os.chmod(store, 0o644)
    writes = fresh.counters()["writes"]
    failed = roles("provision", {"provision_principals": [{"name": "Solo", "credentials": [{"name": "c"}]}]},
                   expect_rc=2)
    assert "chmod 600" in failed.stdout and fresh.counters()["writes"] == writes


def test_a_store_that_cannot_be_opened_fails_before_the_providers_are_written(fresh, roles, store):
    solo = {"name": "Solo", "credentials": [{"name": "c"}]}
    roles("provision", {"provision_principals": [solo]})
    writes = fresh.counters()["writes"]
    provider = {"issuer_url": "https://token.actions.githubusercontent.com", "type": "github_actions"}
    failed = roles("provision", {"provision_principals": [solo], "provision_federation_providers": [provider]},
                   expect_rc=2, extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": "not the store password"})
    assert "Could not decrypt the vault_file store" in failed.stdout
    assert fresh.counters()["writes"] == writes


def test_make_demo_prints_the_summary_table_without_secrets(tmp_path_factory, sandbox):
    """tools/demo.sh as `make demo` runs it: its own sandbox, a summary table, a quiet second run."""
    env = dict(os.environ, PYTHON=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    done = subprocess.run(["bash", "tools/demo.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"PRINCIPAL +CREDENTIAL", done.stdout) and re.search(r"orkes +Order Worker +worker-key +created", done.stdout)
    assert "tokens obtained: 3" in done.stdout and "(600, $ANSIBLE_VAULT)" in done.stdout
    recap = [line for line in done.stdout.splitlines() if line.startswith("localhost ") and "changed=" in line]
    assert recap[-1].split()[3] == "changed=0"
    assert "secret-token:" not in done.stdout + done.stderr


def test_rotating_an_orkes_access_key_keeps_one_working_key(fresh, roles, store):
    roles("provision", {"provision_principals": [WORKER]})
    old = stored(store, "Worker App", "key", "orkes")
    rotated = roles("rotate", {"rotate_principals": [WORKER], "rotate_all": True}, keep=["provision_summary"])
    new = stored(store, "Worker App", "key", "orkes")
    assert rotated.results["provision_summary"][0]["action"] == "rotated"
    assert new["credential_id"] != old["credential_id"]
    assert orkes_key_works(fresh, new["client_id"], new["client_secret"])
    assert not orkes_key_works(fresh, old["client_id"], old["client_secret"])  # retired once the new key was proven


@pytest.mark.matrix
def test_the_ready_playbooks_provision_rotate_and_decommission(fresh, roles, store, tmp_path, tmp_path_factory):
    """playbooks/*.yml as an AWX job template runs them: environment plus extra vars."""

    def run_playbook(name, extra_vars):
        return ready_playbook(fresh, roles.env, name, extra_vars, tmp_path, tmp_path_factory)

    identities = [CI, WORKER]
    run_playbook("provision", {"provision_principals": identities})
    sp = c1_principal(fresh, "Terraform CI")
    before = {c["id"] for c in live_credentials(fresh, sp["id"])}
    run_playbook("rotate", {"rotate_principals": identities, "rotate_within_days": 31})  # "deploy" lives 30 days
    after = {c["displayName"]: c["id"] for c in live_credentials(fresh, sp["id"])}
    assert after["ci"] in before and after["deploy"] not in before and len(after) == 2
    quiet = run_playbook("decommission", {"decommission_principals": [
        "Terraform CI", {"name": "Worker App", "platform": "orkes"}]})
    assert "changed=0" not in quiet
    assert not principals_named(fresh, "Terraform CI") and held(store) == {}
    assert "changed=0" in run_playbook("decommission", {"decommission_principals": ["Terraform CI"]})


def test_faults_during_provisioning_leave_one_principal_and_one_stored_credential(fresh, roles, store):
    fresh.fault("POST", "/api/v1/service_principals", "503", count=2, retry_after=1)
    fresh.fault("POST", "/api/v1/service_principals/{service_principal_id}/credentials", "drop_after_commit")
    roles("provision", {"provision_principals": [{"name": "Flaky", "credentials": [{"name": "c"}]}]})
    sp = c1_principal(fresh, "Flaky")
    [live] = live_credentials(fresh, sp["id"])
    assert stored(store, "Flaky", "c")["credential_id"] == live["id"]


def test_two_runs_at_once_on_one_store_lose_no_secret_and_a_third_run_writes_nothing(fresh, roles_in, store):
    from concurrent.futures import ThreadPoolExecutor
    first = [{"name": "Parallel A%d" % i, "credentials": [{"name": "ci"}]} for i in range(3)]
    second = [{"name": "Parallel B%d" % i, "credentials": [{"name": "ci"}]} for i in range(3)]
    runners = [roles_in("a"), roles_in("b")]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda pair: pair[0]("provision", {"provision_principals": pair[1]}),
                             zip(runners, (first, second))))
    assert [run.rc for run in done] == [0, 0]
    for principal in first + second:
        [sp] = principals_named(fresh, principal["name"])
        [live] = live_credentials(fresh, sp["id"])
        assert stored(store, principal["name"], "ci")["credential_id"] == live["id"], principal["name"]
    assert len(held(store)) == 6

    writes, content = fresh.counters()["writes"], store.read_bytes()
    third = roles_in("c")("provision", {"provision_principals": first + second})
    assert "changed=0" in third.stdout
    assert fresh.counters()["writes"] == writes and store.read_bytes() == content


def test_one_name_on_c1_and_orkes_is_two_principals_with_two_stored_secrets(fresh, roles, store):
    both = [{"name": "Shared", "credentials": [{"name": "ci"}]},
            {"name": "Shared", "platform": "orkes", "credentials": [{"name": "ci"}]}]
    roles("provision", {"provision_principals": both})
    before, content = fresh.counters(), store.read_bytes()
    again = roles("provision", {"provision_principals": both}, keep=["proof", "by_platform"], tasks_after=[
        {"ansible.builtin.set_fact": {"by_platform": "{{ conductor_principals_credentials_by_platform }}"},
         "no_log": True},
        {TOKEN: {"client_id": "{{ by_platform.conductorone.Shared.ci.client_id }}",
                 "client_secret": "{{ by_platform.conductorone.Shared.ci.client_secret }}",
                 "server_url": "{{ by_platform.conductorone.Shared.ci.server_url }}", "validate": True},
         "register": "proof", "no_log": True}])
    after = fresh.counters()
    # changed=1: the conftest's task that keeps the results; the role changed nothing.
    assert "changed=1" in again.stdout and after["writes"] == before["writes"] and store.read_bytes() == content
    assert after["token_requests"] - before["token_requests"] == 3  # one per platform, and the proof
    c1, orkes = stored(store, "Shared", "ci"), stored(store, "Shared", "ci", "orkes")
    [sp] = principals_named(fresh, "Shared")
    assert c1["credential_id"] == live_by_name(fresh, sp["id"])["ci"] and orkes["platform"] == "orkes"
    by_platform = again.results["by_platform"]
    assert by_platform["conductorone"]["Shared"]["ci"]["client_secret"] == c1["client_secret"]
    assert by_platform["orkes"]["Shared"]["ci"]["client_secret"] == orkes["client_secret"]
    assert again.results["proof"]["identity"]
    assert orkes_key_works(fresh, orkes["client_id"], orkes["client_secret"])


def _in_flight_peak(fresh, run):
    """The sandbox's peak of requests in flight during ``run()``, each answer delayed so that they overlap."""
    fresh.settings(latency_seconds=0.1)
    fresh.control("POST", "/in_flight/reset")
    try:
        done = run()
    finally:
        fresh.settings(latency_seconds=0)
    return done, fresh.control("GET", "/in_flight")["max"]


def test_the_role_sends_up_to_provision_parallelism_requests_at_once_and_loses_nothing(fresh, roles, store):
    many = [{"name": "Many %02d" % i, "credentials": [{"name": "ci"}]} for i in range(8)]
    run, peak = _in_flight_peak(fresh, lambda: roles("provision", {"provision_principals": many,
                                                                   "provision_parallelism": 3},
                                                     keep=["provision_summary"]))
    assert 2 <= peak <= 3, peak
    assert [row["action"] for row in run.results["provision_summary"]] == ["created"] * 8
    for principal in many:
        [live] = live_credentials(fresh, c1_principal(fresh, principal["name"])["id"])
        assert stored(store, principal["name"], "ci")["credential_id"] == live["id"]
    # The rotate role hands rotate_parallelism on.
    rotated, peak = _in_flight_peak(fresh, lambda: roles("rotate", {"rotate_principals": many, "rotate_all": True,
                                                                    "rotate_parallelism": 2},
                                                         keep=["provision_summary"]))
    assert peak == 2 and [row["action"] for row in rotated.results["provision_summary"]] == ["rotated"] * 8


def test_a_credential_that_cannot_be_made_fails_the_role_naming_it_and_every_other_item_is_done(fresh, roles, store):
    three = [{"name": "Team %d" % i, "credentials": [{"name": "ci"}]} for i in range(3)]
    roles("provision", {"provision_principals": [{"name": p["name"]} for p in three]})
    victim = c1_principal(fresh, "Team 1")["id"]
    route = "/api/v1/service_principals/{service_principal_id}/credentials"
    fresh.control("POST", "/faults", json={"method": "POST", "route": route, "mode": "500", "count": 50,
                                           "path": "/api/v1/service_principals/%s/credentials" % victim})
    try:
        failed = roles("provision", {"provision_principals": three}, expect_rc=2)
    finally:
        fresh.control("DELETE", "/faults")
    assert "1 of " in failed.stdout and "principal 'Team 1' credential 'ci'" in failed.stdout
    assert live_credentials(fresh, victim) == []  # nothing made, so nothing unheld
    for name in ("Team 0", "Team 2"):
        [credential] = live_credentials(fresh, c1_principal(fresh, name)["id"])
        assert stored(store, name, "ci")["credential_id"] == credential["id"]
    assert stored(store, "Team 1", "ci") is None


def test_roles_and_playbooks_hold_no_jinja_programs():
    """The roles' logic lives in plugins/filter/provision.py (tests/unit/plugins/filter)."""
    found = [str(path.relative_to(REPO)) for pattern in ("roles/*/tasks/*.yml", "roles/*/defaults/*.yml",
                                                         "playbooks/*.yml", "extensions/molecule/*/*.yml")
             for path in REPO.glob(pattern) if re.search(r"\{%-?\s*(for|set|if)\b", path.read_text())]
    assert not found, "Jinja statements in %s" % found
