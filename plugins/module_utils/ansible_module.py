# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin AnsibleModule side: parse arguments, call the core, report."""

from __future__ import annotations

import platform
import sys

from ansible.module_utils.basic import AnsibleModule

from .arguments import CHECKS, check_arguments
from .deps import IMPORT_ERRORS
from .runner import run
from .sealing import SEAL_KEY_ARG, SealError, check_key, seal_result


class ConductorModule(AnsibleModule):
    """AnsibleModule that takes the action plugin's one-time sealing key (see sealing.py) out of
    the arguments before they are validated (it is the action plugin's, not a user option), and
    checks them with arguments.check_arguments, as the action plugin does in-process, before
    AnsibleModule's own validation."""

    seal_key = None

    def __init__(self, kind, **module_spec):
        self.kind = kind
        self._arguments_checked = False
        super().__init__(**module_spec)

    def _load_params(self):
        super()._load_params()
        self.seal_key = self.params.pop(SEAL_KEY_ARG, None)

    def _set_internal_properties(self, argument_spec=None, module_parameters=None):
        super()._set_internal_properties(argument_spec, module_parameters)
        if self._arguments_checked or argument_spec is not None or module_parameters is not None:
            return
        self._arguments_checked = True  # once, on the task's own arguments (the _ansible_ ones are gone now)
        spec = dict(argument_spec=self.argument_spec)
        spec.update((name, getattr(self, name)) for name in CHECKS)
        checked = check_arguments(self.kind, spec, self.params)
        if checked.error:
            # As AnsibleModule does before failing on its own: the invocation shows validated, masked values.
            self.params.update(checked.params)
            self.no_log_values.update(checked.no_log_values)
            self.fail_json(msg=checked.error)


def missing_libraries_message(missing, host, python):
    """One sentence naming every missing library at once, and the interpreter that lacks them."""
    many = len(missing) > 1
    return ("The Python %s %s %s missing on %s's Python %s; install %s there (see the collection's "
            "requirements.txt) or set ansible_python_interpreter to a Python that has %s"
            % ("libraries" if many else "library", ", ".join(missing), "are" if many else "is", host, python,
               "them" if many else "it", "them" if many else "it"))


def run_module(kind, module_spec):
    """main() of every module: ``module_spec`` holds AnsibleModule keyword arguments."""
    module = ConductorModule(kind, supports_check_mode=True, **module_spec)
    if IMPORT_ERRORS:
        module.fail_json(msg=missing_libraries_message(list(IMPORT_ERRORS), platform.node(), sys.executable),
                         exception=next(iter(IMPORT_ERRORS.values())))
    if module.seal_key is not None:
        try:
            check_key(module.seal_key)  # before anything is written: a secret made now must be returnable
        except SealError as exc:
            module.fail_json(msg="The result cannot be sealed for the controller: %s" % exc)
    result = run(kind, module.params, check_mode=module.check_mode, diff=module._diff)
    for warning in result.pop("warnings", None) or ():  # a warnings key in the result is deprecated in 2.19, gone in 2.23
        module.warn(warning)
    if module.seal_key is not None:
        result = seal_result(result, module.seal_key)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
