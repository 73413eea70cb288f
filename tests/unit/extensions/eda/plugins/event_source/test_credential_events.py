# -*- coding: utf-8 -*-
"""The event source credential_events: its findings judged by credential_report's own code (an in-memory
platform), change detection, the state file, an outage, bad arguments, and the loop it runs on."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from datetime import timedelta

import pytest

from ansible_collections.conductor.principals.extensions.eda.plugins.event_source import credential_events as source
from ansible_collections.conductor.principals.plugins.module_utils.report import credential_report
from ansible_collections.conductor.principals.tests.unit.helpers import NOW, ReportPlatform

CONTRACT_FIELDS = {"kind", "platform", "service_principal", "service_principal_id", "name", "id", "client_id",
                   "expires_at", "expires_in_days", "last_used_at", "flags", "new_flags", "cleared_flags"}
CONNECTION_ENV = ("CONDUCTORONE_SERVER_URL", "CONDUCTORONE_CLIENT_ID", "CONDUCTORONE_CLIENT_SECRET",
                  "CONDUCTORONE_ACCESS_TOKEN", "CONDUCTORONE_OIDC_TOKEN")


class Tenant(object):
    """An in-memory platform judged by credential_report at a clock the test moves."""

    def __init__(self):
        self.adapter = ReportPlatform()
        self.now = NOW
        self.fail = None  # a failed poll's message, as runner.run returns a ConductorError

    def report(self):
        if self.fail:
            return {"failed": True, "msg": self.fail}
        return credential_report(self.adapter, {"expiring_within_days": 14, "unused_days": 30}, lambda: self.now)

    def advance(self, days):
        self.now += timedelta(days=days)


@pytest.fixture
def tenant():
    return Tenant()


def findings(events):
    return [(e["conductor_principals"]["name"], e["conductor_principals"]["new_flags"],
             e["conductor_principals"]["cleared_flags"]) for e in events]


def test_a_finding_is_emitted_once_when_it_appears_and_again_when_it_changes(tenant):
    ci = tenant.adapter.principal("CI")
    tenant.adapter.credential(ci, "deploy", age_days=10, lifetime=30, used_days_ago=0)  # 20 days left
    tenant.adapter.credential(ci, "fine", age_days=1, lifetime=365, used_days_ago=0)
    poller = source.Poller(tenant.report)
    assert poller.poll() == []
    tenant.advance(7)  # 13 days left: into the window
    assert findings(poller.poll()) == [("deploy", ["expiring"], [])]
    assert poller.poll() == [] and poller.poll() == []  # nothing new: nothing emitted
    tenant.advance(14)  # past its expiry
    assert findings(poller.poll()) == [("deploy", ["expired"], ["expiring"])]
    assert poller.poll() == []


def test_a_finding_that_cleared_and_came_back_is_emitted_again():
    rows = {"flags": ["unheld"]}
    poller = source.Poller(lambda: {"platform": "conductorone", "credentials": [
        {"kind": "credential", "id": "c1", "name": "key", "flags": list(rows["flags"])}]})
    assert [e["conductor_principals"]["new_flags"] for e in poller.poll()] == [["unheld"]]
    rows["flags"] = []
    assert poller.poll() == []  # a flag that went is no finding
    rows["flags"] = ["unheld"]
    assert [e["conductor_principals"]["new_flags"] for e in poller.poll()] == [["unheld"]]


def test_emit_all_emits_every_flagged_credential_on_every_poll(tenant):
    ci = tenant.adapter.principal("CI")
    tenant.adapter.credential(ci, "deploy", age_days=20, lifetime=30, used_days_ago=0)
    tenant.adapter.credential(ci, "fine", age_days=1, lifetime=365, used_days_ago=0)
    poller = source.Poller(tenant.report, emit="all")
    assert findings(poller.poll()) == [("deploy", ["expiring"], [])]
    assert findings(poller.poll()) == [("deploy", [], [])]


def test_an_event_has_the_contract_fields_and_nothing_else(tenant):
    ci = tenant.adapter.principal("CI")
    credential = tenant.adapter.credential(ci, "deploy", age_days=20, lifetime=30, used_days_ago=0)
    rows = tenant.report()["credentials"]
    rows[0].update(grants=3, condition="claims.sub == 'x'", client_secret="never in an event")
    [event] = source.Poller(lambda: {"platform": "conductorone", "credentials": rows}).poll()
    body = event["conductor_principals"]
    assert set(body) == CONTRACT_FIELDS
    assert body["kind"] == "credential" and body["id"] == credential["id"] and body["service_principal"] == "CI"
    assert body["flags"] == body["new_flags"] == ["expiring"] and body["expires_in_days"] == 10


def test_trusts_are_left_out_when_include_trusts_is_false():
    rows = [{"kind": "trust", "id": "t1", "name": "gh", "flags": ["broad"]},
            {"kind": "credential", "id": "c1", "name": "key", "flags": ["expired"]}]
    result = {"platform": "conductorone", "credentials": rows}
    assert [e["conductor_principals"]["kind"] for e in source.Poller(lambda: result).poll()] == ["trust", "credential"]
    assert [e["conductor_principals"]["kind"] for e in source.Poller(lambda: result, include_trusts=False).poll()] \
        == ["credential"]


def test_the_state_file_keeps_a_restarted_source_from_emitting_again(tenant, tmp_path):
    ci = tenant.adapter.principal("CI")
    credential = tenant.adapter.credential(ci, "deploy", age_days=20, lifetime=30, used_days_ago=0)
    state = tmp_path / "events.json"
    assert len(source.Poller(tenant.report, state_file=str(state)).poll()) == 1
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert json.loads(state.read_text()) == {"version": 1, "findings": {"credential:" + credential["id"]: ["expiring"]}}
    restarted = source.Poller(tenant.report, state_file=str(state))
    assert restarted.poll() == []
    tenant.advance(11)
    assert findings(restarted.poll()) == [("deploy", ["expired"], ["expiring"])]
    assert source.Poller(tenant.report).poll() != []  # without the file, a new source emits what it finds


def test_a_state_file_that_is_not_ours_is_bad_input(tmp_path):
    state = tmp_path / "events.json"
    state.write_text("[1, 2]")
    with pytest.raises(source.BadArguments, match="is not a state file of credential_events; remove it"):
        source.Poller(dict, state_file=str(state))


def test_an_outage_gives_one_error_event_then_no_finding_again(tenant):
    ci = tenant.adapter.principal("CI")
    tenant.adapter.credential(ci, "deploy", age_days=20, lifetime=30, used_days_ago=0)
    poller = source.Poller(tenant.report, secrets=["s3cr3t-value"])
    assert len(poller.poll()) == 1
    tenant.fail = "Could not list service principals: the server answered 503 (token s3cr3t-value)"
    [error] = poller.poll()
    body = error["conductor_principals"]
    assert set(body) == {"kind", "message"} and body["kind"] == "error"
    assert body["message"].startswith("Could not list service principals: the server answered 503")
    assert "s3cr3t-value" not in json.dumps(error)
    assert poller.poll() == [] and poller.poll() == []  # the same outage: one error event
    tenant.fail = None
    assert poller.poll() == []  # back: the finding was emitted before the outage
    tenant.fail = "Could not list service principals: the server answered 500"
    assert [e["conductor_principals"]["kind"] for e in poller.poll()] == ["error"]  # a new outage


@pytest.fixture
def no_connection_env(monkeypatch):
    for name in CONNECTION_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("args, sentence", [
    ({"intervall": 5}, "intervall"),
    ({"interval": 0}, "interval must be 1 second or more, not 0"),
    ({"emit": "sometimes"}, "emit"),
    ({"expiring_within_days": -1}, "expiring_within_days must be 0 or more, not -1"),
    ({"state_file": "/no/such/folder/events.json"}, "state_file: the folder /no/such/folder does not exist"),
    ({"store": {"type": "vault_file", "paht": "/tmp/x"}}, "paht"),
])
def test_bad_args_stop_the_source_at_start_with_one_sentence(no_connection_env, args, sentence):
    args = dict({"server_url": "https://c1.example", "access_token": "tok-abcdefgh123"}, **args)
    with pytest.raises(source.BadArguments) as raised:
        asyncio.run(source.main(asyncio.Queue(), args))
    message = str(raised.value)
    assert sentence in message and "\n" not in message and "tok-abcdefgh123" not in message


def test_no_connection_is_bad_input(no_connection_env):
    with pytest.raises(source.BadArguments, match="No ConductorOne credentials were given"):
        asyncio.run(source.main(asyncio.Queue(), {}))


def test_main_polls_in_a_worker_thread_and_queues_each_event(monkeypatch):
    threads = []

    def report():
        threads.append(threading.current_thread())
        return {"platform": "orkes", "credentials": [{"kind": "credential", "id": "k1", "name": None,
                                                      "flags": ["unheld"]}]}
    monkeypatch.setattr(source, "poller_for", lambda args: (source.Poller(report), 1))

    async def first_event():
        queue = asyncio.Queue()
        task = asyncio.ensure_future(source.main(queue, {}))
        event = await asyncio.wait_for(queue.get(), 10)
        task.cancel()
        return event

    event = asyncio.run(first_event())
    assert event["conductor_principals"]["platform"] == "orkes"
    assert threads and threads[0] is not threading.main_thread()  # the HTTP calls never block the event loop
