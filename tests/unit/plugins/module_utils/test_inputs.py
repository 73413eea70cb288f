# -*- coding: utf-8 -*-
"""The principals list checked once (plugins/module_utils/inputs.py): service_principals' ``principals``
and the roles' ``provision_principals`` get the same sentence for the same mistake."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.filter.provision import provision_plan
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.inputs import check_principals

DEFAULTS = {"rotate_before_days": 14, "force_rotate": False, "revoke_previous": True,
            "revoke_previous_after_unused_hours": None, "max_overlap_days": 7, "verify": True,
            "replace_on_change": False}


def checked(principals, platform="conductorone", store=True):
    return check_principals(principals, "principals", platform, DEFAULTS, store, platform=platform)


def test_defaults_fill_each_credential_and_an_entry_overrides_them():
    second = {"name": "x", "rotate_before_days": 3, "verify": False}
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}, second]}])
    ci, x = wanted[0]["credentials"]
    assert (ci["rotate_before_days"], ci["verify"], ci["state"]) == (14, True, "present")
    assert (x["rotate_before_days"], x["verify"]) == (3, False)
    assert wanted[0]["settings"] == {} and wanted[0]["trusts"] == [] and wanted[0]["platform"] == "conductorone"


MISTAKES = [
    ("a", "conductorone", "principals must be a list of principals, not str"),
    ([{"name": "a"}, {"name": "a"}], "conductorone",
     "principals names principal 'a' more than once on ConductorOne; name each once"),
    ([{"credentials": []}], "conductorone", "principals: principal #1: missing required arguments: name"),
    ([{"name": "a", "credential": []}], "conductorone",
     "principals: principal 'a': no option credential (did you mean credentials?)"),
    ([{"name": "a", "credentials": [{"expires_days": 30}]}], "conductorone",
     "principals: principal 'a', credential #1: missing required arguments: name"),
    ([{"name": "a", "credentials": [{"name": "ci", "expire_days": 30}]}], "conductorone",
     "principals: principal 'a', credential 'ci': no option expire_days (did you mean expires_days?)"),
    ([{"name": "a", "credentials": [{"name": "ci", "expires_days": 45}]}], "conductorone",
     "principals: principal 'a', credential 'ci': value of expires_days must be one of: 30, 60, 90, 180, got: 45"),
    ([{"name": "a", "tags": {"t": "1"}}], "conductorone",
     "principals: principal 'a' sets tags, which ConductorOne service principals cannot have; remove it or set "
     "platform: orkes"),
    # Roles are checked against the server's list (GET /api/roles) when the task runs, not here.
    ([{"name": "a", "roles": ["A_CUSTOM_ROLE"], "credentials": [{"name": "ci"}]}], "orkes", None),
    ([{"name": "a", "credentials": [{"name": "ci", "expires_days": 30}]}], "orkes",
     "principals: principal 'a', credential 'ci': expires_days cannot be set on platform orkes; remove it"),
    ([{"name": "a", "credentials": [{"name": "ci", "max_overlap_days": 3}]}], "orkes", None),
    ([{"name": "a", "credentials": [{"name": "k1"}, {"name": "k2"}]}], "orkes",
     "principals: principal 'a' lists more than one present credential ('k1', 'k2'); an Orkes application has one "
     "access key here, so keep one and mark the others state: absent"),
    ([{"name": "a", "credentials": [{"name": "ci"}, {"name": "ci"}]}], "conductorone",
     "principals: principal 'a' lists credential 'ci' more than once; name each once"),
    ([{"name": "a", "trusts": [{"name": "t", "github": {"repository": "o/r"}}]}], "orkes",
     "principals: principal 'a' lists trusts, which Orkes applications cannot have; remove them or set platform: "
     "conductorone"),
    ([{"name": "a", "trusts": [{"name": "t"}]}], "conductorone",
     "principals: principal 'a', trust 't': give its condition (condition, github, gitlab or kubernetes)"),
    ([{"name": "a", "trusts": [{"name": "t", "conditon": "true"}]}], "conductorone",
     "principals: principal 'a', trusts: trust 't': no option conditon (did you mean condition?)"),
    ([{"name": "a", "trusts": [{"name": "t", "condition": "true", "github": {"repository": "o/r"}}]}],
     "conductorone", "principals: principal 'a', trust 't': Give one condition form, not condition and github"),
    ([{"name": "a", "credentials": [{"name": "ci", "revoke_previous_after_unused_hours": 0}]}], "conductorone",
     "principals: principal 'a', credential 'ci': revoke_previous_after_unused_hours must be 1 or more"),
]


@pytest.mark.parametrize("principals, platform, message", MISTAKES)
def test_each_mistake_is_one_sentence_naming_its_entry(principals, platform, message):
    if message is None:  # accepted: what the module takes, the role takes too
        assert checked(principals, platform)
        return
    with pytest.raises(ConfigError) as caught:
        checked(principals, platform)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize("principals, platform, message", MISTAKES)
def test_the_role_says_the_same_sentence_about_its_list(principals, platform, message):
    """provision_plan runs the same check: the same words, with the role's option name and a full stop."""
    entries = principals if not isinstance(principals, list) else [
        dict(p, platform=platform) if isinstance(p, dict) and "name" in p else p for p in principals]
    if message is None:
        assert provision_plan(entries)["credentials"]
        return
    with pytest.raises(AnsibleFilterError) as caught:
        provision_plan(entries)
    said = str(caught.value)
    assert said.startswith(message.replace("principals", "provision_principals", 1)) and said.endswith(".")
    assert "\n" not in said


def test_a_task_connects_to_one_platform():
    with pytest.raises(ConfigError, match="principals: principal 'a' is on platform orkes, but this task connects "
                                          "to conductorone; give one task per platform"):
        checked([{"name": "a", "platform": "orkes"}])


def test_credentials_need_a_store():
    with pytest.raises(ConfigError, match="principal 'a' lists credentials, so give store"):
        checked([{"name": "a", "credentials": [{"name": "ci"}]}], store=False)
    assert checked([{"name": "a"}], store=False)[0]["credentials"] == []


def test_an_absent_principal_carries_no_credentials_or_trusts():
    wanted = checked([{"name": "a", "state": "absent", "credentials": [{"name": "ci"}]}])
    assert wanted == [{"name": "a", "platform": "conductorone", "state": "absent", "settings": {}, "credentials": [],
                       "trusts": []}]


def test_one_name_on_two_platforms_is_two_principals():
    wanted = check_principals([{"name": "a"}, {"name": "a", "platform": "orkes"}], "provision_principals",
                              "conductorone", DEFAULTS, True)
    assert [(w["name"], w["platform"]) for w in wanted] == [("a", "conductorone"), ("a", "orkes")]
