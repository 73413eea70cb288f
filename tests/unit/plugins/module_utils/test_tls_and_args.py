# -*- coding: utf-8 -*-
"""TLS against a real loopback HTTPS server, and the shared argument spec."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient
from ansible_collections.conductor.principals.plugins.module_utils.common_args import (
    argument_spec, connection_options)
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], cert
    server.shutdown()
    server.server_close()


def _client(url, **options):
    return ApiClient(resolve_settings(dict(server_url=url, access_token="t" * 20, retries=0, **options), {}))


def test_untrusted_certificate_fails_clearly(https_server):
    url = https_server[0]
    with pytest.raises(ConductorError) as err:
        _client(url).call("GET", "/api/v1/auth/introspect", "introspect")
    assert "TLS verification of 127.0.0.1" in str(err.value) and "ca_path" in str(err.value)


def test_ca_path_makes_it_trusted(https_server):
    url, cert = https_server
    assert _client(url, ca_path=cert).call("GET", "/x", "x") == {"ok": True}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_validate_certs_false_skips_verification(https_server):
    url = https_server[0]
    assert _client(url, validate_certs=False).call("GET", "/x", "x") == {"ok": True}


def test_argument_spec_adds_connection_options_with_secrets_hidden():
    spec = argument_spec(name=dict(type="str", required=True))
    assert spec["name"] == dict(type="str", required=True)
    for secret in ("client_secret", "access_token", "oidc_token"):
        assert spec[secret]["no_log"] is True
    assert spec["platform"]["default"] == "conductorone"
    with pytest.raises(ValueError):
        argument_spec(timeout=dict(type="int"))
    assert connection_options({"name": "x", "client_id": "c", "timeout": 5})["client_id"] == "c"
    assert "name" not in connection_options({"name": "x"})
