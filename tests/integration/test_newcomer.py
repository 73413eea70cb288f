# -*- coding: utf-8 -*-
"""The README's path for a new user, as written: install the collection where Ansible finds it,
point a shell at the sandbox, run the first playbook twice; and what a new user sees of a
censored result (--diff) and of a typo in an option name.
"""

from __future__ import annotations

import json
import re
import subprocess

import requests
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import REPO
from helpers import BIN, CRED, SP, clean_env, live_credentials, principals_named, sandbox_env

STORE_PASSWORD = "newcomer correct horse"
FIRST_PLAYBOOK_MARK = "<!-- first-playbook:"


def _make(*args, env, timeout=600):
    done = subprocess.run(["make", "-C", str(REPO)] + list(args), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, "make %s exited %d:\n%s\n%s" % (
        " ".join(args), done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    return done


def readme_first_playbook():
    """The YAML block the README marks as the first playbook."""
    text = (REPO / "README.md").read_text()
    after = text[text.index(FIRST_PLAYBOOK_MARK):]
    block = re.search(r"```yaml\n(.*?)```", after, re.S).group(1)
    return yaml.safe_load(block)


def recap_changed(run):
    return [int(n) for n in re.findall(r"^localhost\s+:.*?changed=(\d+)", run.stdout, re.M)]


def test_sandbox_env_exports_the_bootstrap_connection(sandbox, tmp_path):
    env = sandbox_env(sandbox, tmp_path)
    assert env["CONDUCTORONE_SERVER_URL"] == sandbox.c1["server_url"]
    assert env["CONDUCTORONE_CLIENT_ID"] == sandbox.c1["client_id"]
    assert env["CONDUCTORONE_CLIENT_SECRET"] == sandbox.c1["client_secret"]
    assert (env["CONDUCTOR_SERVER_URL"], env["CONDUCTOR_AUTH_KEY"], env["CONDUCTOR_AUTH_SECRET"]) == (
        sandbox.orkes["server_url"], sandbox.orkes["key_id"], sandbox.orkes["key_secret"])


def test_sandbox_env_without_a_sandbox_says_what_to_do(tmp_path):
    done = subprocess.run(["make", "-s", "-C", str(REPO), "sandbox-env", "BOOTSTRAP=%s" % (tmp_path / "none.json")],
                          env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and done.stdout == ""
    assert "start the sandbox first with make sandbox" in done.stderr


def test_install_collection_makes_ansible_doc_work_without_settings(tmp_path):
    """make build does not warn about a path Ansible ignores; make install-collection puts the collection
    where a plain ansible-doc (no ANSIBLE_COLLECTIONS_PATH) finds it: ~/.ansible/collections."""
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home))
    build = "BUILD=%s" % (tmp_path / "build")
    built = _make("build", build, env=env)
    assert "will not be picked up" not in built.stdout + built.stderr
    _make("install-collection", build, env=env)
    assert (home / ".ansible/collections/ansible_collections/conductor/principals/MANIFEST.json").is_file()
    doc = subprocess.run([str(BIN / "ansible-doc"), "conductor.principals.sp_credential"], env=env, cwd=str(home),
                         capture_output=True, text=True, timeout=300, check=False)
    assert doc.returncode == 0, doc.stderr
    assert "rotate_before_days" in doc.stdout and "EXAMPLES" in doc.stdout


def test_readme_first_playbook_runs_green_twice_and_keeps_the_secret(fresh, playbook, tmp_path, reliability):
    play = readme_first_playbook()[0]
    # The test's runner writes the same play header around the tasks (localhost, -c local, no facts).
    assert {k: v for k, v in play.items() if k != "tasks"} == {
        "name": play["name"], "hosts": "localhost", "connection": "local", "gather_facts": False}
    (tmp_path / "shell").mkdir()
    env = sandbox_env(fresh, tmp_path / "shell")
    env["CONDUCTOR_PRINCIPALS_STORE_PASSWORD"] = STORE_PASSWORD

    first = playbook(play["tasks"], connection_vars=False, extra_env=env)
    assert recap_changed(first) == [2]
    [principal] = principals_named(fresh, "Terraform CI")
    [credential] = live_credentials(fresh, principal["id"])
    assert credential["displayName"] == "ci-pipeline"

    # The secret of the live credential is in the store, and it works.
    store = tmp_path / "identities.vault"
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    vault = VaultLib([("default", VaultSecret(STORE_PASSWORD.encode()))])
    entries = json.loads(vault.decrypt(store.read_bytes()))["entries"]
    [entry] = [e for e in entries.values() if e["credential_id"] == credential["id"]]
    assert entry["client_id"] == credential["clientId"]
    reliability.received([credential["id"]])
    token = requests.post(fresh.c1["server_url"] + "/auth/v1/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": entry["client_id"], "client_secret": entry["client_secret"]})
    assert token.status_code == 200 and token.json()["access_token"]
    assert entry["client_secret"] not in first.output

    second = playbook(play["tasks"], connection_vars=False, extra_env=env)
    assert recap_changed(second) == [0]
    assert [c["id"] for c in live_credentials(fresh, principal["id"])] == [credential["id"]]


def test_diff_of_a_created_credential_shows_its_ids_and_no_secret(fresh, playbook):
    """A result with a secret is censored whole; --diff still shows what was made (the leak scan of the
    runner checks that no secret is in the output)."""
    run = playbook([{SP: {"name": "Diff CI"}},
                    {CRED: {"service_principal": "Diff CI", "name": "diff-cred"}, "register": "cred"}],
                   keep=["cred"], diff=True)
    credential = run.results["cred"]["credential"]
    assert run.results["cred"]["client_secret"]
    shown = run.stdout.split("TASK [conductor.principals.sp_credential]")[-1]
    assert "diff without the secret" in shown
    assert '+    "id": "%s",' % credential["id"] in shown
    assert '+    "client_id": "%s",' % credential["client_id"] in shown
    assert '+    "expires_at": "%s",' % credential["expires_at"] in shown
    # -v and above: the secret-free summary next to the censored result
    assert '"client_id": "%s"' % credential["client_id"] in run.stdout.split("diff without the secret")[0]


def test_unknown_option_names_the_close_valid_one(fresh, playbook):
    run = playbook([{CRED: {"service_principal": "x", "name": "ci", "expire_days": 30}}], expect_rc=2)
    assert ("Unsupported parameters for (conductor.principals.sp_credential) module: expire_days "
            "(did you mean expires_days?)") in run.stdout
    assert fresh.counters()["writes"] == 0
