# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every module of the collection.

On the controller (connection ``local``) the task is checked with the module's own
argument spec (module_utils/arguments.py, the same check the module makes on a remote host) and run in-process by the same core the module uses: no AnsiballZ
payload, no interpreter start. On a remote host the module runs as usual, but returns its
secrets sealed to a key pair made for the task (module_utils/sealing.py): the connection
prints the module's raw answer at -vvv, so only ciphertext may travel in it. Either way a
result that carries a secret is censored in output while ``register`` still gets it.
"""

from __future__ import annotations

import importlib
import json
import os
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

# The core (requests, PyJWT, every module_utils) is imported here, when ansible-playbook's own process loads
# a task's action class (the strategy's BYPASS_HOST_LOOP check), before it forks the task's worker: every
# worker shares those pages. Imported in the worker instead, each task paid the import again (the collection
# loader compiles each module_utils from source: about 0.3 s, the price of a ping task's python start).
from ansible_collections.conductor.principals.plugins.module_utils.arguments import COLLECTION, check_arguments, plain
from ansible_collections.conductor.principals.plugins.module_utils.deps import IMPORT_ERRORS
from ansible_collections.conductor.principals.plugins.module_utils.public_view import diff_text, public_summary
from ansible_collections.conductor.principals.plugins.module_utils.runner import UNREGISTERED_ARG, carries_secret, run
from ansible_collections.conductor.principals.plugins.module_utils.sealing import (
    SEAL_KEY_ARG, SealError, new_key_pair, open_result)

display = Display()


class ConductorAction(ActionBase):
    """Subclasses set ``module`` to the module's short name; ``mints_secrets``: the module can create a secret."""

    module = None
    mints_secrets = False
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _module_spec(self):
        source = importlib.import_module("ansible_collections.conductor.principals.plugins.modules." + self.module)
        return source.MODULE_SPEC

    def _runs_here(self):
        return getattr(self._connection, "transport", None) == "local" and not IMPORT_ERRORS

    def _environment(self):
        """The controller's environment plus the task's ``environment:`` keyword."""
        environ = dict(os.environ)
        for entry in self._task.environment or []:
            entry = self._templar.template(entry)
            if isinstance(entry, dict):
                environ.update((str(k), str(v)) for k, v in entry.items())
        return environ

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        for internal in (SEAL_KEY_ARG, UNREGISTERED_ARG):
            if internal in self._task.args:
                result.update(failed=True, msg="%s is set by the collection itself; remove it from the task" % internal)
                return result
        if self._runs_here():
            result.update(self._run_in_process())
        else:
            result.update(self._run_on_host(task_vars))
        if carries_secret(result):
            # A censored result hides its warnings too; ours never hold a secret, so show them here.
            for warning in result.pop("warnings", []):
                display.warning(warning)
            self._show_censored(result, (task_vars or {}).get("inventory_hostname"))
            result["_ansible_no_log"] = True
        return result

    def _unregistered(self):
        """The task keeps no result (no ``register``): a secret the module mints without a store would be lost, so
        the core refuses to mint it (the module alone cannot see ``register``)."""
        return self.mints_secrets and not self._task.register

    def _run_on_host(self, task_vars):
        """The module on the task's host; its secrets come back sealed to a key only this process holds."""
        private_key, public_key = new_key_pair()
        module_args = dict(self._task.args)
        module_args[SEAL_KEY_ARG] = public_key
        if self._unregistered():
            module_args[UNREGISTERED_ARG] = True
        answer = self._execute_module(module_name="%s.%s" % (COLLECTION, self.module),
                                      module_args=module_args, task_vars=task_vars)
        try:
            return open_result(answer, private_key)
        except SealError as exc:
            # A secret that travelled in clear (or sealed to another key) is refused, never passed on.
            return {"failed": True, "msg": "%s.%s returned a result the controller refuses: %s; it was discarded"
                    % (COLLECTION, self.module, exc)}

    def _show_censored(self, result, host):
        """Ansible hides a censored result whole, diff included: show its secret-free part (-v) and diff.

        Not for a task with ``no_log``: then nothing of the result is shown, as Ansible does for any task.
        """
        if self._task.no_log or getattr(self._play_context, "no_log", False):
            return
        label = "[%s] %s.%s" % (host, COLLECTION, self.module)
        display.verbose("%s: %s" % (label, json.dumps(public_summary(result), sort_keys=True, default=str)),
                        caplevel=0)
        text = diff_text(result) if self._task.diff and result.get("changed") else ""
        if text:
            display.display("%s, diff without the secret:\n%s" % (label, text))

    def _run_in_process(self):
        # Builtins, as a module's JSON would bring them: ansible-core's tagged values slow every step after.
        checked = check_arguments(self.module, self._module_spec(), plain(self._task.args))
        if checked.error:
            return {"failed": True, "msg": checked.error}
        result = run(self.module, checked.params, check_mode=bool(self._task.check_mode),
                     diff=bool(self._task.diff), environ=self._environment(), unregistered=self._unregistered())
        if checked.warnings:
            result.setdefault("warnings", []).extend(checked.warnings)
        return result
