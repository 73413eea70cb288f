# -*- coding: utf-8 -*-
"""``verify`` of a credential limited by allowed_cidrs, from a controller outside them: the sandbox refuses the
token as the spec says (source IP outside the credential's CIDRs), and the failure says why and names
``verify: false``. Real ansible-playbook runs against the sandbox."""

from __future__ import annotations

from helpers import CRED, SP, live_credentials, one_sentence, principals_named


def test_a_proof_refused_for_the_credentials_cidrs_says_so_and_names_verify_false(fresh, playbook):
    playbook([{SP: {"name": "Fenced"}}])
    sp_id = principals_named(fresh, "Fenced")[0]["id"]
    task = {"service_principal": "Fenced", "name": "ci", "allowed_cidrs": ["10.9.0.0/16"], "verify": True}
    done = playbook([{CRED: task, "register": "c", "ignore_errors": True}], keep=["c"])
    message = done.results["c"]["msg"]
    assert done.results["c"]["failed"] and one_sentence(message) is None, message
    assert "outside the credential's allowed_cidrs (10.9.0.0/16)" in message, message
    assert "127.0.0.1" in message and "verify: false" in message, message
    assert live_credentials(fresh, sp_id) == []  # the new one was revoked

    # Without the proof it is made (and works from inside its networks).
    made = playbook([{CRED: dict(task, verify=False), "register": "c"}], keep=["c"])
    assert made.results["c"]["changed"] and len(live_credentials(fresh, sp_id)) == 1
