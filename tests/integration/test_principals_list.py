# -*- coding: utf-8 -*-
"""One check of the principals list: the same mistake is the same sentence through sp_credential, through
service_principals and through the provision role, and nothing is written (real ansible-playbook runs)."""

from __future__ import annotations

import pytest

from helpers import CRED, writes

MODULE = "conductor.principals.service_principals"

# (the credential's mistake, the platform, the one sentence every path says about it)
MISTAKES = [
    ({"expires_days": 45}, "conductorone", "value of expires_days must be one of: 30, 60, 90, 180, got: 45"),
    ({"expires_days": 30}, "orkes", "expires_days cannot be set on platform orkes; remove it"),
    ({"revoke_previous_after_unused_hours": 0}, "conductorone",
     "revoke_previous_after_unused_hours must be 1 or more"),
]


@pytest.mark.parametrize("mistake, platform, sentence", MISTAKES, ids=["expiry", "c1-option-on-orkes", "unused-hours"])
def test_one_mistake_is_one_sentence_through_the_module_the_bulk_module_and_the_role(
        fresh, playbook, roles, store, mistake, platform, sentence):
    connection = {"platform": platform}
    credential = dict({"name": "ci"}, **mistake)
    principal = {"name": "Listed", "platform": platform, "credentials": [credential]}
    said = {}
    kept = {"path": str(store)}
    single = playbook([{CRED: dict(credential, service_principal="Listed", store=kept, **connection),
                        "register": "one", "ignore_errors": True},
                       {MODULE: dict(principals=[principal], store=kept, **connection),
                        "register": "many", "ignore_errors": True}],
                      keep=["one", "many"], extra_env=roles.env, connection_vars=False)
    said["sp_credential"] = single.results["one"]["msg"]
    said["service_principals"] = single.results["many"]["msg"]
    role = roles("provision", {"provision_principals": [principal]}, expect_rc=2)
    said["provision role"] = next(line for line in role.stdout.splitlines() if sentence in line)
    assert sentence in said["sp_credential"], said
    assert said["service_principals"].startswith("principals: principal 'Listed', credential 'ci': " + sentence)
    assert "provision_principals: principal 'Listed', credential 'ci': " + sentence in said["provision role"]
    assert writes(fresh) == 0
