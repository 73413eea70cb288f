# -*- coding: utf-8 -*-
"""Faults on every write path: the task succeeds after retries and leaves no duplicate or orphan."""

from __future__ import annotations

import pytest

from helpers import CRED, SP, live_credentials, principals_named

SP_ROUTE = "/api/v1/service_principals"
SP_ONE = SP_ROUTE + "/{id}"
CRED_ROUTE = SP_ROUTE + "/{service_principal_id}/credentials"
CRED_ONE = CRED_ROUTE + "/{id}"

# (mode, count): refusals are retried; a gateway error on a create is an unknown outcome, checked first.
FAULTS = [("429", 2), ("502", 1), ("503", 2), ("504", 1), ("drop_after_commit", 1)]


@pytest.fixture(autouse=True)
def no_duplicate_and_no_orphan(fresh):
    """After every test: no two principals share a name, and every live credential is one whose secret
    a run received (the audit adds to the session's reliability figures)."""
    yield
    duplicates, orphans = fresh.audit()
    assert not duplicates, "principals with the same name: %s" % duplicates
    assert not orphans, "live credentials whose secret no run received: %s" % orphans


def _principal(playbook, name="Faulty"):
    run = playbook([{SP: {"name": name}, "register": "sp"}], keep=["sp"])
    return run.results["sp"]["service_principal"]["id"]


def _credential(playbook, name="Faulty"):
    run = playbook([{SP: {"name": name}}, {CRED: {"service_principal": name, "name": "c"}, "register": "c"}],
                   keep=["c"])
    return run.results["c"]


@pytest.mark.parametrize("mode, count", FAULTS)
def test_create_principal(fresh, playbook, mode, count):
    fresh.fault("POST", SP_ROUTE, mode, count=count, retry_after=1)
    run = playbook([{SP: {"name": "Faulty", "retries": 3}, "register": "sp"}], keep=["sp"])
    assert run.results["sp"]["changed"]
    assert len(principals_named(fresh, "Faulty")) == 1


@pytest.mark.parametrize("mode, count", FAULTS)
def test_rename_principal(fresh, playbook, mode, count):
    sp_id = _principal(playbook)
    fresh.fault("PATCH", SP_ONE, mode, count=count, retry_after=1)
    playbook([{SP: {"id": sp_id, "name": "Renamed", "retries": 3}}])
    assert len(principals_named(fresh, "Renamed")) == 1 and principals_named(fresh, "Faulty") == []


@pytest.mark.parametrize("mode, count", FAULTS)
def test_delete_principal(fresh, playbook, mode, count):
    _principal(playbook)
    fresh.fault("DELETE", SP_ONE, mode, count=count, retry_after=1)
    playbook([{SP: {"name": "Faulty", "state": "absent", "retries": 3}}])
    assert principals_named(fresh, "Faulty") == []


@pytest.mark.parametrize("mode, count", FAULTS)
def test_create_credential(fresh, playbook, mode, count):
    sp_id = _principal(playbook)
    fresh.fault("POST", CRED_ROUTE, mode, count=count, retry_after=1)
    run = playbook([{CRED: {"service_principal_id": sp_id, "name": "c", "retries": 3}, "register": "c"}],
                   keep=["c"])
    assert run.results["c"]["client_secret"]
    # Exactly one live credential, and it is the one whose secret the playbook received.
    assert [c["id"] for c in live_credentials(fresh, sp_id)] == [run.results["c"]["credential"]["id"]]


@pytest.mark.parametrize("mode, count", FAULTS)
def test_rotate_and_revoke_credential(fresh, playbook, mode, count):
    old = _credential(playbook)
    sp_id = old["credential"]["service_principal_id"]
    fresh.fault("DELETE", CRED_ONE, mode, count=count, retry_after=1)
    rotated = playbook([{CRED: {"service_principal_id": sp_id, "name": "c", "force_rotate": True, "retries": 3},
                         "register": "c"}], keep=["c"]).results["c"]
    assert rotated["revoked_ids"] == [old["credential"]["id"]]
    assert [c["id"] for c in live_credentials(fresh, sp_id)] == [rotated["credential"]["id"]]


def test_lost_create_twice_fails_naming_what_it_revoked(fresh, playbook):
    sp_id = _principal(playbook)
    fresh.fault("POST", CRED_ROUTE, "drop_after_commit", count=2)
    run = playbook([{CRED: {"service_principal_id": sp_id, "name": "c"}, "register": "c"}], expect_rc=2)
    assert "the answer to the create was lost 2 times" in run.stdout and "were revoked" in run.stdout
    assert live_credentials(fresh, sp_id) == []  # nothing alive that nobody can use


def test_retries_are_bounded_and_the_error_says_how_many(fresh, playbook):
    fresh.fault("GET", SP_ROUTE, "503", count=10)
    run = playbook([{SP: {"name": "x", "retries": 2}}], expect_rc=2)
    assert "HTTP 503" in run.stdout and "after 3 attempts" in run.stdout
