# -*- coding: utf-8 -*-
"""TLS: verification on by default, ca_path for a private CA, validate_certs false warns."""

from __future__ import annotations

TOKEN = "conductor.principals.access_token"


def test_tls_verification(tls_sandbox, playbook):
    c1 = tls_sandbox["conductorone"]
    # No server_url: it is derived from the client ID (https://127.0.0.1:PORT).
    base = {"client_id": c1["client_id"], "client_secret": c1["client_secret"], "retries": 0}
    untrusted = playbook([{TOKEN: {}}], connection_vars=False, module_defaults=base, expect_rc=2)
    assert "TLS verification of 127.0.0.1" in untrusted.stdout and "set ca_path" in untrusted.stdout
    trusted = playbook([{TOKEN: {"ca_path": tls_sandbox["ca_path"], "validate": True}, "register": "t"}],
                       connection_vars=False, module_defaults=base, keep=["t"])
    assert trusted.results["t"]["server_url"] == tls_sandbox["server_url"]
    unverified = playbook([{TOKEN: {"validate_certs": False}, "register": "t"}], connection_vars=False,
                          module_defaults=base, keep=["t"])
    assert "validate_certs is false" in unverified.stderr
