# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin AnsibleModule side: parse arguments, call the core, report."""

from __future__ import annotations

import platform
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.parameters import PASS_VARS

from .arguments import CHECKS, check_arguments
from .deps import IMPORT_ERRORS
from .runner import UNREGISTERED_ARG, run
from .sealing import SEAL_KEY_ARG, SealError, check_key, seal_result


class ConductorModule(AnsibleModule):
    """AnsibleModule that takes the action plugin's one-time sealing key (see sealing.py) out of
    the arguments before they are validated (it is the action plugin's, not a user option), and
    refuses bad arguments with arguments.check_arguments' one sentence, as the action plugin does
    in-process.

    Built on AnsibleModule's public behaviour only (fail_json, params, no_log_values) plus the
    _load_params method custom modules are told to use to see the raw arguments: AnsibleModule
    refusing the arguments ends in fail_json, where the check runs first; arguments it accepts are
    checked as soon as __init__ returns (a list given for a string, which it would make text; its
    syslog line of the invocation is written by then, masked as always)."""

    seal_key = None
    unregistered = False
    _given = None  # the task's own arguments, as given, until they are checked

    def __init__(self, kind, **module_spec):
        self.kind = kind
        super().__init__(**module_spec)
        self._refuse_bad_arguments()

    def _load_params(self):
        super()._load_params()
        self.seal_key = self.params.pop(SEAL_KEY_ARG, None)
        self.unregistered = bool(self.params.pop(UNREGISTERED_ARG, False))
        # AnsibleModule's internal arguments (_ansible_check_mode, ...) are not the task's.
        internal = {"_ansible_%s" % name for name in PASS_VARS}
        self._given = {k: v for k, v in self.params.items() if k not in internal}

    def fail_json(self, msg, **kwargs):
        self._refuse_bad_arguments()  # AnsibleModule's own refusal, in __init__: ours is the sentence
        super().fail_json(msg=msg, **kwargs)

    def _refuse_bad_arguments(self):
        given, self._given = self._given, None  # once
        if given is None:
            return
        spec = dict(argument_spec=self.argument_spec)
        spec.update((name, getattr(self, name)) for name in CHECKS)
        checked = check_arguments(self.kind, spec, given)
        if checked.error:
            # As AnsibleModule does before failing on its own: the invocation shows validated, masked values.
            self.params.update(checked.params)
            self.no_log_values.update(checked.no_log_values)
            super().fail_json(msg=checked.error)


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
    result = run(kind, module.params, check_mode=module.check_mode, diff=module._diff,
                 unregistered=module.unregistered)
    for warning in result.pop("warnings", None) or ():  # a warnings key in the result is deprecated in 2.19, gone in 2.23
        module.warn(warning)
    if module.seal_key is not None:
        result = seal_result(result, module.seal_key)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
