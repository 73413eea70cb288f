"""Sandbox tests: the server in-process on a free loopback port; clients built here with joserfc."""

import base64
import hashlib
import json
import threading
import time
import uuid
import warnings

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OKPKey

from conductor_sandbox import c1, orkes
from conductor_sandbox.app import create_app
from conductor_sandbox.server import Server as HTTPServer
from conductor_sandbox.store import Store

warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Server(object):
    def __init__(self):
        self.store = Store(settings={"page_size": 10})
        self.app = create_app(self.store)
        self.http = HTTPServer("127.0.0.1", 0, self.app)
        self.base = "http://127.0.0.1:%d" % self.http.port
        address = "127.0.0.1:%d" % self.http.port
        self.store.data["bootstrap"] = {"conductorone": c1.bootstrap(self.store, self.app.config["c1"], address),
                                        "orkes": orkes.bootstrap(self.store, self.app.config["orkes"])}
        import copy
        self.app.config["baseline"] = copy.deepcopy(self.store.data)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def admin(self):
        return self.store.data["bootstrap"]["conductorone"]

    @property
    def orkes_admin(self):
        return self.store.data["bootstrap"]["orkes"]

    def control(self, method, path, **kwargs):
        response = requests.request(method, self.base + "/_sandbox" + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self):
        self.http.shutdown()


@pytest.fixture(scope="session")
def server():
    instance = Server()
    yield instance
    instance.stop()


@pytest.fixture
def sbx(server):
    server.control("POST", "/reset")
    server.control("POST", "/settings", json={"refuse_plain_client_secret": False, "client_ip_override": None,
                                             "dpop_nonce_required": True, "page_size": 10, "max_page_size": 100, "token_ttl": 3600,
                                             "latency_seconds": 0})
    return server


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_of_secret(secret):
    jwk = json.loads(base64.urlsafe_b64decode(secret.split(":")[3] + "=="))
    return OKPKey.import_key(jwk)


def assertion(client_id, secret, audience="127.0.0.1", now=None, lifetime=120, **overrides):
    now = int(time.time() if now is None else now)
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "nbf": now - 60,
              "exp": now + lifetime, "nonce": uuid.uuid4().hex}
    claims.update(overrides)
    return jwt.encode({"alg": "EdDSA"}, claims, key_of_secret(secret), algorithms=["EdDSA"])


class Dpop(object):
    def __init__(self):
        self.key = OKPKey.generate_key("Ed25519")

    def proof(self, method, url, token=None, nonce=None, jti=None, iat=None):
        claims = {"jti": jti or uuid.uuid4().hex, "htm": method, "htu": url, "iat": int(iat or time.time())}
        if nonce:
            claims["nonce"] = nonce
        if token:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        return jwt.encode({"alg": "EdDSA", "typ": "dpop+jwt", "jwk": self.key.as_dict(private=False)}, claims,
                          self.key, algorithms=["EdDSA"])


def token_for(server, client_id, secret, plain=False, dpop=None, expect=200):
    form = {"grant_type": "client_credentials", "client_id": client_id}
    if plain:
        form["client_secret"] = secret
    else:
        form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=assertion(client_id, secret))
    url = server.base + "/auth/v1/token"
    headers = {"DPoP": dpop.proof("POST", url)} if dpop else {}
    response = requests.post(url, data=form, headers=headers, timeout=10)
    if response.status_code == 400 and response.json().get("error") == "use_dpop_nonce" and dpop:
        form["client_assertion"] = assertion(client_id, secret) if not plain else None
        form = {k: v for k, v in form.items() if v is not None}
        headers = {"DPoP": dpop.proof("POST", url, nonce=response.headers["DPoP-Nonce"])}
        response = requests.post(url, data=form, headers=headers, timeout=10)
    assert response.status_code == expect, response.text
    return response.json()


def admin_headers(server):
    token = token_for(server, server.admin["client_id"], server.admin["client_secret"])["access_token"]
    return {"Authorization": "Bearer " + token}


def c1_call(server, method, path, headers=None, expect=200, **kwargs):
    response = requests.request(method, server.base + path, headers=headers or admin_headers(server),
                                timeout=10, **kwargs)
    assert response.status_code == expect, response.text
    return response.json() if response.content else {}


def pytest_configure(config):
    # c1-auth.md names the algorithm EdDSA; joserfc warns that RFC 9864 prefers Ed25519.
    config.addinivalue_line("filterwarnings", "ignore:EdDSA is deprecated")
    # conductor-python marks fields it still sends (tag "type", "applicationUser") as deprecated.
    config.addinivalue_line("filterwarnings", "ignore:Call to deprecated function:DeprecationWarning")
