# -*- coding: utf-8 -*-
"""What the integration tests share: the modules' names, reads of the sandbox's state, connections.

Test files import from here (and fixtures come from conftest.py); no test file imports another.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conftest import REPO, entries

SP = "conductor.principals.service_principal"
SP_INFO = "conductor.principals.service_principal_info"
CRED = "conductor.principals.sp_credential"
CRED_INFO = "conductor.principals.sp_credential_info"
TOKEN = "conductor.principals.access_token"
PERSONAL = "conductor.principals.personal_client"
#: How a module's secret travels back over ssh: sealed to the action plugin's one-time key.
SEALED = "conductor-principals-sealed:v1:"


def writes(sandbox):
    """How many writes the sandbox has answered (both APIs) since its counters were reset."""
    return sandbox.counters()["writes"]


def issuer(sandbox):
    """The sandbox's own OIDC issuer (a workload's token source in the federation tests)."""
    return sandbox.url + "/_sandbox/oidc"


def github_token(sandbox, **claims):
    """A GitHub Actions-shaped token of the sandbox's issuer, for the tenant (aud = the API's host)."""
    body = {"shape": "github", "aud": urlsplit(sandbox.url).netloc}
    body.update(claims)
    return sandbox.control("POST", "/oidc/token", json=body)["token"]


def api(sandbox, method, path, **kwargs):
    """Call the C1 API directly with the bootstrap credential (test set-up only)."""
    return sandbox.c1_api(method, path, **kwargs)


def principals_named(sandbox, name):
    """Every C1 principal with that display name, over every page."""
    found, token = [], ""
    while True:
        body = api(sandbox, "GET", "/api/v1/service_principals", params={"page_size": 100, "page_token": token})
        found += [p for p in body.get("list") or [] if p["displayName"] == name]
        token = body.get("nextPageToken")
        if not token:
            return found


def live_credentials(sandbox, sp_id):
    """The C1 credentials of one principal, as the API lists them."""
    return api(sandbox, "GET", "/api/v1/service_principals/%s/credentials" % sp_id,
               params={"page_size": 100}).get("list") or []


def c1_secret_works(sandbox, client_id, secret):
    """The secret obtains a C1 token at the sandbox's token endpoint, without the collection."""
    return requests.post(sandbox.c1["server_url"] + "/auth/v1/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).status_code == 200


def orkes_key_works(sandbox, key_id, secret):
    """The access key obtains an Orkes token, without the collection."""
    return requests.post(sandbox.orkes["server_url"] + "/token", json={"keyId": key_id, "keySecret": secret},
                         timeout=10).status_code == 200


def orkes(sandbox):
    """The Orkes connection options of the sandbox's bootstrap key."""
    return {"platform": "orkes", "server_url": sandbox.orkes["server_url"], "client_id": sandbox.orkes["key_id"],
            "client_secret": sandbox.orkes["key_secret"]}


def run_on_orkes(playbook, sandbox, tasks, **kwargs):
    """A playbook whose tasks connect to the sandbox's Orkes API (module_defaults, no C1 variables)."""
    return playbook(tasks, connection_vars=False, module_defaults=orkes(sandbox), **kwargs)


# ---- the roles -------------------------------------------------------------------------------
CI = {"name": "Terraform CI", "credentials": [
    {"name": "ci", "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"], "scoped_roles": ["Read-Only Admin"]},
    {"name": "deploy", "expires_days": 30, "require_dpop": True}]}
WORKER = {"name": "Worker App", "platform": "orkes", "roles": ["WORKER"], "credentials": [{"name": "key"}]}


def held(path):
    """{(platform, principal, credential): credential ID} of every entry in the store."""
    if not path.exists():
        return {}
    return {tuple(k.split("/")[1:]): v["credential_id"] for k, v in entries(path).items()}


# ---- a new user's shell ------------------------------------------------------------------------
BIN = Path(sys.executable).parent


def clean_env(**extra):
    """The environment of a new shell: none of the test run's Ansible or connection settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "CONDUCTOR")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = "%s:%s" % (BIN, env.get("PATH", ""))
    env.update(extra)
    return env


def sandbox_env(sandbox, tmp_path):
    """What `eval "$(make -s sandbox-env BOOTSTRAP=...)"` exports, read back from a real bash."""
    boot = tmp_path / "bootstrap.json"
    boot.write_text(json.dumps(sandbox.boot))
    names = ["CONDUCTORONE_SERVER_URL", "CONDUCTORONE_CLIENT_ID", "CONDUCTORONE_CLIENT_SECRET",
             "CONDUCTOR_SERVER_URL", "CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET"]
    script = 'eval "$(make -s -C %s sandbox-env BOOTSTRAP=%s)" && env -0' % (
        shlex.quote(str(REPO)), shlex.quote(str(boot)))
    done = subprocess.run(["bash", "-c", script], env=clean_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    exported = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
    return {name: exported[name] for name in names}


# ---- what a failure looks like, and how to cause one -----------------------------------------
def one_sentence(message):
    """Why ``message`` is not one clean sentence, or None."""
    if not isinstance(message, str) or not message.strip():
        return "no message"
    text = message.strip()
    if "\n" in text:
        return "more than one line"
    if "Traceback" in text or "MODULE FAILURE" in text or "exception occurred" in text.lower():
        return "a crash, not a sentence"
    if text[-1] in ":,;(-":
        return "ends mid-sentence"
    return None


@contextlib.contextmanager
def unwritable(directory):
    """Make ``directory`` unwritable even for root (immutable), else by mode."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False).returncode == 0
        undo = ["chattr", "-i", str(directory)]
    else:
        os.chmod(directory, 0o500)
        made, undo = True, None
    try:
        probe = directory / "probe"
        try:
            probe.write_text("")
            probe.unlink()
            made = False
        except OSError:
            pass
        if not made:
            pytest.skip("cannot make a directory unwritable here")
        yield
    finally:
        if undo:
            subprocess.run(undo, check=False)
        else:
            os.chmod(directory, 0o700)
