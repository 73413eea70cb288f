# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role inputs checked entry by entry, so that a mistake is one sentence naming its entry.

Ansible's own check of a role's ``meta/argument_specs.yml`` says "found in
provision_principals -> credentials" (not which principal, not which credential) and shows
the whole spec. ``check_entries`` validates each entry of a list option, and each entry of
its nested list (``credentials``), with the same spec, and names both in its one sentence;
an unknown key comes with the valid key it most likely means.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from .arguments import not_text, plain
from .errors import ConfigError
from .public_view import closest


def _label(kind, index, entry):
    name = entry.get("name") if isinstance(entry, dict) else None
    return "%s %r" % (kind, name) if name and isinstance(name, str) else "%s #%d" % (kind, index + 1)


def _checked(entry, spec):
    """(the first problem of one entry as a phrase or None, the entry with its values typed as ``spec`` says).

    Typed whatever their source: ``"14"`` from ``-e key=value`` or an AWX survey is the int 14, ``"false"`` False."""
    if not isinstance(entry, dict):
        return "an entry must be a dictionary, not %s" % type(entry).__name__, None
    # A list or dict given for text would become its repr (a name "['a']"): refused as the modules refuse it.
    wrong = not_text(spec, entry)
    if wrong:
        return wrong, None
    # A null value is "not set" (roles pass them through from their defaults), not a wrong value.
    result = ArgumentSpecValidator(spec).validate({k: v for k, v in entry.items() if v is not None})
    if not result.error_messages:
        return None, _given(result.validated_parameters, entry)
    error = result.errors.errors[0]
    if isinstance(error, UnsupportedError):
        valid = [name for name, option in spec.items() for name in [name] + list(option.get("aliases") or [])]
        unknown = sorted(result.unsupported_parameters)[0]
        guess = closest(unknown, valid)
        return ("no option %s (did you mean %s?)" % (unknown, guess) if guess
                else "no option %s; valid options are %s" % (unknown, ", ".join(sorted(valid)))), None
    return result.error_messages[0], None


def _given(typed, entry):
    """``typed`` cut to what ``entry`` sets, at any depth: the values typed, no default or null added."""
    if isinstance(typed, dict) and isinstance(entry, dict):
        return {k: _given(typed.get(k), v) for k, v in entry.items() if v is not None and k in typed}
    if isinstance(typed, list) and isinstance(entry, list) and len(typed) == len(entry):
        return [_given(t, e) for t, e in zip(typed, entry)]
    return typed


def _without_nulls(entry, nested):
    """``entry`` and its ``nested`` entries without null values, as ``_checked`` gives them to the validator."""
    kept = {k: v for k, v in entry.items() if v is not None}
    if isinstance(kept.get(nested), list):
        kept[nested] = [{k: v for k, v in child.items() if v is not None} if isinstance(child, dict) else child
                        for child in kept[nested]]
    return kept


def _checked_at_once(entries, spec, nested):
    """Every entry typed by one validation of the whole list, or None when any entry has a problem.

    One validator for the list, not two per entry: 10,000 principals are checked in half the time. The outcome
    is the entry-by-entry check's when every entry passes; when one does not, that check runs to name it."""
    if not all(isinstance(entry, dict) and not not_text(spec, entry) for entry in entries):
        return None
    given = [_without_nulls(entry, nested) for entry in entries]
    result = ArgumentSpecValidator({"entries": {"type": "list", "elements": "dict", "options": spec}}).validate(
        {"entries": given})
    if result.error_messages:
        return None
    return _given(result.validated_parameters["entries"], given)


def check_option(value, spec, option):
    """A dict option (a role's ``provision_store``) checked against ``spec``, its suboptions: ConfigError naming
    ``option`` and, for an unknown key, the key it most likely means ("did you mean path?")."""
    if not isinstance(value, dict):
        raise ConfigError("%s must be a dictionary, not %s" % (option, type(value).__name__))
    problem = _checked(plain(value), spec)[0]
    if problem:
        raise ConfigError("%s: %s" % (option, problem))


def check_entries(entries, spec, option, nested="credentials", nested_kind="credential", kind="principal"):
    """The entries of list option ``option`` typed as ``spec`` says, or ConfigError naming the first bad entry
    (and nested entry).

    ``spec`` is the ``options`` of that list option as in ``meta/argument_specs.yml``;
    ``nested`` names its own list option whose entries are checked (and typed) one by one the same way.
    """
    if entries is None:
        return None
    if not isinstance(entries, list):
        raise ConfigError("%s must be a list of %ss, not %s" % (option, kind, type(entries).__name__))
    entries = plain(entries)
    typed = _checked_at_once(entries, spec, nested)
    if typed is not None:
        return typed
    # Some entry has a problem: checked entry by entry (the nested list too), so that the message names it.
    outer = {name: ({k: v for k, v in value.items() if k not in ("options", "elements")} if name == nested
                    else value) for name, value in spec.items()}
    inner = (spec.get(nested) or {}).get("options") or {}
    typed = []
    for index, entry in enumerate(entries):
        label = "%s: %s" % (option, _label(kind, index, entry))
        problem, checked = _checked(entry, outer)
        if problem:
            raise ConfigError("%s: %s" % (label, problem))
        children = []
        for child_index, child in enumerate(entry.get(nested) or [] if inner else []):
            problem, child_checked = _checked(child, inner)
            if problem:
                raise ConfigError("%s, %s: %s" % (label, _label(nested_kind, child_index, child), problem))
            children.append(child_checked)
        if inner and entry.get(nested):
            checked[nested] = children
        typed.append(checked)
    return typed
