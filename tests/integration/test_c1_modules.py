# -*- coding: utf-8 -*-
"""The C1 modules through real ansible-playbook runs against the sandbox."""

from __future__ import annotations

import pytest

from helpers import CRED, CRED_INFO, PERSONAL, SP, SP_INFO, TOKEN, api, live_credentials, principals_named, writes


# ---- service_principal ----------------------------------------------------------------

@pytest.mark.matrix
def test_service_principal_create_is_idempotent_and_second_run_writes_nothing(fresh, playbook):
    first = playbook([{SP: {"name": "Terraform CI"}, "register": "sp"}], keep=["sp"])
    assert first.results["sp"]["changed"] is True
    sp_id = first.results["sp"]["service_principal"]["id"]
    before = writes(fresh)
    second = playbook([{SP: {"name": "Terraform CI"}, "register": "sp"}], keep=["sp"])
    assert second.results["sp"]["changed"] is False
    assert second.results["sp"]["service_principal"]["id"] == sp_id
    assert writes(fresh) == before
    assert len(principals_named(fresh, "Terraform CI")) == 1


@pytest.mark.matrix
def test_service_principal_check_mode_and_diff(fresh, playbook):
    run = playbook([{SP: {"name": "Check CI"}, "register": "sp"}], keep=["sp"], check=True, diff=True)
    assert run.results["sp"]["changed"] is True
    assert writes(fresh) == 0 and principals_named(fresh, "Check CI") == []
    assert "Check CI" in run.stdout  # the diff is shown


def test_service_principal_rename_by_id_and_delete(fresh, playbook):
    sp_id = playbook([{SP: {"name": "Old"}, "register": "sp"}], keep=["sp"]).results["sp"]["service_principal"]["id"]
    renamed = playbook([{SP: {"id": sp_id, "name": "New"}, "register": "sp"}], keep=["sp"])
    assert renamed.results["sp"]["changed"] and renamed.results["sp"]["service_principal"]["name"] == "New"
    gone = playbook([{SP: {"name": "New", "state": "absent"}, "register": "sp"}], keep=["sp"])
    assert gone.results["sp"]["changed"] and principals_named(fresh, "New") == []
    again = playbook([{SP: {"name": "New", "state": "absent"}, "register": "sp"}], keep=["sp"])
    assert again.results["sp"]["changed"] is False


def test_ambiguous_name_fails_listing_the_ids(fresh, playbook):
    ids = [api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "Twin"})["servicePrincipal"]["id"]
           for dummy in range(2)]
    run = playbook([{SP: {"name": "Twin"}}], expect_rc=2)
    for sp_id in ids:
        assert sp_id in run.stdout
    assert "2 service principals are named 'Twin'" in run.stdout


def test_lookup_by_name_reads_every_page(fresh, playbook):
    for index in range(25):  # more than the sandbox's default page size
        api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "filler-%02d" % index})
    run = playbook([{SP: {"name": "filler-24"}, "register": "sp"}, {SP_INFO: {}, "register": "all"}],
                   keep=["sp", "all"])
    assert run.results["sp"]["changed"] is False
    assert len([p for p in run.results["all"]["service_principals"] if p["name"].startswith("filler-")]) == 25


def test_lost_create_answer_makes_no_duplicate(fresh, playbook):
    fresh.fault("POST", "/api/v1/service_principals", "drop_after_commit")
    run = playbook([{SP: {"name": "Dropped"}, "register": "sp"}], keep=["sp"])
    assert run.results["sp"]["changed"] is True
    assert len(principals_named(fresh, "Dropped")) == 1


# ---- sp_credential and access_token ------------------------------------------------------

@pytest.mark.matrix
def test_credential_lifecycle_secret_once_token_and_idempotence(fresh, playbook):
    create = playbook([
        {SP: {"name": "Terraform CI"}},
        {CRED: {"service_principal": "Terraform CI", "name": "prod-terraform", "expires_days": 90,
                "allowed_cidrs": ["127.0.0.0/8", "2001:DB8::/32"], "scoped_roles": ["Read-Only Admin"]},
         "register": "cred"},
        {TOKEN: {"client_id": "{{ cred.client_id }}", "client_secret": "{{ cred.client_secret }}",
                 "validate": True}, "register": "tok"},
        {"ansible.builtin.uri": {"url": "{{ tok.server_url }}/api/v1/auth/introspect", "headers": "{{ tok.headers }}"},
         "no_log": True, "register": "who"},
    ], keep=["cred", "tok", "who"])
    cred, tok = create.results["cred"], create.results["tok"]
    assert cred["changed"] and cred["client_secret"].startswith("secret-token:conductorone.com:v1:")
    assert cred["credential"]["allowed_cidrs"] == ["127.0.0.0/8", "2001:db8::/32"]
    assert tok["changed"] is False and tok["token_type"] == "Bearer" and tok["identity"]
    assert create.results["who"]["status"] == 200
    assert "censored" in create.stdout  # results holding secrets are hidden without no_log

    before = writes(fresh)
    again = playbook([{CRED: {"service_principal": "Terraform CI", "name": "prod-terraform", "expires_days": 90,
                              "allowed_cidrs": ["2001:db8::/32", "127.0.0.1/8"],
                              "scoped_roles": ["Read-Only Admin"]}, "register": "cred"}], keep=["cred"])
    assert again.results["cred"]["changed"] is False
    assert "client_secret" not in again.results["cred"]
    assert writes(fresh) == before


def test_drift_fails_then_replace_on_change_replaces(fresh, playbook):
    playbook([{SP: {"name": "Drift"}}, {CRED: {"service_principal": "Drift", "name": "c", "expires_days": 30},
                                        "register": "made"}])
    before = writes(fresh)
    failed = playbook([{CRED: {"service_principal": "Drift", "name": "c", "expires_days": 60, "require_dpop": True}}],
                      expect_rc=2)
    assert "expires_days is 30, wanted 60" in failed.stdout and "require_dpop is false, wanted true" in failed.stdout
    assert writes(fresh) == before
    replaced = playbook([{CRED: {"service_principal": "Drift", "name": "c", "expires_days": 60,
                                 "replace_on_change": True}, "register": "cred"}], keep=["cred"])
    result = replaced.results["cred"]
    assert result["changed"] and len(result["revoked_ids"]) == 1 and result["client_secret"]


def test_rotation_with_overlap_then_cutover(fresh, playbook):
    first = playbook([{SP: {"name": "Rot"}}, {CRED: {"service_principal": "Rot", "name": "c"}, "register": "c"}],
                     keep=["c"]).results["c"]
    rotated = playbook([{CRED: {"service_principal": "Rot", "name": "c", "force_rotate": True,
                                "revoke_previous": False}, "register": "c"}], keep=["c"]).results["c"]
    assert rotated["changed"] and rotated["revoked_ids"] == [] and rotated["client_secret"]
    assert rotated["kept_ids"] == [first["credential"]["id"]]
    sp_id = rotated["credential"]["service_principal_id"]
    assert {c["id"] for c in live_credentials(fresh, sp_id)} == {first["credential"]["id"], rotated["credential"]["id"]}
    cutover = playbook([{CRED: {"service_principal": "Rot", "name": "c"}, "register": "c"}], keep=["c"]).results["c"]
    assert cutover["changed"] and cutover["revoked_ids"] == [first["credential"]["id"]]
    assert [c["id"] for c in live_credentials(fresh, sp_id)] == [rotated["credential"]["id"]]


def test_lost_credential_create_leaves_no_live_orphan(fresh, playbook):
    sp_id = playbook([{SP: {"name": "Orphan"}, "register": "sp"}], keep=["sp"]).results["sp"]["service_principal"]["id"]
    fresh.fault("POST", "/api/v1/service_principals/{service_principal_id}/credentials", "drop_after_commit")
    result = playbook([{CRED: {"service_principal_id": sp_id, "name": "c"}, "register": "c"}], keep=["c"]).results["c"]
    live = live_credentials(fresh, sp_id)
    assert [c["id"] for c in live] == [result["credential"]["id"]]  # the orphan was revoked
    assert len(result["revoked_ids"]) == 1


def test_absent_revokes_and_deleting_the_principal_removes_credentials(fresh, playbook):
    run = playbook([{SP: {"name": "Bye"}, "register": "sp"},
                    {CRED: {"service_principal": "Bye", "name": "a"}, "register": "a"},
                    {CRED: {"service_principal": "Bye", "name": "b"}, "register": "b"},
                    {CRED: {"service_principal": "Bye", "name": "a", "state": "absent"}, "register": "gone"}],
                   keep=["sp", "gone"])
    sp_id = run.results["sp"]["service_principal"]["id"]
    assert run.results["gone"]["changed"] and [c["displayName"] for c in live_credentials(fresh, sp_id)] == ["b"]
    playbook([{SP: {"name": "Bye", "state": "absent"}}])
    info = playbook([{CRED_INFO: {"service_principal_id": sp_id}, "register": "i", "ignore_errors": True}],
                    keep=["i"])
    assert info.results["i"].get("credentials", []) == []


def test_credential_info_reports_expiry(fresh, playbook):
    made = {CRED: {"service_principal": "Info", "name": "c", "expires_days": 30}, "register": "made"}
    run = playbook([{SP: {"name": "Info"}}, made,
                    {CRED_INFO: {"service_principal": "Info"}, "register": "i"}], keep=["i"])
    (credential,) = run.results["i"]["credentials"]
    assert credential["expires_in_days"] in (29, 30) and credential["expired"] is False
    assert "client_secret" not in credential


def test_v1_secret_never_travels(fresh, playbook):
    fresh.settings(refuse_plain_client_secret=True)
    try:
        run = playbook([{TOKEN: {"validate": True}, "register": "tok"}], keep=["tok"])
    finally:
        fresh.settings(refuse_plain_client_secret=False)
    assert run.results["tok"]["identity"]


def test_dpop_credential_gets_a_dpop_token_and_can_manage(fresh, playbook):
    run = playbook([
        {SP: {"name": "Dpop"}},
        {CRED: {"service_principal": "Dpop", "name": "d", "require_dpop": True}, "register": "cred"},
        {TOKEN: {"client_id": "{{ cred.client_id }}", "client_secret": "{{ cred.client_secret }}", "validate": True},
         "register": "tok"},
    ], keep=["tok"])
    tok = run.results["tok"]
    assert tok["token_type"] == "DPoP" and tok["dpop_key"]["kty"] == "OKP" and "d" in tok["dpop_key"]
    assert tok["headers"]["Authorization"].startswith("DPoP ")


def test_access_token_in_check_mode(fresh, playbook):
    run = playbook([{TOKEN: {}, "register": "tok"}], keep=["tok"], check=True)
    assert run.results["tok"]["access_token"] and run.results["tok"]["changed"] is False


@pytest.mark.matrix
def test_personal_client_never_expiring(fresh, playbook):
    run = playbook([{PERSONAL: {"name": "laptop", "expires_days": 0}, "register": "k"}], keep=["k"])
    key = run.results["k"]
    assert key["changed"] and key["client_secret"] and key["credential"]["expires_at"] is None
    again = playbook([{PERSONAL: {"name": "laptop", "expires_days": 0}, "register": "k"}], keep=["k"])
    assert again.results["k"]["changed"] is False


# ---- bad input: one sentence, zero writes -------------------------------------------------

BAD_INPUT = [
    ({CRED: {"service_principal": "Bad", "name": "c", "allowed_cidrs": ["10.0.0.0/33"]}},
     "allowed_cidrs: '10.0.0.0/33' is not an IPv4 or IPv6 CIDR"),
    ({CRED: {"service_principal": "Bad", "name": "c", "expires_days": 45}}, "expires_days"),
    ({CRED: {"service_principal": "Bad", "name": "c", "scoped_roles": ["No Such Role"]}},
     "no role has the ID or name 'No Such Role'"),
    ({CRED: {"service_principal": "Bad", "name": "c", "enabled": False}}, "enabled cannot be set on platform"),
    ({SP: {"name": "x", "client_id": "not-a-client-id"}}, "is not a ConductorOne client ID"),
    ({SP: {"name": "x", "client_secret": "conductorone.com:v1:abc"}}, "must start with 'secret-token:'"),
    ({SP: {"name": "x", "server_url": "https://127.0.0.1:1", "retries": 0}}, "Cannot reach 127.0.0.1:1"),
    ({SP: {"name": "x", "roles": ["ADMIN"]}}, "only for platform orkes"),
]


def test_bad_input_fails_with_one_sentence_and_no_write(fresh, playbook):
    playbook([{SP: {"name": "Bad"}}])
    for task, fragment in BAD_INPUT:
        before = writes(fresh)
        run = playbook([task], expect_rc=2)
        assert fragment in run.stdout, (task, run.stdout[-2000:])
        assert writes(fresh) == before, task


def test_missing_credentials_fail_clearly(fresh, playbook):
    run = playbook([{SP: {"name": "x"}}], connection_vars=False, expect_rc=2)
    assert "No ConductorOne credentials were given" in run.stdout


def test_read_only_scope_gets_a_clear_403(fresh, playbook):
    run = playbook([
        {SP: {"name": "RO"}},
        {CRED: {"service_principal": "RO", "name": "ro", "scoped_roles": ["Read-Only Admin"]}, "register": "ro"},
        {SP: {"name": "Forbidden", "client_id": "{{ ro.client_id }}", "client_secret": "{{ ro.client_secret }}"},
         "ignore_errors": True, "register": "denied"},
    ], keep=["denied"])
    assert run.results["denied"]["failed"] and run.results["denied"]["status"] == 403
    assert "read-only role" in run.results["denied"]["msg"]
    assert principals_named(fresh, "Forbidden") == []


@pytest.mark.matrix
def test_credential_check_mode_predicts_and_diff_shows_no_secret(fresh, playbook):
    playbook([{SP: {"name": "Checked"}}])
    before = writes(fresh)
    checked = playbook([{CRED: {"service_principal": "Checked", "name": "c", "expires_days": 30}, "register": "c"}],
                       keep=["c"], check=True, diff=True)
    result = checked.results["c"]
    assert result["changed"] and "client_secret" not in result and result["credential"]["id"] is None
    assert writes(fresh) == before
    made = playbook([{CRED: {"service_principal": "Checked", "name": "c", "expires_days": 30}, "register": "c"}],
                    keep=["c"], diff=True).results["c"]
    assert made["diff"]["before"] == {} and made["diff"]["after"]["name"] == "c"
    assert "client_secret" not in str(made["diff"])
    rotate = playbook([{CRED: {"service_principal": "Checked", "name": "c", "force_rotate": True}, "register": "c"}],
                      keep=["c"], check=True).results["c"]
    assert rotate["changed"] and rotate["revoked_ids"] == [made["credential"]["id"]]
    assert writes(fresh) == before + 1


def test_workload_federation_token_exchange(fresh, playbook):
    sp = api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "federated"})["servicePrincipal"]
    provider = api(fresh, "POST", "/api/v1/workload_federation/providers", json={
        "displayName": "ci", "issuerUrl": fresh.url + "/_sandbox/oidc",
        "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM", "oidc": {}})["provider"]
    trust = api(fresh, "POST", "/api/v1/service_principals/%s/trusts" % sp["id"],
                json={"providerId": provider["id"], "displayName": "main",
                      "conditionExpression": 'claims.sub == "repo:main"'})["trust"]
    oidc = fresh.control("POST", "/oidc/token", json={"sub": "repo:main", "aud": trust["clientId"]})["token"]
    run = playbook([{TOKEN: {"validate": True}, "register": "t"}], keep=["t"], connection_vars=False,
                   module_defaults={"server_url": fresh.url, "client_id": trust["clientId"], "oidc_token": oidc})
    assert run.results["t"]["identity"]["principleId"] == sp["id"]
