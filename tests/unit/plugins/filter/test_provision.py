# -*- coding: utf-8 -*-
"""The provision and rotate roles' logic (plugins/filter/provision.py), without Ansible around it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.filter.provision import (
    FilterModule, absent_principals, bearer_tokens, credential_pairs, provision_inputs, provision_outcome,
    provision_plan, tokens_by_name)

CI = {"name": "Terraform CI", "credentials": [
    {"name": "ci", "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"], "verify": False},
    {"name": "old", "state": "absent"}]}
WORKER = {"name": "Terraform CI", "platform": "orkes", "roles": ["WORKER"], "credentials": [{"name": "ci"}]}


def present(plan):
    """The present principals the runs ensure, without their credentials and trusts."""
    return [{k: v for k, v in p.items() if k not in ("credentials", "trusts")}
            for run in plan["runs"] for p in run["principals"] if p.get("state") != "absent"]


def test_every_filter_is_exported():
    assert set(FilterModule().filters()) == {
        "federation_plan", "provision_inputs", "provision_plan", "absent_principals", "bearer_tokens",
        "provision_outcome", "credential_pairs", "tokens_by_name"}


def test_plan_flattens_with_defaults_resolved_and_keys_by_platform():
    plan = provision_plan([CI, WORKER, {"name": "Gone", "state": "absent"}], rotate_before_days=7, verify=True)
    assert plan["platforms"] == ["conductorone", "orkes"]
    assert present(plan) == [{"name": "Terraform CI", "platform": "conductorone"},
                             {"name": "Terraform CI", "platform": "orkes", "roles": ["WORKER"]}]
    assert plan["absent"] == [{"name": "Gone", "platform": "conductorone"}]
    ci, old, key = plan["credentials"]
    assert ci == {"principal": "Terraform CI", "platform": "conductorone", "name": "ci", "state": "present",
                  "rotate_before_days": 7, "force_rotate": False, "verify": False, "expires_days": 90,
                  "allowed_cidrs": ["127.0.0.0/8"]}
    assert old["state"] == "absent" and old["verify"] is True
    assert key["platform"] == "orkes" and "expires_days" not in key
    # One service_principals task per platform: its principals, whether it needs the store.
    c1_run, orkes_run = plan["runs"]
    assert c1_run["platform"] == "conductorone" and c1_run["needs_store"]
    assert [p["name"] for p in c1_run["principals"]] == ["Terraform CI", "Gone"]
    assert c1_run["principals"][1] == {"name": "Gone", "platform": "conductorone", "state": "absent"}
    assert c1_run["principals"][0]["credentials"][0] == {k: v for k, v in ci.items() if k not in ("principal", "platform")}
    assert orkes_run["principals"][0]["roles"] == ["WORKER"] and orkes_run["principals"][0]["trusts"] == []
    # No revoke_previous_after_unused_hours asked for: none is passed on.
    assert "revoke_previous_after_unused_hours" not in c1_run
    # Only present credentials are read back from the store.
    assert plan["stored_keys"] == [{"platform": "conductorone", "principal": "Terraform CI", "credential": "ci"},
                                   {"platform": "orkes", "principal": "Terraform CI", "credential": "ci"}]


def test_a_list_over_several_platforms_is_planned_on_each_first_without_its_trusts():
    trust = {"name": "gh", "provider": "https://token.actions.githubusercontent.com",
             "github": {"repository": "acme/infra", "ref": "refs/heads/main"}}
    plan = provision_plan([dict(CI, trusts=[trust]), WORKER, {"name": "Gone", "state": "absent"}])
    c1_check, orkes_check = plan["preflight"]
    assert [p["name"] for p in c1_check["principals"]] == ["Terraform CI"] and c1_check["principals"][0]["trusts"] == []
    assert c1_check["principals"][0]["credentials"] == plan["runs"][0]["principals"][0]["credentials"]
    assert orkes_check["principals"][0]["roles"] == ["WORKER"]
    assert plan["runs"][0]["principals"][0]["trusts"][0]["name"] == "gh"  # the run itself keeps them
    assert provision_plan([CI])["preflight"] == []  # one platform: its own run checks before it writes


def test_plan_uses_the_default_platform_and_force_rotate():
    plan = provision_plan([{"name": "x", "credentials": [{"name": "k", "rotate_before_days": 3}]}],
                          platform="orkes", force_rotate=True)
    assert plan["platforms"] == ["orkes"]
    assert plan["credentials"][0]["force_rotate"] is True and plan["credentials"][0]["rotate_before_days"] == 3


def test_null_settings_are_left_out_so_the_role_omits_them():
    plan = provision_plan([{"name": "x", "roles": None, "credentials": [{"name": "k", "expires_days": None}]}])
    assert present(plan) == [{"name": "x", "platform": "conductorone"}]
    assert "expires_days" not in plan["credentials"][0]


# A list that cannot be provisioned: tests/unit/plugins/module_utils/test_inputs.py (the role's check is the module's).
def test_same_name_on_both_platforms_is_two_principals():
    assert len(present(provision_plan([CI, WORKER]))) == 2


def test_an_orkes_application_may_keep_one_present_key_and_drop_others():
    plan = provision_plan([{"name": "x", "platform": "orkes", "credentials": [
        {"name": "a"}, {"name": "b", "state": "absent"}]}])
    assert [c["state"] for c in plan["credentials"]] == ["present", "absent"]


def test_absent_principals_from_names_and_dicts():
    assert absent_principals(["a", {"name": "b", "platform": "orkes"}]) == [
        {"name": "a", "state": "absent", "credentials": []},
        {"name": "b", "state": "absent", "credentials": [], "platform": "orkes"}]
    with pytest.raises(AnsibleFilterError, match="must be a name or a dict"):
        absent_principals([3])


def test_bearer_tokens_leave_dpop_out():
    results = {"results": [{"item": "conductorone", "token_type": "Bearer", "access_token": "t1"},
                           {"item": "orkes", "token_type": "DPoP", "access_token": "t2"}]}
    assert bearer_tokens(results) == {"conductorone": "t1"}


def test_retiring_by_last_use_goes_only_to_the_platforms_that_record_it():
    both = [{"name": "a", "credentials": [{"name": "k"}]}, {"name": "a", "platform": "orkes", "credentials": [{"name": "k"}]}]
    c1_run, orkes_run = provision_plan(both, revoke_previous_after_unused_hours=24)["runs"]
    assert c1_run["revoke_previous_after_unused_hours"] == 24 and "revoke_previous_after_unused_hours" not in orkes_run
    # Without revoke_previous nothing is retired, so the hours mean nothing.
    assert "revoke_previous_after_unused_hours" not in provision_plan(
        both, revoke_previous=False, revoke_previous_after_unused_hours=24)["runs"][0]


def test_a_platform_with_only_trusts_needs_no_store():
    plan = provision_plan([{"name": "ci", "trusts": [{"name": "gh", "github": {"repository": "o/r"}, "enabled": None}]}])
    [run] = plan["runs"]
    assert not run["needs_store"] and run["principals"][0]["trusts"] == [{"name": "gh", "github": {"repository": "o/r"}}]
    assert plan["needs_store"] is False
    assert provision_plan([{"name": "gone", "state": "absent"}])["needs_store"] is True  # its entries go with it


def _run(platform, credentials=(), principals=(), trusts=(), secrets=None, server_url="https://api"):
    """One item of the looped service_principals register."""
    result = {"item": {"platform": platform}, "changed": False, "credentials": list(credentials),
              "principals": list(principals), "trusts": list(trusts), "server_url": server_url}
    if secrets is not None:
        result["secrets"] = {platform: secrets}
    return result


def _row(principal, name, action, platform="conductorone", **values):
    return dict({"platform": platform, "principal": principal, "name": name, "id": "id-" + name,
                 "client_id": "cid-" + name, "expires_at": None, "action": action, "revoked_ids": [], "stored": None},
                **values)


def test_outcome_takes_the_secrets_of_the_runs_and_summarises_without_them():
    plan = provision_plan([CI, WORKER])
    c1 = {"client_id": "c1-id", "client_secret": "c1-secret", "server_url": "https://c1"}
    orkes = {"client_id": "key", "client_secret": "orkes-secret", "server_url": "https://orkes"}
    runs = {"results": [
        _run("conductorone", [_row("Terraform CI", "ci", "unchanged", expires_at="2027-01-01T00:00:00Z",
                                   stored="/s#p/conductorone/Terraform CI/ci"),
                              _row("Terraform CI", "old", "revoked", revoked_ids=["o1", "o2"])],
             secrets={"Terraform CI": {"ci": dict(c1, credential_id="ignored")}}),
        _run("orkes", [_row("Terraform CI", "ci", "rotated", platform="orkes", revoked_ids=["k0"])],
             secrets={"Terraform CI": {"ci": orkes}})]}
    outcome = provision_outcome(runs, plan)
    assert outcome["by_platform"] == {"conductorone": {"Terraform CI": {"ci": c1}},
                                      "orkes": {"Terraform CI": {"ci": orkes}}}
    # By name, the later entry of the list wins on a name used on both platforms.
    assert outcome["by_name"] == {"Terraform CI": {"ci": orkes}}
    assert [(r["platform"], r["action"], r["revoked"]) for r in outcome["summary"]] == [
        ("conductorone", "unchanged", 0), ("orkes", "rotated", 1)]
    assert outcome["summary"][0]["stored"] == "/s#p/conductorone/Terraform CI/ci"
    assert outcome["summary"][0]["expires_at"] == "2027-01-01T00:00:00Z"
    assert outcome["removed"] == [{"platform": "conductorone", "principal": "Terraform CI", "credential": "old",
                                   "action": "revoked", "revoked": 2}]
    assert "secret" not in repr(outcome["summary"]) + repr(outcome["removed"])


@pytest.mark.parametrize("action, revoked_ids, word", [
    ("created", [], "created"), ("replaced", ["x"], "rotated"), ("updated", [], "changed"),
    ("unchanged", ["older"], "changed"),  # the previous credential retired on a later run
    ("unchanged", [], "unchanged")])
def test_the_summary_says_what_happened_in_the_words_of_the_role(action, revoked_ids, word):
    plan = provision_plan([{"name": "a", "credentials": [{"name": "k"}]}])
    runs = [_run("conductorone", [_row("a", "k", action, revoked_ids=revoked_ids)])]
    assert provision_outcome(runs, plan)["summary"][0]["action"] == word


def test_outcome_of_removals_a_failed_principal_and_trusts():
    plan = provision_plan([
        {"name": "W", "state": "absent"}, {"name": "X", "state": "absent"},
        {"name": "CI", "credentials": [{"name": "gone", "state": "absent"}, {"name": "k"}],
         "trusts": [{"name": "gh", "github": {"repository": "o/r"}}, {"name": "old", "state": "absent"}]},
        {"name": "Broken", "credentials": [{"name": "k"}]}])
    runs = [_run("conductorone", [_row("CI", "gone", "unchanged"), _row("CI", "k", "created")],
                 principals=[{"platform": "conductorone", "name": "W", "id": "1", "action": "removed"}],
                 trusts=[{"platform": "conductorone", "principal": "CI", "name": "gh", "client_id": "t-1",
                          "action": "created"},
                         {"platform": "conductorone", "principal": "CI", "name": "old", "client_id": None,
                          "action": "removed"}],
                 secrets={"CI": {"k": {"client_id": "cid-k", "client_secret": "s", "server_url": "https://api"}}})]
    outcome = provision_outcome(runs, plan)
    assert outcome["removed"] == [
        {"platform": "conductorone", "principal": "CI", "credential": "gone", "action": "absent", "revoked": 0},
        {"platform": "conductorone", "principal": "W", "credential": "", "action": "removed", "revoked": 0},
        {"platform": "conductorone", "principal": "X", "credential": "", "action": "absent", "revoked": 0}]
    # Broken's credential has no row (its principal failed): it is in neither the facts nor the summary.
    assert [(r["principal"], r["credential"], r.get("kind")) for r in outcome["summary"]] == [
        ("CI", "k", None), ("CI", "gh", "trust"), ("CI", "old", "trust")] and "Broken" not in outcome["by_name"]
    assert outcome["summary"][1]["client_id"] == "t-1"  # what a workload presents with its token
    assert outcome["trusts"] == {"CI": {"gh": {"client_id": "t-1", "server_url": "https://api"}}}
    assert outcome["failure"] == ""


def test_a_removed_principal_lists_every_credential_it_took_with_it():
    plan = provision_plan([{"name": "W", "state": "absent"}])
    gone = [{"id": "c1", "name": "ci", "client_id": "fox@h/spc"}, {"id": "c2", "name": "by-hand", "client_id": "o@h"}]
    runs = [_run("conductorone", principals=[{"platform": "conductorone", "name": "W", "id": "1", "action": "removed",
                                              "revoked_credentials": gone}])]
    assert provision_outcome(runs, plan)["removed"] == [
        {"platform": "conductorone", "principal": "W", "credential": "", "action": "removed", "revoked": 0},
        {"platform": "conductorone", "principal": "W", "credential": "ci", "client_id": "fox@h/spc",
         "credential_id": "c1", "action": "revoked", "revoked": 1},
        {"platform": "conductorone", "principal": "W", "credential": "by-hand", "client_id": "o@h",
         "credential_id": "c2", "action": "revoked", "revoked": 1}]


def test_failed_items_and_a_failed_run_are_rows_with_their_error_and_one_sentence():
    plan = provision_plan([{"name": "a", "credentials": [{"name": "k"}, {"name": "j"}]},
                           {"name": "o", "platform": "orkes", "credentials": [{"name": "key"}]}])
    c1 = dict(_run("conductorone", [_row("a", "k", "created")]), failed=True, msg="1 of 3 items failed: j broke",
              failed_items=[{"platform": "conductorone", "principal": "a", "credential": "j", "msg": "It broke."}])
    orkes = {"item": {"platform": "orkes"}, "failed": True, "msg": "The store cannot be opened."}
    outcome = provision_outcome([c1, orkes], plan)
    assert [(r["principal"], r["credential"], r["action"], r.get("error")) for r in outcome["summary"]] == [
        ("a", "k", "created", None), ("a", "j", "failed", "It broke."),
        ("", "", "failed", "The store cannot be opened.")]
    assert outcome["failure"] == "conductorone: 1 of 3 items failed: j broke; orkes: The store cannot be opened."
    assert provision_outcome([c1], plan)["failure"] == "1 of 3 items failed: j broke"


def test_check_mode_predicts_without_secrets():
    plan = provision_plan([{"name": "a", "credentials": [{"name": "k"}]}])
    runs = [_run("conductorone", [_row("a", "k", "created", id=None, client_id=None)], secrets={})]
    outcome = provision_outcome(runs, plan)
    assert outcome["by_platform"] == {"conductorone": {"a": {}}} and outcome["summary"][0]["action"] == "created"


def test_credential_pairs_and_tokens_by_name():
    by_platform = {"orkes": {"w": {"k": {"client_id": "2"}}}, "conductorone": {"a": {"c": {"client_id": "1"}}}}
    pairs = credential_pairs(by_platform)
    assert pairs == [{"client_id": "1", "platform": "conductorone", "principal": "a", "credential": "c"},
                     {"client_id": "2", "platform": "orkes", "principal": "w", "credential": "k"}]
    tokens = tokens_by_name([{"item": pairs[0], "access_token": "t", "token_type": "DPoP", "dpop_key": {"d": 1},
                              "headers": {"Authorization": "DPoP t"}, "expires_at": "z"}])
    assert tokens == {"a": {"c": {"access_token": "t", "token_type": "DPoP", "expires_at": "z",
                                  "headers": {"Authorization": "DPoP t"}, "dpop_key": {"d": 1},
                                  "platform": "conductorone"}}}


def test_orkes_permissions_pass_through_and_are_refused_elsewhere_or_when_unknown():
    grants = [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]}]
    plan = provision_plan([{"name": "w", "platform": "orkes", "permissions": grants},
                           {"name": "none", "platform": "orkes", "permissions": []}])
    assert [p.get("permissions") for p in present(plan)] == [grants, []]
    # An empty list is given, not left out: it removes every grant.
    assert [p.get("permissions") for p in plan["runs"][0]["principals"]] == [grants, []]
    with pytest.raises(AnsibleFilterError, match="principal 'x' sets permissions, which ConductorOne service principals "
                                                 "cannot have; remove it or set platform: orkes"):
        provision_plan([{"name": "x", "permissions": grants}])
    with pytest.raises(AnsibleFilterError, match="x.*RUN"):
        provision_plan([{"name": "x", "platform": "orkes",
                         "permissions": [{"type": "WORKFLOW_DEF", "id": "p", "access": ["RUN"]}]}])


# ---- provision_inputs: every role input typed and checked, one sentence or a plan ----------------
SOLO = {"name": "Solo", "credentials": [{"name": "ci", "expires_days": "90"}]}


def test_role_inputs_given_as_text_are_typed_as_documented():
    given = {"provision_principals": [SOLO], "provision_rotate_before_days": "14", "provision_verify": "false",
             "provision_force_rotate": "no", "provision_parallelism": "3", "provision_fetch_tokens": "true"}
    run = provision_inputs(given)
    assert run["error"] is None
    settings = run["settings"]
    assert (settings["rotate_before_days"], settings["verify"], settings["force_rotate"], settings["parallelism"],
            settings["fetch_tokens"]) == (14, False, False, 3, True)
    [credential] = run["plan"]["credentials"]
    assert (credential["expires_days"], credential["rotate_before_days"], credential["verify"]) == (90, 14, False)


def test_a_list_given_as_text_is_read_as_json_or_yaml():
    assert provision_inputs({"provision_principals": '[{"name": "Solo"}]'})["plan"]["platforms"] == ["conductorone"]
    assert provision_inputs({"provision_principals": "- name: Solo"})["plan"]["platforms"] == ["conductorone"]


def test_handed_settings_replace_the_given_ones_and_messages_name_them():
    given = {"provision_principals": [{"name": "Other"}], "provision_rotate_before_days": 14}
    run = provision_inputs(given, {"rotate_principals": [SOLO], "rotate_within_days": "45", "rotate_all": "true"})
    assert [c["principal"] for c in run["plan"]["credentials"]] == ["Solo"]
    assert run["settings"]["rotate_before_days"] == 45 and run["settings"]["force_rotate"] is True
    assert provision_inputs(given, {"rotate_principals": [SOLO], "rotate_verify": "maybe"}) == {
        "error": "rotate_verify must be true or false, not 'maybe'."}
    unoffered = {"rotate_principals": [{"name": "x", "credentials": [{"name": "c", "expires_days": 45}]}]}
    assert provision_inputs(given, unoffered)["error"].startswith(
        "rotate_principals: principal 'x', credential 'c': value of expires_days")


def test_an_empty_list_is_refused_naming_the_list_and_the_switch():
    assert provision_inputs({"provision_principals": []})["error"] == (
        "provision_principals is empty, so there is nothing to provision; give the list as conductor_principals (the "
        "one list of provision, rotate and decommission; a list under another name, such as principals, is not read), "
        "or set provision_allow_empty: true if an empty run is meant.")
    assert provision_inputs({"provision_principals": []}, {"rotate_principals": []})["error"].startswith(
        "rotate_principals is empty, so there is nothing to rotate;")
    assert "rotate_allow_empty: true" in provision_inputs({}, {"rotate_principals": []})["error"]
    allowed = provision_inputs({"provision_principals": [], "provision_allow_empty": "true"})
    assert allowed["error"] is None and allowed["plan"]["runs"] == []


def test_the_one_list_is_named_when_it_is_the_list_given():
    bad = [{"name": "x", "platform": "azure"}]
    assert provision_inputs({"provision_principals": bad}, None, bad)["error"].startswith("conductor_principals: ")


def test_decommission_removes_the_principals_of_its_list():
    run = provision_inputs({"provision_principals": []},
                           {"decommission_principals": ["a", dict(SOLO, platform="orkes")]})
    assert run["plan"]["absent"] == [{"name": "a", "platform": "conductorone"}, {"name": "Solo", "platform": "orkes"}]
    assert provision_inputs({}, {"decommission_principals": [{"platform": "orkes"}]})["error"].startswith(
        "Each entry of decommission_principals must be a name or a dict with a name;")


def test_a_mistyped_store_key_is_named_with_the_key_it_likely_means():
    run = provision_inputs({"provision_principals": [SOLO], "provision_store": {"paht": "/x", "type": "vault_file"}})
    assert run == {"error": "provision_store: no option paht (did you mean path?)."}
    run = provision_inputs({"provision_principals": [SOLO]}, {"rotate_principals": [SOLO], "rotate_store": "path"})
    assert run == {"error": "rotate_store must be a dictionary, not str."}
