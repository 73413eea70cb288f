# -*- coding: utf-8 -*-
"""The action plugin's remote path: it hands the module a fresh key and refuses any secret not sealed to it.

The module's run over a connection is stood in for by a function that receives exactly the
arguments the action plugin passes to ``_execute_module``; the real run is in
tests/integration/test_remote.py.
"""

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.conductor.principals.plugins.action.access_token import ActionModule
from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import missing_libraries_message
from ansible_collections.conductor.principals.plugins.module_utils.sealing import (
    SEAL_KEY_ARG, check_key, new_key_pair, seal_result)

TOKEN = "c1at_remote-token-value-0123456789"


def action_answering(answer):
    """An access_token action whose module, wherever it runs, answers with ``answer(module_args)``."""
    action = ActionModule.__new__(ActionModule)  # no connection, loader or templar: only the remote path is used
    action._task = SimpleNamespace(args={"validate": False})
    calls = []

    def execute_module(module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        return answer(module_args)
    action._execute_module = execute_module
    return action, calls


def token_answer(module_args):
    return seal_result({"changed": False, "access_token": TOKEN, "headers": {"Authorization": "Bearer " + TOKEN},
                        "token_type": "Bearer"}, module_args[SEAL_KEY_ARG])


def test_the_module_gets_a_fresh_public_key_per_task_and_register_gets_the_opened_values():
    action, calls = action_answering(token_answer)
    first = action._run_on_host({})
    second = action._run_on_host({})
    assert first["access_token"] == TOKEN and first["headers"] == {"Authorization": "Bearer " + TOKEN}
    assert first == second
    (name, args_one), (dummy, args_two) = calls
    assert name == "conductor.principals.access_token" and args_one["validate"] is False
    check_key(args_one[SEAL_KEY_ARG])
    assert args_one[SEAL_KEY_ARG] != args_two[SEAL_KEY_ARG]
    assert SEAL_KEY_ARG not in action._task.args  # the task's own arguments are left as they were


def test_a_secret_that_arrives_unsealed_fails_the_task_and_is_discarded():
    action, dummy = action_answering(lambda args: {"changed": False, "access_token": TOKEN, "token_type": "Bearer"})
    result = action._run_on_host({})
    assert result["failed"] is True and TOKEN not in repr(result)
    assert result["msg"] == ("conductor.principals.access_token returned a result the controller refuses: "
                             "access_token came back unsealed; it was discarded")


def test_a_secret_sealed_to_another_key_is_refused():
    dummy, other_key = new_key_pair()
    action, dummy = action_answering(lambda args: token_answer({SEAL_KEY_ARG: other_key}))
    result = action._run_on_host({})
    assert result["failed"] is True and "cannot be opened with this task's key" in result["msg"]


def test_a_result_without_secrets_passes_as_it_came():
    answer = {"changed": False, "service_principals": [], "invocation": {"module_args": {"client_secret": "x"}}}
    action, dummy = action_answering(lambda args: dict(answer))
    assert action._run_on_host({}) == answer


def test_missing_libraries_are_named_in_one_sentence():
    assert missing_libraries_message(["requests"], "bastion", "/usr/bin/python3") == (
        "The Python library requests is missing on bastion's Python /usr/bin/python3; install it there (see the "
        "collection's requirements.txt) or set ansible_python_interpreter to a Python that has it")
    assert missing_libraries_message(["requests", "PyJWT"], "b", "/p").startswith(
        "The Python libraries requests, PyJWT are missing on b's Python /p; install them there")


def _types_in(value):
    if isinstance(value, dict):
        return {type(value)}.union(*[_types_in(k) | _types_in(v) for k, v in value.items()])
    if isinstance(value, list):
        return {type(value)}.union(*[_types_in(v) for v in value])
    return {type(value)}


def test_the_in_process_core_gets_builtins_not_ansible_cores_tagged_values(tmp_path, monkeypatch):
    """A playbook's arguments arrive as ansible-core's tagged values; the core gets them as a module's JSON would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible_collections.conductor.principals.plugins.action.service_principals import ActionModule as Bulk
    from ansible_collections.conductor.principals.plugins.plugin_utils import action as action_utils
    playbook_args = tmp_path / "args.yml"
    playbook_args.write_text("server_url: https://c1.example\nparallelism: 4\nstore: {path: /tmp/s.vault}\n"
                             "principals:\n  - name: ci\n    credentials: [{name: deploy, expires_days: 30}]\n")
    args = DataLoader().load_from_file(str(playbook_args))
    action = Bulk.__new__(Bulk)
    action._task = SimpleNamespace(args=args, check_mode=False, diff=False, register="bulk", environment=None)
    seen = []
    monkeypatch.setattr(action_utils, "run", lambda module, params, **kwargs: seen.append(params) or {})
    assert action._run_in_process() == {}
    (params,) = seen
    assert params["principals"] == [{"name": "ci", "credentials": [{"name": "deploy", "expires_days": 30}]}]
    assert params["parallelism"] == 4 and params["server_url"] == "https://c1.example"
    assert _types_in(params) <= {dict, list, str, int, float, bool, type(None)}
