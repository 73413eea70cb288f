# -*- coding: utf-8 -*-
"""The one argument check both connection paths make (module_utils/arguments.py)."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.arguments import check_arguments, plain
from ansible_collections.conductor.principals.plugins.modules.service_principal import MODULE_SPEC as SP_SPEC
from ansible_collections.conductor.principals.plugins.modules.sp_credential import MODULE_SPEC


def check(args):
    return check_arguments("sp_credential", MODULE_SPEC, dict({"service_principal": "ci"}, **args))


@pytest.mark.parametrize("args, message", [
    ({"name": ["a", "b"]}, "name must be a string, not a list"),
    ({"name": {"a": 1}}, "name must be a string, not a dict"),
    ({"name": "ci", "store": {"path": ["a"]}}, "store.path must be a string, not a list"),
    ({"name": "ci", "store": {"typ": "vault_file"}},
     "Unsupported parameters for (conductor.principals.sp_credential option store) module: typ (did you mean type?)"),
    ({"name": "ci", "nmae": "x", "store": {"typ": "vault_file"}},
     "Unsupported parameters for (conductor.principals.sp_credential) module: nmae (did you mean name?)"),
    ({"name": "ci", "store": {"zzz": 1}},
     "Unsupported parameters for (conductor.principals.sp_credential option store) module: zzz; supported "
     "parameters include: "),
])
def test_refusals_are_one_sentence(args, message):
    assert check(args).error.startswith(message)


def test_a_typo_inside_a_list_of_dicts_is_named_with_its_path():
    checked = check_arguments("service_principal", SP_SPEC,
                              {"name": "app", "permissions": [{"type": "WORKFLOW_DEF", "id": "w", "acess": ["READ"]}]})
    assert checked.error.startswith("Unsupported parameters for (conductor.principals.service_principal option "
                                    "permissions) module: acess (did you mean access?)")


@pytest.mark.parametrize("args, message", [
    ({"name": "ci", "allowed_cidrs": [{"a": 1}]}, "allowed_cidrs[0] must be a string, not a dict"),
    ({"name": "ci", "scoped_roles": ["admin", ["x"]]}, "scoped_roles[1] must be a string, not a list"),
])
def test_a_list_of_strings_given_a_dict_or_list_item_is_refused_by_its_path(args, message):
    assert check(args).error == message


def test_a_nested_list_of_strings_given_a_dict_item_is_refused_by_its_path():
    checked = check_arguments("service_principal", SP_SPEC, {
        "name": "app", "permissions": [{"type": "WORKFLOW_DEF", "id": "w", "access": ["READ", {"a": 1}]}]})
    assert checked.error == "permissions.access[1] must be a string, not a dict"


def test_a_list_of_strings_is_accepted():
    checked = check({"name": "ci", "allowed_cidrs": ["10.0.0.0/8"], "scoped_roles": ["admin"]})
    assert checked.error is None and checked.params["allowed_cidrs"] == ["10.0.0.0/8"]


def test_no_log_values_are_masked_in_messages():
    checked = check({"name": "ci", "store": {"type": "vault_file", "password": "pw-very-secret", "lock_timeout": "x"}})
    assert "lock_timeout" in checked.error and "pw-very-secret" not in checked.error
    assert "pw-very-secret" in checked.no_log_values


def test_accepted_arguments_come_back_with_their_defaults():
    checked = check({"name": "ci"})
    assert checked.error is None
    assert checked.params["state"] == "present" and checked.params["rotate_before_days"] == 0
    assert checked.params["store"] is None


def test_plain_turns_what_ansible_loaded_into_builtins(tmp_path):
    """ansible-core 2.19 loads each string, number and list with its origin (a subclass); JSON's builtins come back."""
    from ansible.parsing.dataloader import DataLoader
    loaded_file = tmp_path / "loaded.yml"
    loaded_file.write_text("- name: ci\n  expires_days: 90\n  ratio: 0.5\n  enabled: true\n  cidrs: [10.0.0.0/8]\n")
    loaded = DataLoader().load_from_file(str(loaded_file))
    copied = plain(loaded)
    assert copied == [{"name": "ci", "expires_days": 90, "ratio": 0.5, "enabled": True, "cidrs": ["10.0.0.0/8"]}]
    entry = copied[0]
    assert [type(k) for k in entry] == [str] * 5
    assert [type(v) for v in entry.values()] + [type(entry["cidrs"][0])] == [str, int, float, bool, list, str]
    assert plain(("a", None)) == ["a", None]
