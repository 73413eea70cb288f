# -*- coding: utf-8 -*-
"""A server that is down: one attempt (a refused connect is not retried), and the error says where
the URL came from, in a real playbook run (the conftest runner's leak scan included)."""

from __future__ import annotations

import socket

import pytest

from helpers import SP


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_down_server_named_by_the_environment_fails_at_once(fresh, playbook, closed_port):
    run = playbook([{SP: {"name": "Nobody home"}}], connection_vars=False, expect_rc=2, extra_env={
        "CONDUCTORONE_SERVER_URL": "http://127.0.0.1:%d" % closed_port,
        "CONDUCTORONE_CLIENT_ID": fresh.c1["client_id"], "CONDUCTORONE_CLIENT_SECRET": fresh.c1["client_secret"]})
    assert ("Cannot reach 127.0.0.1:%d (connection refused); the URL came from the environment variable "
            "CONDUCTORONE_SERVER_URL; check it and the network." % closed_port) in run.stdout
    assert "attempts" not in run.stdout.split("Cannot reach")[1].split("\n")[0]


def test_a_url_derived_from_the_client_id_says_so(fresh, playbook, closed_port):
    name, rest = fresh.c1["client_id"].split("@", 1)
    client_id = "%s@127.0.0.1:%d/%s" % (name, closed_port, rest.split("/", 1)[1])
    run = playbook([{SP: {"name": "Nobody home", "client_id": client_id, "client_secret": "{{ conn_client_secret }}",
                          "server_url": None}}], expect_rc=2)
    assert "the URL was derived from the client ID" in run.stdout and "check server_url" not in run.stdout
