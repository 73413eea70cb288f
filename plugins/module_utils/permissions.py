# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A principal's permissions (grants on named resources) as plain values: check, compare, plan.

A grant is one (target type, target id, access) triple; a set of them is what a principal
holds, whatever the order or grouping it was listed in. ``plan`` says what to add and remove
to go from one set to another, grouped by target so that each target costs at most one add
and one remove call. Pure functions: no I/O, unit tested.
"""

from __future__ import annotations

from collections import namedtuple

from .errors import ConfigError

#: The options of one entry of ``permissions`` (the module's and the roles' argument specs).
ENTRY_KEYS = ("type", "id", "access")


def entry_options(target_types, access_values):
    """The argument spec of one ``permissions`` entry, with the allowed values as choices."""
    return dict(
        type=dict(type="str", required=True, choices=list(target_types)),
        id=dict(type="str", required=True),
        access=dict(type="list", elements="str", required=True, choices=list(access_values)),
    )


def _label(entry):
    return "%s %s" % (entry.get("type"), entry.get("id")) if isinstance(entry, dict) else repr(entry)


def check(entries, target_types, access_values):
    """Raise one ConfigError sentence for the first entry that cannot be granted."""
    if not isinstance(entries, (list, tuple)):
        raise ConfigError("permissions must be a list of {type, id, access}, not %s" % type(entries).__name__)
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) - set(ENTRY_KEYS):
            raise ConfigError("permissions entry %d must have only the keys type, id and access" % number)
        if entry.get("type") not in target_types:
            raise ConfigError("permissions entry %d: type %r is not a target type; use one of %s"
                              % (number, entry.get("type"), ", ".join(target_types)))
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            raise ConfigError("permissions entry %d (%s) needs id, the name of the target" % (number, entry["type"]))
        access = entry.get("access")
        if not isinstance(access, (list, tuple)) or not access:
            raise ConfigError("permissions entry %d (%s) needs access, a list from %s"
                              % (number, _label(entry), ", ".join(access_values)))
        unknown = [a for a in access if a not in access_values]
        if unknown:
            raise ConfigError("permissions entry %d (%s): access %s %s; use %s"
                              % (number, _label(entry), ", ".join(str(a) for a in unknown),
                                 "is not an access value" if len(unknown) == 1 else "are not access values",
                                 ", ".join(access_values)))


def grant_set(entries):
    """The set of (type, id, access) triples that entries ({type, id, access: [...]}) stand for."""
    return frozenset((e["type"], e["id"], access) for e in entries or () for access in e.get("access") or ())


def _grouped(grants):
    by_target = {}
    for target_type, target_id, access in grants:
        by_target.setdefault((target_type, target_id), set()).add(access)
    return [{"type": target_type, "id": target_id, "access": sorted(access)}
            for (target_type, target_id), access in sorted(by_target.items())]


def as_entries(grants):
    """Grants as entries, one per target, sorted by target and access: the shape returned and diffed."""
    return _grouped(grants)


class GrantPlan(namedtuple("GrantPlan", "add remove")):
    """What turns one grant set into another: the entries to ``add`` and to ``remove``, one per target with every
    access value to add (or to remove) on it, so each is one call."""

    __slots__ = ()

    @property
    def empty(self):
        return not self.add and not self.remove


def plan(current, desired):
    """The GrantPlan that turns grants ``current`` into ``desired`` (both sets of triples)."""
    return GrantPlan(_grouped(set(desired) - set(current)), _grouped(set(current) - set(desired)))
