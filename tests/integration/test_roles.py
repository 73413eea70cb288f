# -*- coding: utf-8 -*-
"""The provision, rotate and secret_store roles, and the ready playbooks, against the sandbox.

Connection settings come from environment variables, as AWX injects them; every run goes
through the conftest leak check (stdout, stderr and the -vvv log against every secret issued).
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from test_c1_modules import live_credentials, principals_named

PASSWORD = "correct horse battery staple"
TOKEN = "conductor.principals.access_token"


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store" / "identities.vault"


@pytest.fixture
def roles(fresh, playbook, store):
    """Run a role (or the secret_store load) with AWX-style environment variables."""
    store.parent.mkdir(exist_ok=True)
    env = {"CONDUCTORONE_SERVER_URL": fresh.c1["server_url"], "CONDUCTORONE_CLIENT_ID": fresh.c1["client_id"],
           "CONDUCTORONE_CLIENT_SECRET": fresh.c1["client_secret"], "CONDUCTOR_SERVER_URL": fresh.orkes["server_url"],
           "CONDUCTOR_AUTH_KEY": fresh.orkes["key_id"], "CONDUCTOR_AUTH_SECRET": fresh.orkes["key_secret"],
           "CONDUCTOR_PRINCIPALS_STORE_PATH": str(store), "CONDUCTOR_PRINCIPALS_STORE_PASSWORD": PASSWORD}

    def run(role, variables, keep=(), tasks_after=(), **kwargs):
        task = {"ansible.builtin.include_role": {"name": "conductor.principals." + role}, "vars": variables}
        done = playbook([task] + list(tasks_after), keep=keep, connection_vars=False, extra_env=env, **kwargs)
        # The conftest checks every issued secret; the store's vault password is ours to check.
        assert PASSWORD not in done.output, "the store password leaked into the output"
        return done

    run.env = env
    return run


def read_store(path):
    vault = VaultLib([("conductor_principals", VaultSecret(PASSWORD.encode()))])
    return json.loads(vault.decrypt(path.read_bytes()))


def write_store(path, content):
    vault = VaultLib([("conductor_principals", VaultSecret(PASSWORD.encode()))])
    path.write_bytes(vault.encrypt(json.dumps(content), vault_id="conductor_principals"))


def live_by_name(fresh, sp_id):
    return {c["displayName"]: c["id"] for c in live_credentials(fresh, sp_id)}


def provision_then_forget(fresh, roles, store, credential):
    """Provision CI, then drop one credential's secret from the store; (principal ID, live IDs by name)."""
    roles("provision", {"provision_principals": [CI]})
    sp_id = c1_principal(fresh, "Terraform CI")["id"]
    content = read_store(store)
    del content["Terraform CI"][credential]
    write_store(store, content)
    os.chmod(store, 0o600)
    return sp_id, live_by_name(fresh, sp_id)


def c1_principal(fresh, name):
    found = principals_named(fresh, name)
    assert len(found) == 1, "expected exactly one principal named %r, found %d" % (name, len(found))
    return found[0]


CI = {"name": "Terraform CI", "credentials": [
    {"name": "ci", "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"], "scoped_roles": ["Read-Only Admin"]},
    {"name": "deploy", "expires_days": 30, "require_dpop": True}]}
WORKER = {"name": "Worker App", "platform": "orkes", "roles": ["WORKER"], "credentials": [{"name": "key"}]}


@pytest.mark.matrix
def test_provision_stores_every_secret_encrypted_and_a_rerun_changes_nothing(fresh, roles, store):
    first = roles("provision", {"provision_principals": [CI, WORKER], "provision_fetch_tokens": True},
                  keep=["conductor_principals_credentials", "provision_summary", "conductor_principals_tokens"],
                  diff=True)
    credentials = first.results["conductor_principals_credentials"]
    assert sorted(credentials) == ["Terraform CI", "Worker App"]
    assert sorted(credentials["Terraform CI"]) == ["ci", "deploy"] and list(credentials["Worker App"]) == ["key"]
    for by_name in credentials.values():
        for entry in by_name.values():
            assert sorted(entry) == ["client_id", "client_secret", "server_url"] and entry["client_secret"]

    # The store: Ansible Vault text, mode 0600, no plaintext secret, and the same secrets as the fact.
    raw = store.read_text()
    assert raw.startswith("$ANSIBLE_VAULT;1.2;AES256;conductor_principals")
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert not [value for value in fresh.issued() if value in raw]
    stored = read_store(store)
    assert stored["Terraform CI"]["ci"]["client_secret"] == credentials["Terraform CI"]["ci"]["client_secret"]
    assert stored["Worker App"]["key"]["client_secret"] == credentials["Worker App"]["key"]["client_secret"]

    # Exactly one principal and one live credential per name; the summary names them without secrets.
    sp = c1_principal(fresh, "Terraform CI")
    assert sorted(c["displayName"] for c in live_credentials(fresh, sp["id"])) == ["ci", "deploy"]
    summary = {(row["principal"], row["credential"]): row for row in first.results["provision_summary"]}
    assert summary[("Terraform CI", "ci")]["action"] == "created" and summary[("Terraform CI", "ci")]["expires_at"]
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
    assert read_store(store) == stored


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
    assert read_store(store)["Terraform CI"]["deploy"]["credential_id"] == live["deploy"]


def test_a_secret_of_another_credential_in_the_store_is_replaced(fresh, roles, store, playbook):
    roles("provision", {"provision_principals": [CI]})
    sp = c1_principal(fresh, "Terraform CI")
    # Rotated outside the role: the stored secret now belongs to a revoked credential.
    playbook([{"conductor.principals.sp_credential": {"service_principal": "Terraform CI", "name": "ci",
                                                      "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"],
                                                      "scoped_roles": ["Read-Only Admin"], "force_rotate": True},
               "no_log": True}])
    outside = live_by_name(fresh, sp["id"])["ci"]
    run = roles("provision", {"provision_principals": [CI]}, keep=["conductor_principals_credentials"])
    live = live_by_name(fresh, sp["id"])
    assert live["ci"] != outside and len(live) == 2
    assert read_store(store)["Terraform CI"]["ci"]["credential_id"] == live["ci"]
    assert run.results["conductor_principals_credentials"]["Terraform CI"]["ci"]["client_id"] == \
        [c for c in live_credentials(fresh, sp["id"]) if c["id"] == live["ci"]][0]["clientId"]


def test_a_store_that_cannot_be_written_leaves_no_live_orphan(fresh, roles, store):
    # First run keeps its secrets; the second cannot write, so its new credential must go again.
    sp_id, old = provision_then_forget(fresh, roles, store, "ci")
    broken = store.parent / "missing-directory" / "store.vault"
    failed = roles("provision", {"provision_principals": [CI], "provision_store_path": str(broken)},
                   expect_rc=2)
    assert "the new credential" in failed.stdout and "was revoked" in failed.stdout
    # Nothing alive that nobody can use: the old credentials stay, the new one is gone.
    assert live_by_name(fresh, sp_id) == old


def test_failed_verification_revokes_the_new_credential_and_keeps_the_old(fresh, roles, store):
    outside = {"name": "Edge", "credentials": [{"name": "edge", "allowed_cidrs": ["192.0.2.0/24"], "verify": False}]}
    roles("provision", {"provision_principals": [outside]})
    sp = c1_principal(fresh, "Edge")
    old = [c["id"] for c in live_credentials(fresh, sp["id"])]
    stored = read_store(store)
    # The controller (127.0.0.1) is outside 192.0.2.0/24: the new secret cannot get a token.
    verifying = {"name": "Edge", "credentials": [{"name": "edge", "allowed_cidrs": ["192.0.2.0/24"]}]}
    failed = roles("rotate", {"rotate_principals": [verifying], "rotate_all": True}, expect_rc=2)
    assert "Prove the new secret obtains a token failed" in failed.stdout
    assert [c["id"] for c in live_credentials(fresh, sp["id"])] == old
    assert read_store(store) == stored


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
    assert read_store(store)["Batch"]["nightly"]["credential_id"] == new["id"]
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
    assert read_store(store) == {"Terraform CI": {"ci": read_store(store)["Terraform CI"]["ci"]}}

    gone = roles("provision", {"provision_principals": [dict(CI, state="absent")]})
    assert not principals_named(fresh, "Terraform CI") and read_store(store) == {}
    again = roles("provision", {"provision_principals": [dict(CI, state="absent")]})
    assert "changed=0" in again.stdout and "changed=0" not in gone.stdout


@pytest.mark.matrix
@pytest.mark.parametrize("variables, message", [
    ({"provision_principals": [{"credentials": []}]}, "missing required arguments: name"),
    ({"provision_principals": [{"name": "x", "credentials": [{"name": "c", "expires_days": 45}]}]},
     "expires_days"),
    ({"provision_principals": [{"name": "x", "platform": "azure"}]}, "platform"),
    ({"provision_principals": [{"name": "x"}, {"name": "x"}]}, "names a principal more than once"),
    ({"provision_principals": [{"name": "x", "platform": "orkes", "credentials": [{"name": "a"}, {"name": "b"}]}]},
     "more than one present credential"),
    ({"provision_principals": [{"name": "x"}], "provision_store_password": ""}, "Configure the secret store"),
], ids=["no-name", "bad-expiry", "bad-platform", "duplicate", "orkes-two-keys", "no-store-password"])
def test_bad_role_input_fails_clearly_and_writes_nothing(fresh, roles, variables, message):
    failed = roles("provision", variables, expect_rc=2)
    assert message in failed.stdout
    assert fresh.counters()["writes"] == 0


def test_a_store_others_can_read_is_refused(fresh, roles, store):
    roles("provision", {"provision_principals": [{"name": "Solo", "credentials": [{"name": "c"}]}]})
    os.chmod(store, 0o644)
    writes = fresh.counters()["writes"]
    failed = roles("provision", {"provision_principals": [{"name": "Solo", "credentials": [{"name": "c"}]}]},
                   expect_rc=2)
    assert "chmod 600" in failed.stdout and fresh.counters()["writes"] == writes


def test_make_demo_prints_the_summary_table_without_secrets(tmp_path_factory, sandbox):
    """tools/demo.sh as `make demo` runs it: its own sandbox, a summary table, a quiet second run."""
    import subprocess
    import sys
    from conftest import REPO, _collections_path
    env = dict(os.environ, PYTHON=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    done = subprocess.run(["bash", "tools/demo.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "PRINCIPAL     CREDENTIAL" in done.stdout and "Order Worker  worker-key   orkes" in done.stdout
    assert "tokens obtained: 3" in done.stdout and "(600, $ANSIBLE_VAULT)" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].split()[3] == "changed=0"
    assert "secret-token:" not in done.stdout + done.stderr


def test_rotating_an_orkes_access_key_keeps_one_working_key(fresh, roles, store):
    from test_orkes_modules import key_works
    roles("provision", {"provision_principals": [WORKER]})
    old = read_store(store)["Worker App"]["key"]
    rotated = roles("rotate", {"rotate_principals": [WORKER], "rotate_all": True}, keep=["provision_summary"])
    new = read_store(store)["Worker App"]["key"]
    assert rotated.results["provision_summary"][0]["action"] == "rotated"
    assert new["credential_id"] != old["credential_id"]
    assert key_works(fresh, new["client_id"], new["client_secret"])
    assert not key_works(fresh, old["client_id"], old["client_secret"])  # retired once the new key was proven


@pytest.mark.matrix
def test_the_ready_playbooks_provision_rotate_and_decommission(fresh, roles, store, tmp_path, tmp_path_factory):
    """playbooks/*.yml unchanged, as an AWX job template runs them: environment plus extra vars."""
    import subprocess
    import sys
    from conftest import REPO, _collections_path

    def run_playbook(name, extra_vars):
        vars_file = tmp_path / ("%s-vars.json" % name)
        vars_file.write_text(json.dumps(extra_vars))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   **roles.env)
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                               "-e", "@" + str(vars_file), str(REPO / "playbooks" / (name + ".yml"))],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        assert not [v for v in fresh.issued() if v in done.stdout + done.stderr], "a secret leaked"
        assert done.returncode == 0, done.stdout[-3000:]
        return done.stdout

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
    assert not principals_named(fresh, "Terraform CI") and read_store(store) == {}
    assert "changed=0" in run_playbook("decommission", {"decommission_principals": ["Terraform CI"]})


def test_faults_during_provisioning_leave_one_principal_and_one_stored_credential(fresh, roles, store):
    fresh.fault("POST", "/api/v1/service_principals", "503", count=2, retry_after=1)
    fresh.fault("POST", "/api/v1/service_principals/{service_principal_id}/credentials", "drop_after_commit")
    roles("provision", {"provision_principals": [{"name": "Flaky", "credentials": [{"name": "c"}]}]})
    sp = c1_principal(fresh, "Flaky")
    [live] = live_credentials(fresh, sp["id"])
    assert read_store(store)["Flaky"]["c"]["credential_id"] == live["id"]
