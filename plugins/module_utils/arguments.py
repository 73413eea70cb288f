# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One argument check for both connection paths.

The action plugin checks a task's arguments on the controller before running the core
in-process; the module (module_utils/ansible_module.py) checks them on a remote host before
AnsibleModule's own validation. Both call ``check_arguments``, so both accept and refuse the
same arguments with the same one sentence:

- a string (or path) option, at any depth (``store.path``), given a list or a dict is refused,
  where Ansible would turn it into its repr (``"['a', 'b']"``) and carry on; so is a list or
  dict among the items of a list of strings (``allowed_cidrs[0]``);
- an unknown option, at any depth, is named with its path and the option it most likely means
  (``store.typ`` -> "did you mean type?"), before any other problem (a typo also makes the
  option it meant look missing);
- otherwise the first of Ansible's own messages, with every no_log value masked (the other
  messages name options only, never a value).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

from .public_view import unsupported_message

COLLECTION = "conductor.principals"
TEXT_TYPES = ("str", "path")
# The AnsibleModule keyword arguments that are checks (ArgumentSpecValidator takes the same).
CHECKS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class Checked(object):
    """The outcome of check_arguments: ``error`` (one sentence, or None), the validated ``params``,
    ``warnings`` and the ``no_log_values`` to mask wherever the arguments could show."""

    def __init__(self, error, params, warnings, no_log_values):
        self.error = error
        self.params = params
        self.warnings = warnings
        self.no_log_values = no_log_values


def plain(value):
    """``value`` as builtin dicts, lists, strings and numbers, as JSON carries a task's arguments to a module.

    ansible-core 2.19 hands them over tagged (each string with its origin) and in lazy containers, which
    ArgumentSpecValidator deep-copies, and a result that keeps them pickles, far slower than builtins: at 10,000
    principals check_arguments took 5.4 s on tagged values against 0.2 s on plain ones."""
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return value
    # Each returns a builtin of its kind: the same object when it is one already.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    return value


def _kind(value):
    return "dict" if isinstance(value, Mapping) else "list"


def not_text(spec, args, path=()):
    """The first text option at any depth given a list or dict, as a sentence, or None."""
    if not isinstance(args, Mapping):
        return None
    for name, option in spec.items():
        for key in [name] + list(option.get("aliases") or []):
            if key not in args:
                continue
            value = args[key]
            where = ".".join(path + (key,))
            if option.get("type", "str") in TEXT_TYPES and isinstance(value, (Mapping, list)):
                return "%s must be a string, not a %s" % (where, _kind(value))
            if option.get("type") == "list" and option.get("elements") in TEXT_TYPES and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, (Mapping, list)):
                        return "%s[%d] must be a string, not a %s" % (where, index, _kind(item))
            suboptions = option.get("options")
            if suboptions:
                entries = value if isinstance(value, list) else [value]
                for entry in entries:
                    found = not_text(suboptions, entry, path + (key,))
                    if found:
                        return found
    return None


def _unsupported(module, spec, unknown):
    """One sentence for unknown options: the top-level ones first, else the first nested one with its path."""
    names = [u for u in unknown if not isinstance(u, tuple)]
    nested = sorted(u for u in unknown if isinstance(u, tuple))
    label = "%s.%s" % (COLLECTION, module)
    if nested and not names:
        *path, leaf = nested[0]
        for part in path:
            spec = (spec.get(part) or {}).get("options") or {}
        names = [leaf]
        label = "%s option %s" % (label, ".".join(path))
    supported = [n for name, option in spec.items() for n in [name] + list(option.get("aliases") or [])]
    return unsupported_message(label, names, supported)


def module_checks(module_spec):
    """(argument_spec, the other checks) of AnsibleModule keyword arguments."""
    return module_spec["argument_spec"], {k: module_spec[k] for k in CHECKS if module_spec.get(k)}


def check_arguments(module, module_spec, args):
    """Check a task's arguments against ``module_spec`` (a module's MODULE_SPEC); return Checked."""
    argument_spec, checks = module_checks(module_spec)
    validated = ArgumentSpecValidator(argument_spec, **checks).validate(args)
    no_log = set(validated._no_log_values)
    warnings = [w["warning"] for w in validated._warnings]
    error = not_text(argument_spec, args)
    if error is None and validated.error_messages:
        # One sentence: an unknown option first (a typo also makes the option it meant look missing),
        # else the first problem, the one to fix first.
        if any(isinstance(e, UnsupportedError) for e in validated.errors.errors):
            error = _unsupported(module, argument_spec, validated.unsupported_parameters)
        else:  # Ansible's message may quote the value given: masked as Ansible masks it
            error = remove_values(validated.error_messages[0], no_log)
    return Checked(error, validated.validated_parameters, warnings, no_log)
