# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin AnsibleModule side: parse arguments, call the core, report."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .deps import IMPORT_ERRORS
from .runner import run


def run_module(kind, module_spec):
    """main() of every module: ``module_spec`` holds AnsibleModule keyword arguments."""
    module = AnsibleModule(supports_check_mode=True, **module_spec)
    if IMPORT_ERRORS:
        name, trace = next(iter(IMPORT_ERRORS.items()))
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib(name), exception=trace)
    result = run(kind, module.params, check_mode=module.check_mode, diff=module._diff)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
