# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every module of the collection.

On the controller (connection ``local``) the task is validated with the module's own
argument spec and run in-process by the same core the module uses: no AnsiballZ
payload, no interpreter start. On a remote host the module runs as usual, but returns its
secrets sealed to a key pair made for the task (module_utils/sealing.py): the connection
prints the module's raw answer at -vvv, so only ciphertext may travel in it. Either way a
result that carries a secret is censored in output while ``register`` still gets it.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.conductor.principals.plugins.module_utils.deps import IMPORT_ERRORS
from ansible_collections.conductor.principals.plugins.module_utils.public_view import (
    diff_text, public_summary, unsupported_message)
from ansible_collections.conductor.principals.plugins.module_utils.runner import carries_secret, run
from ansible_collections.conductor.principals.plugins.module_utils.sealing import (
    SEAL_KEY_ARG, SealError, new_key_pair, open_result)

COLLECTION = "conductor.principals"
display = Display()


class ConductorAction(ActionBase):
    """Subclasses set ``module`` to the module's short name."""

    module = None
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
        if SEAL_KEY_ARG in self._task.args:
            result.update(failed=True, msg="%s is set by the collection itself; remove it from the task" % SEAL_KEY_ARG)
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

    def _run_on_host(self, task_vars):
        """The module on the task's host; its secrets come back sealed to a key only this process holds."""
        private_key, public_key = new_key_pair()
        module_args = dict(self._task.args)
        module_args[SEAL_KEY_ARG] = public_key
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

    def _not_text(self, argument_spec):
        """The first str option given a list or dict: ansible would turn it into its repr and carry on."""
        for name, option in argument_spec.items():
            if option.get("type", "str") != "str":
                continue
            for key in [name] + list(option.get("aliases") or []):
                value = self._task.args.get(key)
                if isinstance(value, (Mapping, list)):
                    return "%s must be a string, not a %s" % (key, "dict" if isinstance(value, Mapping) else "list")
        return None

    def _unsupported(self, argument_spec, unknown):
        """One sentence for unknown options; one inside a dict option (a tuple: its path, then its name)
        is named with its path, among that dict's suboptions."""
        module = "%s.%s" % (COLLECTION, self.module)
        nested = sorted(u for u in unknown if isinstance(u, tuple))
        spec, names = argument_spec, [u for u in unknown if not isinstance(u, tuple)]
        if nested and not names:
            *path, leaf = nested[0]
            for part in path:
                spec = (spec.get(part) or {}).get("options") or {}
            names = [leaf]
            module = "%s option %s" % (module, ".".join(path))
        supported = [n for name, o in spec.items() for n in [name] + list(o.get("aliases") or [])]
        return unsupported_message(module, names, supported)

    def _run_in_process(self):
        spec = dict(self._module_spec())
        argument_spec = spec.pop("argument_spec")
        not_text = self._not_text(argument_spec)
        if not_text:
            return {"failed": True, "msg": not_text}
        validated = ArgumentSpecValidator(argument_spec, **spec).validate(self._task.args)
        if validated.error_messages:
            # One sentence: the first problem is the one to fix first.
            error = validated.errors.errors[0]
            if isinstance(error, UnsupportedError):
                return {"failed": True, "msg": self._unsupported(argument_spec, validated.unsupported_parameters)}
            return {"failed": True, "msg": validated.error_messages[0]}
        result = run(self.module, validated.validated_parameters, check_mode=bool(self._task.check_mode),
                     diff=bool(self._task.diff), environ=self._environment())
        if validated._warnings:
            result.setdefault("warnings", []).extend(w["warning"] for w in validated._warnings)
        return result
