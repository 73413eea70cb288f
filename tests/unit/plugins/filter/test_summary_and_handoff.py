# -*- coding: utf-8 -*-
"""The playbooks' run summary table and the hand-off environment, on plain values."""

from __future__ import annotations

import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.filter.handoff import FilterModule as HandoffFilters
from ansible_collections.conductor.principals.plugins.filter.handoff import tool_environment
from ansible_collections.conductor.principals.plugins.filter.summary import FilterModule as SummaryFilters
from ansible_collections.conductor.principals.plugins.filter.summary import summary_table

SECRET = "secret-token:do-not-show:v1:abc"


def test_filters_are_exported():
    assert set(SummaryFilters().filters()) == {"summary_table"}
    assert set(HandoffFilters().filters()) == {"tool_environment"}


def test_summary_table_has_a_line_per_row_and_totals_per_platform():
    summary = [
        {"platform": "conductorone", "principal": "Terraform CI", "credential": "ci", "action": "created",
         "client_id": "fox@h/spc", "expires_at": "2027-03-01T00:00:00Z", "revoked": 0, "client_secret": SECRET},
        {"platform": "conductorone", "principal": "Terraform CI", "credential": "old", "action": "rotated",
         "client_id": "owl@h/spc", "expires_at": None, "revoked": 1},
        {"platform": "orkes", "principal": "Worker", "credential": "key", "action": "unchanged",
         "client_id": "k1", "expires_at": None},
    ]
    removed = [{"platform": "orkes", "principal": "Gone", "credential": "", "action": "removed", "revoked": 0}]
    lines = summary_table(summary, removed)
    assert lines[0].split() == ["PLATFORM", "PRINCIPAL", "CREDENTIAL", "ACTION", "CLIENT", "ID", "EXPIRES", "AT",
                                "REVOKED"]
    assert len(lines) == 1 + 4 + 2
    assert lines[1].index("created") == lines[2].index("rotated") == lines[4].index("removed")
    assert "never" in lines[2] and lines[2].rstrip().endswith("1")
    assert lines[-2] == "conductorone: 1 created, 1 rotated, 1 revoked, 0 removed, 0 unchanged"
    assert lines[-1] == "orkes: 0 created, 0 rotated, 0 revoked, 1 removed, 1 unchanged"
    assert SECRET not in "\n".join(lines)


def test_trusts_show_their_client_id_and_failed_items_their_error():
    summary = [
        {"platform": "conductorone", "principal": "deployer", "credential": "infra", "kind": "trust",
         "action": "created", "client_id": "owl@h/wfe"},
        {"platform": "conductorone", "principal": "Team", "credential": "ci", "kind": "credential", "action": "failed",
         "error": "Could not create credential 'ci':\n the API refused it."}]
    lines = summary_table(summary)
    assert lines[1].split() == ["conductorone", "deployer", "infra", "(trust)", "created", "owl@h/wfe"]
    assert lines[2].split() == ["conductorone", "Team", "ci", "failed"]
    assert lines[3] == "failed: conductorone / Team / ci: Could not create credential 'ci': the API refused it."
    assert lines[4] == "conductorone: 1 created, 0 rotated, 0 revoked, 0 removed, 0 unchanged, 1 failed"


def test_check_mode_is_worded_as_a_plan():
    summary = [{"platform": "orkes", "principal": "W", "credential": "key", "action": "rotated", "revoked": 1},
               {"platform": "orkes", "principal": "W", "credential": "other", "action": "unchanged"}]
    removed = [{"platform": "orkes", "principal": "Gone", "credential": "", "action": "removed"}]
    lines = summary_table(summary, removed, check_mode=True)
    assert lines[0] == "Check mode: nothing was changed. What a run would do:"
    assert lines[1].split()[-1] == "REVOKE" and "would rotate" in lines[2] and "would remove" in lines[4]
    assert lines[-1] == "orkes: would create 0, rotate 1, revoke 1, remove 1; 1 unchanged"
    assert not [line for line in lines if "rotated" in line or "removed" in line]


def test_an_empty_run_says_so_and_bad_input_is_one_sentence():
    assert summary_table([], None)[-1] == "(nothing listed)"
    assert summary_table(None)[-1] == "(the run stopped before its principals were ensured; the error above says why)"
    with pytest.raises(AnsibleFilterError, match="takes provision_summary, a list of rows, not dict"):
        summary_table({"a": 1})


def test_tool_environment_for_conductorone_and_orkes():
    c1 = {"client_id": "fox@tenant.conductor.one/spc", "client_secret": SECRET,
          "server_url": "https://tenant.conductor.one"}
    assert tool_environment(c1) == {"CONDUCTORONE_CLIENT_ID": c1["client_id"], "CONDUCTORONE_CLIENT_SECRET": SECRET,
                                    "CONDUCTORONE_SERVER_URL": "https://tenant.conductor.one"}
    entry = {"platform": "orkes", "client_id": "key-1", "client_secret": "s3cr3t", "server_url": "https://o/api",
             "credential_id": "key-1", "names": {}}
    assert tool_environment(entry) == {"CONDUCTOR_AUTH_KEY": "key-1", "CONDUCTOR_AUTH_SECRET": "s3cr3t",
                                       "CONDUCTOR_SERVER_URL": "https://o/api"}
    assert tool_environment(dict(c1, server_url=None)) == {
        "CONDUCTORONE_CLIENT_ID": c1["client_id"], "CONDUCTORONE_CLIENT_SECRET": SECRET}


def test_tool_environment_as_shell_lines_a_shell_reads_back_exactly():
    tricky = {"client_id": "k", "client_secret": "it's $HOME `x` \"q\"", "server_url": "https://o/api"}
    lines = tool_environment(tricky, platform="orkes", format="shell")
    done = subprocess.run(["sh", "-c", ". /dev/stdin; printf %s \"$CONDUCTOR_AUTH_SECRET\""], input=lines,
                          capture_output=True, text=True, check=True)
    assert done.stdout == tricky["client_secret"]


@pytest.mark.parametrize("credential, kwargs, message", [
    ("x", {}, "takes a credential (a dict with client_id and client_secret), not str"),
    ({"client_id": "a"}, {}, "has no client_secret"),
    ({"client_id": "a", "client_secret": SECRET}, {"platform": "okta"}, "platform must be one of"),
    ({"client_id": "a", "client_secret": SECRET, "platform": "orkes"}, {"platform": "conductorone"},
     "the credential is of platform orkes, not conductorone"),
    ({"client_id": "a", "client_secret": SECRET}, {"format": "json"}, "format must be one of dict, shell"),
])
def test_tool_environment_bad_input_is_one_sentence_without_the_secret(credential, kwargs, message):
    with pytest.raises(AnsibleFilterError) as err:
        tool_environment(credential, **kwargs)
    assert message in str(err.value) and SECRET not in str(err.value)
