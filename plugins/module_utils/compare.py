# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare desired with actual, once for every resource and platform."""

from __future__ import annotations


def _canonical(value):
    # Lists are sets here (roles, CIDRs, role IDs); dicts compare by content.
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def differences(current, desired):
    """{field: (current, desired)} for every desired field that is set and differs.

    A desired value of None means "not managed": it never differs.
    """
    return {
        field: (current.get(field), wanted)
        for field, wanted in desired.items()
        if wanted is not None and _canonical(current.get(field)) != _canonical(wanted)
    }


def describe(changes):
    """One phrase per difference, for error messages: "require_dpop is false, wanted true"."""
    def show(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple)):
            return "[%s]" % ", ".join(str(v) for v in _canonical(value))
        return "none" if value is None else str(value)
    return "; ".join("%s is %s, wanted %s" % (field, show(before), show(after))
                     for field, (before, after) in sorted(changes.items()))
