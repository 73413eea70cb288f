# -*- coding: utf-8 -*-
"""The provision and rotate roles' logic (plugins/filter/provision.py), without Ansible around it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.filter.provision import (
    FilterModule, absent_principals, bearer_tokens, credential_pairs, ensured_principal_ids, listed_principal_ids,
    principals_to_ensure, provision_outcome, provision_plan, summary_lines, tokens_by_name)

CI = {"name": "Terraform CI", "credentials": [
    {"name": "ci", "expires_days": 90, "allowed_cidrs": ["127.0.0.0/8"], "verify": False},
    {"name": "old", "state": "absent"}]}
WORKER = {"name": "Terraform CI", "platform": "orkes", "roles": ["WORKER"], "credentials": [{"name": "ci"}]}


def test_every_filter_is_exported():
    assert set(FilterModule().filters()) == {
        "federation_plan", "trusts_outcome", "provision_plan", "absent_principals", "bearer_tokens", "listed_principal_ids", "principals_to_ensure",
        "ensured_principal_ids",
        "provision_outcome", "credential_pairs", "tokens_by_name", "summary_lines"}


def test_plan_flattens_with_defaults_resolved_and_keys_by_platform():
    plan = provision_plan([CI, WORKER, {"name": "Gone", "state": "absent"}], rotate_before_days=7, verify=True)
    assert plan["platforms"] == ["conductorone", "orkes"]
    assert plan["present"] == [{"name": "Terraform CI", "platform": "conductorone"},
                               {"name": "Terraform CI", "platform": "orkes", "roles": ["WORKER"]}]
    assert plan["absent"] == [{"name": "Gone", "platform": "conductorone"}]
    ci, old, key = plan["credentials"]
    assert ci == {"principal": "Terraform CI", "platform": "conductorone", "name": "ci", "state": "present",
                  "rotate_before_days": 7, "force_rotate": False, "verify": False, "expires_days": 90,
                  "allowed_cidrs": ["127.0.0.0/8"]}
    assert old["state"] == "absent" and old["verify"] is True
    assert key["platform"] == "orkes" and "expires_days" not in key
    # What the role reads from the platforms' capabilities instead of testing platform names.
    assert plan["records_credential_use"] == {"conductorone": True, "orkes": False}
    # Only present credentials are read back from the store.
    assert plan["stored_keys"] == [{"platform": "conductorone", "principal": "Terraform CI", "credential": "ci"},
                                   {"platform": "orkes", "principal": "Terraform CI", "credential": "ci"}]


def test_plan_uses_the_default_platform_and_force_rotate():
    plan = provision_plan([{"name": "x", "credentials": [{"name": "k", "rotate_before_days": 3}]}],
                          platform="orkes", force_rotate=True)
    assert plan["platforms"] == ["orkes"]
    assert plan["credentials"][0]["force_rotate"] is True and plan["credentials"][0]["rotate_before_days"] == 3


def test_null_settings_are_left_out_so_the_role_omits_them():
    plan = provision_plan([{"name": "x", "roles": None, "credentials": [{"name": "k", "expires_days": None}]}])
    assert plan["present"] == [{"name": "x", "platform": "conductorone"}]
    assert "expires_days" not in plan["credentials"][0]


@pytest.mark.parametrize("principals, message", [
    ([{"name": "x"}, {"name": "x"}], "names a principal more than once on one platform: 'x' (conductorone)"),
    ([{"name": "x", "credentials": [{"name": "a"}, {"name": "a"}]}], "Principal 'x' (conductorone) lists credential 'a' more than once"),
    ([{"name": "x", "platform": "orkes", "credentials": [{"name": "a"}, {"name": "b"}]}],
     "Orkes application 'x' lists more than one present credential ('a', 'b')"),
    ([{"name": "x", "platform": "orkes", "credentials": [{"name": "a", "expires_days": 30}]}],
     "Credential 'a' of principal 'x' (orkes) sets 'expires_days', which only ConductorOne credentials have"),
    ([{"name": "x", "credentials": [{"name": "a", "enabled": False}]}],
     "Credential 'a' of principal 'x' (conductorone) sets 'enabled', which only Orkes credentials have"),
    ([{"name": "x", "tags": {"a": "b"}}], "Principal 'x' sets 'tags', which only Orkes applications have"),
    ([{"name": "x", "platform": "azure"}], "provision_principals: principal 'x': value of platform must be one of"),
    ([{"credentials": []}], "provision_principals: principal #1: missing required arguments: name"),
    ([{"name": "x", "credentials": [{"expires_days": 30}]}],
     "provision_principals: principal 'x', credential #1: missing required arguments: name"),
    ("x", "must be a list"),
])
def test_a_list_that_cannot_be_provisioned_is_one_sentence_naming_it(principals, message):
    with pytest.raises(AnsibleFilterError) as failed:
        provision_plan(principals)
    assert message in str(failed.value)
    assert str(failed.value).count(". ") == 0 and str(failed.value).endswith(".")


def test_same_name_on_both_platforms_is_two_principals():
    assert len(provision_plan([CI, WORKER])["present"]) == 2


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


def test_principal_ids_are_indexed_by_platform_then_name():
    listed = {"results": [
        {"item": "conductorone", "service_principals": [{"name": "a", "id": "1"}, {"name": "a", "id": "2"}]},
        {"item": "orkes", "service_principals": [{"name": "a", "id": "o1"}]}]}
    assert listed_principal_ids(listed) == {"conductorone": {"a": ["1", "2"]}, "orkes": {"a": ["o1"]}}
    ensured = {"results": [
        {"item": {"name": "a", "platform": "conductorone"}, "service_principal": {"id": "1"}},
        {"item": {"name": "a", "platform": "orkes"}, "service_principal": {"id": "o1"}},
        {"item": {"name": "b", "platform": "orkes"}, "service_principal": {"id": None}},  # check mode, to create
        {"item": {"name": "c", "platform": "orkes"}, "skipped": True}]}
    assert ensured_principal_ids(ensured) == {"conductorone": {"a": "1"}, "orkes": {"a": "o1"}}
    # Listed once and not ensured again: the listing gives the ID; a duplicate name gives none.
    listed_ids = {"conductorone": {"x": ["9"], "dup": ["1", "2"]}}
    assert ensured_principal_ids(ensured, listed_ids) == {"conductorone": {"a": "1", "x": "9"}, "orkes": {"a": "o1"}}


def test_only_principals_with_something_to_do_are_ensured():
    present = [{"name": "known", "platform": "conductorone"}, {"name": "new", "platform": "conductorone"},
               {"name": "dup", "platform": "conductorone"}, {"name": "app", "platform": "orkes", "roles": ["WORKER"]},
               {"name": "plain", "platform": "orkes"}]
    listed_ids = {"conductorone": {"known": ["1"], "dup": ["2", "3"]}, "orkes": {"app": ["o1"], "plain": ["o2"]}}
    assert [p["name"] for p in principals_to_ensure(present, listed_ids)] == ["new", "dup", "app"]


def _result(platform, principal, name, state="present", **values):
    item = {"platform": platform, "principal": principal, "name": name, "state": state}
    return dict({"item": item, "changed": False}, **values)


def test_outcome_takes_new_secrets_from_results_and_the_rest_from_the_store():
    stored = {"conductorone": {"Terraform CI": {"ci": {
        "client_id": "c1-id", "client_secret": "c1-secret", "server_url": "https://c1", "credential_id": "cred-1"}}}}
    results = {"results": [
        _result("conductorone", "Terraform CI", "ci", client_id="c1-id",
                credential={"id": "cred-1", "expires_at": "2027-01-01T00:00:00Z"},
                stored={"type": "vault_file", "location": "/s#p/conductorone/Terraform CI/ci"}),
        _result("orkes", "Terraform CI", "ci", changed=True, rotated=False, client_id="key",
                client_secret="orkes-secret", server_url="https://orkes", credential={"id": "key"}),
        _result("conductorone", "Terraform CI", "old", state="absent", changed=True, credential=None)]}
    outcome = provision_outcome(results, stored)
    c1 = {"client_id": "c1-id", "client_secret": "c1-secret", "server_url": "https://c1"}
    orkes = {"client_id": "key", "client_secret": "orkes-secret", "server_url": "https://orkes"}
    assert outcome["by_platform"] == {"conductorone": {"Terraform CI": {"ci": c1}},
                                      "orkes": {"Terraform CI": {"ci": orkes}}}
    # By name, the later entry of the list wins on a name used on both platforms.
    assert outcome["by_name"] == {"Terraform CI": {"ci": orkes}}
    assert [(r["platform"], r["action"]) for r in outcome["summary"]] == [("conductorone", "unchanged"),
                                                                          ("orkes", "created")]
    assert outcome["summary"][0]["stored"] == "/s#p/conductorone/Terraform CI/ci"
    assert outcome["summary"][0]["expires_at"] == "2027-01-01T00:00:00Z"
    assert "secret" not in repr(outcome["summary"])


def test_outcome_leaves_out_a_stored_secret_of_another_credential_and_what_check_mode_predicts():
    stored = {"conductorone": {"a": {"k": {"client_id": "x", "client_secret": "s", "credential_id": "older"}}}}
    results = [_result("conductorone", "a", "k", changed=True, rotated=True, credential={"id": "predicted"}),
               _result("conductorone", "b", "k", changed=True, rotated=False, credential={"id": None})]
    outcome = provision_outcome(results, stored)
    assert outcome["by_platform"] == {"conductorone": {"a": {}, "b": {}}}
    assert [r["action"] for r in outcome["summary"]] == ["rotated", "created"]


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


def test_summary_lines_align_columns_and_say_never_for_no_expiry():
    lines = summary_lines([
        {"principal": "Order Worker", "credential": "worker-key", "platform": "orkes", "action": "created",
         "client_id": "k1", "expires_at": None},
        {"principal": "CI", "credential": "ci", "platform": "conductorone", "action": "unchanged",
         "client_id": "c@x/spc", "expires_at": "2027-01-01T00:00:00Z"}])
    assert lines[0].split() == ["PRINCIPAL", "CREDENTIAL", "PLATFORM", "ACTION", "CLIENT", "ID", "EXPIRES", "AT"]
    assert lines[1].startswith("Order Worker worker-key orkes") and lines[1].endswith("never")
    assert lines[2].startswith("CI           ci         conductorone")
    assert len({line.index(line.split()[-1]) for line in lines[1:]}) == 1


@pytest.mark.parametrize("principals, message", [
    ([{"name": "ci", "credentials": [{"name": "prod", "expires_days": 45}]}],
     "provision_principals: principal 'ci', credential 'prod': value of expires_days must be one of: 30, 60, 90, 180"),
    ([{"name": "ci", "credentials": [{"name": "prod", "alowed_cidrs": ["10.0.0.0/8"]}]}],
     "provision_principals: principal 'ci', credential 'prod': no option alowed_cidrs (did you mean allowed_cidrs?)"),
    ([{"name": "ci", "credential": []}],
     "provision_principals: principal 'ci': no option credential (did you mean credentials?)"),
    ([{"name": "ci"}, {"name": "cd", "credentials": [{"state": "absent"}]}],
     "provision_principals: principal 'cd', credential #1: missing required arguments: name"),
])
def test_plan_names_the_entry_of_a_bad_input_in_one_sentence(principals, message):
    with pytest.raises(AnsibleFilterError) as failure:
        provision_plan(principals)
    assert str(failure.value).startswith(message) and "\n" not in str(failure.value)


def test_orkes_permissions_pass_through_and_are_refused_elsewhere_or_when_unknown():
    grants = [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE"]}]
    plan = provision_plan([{"name": "w", "platform": "orkes", "permissions": grants},
                           {"name": "none", "platform": "orkes", "permissions": []}])
    assert [p.get("permissions") for p in plan["present"]] == [grants, []]
    assert [p["name"] for p in principals_to_ensure(plan["present"], {"orkes": {"w": ["1"], "none": ["2"]}})] == \
        ["w", "none"]
    with pytest.raises(AnsibleFilterError, match="Principal 'x' sets 'permissions', which only Orkes applications"):
        provision_plan([{"name": "x", "permissions": grants}])
    with pytest.raises(AnsibleFilterError, match="x.*RUN"):
        provision_plan([{"name": "x", "platform": "orkes",
                         "permissions": [{"type": "WORKFLOW_DEF", "id": "p", "access": ["RUN"]}]}])
