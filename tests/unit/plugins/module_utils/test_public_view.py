# -*- coding: utf-8 -*-
"""What a censored result may still show, and the one sentence for an unknown option."""

from __future__ import annotations

from ansible_collections.conductor.principals.plugins.module_utils.public_view import (
    closest, diff_text, public_summary, unsupported_message)

SECRET = "secret-token:conductorone.com:v1:abcdefghijklmnop"
CREDENTIAL = {"id": "cred-1", "name": "ci", "client_id": "fox@h/spc", "expires_at": "2027-02-20T12:00:00Z"}


def created():
    return {"changed": True, "client_secret": SECRET, "client_id": "fox@h/spc", "credential": dict(CREDENTIAL),
            "revoked_ids": ["cred-0"], "server_url": "https://h", "invocation": {"module_args": {"x": SECRET}},
            "diff": {"before": {}, "after": dict(CREDENTIAL)}}


def test_summary_keeps_ids_client_id_and_expiry_and_drops_the_secret():
    summary = public_summary(created())
    assert summary["credential"] == CREDENTIAL and summary["client_id"] == "fox@h/spc"
    assert summary["revoked_ids"] == ["cred-0"]
    assert SECRET not in repr(summary) and "invocation" not in summary and "client_secret" not in summary


def test_a_secret_misplaced_in_a_public_key_is_scrubbed():
    result = created()
    result["reason"] = "made with " + SECRET
    result["identity"] = {"note": SECRET, "dpop": {"d": "private-part-of-the-key"}}
    result["dpop_key"] = {"kty": "OKP", "d": "private-part-of-the-key"}
    summary = public_summary(result)
    assert SECRET not in repr(summary) and "private-part-of-the-key" not in repr(summary)
    assert summary["reason"] == "made with <redacted>"


def test_token_results_show_no_header_or_key():
    result = {"changed": False, "access_token": "eyJ.token.value", "headers": {"Authorization": "Bearer eyJ.token.value"},
              "token_type": "DPoP", "expires_at": "2026-11-22T13:00:00Z",
              "dpop_key": {"kty": "OKP", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}}
    assert public_summary(result) == {"changed": False, "token_type": "DPoP", "expires_at": "2026-11-22T13:00:00Z"}


def test_diff_of_a_create_shows_the_new_credential():
    text = diff_text(created())
    assert text.startswith("--- before\n+++ after\n")
    assert '+    "client_id": "fox@h/spc",' in text and '+    "id": "cred-1",' in text
    assert SECRET not in text


def test_diff_scrubs_and_is_empty_without_a_diff():
    result = created()
    result["diff"]["after"]["name"] = SECRET
    assert SECRET not in diff_text(result)
    assert diff_text({"changed": True}) == ""
    assert diff_text({"diff": {"before": {"a": 1}, "after": {"a": 1}}}) == ""


def test_unknown_option_suggests_the_close_one():
    supported = ["name", "display_name", "service_principal", "expires_days", "state"]
    assert closest("nmae", supported) == "name"
    assert closest("expire_days", supported) == "expires_days"
    assert closest("colour", supported) is None
    assert unsupported_message("conductor.principals.sp_credential", {"expire_days"}, supported) == (
        "Unsupported parameters for (conductor.principals.sp_credential) module: expire_days "
        "(did you mean expires_days?)")


def test_unknown_option_without_a_close_one_lists_the_supported():
    message = unsupported_message("m.n", {"colour"}, ["state", "name"])
    assert message == "Unsupported parameters for (m.n) module: colour; supported parameters include: name, state"
