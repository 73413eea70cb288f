# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run of the ready playbooks did, as a table with totals per platform; never a secret.

``playbooks/provision.yml``, ``rotate.yml`` and ``decommission.yml`` end with it (the table of
``make demo``, for every run), whether the run succeeded or failed: one line per credential, per
trust (with the client ID a workload presents), per removed principal and per credential it took with
it, and per failed item; then each failed item's error, then one line per platform counting what was
created, rotated, revoked and removed. In check mode the same table is worded as a plan.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Only these fields of a row are ever shown: names, IDs, dates, counts and a failed item's error.
COLUMNS = ("platform", "principal", "credential", "action", "client_id", "expires_at", "revoked")
COUNTED = ("created", "rotated", "revoked", "removed")
# Check mode: what each action would be.
PLANNED = {"created": "would create", "rotated": "would rotate", "revoked": "would revoke",
           "removed": "would remove", "changed": "would change", "updated": "would change",
           "replaced": "would rotate"}
STOPPED = "(the run stopped before its principals were ensured; the error above says why)"


def _cell(row, column, check_mode):
    value = row.get(column)
    if column == "credential" and row.get("kind") == "trust":
        return "%s (trust)" % value
    if column == "action" and check_mode:
        return PLANNED.get(value, value or "")
    if column == "expires_at" and not value and row.get("kind") not in ("trust", "principal", "run") \
            and row.get("action") not in ("revoked", "removed", "absent", "failed"):
        return "never"
    if column == "revoked":
        return str(value) if value else ""
    return "" if value is None else str(value)


def _totals(rows):
    """{platform: {counted action: n}}, platforms in the order they first appear."""
    totals = {}
    for row in rows:
        counts = totals.setdefault(row.get("platform") or "", dict.fromkeys(COUNTED + ("unchanged", "failed"), 0))
        action = row.get("action")
        if action in ("created", "rotated", "removed", "failed"):
            counts[action] += 1
        elif action in ("unchanged", "absent"):
            counts["unchanged"] += 1
        counts["revoked"] += int(row.get("revoked") or 0)
    return totals


def _total_line(platform, counts, check_mode):
    if check_mode:
        line = "%s: would create %d, rotate %d, revoke %d, remove %d; %d unchanged" % (
            platform, counts["created"], counts["rotated"], counts["revoked"], counts["removed"], counts["unchanged"])
    else:
        line = "%s: %s" % (platform, ", ".join("%d %s" % (counts[k], k) for k in COUNTED + ("unchanged",)))
    return line + (", %d failed" % counts["failed"] if counts["failed"] else "")


def _error(row):
    """A failed row's error as one line: what failed, and why."""
    what = " / ".join(part for part in (row.get("platform"), row.get("principal"), row.get("credential")) if part)
    kind = row.get("kind")
    return "failed: %s%s: %s" % (what, " (%s)" % kind if kind in ("trust", "run") else "",
                                 " ".join(str(row.get("error") or "").split()))


def summary_table(summary, removed=None, check_mode=False):
    """``provision_summary`` (and ``provision_removed``) as an aligned text table, one line each.

    A header, one line per row, one ``failed: <what>: <error>`` line per failed row, then ``<platform>: N created,
    N rotated, N revoked, N removed, N unchanged`` (and ``, N failed``) per platform. With ``check_mode`` the
    table is a plan: a first line says nothing was changed, actions read ``would create``, ``would rotate``...
    and the totals ``<platform>: would create N, rotate N, revoke N, remove N; N unchanged``. ``summary`` None
    (the role stopped before its facts) says so. Only names, IDs, dates, counts and errors are shown: a row's
    other keys (a secret, should one be passed in) are never read.
    """
    if summary is not None and not isinstance(summary, list):
        raise AnsibleFilterError("summary_table takes provision_summary, a list of rows, not %s."
                                 % type(summary).__name__)
    check_mode = bool(check_mode)
    rows = [dict(row, revoked=row.get("revoked") or 0) for row in (summary or []) + list(removed or [])
            if isinstance(row, dict)]
    table = [[c.upper().replace("_", " ") for c in COLUMNS]]
    if check_mode:
        table[0][COLUMNS.index("revoked")] = "TO REVOKE"
    table += [[_cell(row, c, check_mode) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [" ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    if check_mode:
        lines.insert(0, "Check mode: nothing was changed. What a run would do:")
    if summary is None and not rows:
        lines.append(STOPPED)
    elif not rows:
        lines.append("(nothing listed)")
    lines.extend(_error(row) for row in rows if row.get("action") == "failed")
    for platform, counts in _totals(rows).items():
        lines.append(_total_line(platform, counts, check_mode))
    return lines


class FilterModule(object):
    def filters(self):
        return {"summary_table": summary_table}
