# -*- coding: utf-8 -*-
"""The module side of the one argument check (module_utils/ansible_module.py), run in-process.

A remote host runs ConductorModule exactly like this: the arguments come in through
AnsibleModule's own loading, and a refusal is AnsibleModule's exit with a JSON result.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.parameters import PASS_VARS

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.18 has none
    patch_module_args = None

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import ConductorModule
from ansible_collections.conductor.principals.plugins.module_utils.sealing import SEAL_KEY_ARG
from ansible_collections.conductor.principals.plugins.modules.service_principal_info import (
    MODULE_SPEC as SP_INFO_SPEC)
from ansible_collections.conductor.principals.plugins.modules.sp_credential import MODULE_SPEC as CRED_SPEC

SECRET = "pw-given-as-a-dict-0123456789"
INTERNAL = {"_ansible_check_mode": True, "_ansible_module_name": "conductor.principals.sp_credential",
            "_ansible_no_log": False, "_ansible_verbosity": 3}
if "inject_invocation" in PASS_VARS:  # ansible-core 2.21: a result names its arguments only when asked to
    INTERNAL["_ansible_inject_invocation"] = True


@pytest.fixture
def module_args(monkeypatch):
    """Hand AnsibleModule its arguments as a module run receives them (ansible-core's own way where it has one)."""
    with contextlib.ExitStack() as stack:
        def given(args):
            args = dict(INTERNAL, **args)
            if patch_module_args is None:  # ansible-core 2.18
                monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
            else:
                stack.enter_context(patch_module_args(args))
        yield given


def refusal(capsys, kind, spec, args, module_args):
    module_args(args)
    with pytest.raises(SystemExit) as exited:
        ConductorModule(kind, supports_check_mode=True, **spec)
    assert exited.value.code == 1
    out = capsys.readouterr().out
    return json.loads(out), out


@pytest.mark.parametrize("kind, spec, args, message", [
    # AnsibleModule would accept these (a list or dict made into text): refused once it has loaded them.
    ("sp_credential", CRED_SPEC, {"service_principal": "sp", "name": ["a", "b"]}, "name must be a string, not a list"),
    ("sp_credential", CRED_SPEC, {"service_principal": "sp", "name": "ci", "allowed_cidrs": [{"a": 1}]},
     "allowed_cidrs[0] must be a string, not a dict"),
    # AnsibleModule refuses these itself: the refusal is still our one sentence.
    ("sp_credential", CRED_SPEC, {"service_principal": "sp", "name": "ci", "store": {"typ": "vault_file"}},
     "Unsupported parameters for (conductor.principals.sp_credential option store) module: typ (did you mean "
     "type?)"),
    ("sp_credential", CRED_SPEC, {"service_principal": "sp", "name": "ci", "rotate_before_days": "soon"},
     "argument 'rotate_before_days' is of type "),  # the rest is ansible-core's own wording, by line
])
def test_bad_arguments_are_refused_with_the_one_sentence(capsys, module_args, kind, spec, args, message):
    result = refusal(capsys, kind, spec, args, module_args)[0]
    assert result["failed"] and result["msg"].startswith(message), result["msg"]
    assert not any(k.startswith("_ansible_") for k in result["invocation"]["module_args"])


def test_a_secret_given_as_a_dict_is_refused_and_masked_in_the_invocation(capsys, module_args):
    result, out = refusal(capsys, "service_principal_info", SP_INFO_SPEC,
                          {"name": "sp", "client_secret": {"not": SECRET}}, module_args)
    assert result["msg"] == "client_secret must be a string, not a dict"
    assert SECRET not in out and result["invocation"]["module_args"]["name"] == "sp"


def test_accepted_arguments_are_validated_and_the_sealing_key_is_taken_out(module_args):
    module_args({"service_principal": "sp", "name": "ci", SEAL_KEY_ARG: "a-public-key"})
    module = ConductorModule("sp_credential", supports_check_mode=True, **CRED_SPEC)
    assert module.seal_key == "a-public-key" and SEAL_KEY_ARG not in module.params
    assert module.params["state"] == "present" and module.check_mode
