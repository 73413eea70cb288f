# -*- coding: utf-8 -*-
"""platform: orkes — applications, access keys and tokens through real ansible-playbook runs."""

from __future__ import annotations

import pytest

from helpers import CRED, CRED_INFO, SP, SP_INFO, TOKEN, orkes_key_works, run_on_orkes, writes


@pytest.mark.matrix
def test_application_roles_and_tags_are_exact_sets_and_idempotent(fresh, playbook):
    app = {"name": "worker-app", "roles": ["WORKER", "METADATA_MANAGER"], "tags": {"team": "ci", "env": "prod"}}
    first = run_on_orkes(playbook, fresh, [{SP: app, "register": "a"}], keep=["a"]).results["a"]
    assert first["changed"] and first["service_principal"]["roles"] == ["METADATA_MANAGER", "WORKER"]
    assert first["service_principal"]["tags"] == {"team": "ci", "env": "prod"}
    before = writes(fresh)
    second = run_on_orkes(playbook, fresh, [{SP: app, "register": "a"}], keep=["a"]).results["a"]
    assert second["changed"] is False and writes(fresh) == before
    changed = run_on_orkes(playbook, fresh, [{SP: {"name": "worker-app", "roles": ["WORKER", "USER"], "tags": {"team": "ops"}},
                                              "register": "a"}], keep=["a"], diff=True)
    result = changed.results["a"]
    assert result["changed"] and result["service_principal"]["roles"] == ["USER", "WORKER"]
    assert result["service_principal"]["tags"] == {"team": "ops"}
    assert "METADATA_MANAGER" in changed.stdout  # the diff shows what goes


def test_check_mode_rename_and_delete(fresh, playbook):
    checked = run_on_orkes(playbook, fresh, [{SP: {"name": "app-x", "roles": ["WORKER"]}, "register": "a"}], keep=["a"],
                           check=True)
    assert checked.results["a"]["changed"] and writes(fresh) == 0
    made = run_on_orkes(playbook, fresh, [{SP: {"name": "app-x"}, "register": "a"}], keep=["a"]).results["a"]
    renamed = run_on_orkes(playbook, fresh, [{SP: {"id": made["service_principal"]["id"], "name": "app-y"}, "register": "a"}],
                           keep=["a"]).results["a"]
    assert renamed["changed"] and renamed["service_principal"]["name"] == "app-y"
    gone = run_on_orkes(playbook, fresh, [{SP: {"name": "app-y", "state": "absent"}, "register": "a"},
                                          {SP_INFO: {"name": "app-y"}, "register": "i"}], keep=["a", "i"])
    assert gone.results["a"]["changed"] and gone.results["i"]["service_principals"] == []


@pytest.mark.matrix
def test_access_key_lifecycle_pause_resume_rotate_delete(fresh, playbook):
    created = run_on_orkes(playbook, fresh, [{SP: {"name": "keys"}}, {CRED: {"service_principal": "keys"}, "register": "k"}],
                           keep=["k"]).results["k"]
    key_id, secret = created["credential"]["id"], created["client_secret"]
    assert created["changed"] and orkes_key_works(fresh, key_id, secret)
    before = writes(fresh)
    again = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys"}, "register": "k"}], keep=["k"]).results["k"]
    assert again["changed"] is False and "client_secret" not in again and writes(fresh) == before

    paused = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys", "id": key_id, "enabled": False},
                                             "register": "k"}], keep=["k"]).results["k"]
    assert paused["changed"] and paused["credential"]["status"] == "INACTIVE" and not orkes_key_works(fresh, key_id, secret)
    still = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys", "id": key_id, "enabled": False},
                                            "register": "k"}], keep=["k"]).results["k"]
    assert still["changed"] is False  # the API toggles: reading first keeps it paused
    run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys", "id": key_id, "enabled": True}}])
    assert orkes_key_works(fresh, key_id, secret)

    rotated = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys", "force_rotate": True}, "register": "k"}],
                           keep=["k"]).results["k"]
    assert rotated["changed"] and rotated["revoked_ids"] == [key_id] and rotated["client_secret"]
    assert not orkes_key_works(fresh, key_id, secret)
    assert orkes_key_works(fresh, rotated["credential"]["id"], rotated["client_secret"])

    deleted = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "keys", "state": "absent"}, "register": "k"},
                                             {CRED_INFO: {"service_principal": "keys"}, "register": "i"}], keep=["k", "i"])
    assert deleted.results["k"]["changed"] and deleted.results["i"]["credentials"] == []


def test_overlap_keeps_the_old_key_until_told(fresh, playbook):
    first = run_on_orkes(playbook, fresh, [{SP: {"name": "overlap"}}, {CRED: {"service_principal": "overlap"}, "register": "k"}],
                         keep=["k"]).results["k"]
    second = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "overlap", "force_rotate": True,
                                                    "revoke_previous": False}, "register": "k"}], keep=["k"]).results["k"]
    assert second["revoked_ids"] == [] and orkes_key_works(fresh, first["credential"]["id"], first["client_secret"])
    cutover = run_on_orkes(playbook, fresh, [{CRED: {"service_principal": "overlap"}, "register": "k"}], keep=["k"]).results["k"]
    assert cutover["revoked_ids"] == [first["credential"]["id"]]


def test_options_orkes_cannot_honour_fail_clearly_without_writing(fresh, playbook):
    run_on_orkes(playbook, fresh, [{SP: {"name": "strict"}}])
    cases = [
        ({CRED: {"service_principal": "strict", "expires_days": 30}}, "expires_days cannot be set on platform orkes"),
        ({CRED: {"service_principal": "strict", "allowed_cidrs": ["10.0.0.0/8"]}}, "allowed_cidrs cannot be set"),
        ({CRED: {"service_principal": "strict", "scoped_roles": ["ADMIN"]}}, "scoped_roles cannot be set"),
        ({CRED: {"service_principal": "strict", "require_dpop": True}}, "require_dpop cannot be set"),
        ({TOKEN: {"oidc_token": "x.y.z"}}, "oidc_token is a ConductorOne option"),
        ({SP: {"name": "strict", "roles": ["GOD"]}}, "roles: GOD is not a role on this Orkes server; use one of ADMIN,"),
    ]
    for task, fragment in cases:
        before = writes(fresh)
        outcome = run_on_orkes(playbook, fresh, [task], expect_rc=2)
        assert fragment in outcome.stdout, (task, outcome.stdout[-1500:])
        assert writes(fresh) == before, task


def test_access_token_and_environment_fallbacks(fresh, playbook):
    env = {"CONDUCTOR_SERVER_URL": fresh.orkes["server_url"], "CONDUCTOR_AUTH_KEY": fresh.orkes["key_id"],
           "CONDUCTOR_AUTH_SECRET": fresh.orkes["key_secret"]}
    outcome = playbook([{TOKEN: {"platform": "orkes", "validate": True}, "register": "t"},
                        {"ansible.builtin.uri": {"url": "{{ t.server_url }}/applications", "headers": "{{ t.headers }}"},
                         "no_log": True, "register": "apps"}],
                       keep=["t", "apps"], connection_vars=False, extra_env=env)
    token = outcome.results["t"]
    assert set(token["headers"]) == {"X-Authorization"} and token["identity"]["key_id"] == fresh.orkes["key_id"]
    assert outcome.results["apps"]["status"] == 200
