# -*- coding: utf-8 -*-
"""Secrets stay where they belong: a v1 secret never travels, and no mode or error path shows one.

Every run here is -vvv with ANSIBLE_LOG_PATH set; the ``playbook`` fixture fails the test if any secret
or token the sandbox ever issued appears in stdout, stderr or the log. These cover what
test_c1_modules.py and test_orkes_modules.py do not: every C1 module under the switch that refuses
plain secrets, check and diff mode of the remaining modules, and errors after real secrets were issued.
"""

from __future__ import annotations

import pytest
import requests

from helpers import CRED, CRED_INFO, PERSONAL, SP, SP_INFO, TOKEN, orkes, writes

REFUSED = "this server refuses plain client_secret"


def _no_secret_outside_its_key(result):
    """Only client_secret / access_token / dpop_key may hold a secret; never a diff or a message."""
    shown = {k: v for k, v in result.items() if k not in ("client_secret", "access_token", "dpop_key", "headers")}
    for value in (result.get("client_secret"), result.get("access_token")):
        if value:
            assert value not in str(shown)


def test_no_module_posts_a_v1_secret(fresh, playbook):
    fresh.settings(refuse_plain_client_secret=True)
    try:
        # The switch is on: the bootstrap secret posted as it is gets refused.
        plain = requests.post(fresh.c1["server_url"] + "/auth/v1/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": fresh.c1["client_id"],
            "client_secret": fresh.c1["client_secret"]})
        assert plain.status_code == 401 and REFUSED in plain.text
        run = playbook([
            {SP: {"name": "Hygiene"}},
            {SP_INFO: {"name": "Hygiene"}, "register": "info"},
            {CRED: {"service_principal": "Hygiene", "name": "c"}, "register": "cred"},
            {CRED_INFO: {"service_principal": "Hygiene"}, "register": "creds"},
            {PERSONAL: {"name": "hygiene-key", "expires_days": 30}, "register": "personal"},
            {TOKEN: {"validate": True}, "register": "tok"},
            # A secret issued in this run works the same way.
            {SP_INFO: {"name": "Hygiene", "client_id": "{{ cred.client_id }}",
                       "client_secret": "{{ cred.client_secret }}"}, "register": "as_new"},
        ], keep=["info", "creds", "personal", "tok", "as_new"])
    finally:
        fresh.settings(refuse_plain_client_secret=False)
    assert [p["name"] for p in run.results["as_new"]["service_principals"]] == ["Hygiene"]
    assert run.results["tok"]["identity"] and len(run.results["creds"]["credentials"]) == 1
    assert run.results["personal"]["client_secret"]
    assert REFUSED not in run.output


@pytest.mark.matrix
def test_check_mode_of_the_remaining_modules(fresh, playbook):
    playbook([{SP: {"name": "Checked"}}, {CRED: {"service_principal": "Checked", "name": "c"}, "register": "c"},
              {PERSONAL: {"name": "checked-key", "expires_days": 30}, "register": "k"}])
    before = writes(fresh)
    c1 = playbook([
        {SP_INFO: {"name": "Checked"}, "register": "info"},
        {CRED_INFO: {"service_principal": "Checked"}, "register": "creds"},
        {PERSONAL: {"name": "checked-key", "expires_days": 30, "force_rotate": True}, "register": "personal"},
        {PERSONAL: {"name": "another-key"}, "register": "new"},
    ], keep=["info", "creds", "personal", "new"], check=True, diff=True)
    assert writes(fresh) == before
    assert c1.results["info"]["service_principals"] and c1.results["creds"]["credentials"]
    for name in ("personal", "new"):
        assert c1.results[name]["changed"] and "client_secret" not in c1.results[name]

    run_orkes = dict(connection_vars=False, module_defaults=orkes(fresh))
    playbook([{SP: {"name": "checked-app"}}, {CRED: {"service_principal": "checked-app"}, "register": "c"}],
             **run_orkes)
    before = writes(fresh)
    ork = playbook([
        {CRED: {"service_principal": "checked-app", "force_rotate": True}, "register": "rotate"},
        {CRED: {"service_principal": "checked-app", "state": "absent"}, "register": "gone"},
        {TOKEN: {}, "register": "tok"},
    ], keep=["rotate", "gone", "tok"], check=True, diff=True, **run_orkes)
    assert writes(fresh) == before
    assert ork.results["rotate"]["changed"] and "client_secret" not in ork.results["rotate"]
    assert ork.results["gone"]["changed"] and ork.results["tok"]["access_token"]
    _no_secret_outside_its_key(ork.results["tok"])


@pytest.mark.matrix
def test_diff_mode_when_secrets_are_created(fresh, playbook):
    c1 = playbook([{PERSONAL: {"name": "diff-key", "expires_days": 30}, "register": "personal"},
                   {TOKEN: {}, "register": "tok"}], keep=["personal", "tok"], diff=True)
    personal = c1.results["personal"]
    assert personal["client_secret"] and personal["diff"]["after"]["name"] == "diff-key"
    _no_secret_outside_its_key(personal)
    _no_secret_outside_its_key(c1.results["tok"])

    ork = playbook([{SP: {"name": "diff-app"}},
                    {CRED: {"service_principal": "diff-app"}, "register": "key"},
                    {CRED: {"service_principal": "diff-app", "force_rotate": True}, "register": "rotated"}],
                   keep=["key", "rotated"], diff=True, connection_vars=False, module_defaults=orkes(fresh))
    for name in ("key", "rotated"):
        result = ork.results[name]
        assert result["client_secret"] and result["diff"]["after"]["id"] == result["credential"]["id"]
        _no_secret_outside_its_key(result)


@pytest.mark.matrix
def test_errors_after_secrets_were_issued(fresh, playbook):
    as_cred = {"client_id": "{{ cred.client_id }}", "client_secret": "{{ cred.client_secret }}"}
    c1 = playbook([
        {SP: {"name": "Errors"}},
        {CRED: {"service_principal": "Errors", "name": "c"}, "register": "cred"},
        {CRED: {"service_principal": "Errors", "name": "c", "state": "absent"}},
        {TOKEN: as_cred, "register": "revoked_token", "ignore_errors": True},
        {SP_INFO: as_cred, "register": "revoked_info", "ignore_errors": True},
        {PERSONAL: {"name": "err-key", "expires_days": 30}, "register": "key"},
        {PERSONAL: {"name": "err-key", "expires_days": 60}, "register": "drift", "ignore_errors": True},
    ], keep=["revoked_token", "revoked_info", "drift"])
    for name in ("revoked_token", "revoked_info"):
        assert c1.results[name]["failed"] and c1.results[name]["status"] == 401
    assert "expires_days is 30, wanted 60" in c1.results["drift"]["msg"]

    as_key = {"client_id": "{{ key.client_id }}", "client_secret": "{{ key.client_secret }}"}
    ork = playbook([
        {SP: {"name": "errors-app"}},
        {CRED: {"service_principal": "errors-app"}, "register": "key"},
        {CRED: {"service_principal": "errors-app", "id": "{{ key.credential.id }}", "enabled": False}},
        {TOKEN: as_key, "register": "paused_token", "ignore_errors": True},
        {CRED_INFO: dict(as_key, service_principal="errors-app"), "register": "paused_info", "ignore_errors": True},
    ], keep=["paused_token", "paused_info"], connection_vars=False, module_defaults=orkes(fresh))
    for name in ("paused_token", "paused_info"):
        assert ork.results[name]["failed"] and ork.results[name]["status"] == 401
