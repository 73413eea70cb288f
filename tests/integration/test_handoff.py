# -*- coding: utf-8 -*-
"""The hand-off (docs/guide/handoff.md): a credential from the facts or the store, turned by
conductor.principals.tool_environment into the environment the tools read, used by ConductorOne's
quick-start token request (curl) and by an Orkes token request, in real playbooks at -vvv; the
conftest runner searches the whole output for every secret the sandbox issued."""

from __future__ import annotations

import shutil

import pytest

from helpers import CRED, SP, orkes

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the quick start's request needs curl")

# The quick start's own request, reading only the environment the filter made.
C1_TOKEN_REQUEST = ('set -a && . /dev/stdin && set +a && '
                    'curl -s -X POST "$CONDUCTORONE_SERVER_URL/auth/v1/token" -d grant_type=client_credentials '
                    '-d client_id="$CONDUCTORONE_CLIENT_ID" -d client_secret="$CONDUCTORONE_CLIENT_SECRET"')
ORKES_TOKEN_REQUEST = ('set -a && . /dev/stdin && set +a && '
                       'curl -s -X POST "$CONDUCTOR_SERVER_URL/token" -H "Content-Type: application/json" '
                       '-d "{\\"keyId\\": \\"$CONDUCTOR_AUTH_KEY\\", \\"keySecret\\": \\"$CONDUCTOR_AUTH_SECRET\\"}"')


def _handoff(command, credential):
    return [
        {"name": "The tool's request, in the credential's environment",
         "ansible.builtin.shell": {"cmd": command, "stdin": "{{ %s | conductor.principals.tool_environment("
                                                            "format='shell') }}" % credential},
         "register": "answer", "no_log": True, "changed_when": False},
        {"name": "It obtained a token",
         "ansible.builtin.assert": {"that": ["(answer.stdout | from_json).access_token | default('') | length > 20"
                                             if "auth/v1" in command else
                                             "(answer.stdout | from_json).token | default('') | length > 20"],
                                    "fail_msg": "no token", "quiet": True}},
    ]


def test_c1_quick_start_token_request_from_the_result_and_from_the_store(fresh, playbook, tmp_path):
    store = {"type": "vault_file", "path": str(tmp_path / "ids.vault"), "password": "handoff pw"}
    run = playbook([
        {SP: {"name": "Handoff CI"}},
        {CRED: {"service_principal": "Handoff CI", "name": "terraform", "store": store}, "register": "cred"},
        *_handoff(C1_TOKEN_REQUEST, "cred"),
        {"name": "The stored entry", "ansible.builtin.set_fact": {
            "entry": "{{ lookup('conductor.principals.stored_credential', 'Handoff CI/terraform', store=%s) }}"
                     % store},
         "no_log": True},
        *_handoff(C1_TOKEN_REQUEST, "entry"),
        {"name": "The dict form names exactly the quick start's variables",
         "ansible.builtin.assert": {"that": [
             "cred | conductor.principals.tool_environment | list | sort == "
             "['CONDUCTORONE_CLIENT_ID', 'CONDUCTORONE_CLIENT_SECRET', 'CONDUCTORONE_SERVER_URL']"], "quiet": True}},
    ])
    assert run.stdout.count("All assertions passed") == 3


def test_orkes_worker_environment_obtains_a_token(fresh, playbook):
    run = playbook([
        {SP: {"name": "handoff-worker"}},
        {CRED: {"service_principal": "handoff-worker"}, "register": "key"},
        {"name": "Its platform", "ansible.builtin.set_fact": {"worker": "{{ key | combine({'platform': 'orkes'}) }}"},
         "no_log": True},
        *_handoff(ORKES_TOKEN_REQUEST, "worker"),
    ], connection_vars=False, module_defaults=orkes(fresh))
    assert "All assertions passed" in run.stdout
