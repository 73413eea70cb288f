# -*- coding: utf-8 -*-
"""Role inputs: one sentence that names the principal and the credential."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.arguments import plain
from ansible_collections.conductor.principals.plugins.module_utils import role_inputs
from ansible_collections.conductor.principals.plugins.module_utils.role_inputs import check_entries

# The shape of provision_principals' options in roles/provision/meta/argument_specs.yml (descriptions kept,
# as Ansible's own check gets them).
SPEC = {
    "name": {"type": "str", "required": True, "description": "Display name"},
    "platform": {"type": "str", "choices": ["conductorone", "orkes"]},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "credentials": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "expires_days": {"type": "int", "choices": [30, 60, 90, 180]},
        "allowed_cidrs": {"type": "list", "elements": "str"},
        "require_dpop": {"type": "bool"},
    }},
}


def message(entries):
    with pytest.raises(ConfigError) as err:
        check_entries(entries, SPEC, "provision_principals")
    return str(err.value)


def test_good_entries_pass():
    check_entries([{"name": "Terraform CI", "credentials": [{"name": "ci", "expires_days": 90}]},
                   {"name": "Order Worker", "platform": "orkes"}], SPEC, "provision_principals")
    check_entries(None, SPEC, "provision_principals")


def test_a_bad_credential_value_names_principal_and_credential():
    text = message([{"name": "Fine", "credentials": [{"name": "ok"}]},
                    {"name": "Terraform CI", "credentials": [{"name": "ci"}, {"name": "prod", "expires_days": 45}]}])
    assert text.startswith("provision_principals: principal 'Terraform CI', credential 'prod': value of expires_days must be one of: ")
    assert text.endswith("got: 45.")
    assert text.count(".") <= 2 and "\n" not in text and "description" not in text


def test_a_typo_in_a_credential_key_suggests_the_option():
    assert message([{"name": "Terraform CI", "credentials": [{"name": "ci", "expire_days": 30}]}]) == (
        "provision_principals: principal 'Terraform CI', credential 'ci': no option expire_days "
        "(did you mean expires_days?).")


def test_a_typo_in_a_principal_key_suggests_the_option():
    assert message([{"name": "Terraform CI", "platfrom": "orkes"}]) == (
        "provision_principals: principal 'Terraform CI': no option platfrom (did you mean platform?).")


def test_an_entry_without_a_name_is_named_by_its_place():
    text = message([{"name": "a"}, {"credentials": []}])
    assert text == "provision_principals: principal #2: missing required arguments: name."
    text = message([{"name": "a", "credentials": [{"expires_days": 30}]}])
    assert text == "provision_principals: principal 'a', credential #1: missing required arguments: name."


def test_wrong_shapes():
    assert message([{"name": "a", "credentials": ["ci"]}]) == (
        "provision_principals: principal 'a', credential #1: an entry must be a dictionary, not str.")
    assert message({"name": "a"}) == "provision_principals must be a list of principals, not dict."
    assert "unknown" not in message([{"name": "a", "colour": 1}])
    assert message([{"name": "a", "colour": 1}]).endswith("valid options are credentials, name, platform, state.")


class _Lazy(list):
    """Stands for ansible-core's lazy containers: subclasses of list and dict."""


class _LazyDict(dict):
    pass


def test_inputs_are_checked_as_plain_dicts_and_lists():
    given = _Lazy([_LazyDict(name="a", credentials=_Lazy([_LazyDict(name="ci", allowed_cidrs=("10.0.0.0/8",))]))])
    copied = plain(given)
    assert copied == [{"name": "a", "credentials": [{"name": "ci", "allowed_cidrs": ["10.0.0.0/8"]}]}]
    kinds = {type(copied), type(copied[0]), type(copied[0]["credentials"]), type(copied[0]["credentials"][0]),
             type(copied[0]["credentials"][0]["allowed_cidrs"])}
    assert kinds == {list, dict}
    assert copied[0] is not given[0]


def test_a_list_or_dict_given_for_text_is_refused_not_turned_into_its_repr():
    assert message([{"name": ["Terraform CI"]}]) == (
        "provision_principals: principal #1: name must be a string, not a list.")
    assert message([{"name": "a", "credentials": [{"name": "ci", "allowed_cidrs": [{"cidr": "10.0.0.0/8"}]}]}]) == (
        "provision_principals: principal 'a', credential 'ci': allowed_cidrs[0] must be a string, not a dict.")


def test_a_list_without_a_problem_is_typed_by_one_validation_as_entry_by_entry_would(monkeypatch):
    entries = [{"name": "x", "state": None, "credentials": [
        {"name": "c", "expires_days": "30", "require_dpop": "yes", "allowed_cidrs": None}]},
        {"name": 7, "credentials": []}, {"name": "y", "platform": "orkes"}] * 50
    validators = []
    real = role_inputs.ArgumentSpecValidator
    monkeypatch.setattr(role_inputs, "ArgumentSpecValidator", lambda *args: validators.append(args) or real(*args))
    typed = check_entries(entries, SPEC, "provision_principals")
    assert len(validators) == 1
    assert typed[:3] == [{"name": "x", "credentials": [{"name": "c", "expires_days": 30, "require_dpop": True}]},
                         {"name": "7", "credentials": []}, {"name": "y", "platform": "orkes"}]
    monkeypatch.setattr(role_inputs, "_checked_at_once", lambda *args: None)
    assert check_entries(entries, SPEC, "provision_principals") == typed
    assert len(validators) == 1 + 2 * 50 + 50 + 50  # entry by entry: each entry, each credential


def test_entries_come_back_typed_with_nothing_added():
    typed = check_entries([{"name": "x", "credentials": [{"name": "c", "expires_days": "90", "require_dpop": "yes"}]},
                           {"name": 7, "platform": None}], SPEC, "provision_principals")
    assert typed == [{"name": "x", "credentials": [{"name": "c", "expires_days": 90, "require_dpop": True}]},
                     {"name": "7"}]
