# -*- coding: utf-8 -*-
"""The action plugin on the controller: where the collection's core is imported.

ansible-playbook forks a worker for each task. The core (requests, PyJWT, every module_utils) must
already be imported in ansible-playbook's own process when it forks: each worker then shares it,
instead of importing it again (a task's worker that imports the core costs about as much as a
``ping`` task's interpreter start). A callback, which runs in that process, notes which modules it
holds as each task starts, after the strategy has loaded the task's action class and before the fork.
"""

from __future__ import annotations

import json

SP_INFO = "conductor.principals.service_principal_info"
MODULE_UTILS = "ansible_collections.conductor.principals.plugins.module_utils."
CORE = ("requests", "jwt", MODULE_UTILS + "deps", MODULE_UTILS + "runner", MODULE_UTILS + "sealing",
        MODULE_UTILS + "client")

NOTING_CALLBACK = '''
import json
import os
import sys

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "modules_at_task_start"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_task_start(self, task, is_conditional):
        with open(os.environ["MODULES_AT_TASK_START"], "a") as out:
            out.write(json.dumps({"task": task.get_name(), "pid": os.getpid(), "modules": sorted(sys.modules)}) + "\\n")
'''


def test_the_core_is_imported_in_ansible_playbook_before_a_task_worker_is_forked(playbook, tmp_path):
    plugins = tmp_path / "callback_plugins"
    plugins.mkdir()
    (plugins / "modules_at_task_start.py").write_text(NOTING_CALLBACK)
    noted = tmp_path / "modules.jsonl"
    playbook([{"name": "first", SP_INFO: {}}, {"name": "second", SP_INFO: {}}], extra_env={
        "ANSIBLE_CALLBACK_PLUGINS": str(plugins), "ANSIBLE_CALLBACKS_ENABLED": "modules_at_task_start",
        "MODULES_AT_TASK_START": str(noted)})
    starts = [json.loads(line) for line in noted.read_text().splitlines()]
    assert [s["task"] for s in starts] == ["first", "second"]
    assert len({s["pid"] for s in starts}) == 1  # ansible-playbook's own process, where the workers fork from
    for start in starts:
        assert [name for name in CORE if name not in start["modules"]] == [], start["task"]
