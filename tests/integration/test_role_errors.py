# -*- coding: utf-8 -*-
"""A role's failure is the one sentence its check or its module gives, as the failed task's message: no chain of
"caused by" origins, no dump of the role's argument spec, no failed item holding the whole list; a mistyped key of
provision_store gets the key it most likely means, as the modules' options do."""

from __future__ import annotations

import json
import re

from helpers import writes

SOLO = {"name": "Solo", "credentials": [{"name": "c"}]}


def failure(stdout):
    """The failed task's result as printed: ``fatal:`` or a failed item's ``failed:``, to the recap."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"(fatal|failed): \[localhost\]", line))
    text = lines[start].split("=> ", 1)[1]
    for line in lines[start + 1:]:
        if text.endswith("}") and text.count("{") == text.count("}"):
            break
        text += "\n" + line
    return json.loads(text)


def test_a_mistyped_store_key_is_one_sentence_naming_the_key_it_likely_means(fresh, roles, store):
    failed = roles("provision", {"provision_principals": [SOLO], "provision_store": {"paht": str(store)}},
                   expect_rc=2)
    assert failure(failed.stdout) == {"changed": False, "msg": "provision_store: no option paht (did you mean path?)."}
    assert "argument_spec_data" not in failed.stdout and "caused by" not in failed.stdout
    assert writes(fresh) == 0


def test_a_mistake_in_the_list_is_the_task_message_without_a_chain(fresh, roles):
    failed = roles("rotate", {"rotate_principals": [{"name": "x", "credentials": [{"name": "c", "expires_days": 45}]}]},
                   expect_rc=2)
    assert failure(failed.stdout)["msg"] == (
        "rotate_principals: principal 'x', credential 'c': value of expires_days must be one of: 30, 60, 90, 180, "
        "got: 45.")
    assert "caused by" not in failed.stdout and "filter plugin" not in failed.stdout
    assert writes(fresh) == 0


def test_a_module_failure_in_the_role_is_its_sentence_and_the_platform_not_the_list(fresh, roles):
    roles("provision", {"provision_principals": [SOLO]})
    failed = roles("provision", {"provision_principals": [SOLO]}, expect_rc=2,
                   extra_env={"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": "not the store password"})
    result = failure(failed.stdout)
    assert result["msg"].startswith("Could not decrypt the vault_file store ")
    assert result["item"] == "conductorone"  # not every principal of the run
    assert "caused by" not in failed.stdout
