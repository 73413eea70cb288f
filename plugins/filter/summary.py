# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run of the ready playbooks did, as a table with totals per platform; never a secret.

``playbooks/provision.yml``, ``rotate.yml`` and ``decommission.yml`` end with it (the table of
``make demo``, for every run): one line per credential and per removed principal, then one line
per platform counting what was created, rotated, revoked and removed.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Only these fields of a row are ever shown: names, IDs, dates and counts.
COLUMNS = ("platform", "principal", "credential", "action", "client_id", "expires_at", "revoked")
COUNTED = ("created", "rotated", "revoked", "removed")


def _cell(row, column):
    value = row.get(column)
    if column == "expires_at" and not value and row.get("action") not in ("revoked", "removed", "absent"):
        return "never"
    if column == "revoked":
        return str(value) if value else ""
    return "" if value is None else str(value)


def _totals(rows):
    """{platform: {counted action: n}}, platforms in the order they first appear."""
    totals = {}
    for row in rows:
        counts = totals.setdefault(row.get("platform") or "", dict.fromkeys(COUNTED + ("unchanged",), 0))
        action = row.get("action")
        if action in ("created", "rotated", "removed"):
            counts[action] += 1
        elif action in ("unchanged", "absent"):
            counts["unchanged"] += 1
        counts["revoked"] += int(row.get("revoked") or 0)
    return totals


def summary_table(summary, removed=None):
    """``provision_summary`` (and ``provision_removed``) as an aligned text table, one line each.

    A header, one line per row, then ``<platform>: N created, N rotated, N revoked, N removed,
    N unchanged`` per platform. Only names, IDs, dates and counts are shown: a row's other keys
    (a secret, should one be passed in) are never read.
    """
    if summary is not None and not isinstance(summary, list):
        raise AnsibleFilterError("summary_table takes provision_summary, a list of rows, not %s."
                                 % type(summary).__name__)
    rows = [dict(row, revoked=row.get("revoked") or 0) for row in (summary or []) + list(removed or [])
            if isinstance(row, dict)]
    table = [[c.upper().replace("_", " ") for c in COLUMNS]] + [[_cell(row, c) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [" ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    if not rows:
        lines.append("(nothing listed)")
    for platform, counts in _totals(rows).items():
        lines.append("%s: %s" % (platform, ", ".join("%d %s" % (counts[k], k) for k in COUNTED + ("unchanged",))))
    return lines


class FilterModule(object):
    def filters(self):
        return {"summary_table": summary_table}
