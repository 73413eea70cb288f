# -*- coding: utf-8 -*-
"""A task that would mint a secret (a create or a rotation) with neither ``store`` nor ``register`` has nowhere to
keep it: it fails before any write, naming both ways to keep it. Check mode and runs that mint nothing are not
refused. Real ansible-playbook runs against the sandbox."""

from __future__ import annotations

import json

from helpers import CRED, PERSONAL, SP, api, live_credentials, one_sentence, principals_named, writes

SPS = "conductor.principals.service_principals"


def assert_names_both_ways(message):
    assert one_sentence(message) is None, message
    assert "store" in message and "register" in message, message


def failed(run, tasks, **kwargs):
    """The failure of a lone task run without register (its message read from the play's output)."""
    done = run(tasks, expect_rc=2, **kwargs)
    return done.stdout


def test_sp_credential_that_would_create_without_store_or_register_fails_and_writes_nothing(fresh, playbook):
    playbook([{SP: {"name": "Unkept"}}])
    sp_id = principals_named(fresh, "Unkept")[0]["id"]
    before = writes(fresh)
    out = failed(playbook, [{CRED: {"service_principal": "Unkept", "name": "ci"}}])
    assert "would be kept nowhere" in out and "give store" in out and "register" in out, out[-2000:]
    assert writes(fresh) == before and live_credentials(fresh, sp_id) == []

    # Check mode is a plan: not refused.
    checked = playbook([{CRED: {"service_principal": "Unkept", "name": "ci"}}], check=True)
    assert "changed=1" in checked.stdout and writes(fresh) == before

    # Registered, the secret is the caller's: made; a rerun that mints nothing needs no register.
    made = playbook([{CRED: {"service_principal": "Unkept", "name": "ci"}, "register": "c"}], keep=["c"])
    assert made.results["c"]["client_secret"]
    again = playbook([{CRED: {"service_principal": "Unkept", "name": "ci"}}])
    assert "changed=0" in again.stdout

    # A rotation without either is refused too, and the live credential stays as it was.
    live = live_credentials(fresh, sp_id)
    before = writes(fresh)
    out = failed(playbook, [{CRED: {"service_principal": "Unkept", "name": "ci", "force_rotate": True}}])
    assert "would be kept nowhere" in out
    assert writes(fresh) == before and live_credentials(fresh, sp_id) == live


def test_the_refusal_is_one_sentence_naming_store_and_register(fresh, playbook):
    playbook([{SP: {"name": "Unkept"}}])
    # The message as the play shows it: the task registers nothing (a register would keep the secret).
    done = playbook([{CRED: {"service_principal": "Unkept", "name": "ci"}, "ignore_errors": True}])
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith('"msg": '))
    message = json.loads("{%s}" % line.strip().rstrip(","))["msg"]
    assert_names_both_ways(message)
    assert message.startswith("This task would create credential 'ci' of 'Unkept'"), message


def test_personal_client_that_would_create_without_store_or_register_fails_and_writes_nothing(fresh, playbook):
    before = writes(fresh)
    keys = api(fresh, "GET", "/api/v1/iam/personal_clients").get("list") or []
    out = failed(playbook, [{PERSONAL: {"name": "laptop"}}])
    assert "would be kept nowhere" in out, out[-2000:]
    assert writes(fresh) == before
    assert (api(fresh, "GET", "/api/v1/iam/personal_clients").get("list") or []) == keys


def test_service_principals_returning_secrets_without_register_fails_before_any_write(fresh, playbook):
    task = {SPS: {"principals": [{"name": "Unkept", "credentials": [{"name": "ci"}]}], "return_secrets": True}}
    before = writes(fresh)
    out = failed(playbook, [task])
    assert "would be kept nowhere" in out and "register" in out, out[-2000:]
    assert writes(fresh) == before and principals_named(fresh, "Unkept") == []

    checked = playbook([task], check=True)
    assert "changed=1" in checked.stdout and writes(fresh) == before

    made = playbook([dict(task, register="tenant")], keep=["tenant"])
    assert made.results["tenant"]["secrets"]
    # Nothing to mint: not refused.
    assert "changed=0" in playbook([task]).stdout
