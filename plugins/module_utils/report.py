# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hygiene report of every credential on one platform: rows, flags, a summary, and
the same report as JSON, Markdown or HTML (a table and an inline SVG chart, no script).

Requests stay N + M/page: one listing of principals (every page), one listing of
credentials per principal (and, where principals hold permissions, one read of each one's
grants), one search of the trusts (SearchTrusts), and the one token of the client. Given a
``parallel.Pool`` (``pooled``), the per-principal reads run on it, at most its parallelism at
once, each worker on its own session and every one on the same token. Secrets are never read
from the API (it has none to give) nor from a store entry beyond its credential ID.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from html import escape as _html_escape

from contextlib import contextmanager

from . import parallel
from .errors import ConductorError, ConfigError
from .federation import trust_rows
from .permissions import grant_set
from .platforms import platforms_where
from .timestamps import days_between, days_until, format_time, parse_time

FLAGS = ("expired", "expiring", "unused", "never_used", "unheld", "overlapping", "broad", "disabled")
FORMATS = ("json", "markdown", "html")
SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}
FLAG_MEANING = {
    "expired": "past its expiry: it no longer works",
    "expiring": "expires within expiring_within_days",
    "unused": "not used for unused_days or more (never used: counted from its creation)",
    "never_used": "no token was ever obtained with it",
    "unheld": "live, but the store holds no entry with its ID",
    "overlapping": "another live credential of the same name (Orkes: another key) on the same principal",
    "broad": "a trust whose condition lets every token of its issuer through",
    "disabled": "a trust that is disabled: its token exchanges are refused",
}
# Rows of the pages, most urgent first: a row ranks by its most urgent flag, then by days left.
URGENCY = ("expired", "expiring", "unheld", "unused", "never_used", "overlapping")
DEFAULT_MODE = 0o600
# The principal part of the store key of a personal API key (runner.PERSONAL_PRINCIPAL of sp_credential).
PERSONAL_OWNER = "@personal"


def validate_report_params(adapter, params):
    """Bad input, named before any request."""
    for option, least in (("expiring_within_days", 0), ("unused_days", 1)):
        if params.get(option) is not None and params[option] < least:
            raise ConfigError("%s must be %d or more, not %s" % (option, least, params[option]))
    if params.get("include_personal") and not adapter.capabilities.has_personal_credentials:
        raise ConfigError("include_personal works only on platform %s; remove it for %s"
                          % (" or ".join(platforms_where(lambda c: c.has_personal_credentials)),
                             adapter.capabilities.platform))
    if params.get("format") and params["format"] not in FORMATS:
        raise ConfigError("format must be one of %s, not %r" % (", ".join(FORMATS), params["format"]))
    if params.get("dest"):
        folder = os.path.dirname(os.path.abspath(params["dest"]))
        if not os.path.isdir(folder):
            raise ConfigError("dest: the folder %s does not exist; create it first" % folder)
    report_mode(params)


def report_mode(params):
    """The file mode of ``dest``: ``mode`` as octal text (``"0644"``) or a number, 0600 when unset."""
    mode = params.get("mode")
    if mode is None or mode == "":
        return DEFAULT_MODE
    if not params.get("dest"):
        raise ConfigError("mode applies to the file written to dest; give dest too, or remove mode")
    text = str(mode).strip()
    try:
        value = int(text, 8) if isinstance(mode, str) else int(mode)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777 or value & 0o133:
        raise ConfigError("mode %r is not a file mode for a report; give octal text such as '0600' or '0644' "
                          "(no execute bits, no write for group or others)" % (mode,))
    return value


def store_label(store):
    """The store a report judged ``unheld`` against, in words: its type and where it is; never a secret."""
    if store is None:
        return None
    where = (getattr(store, "file", None)
             or ("%s %s/%s" % (store.url, store.mount_point, store.prefix) if getattr(store, "url", None) else None)
             or ("%s %s" % (store.region, store.prefix) if getattr(store, "region", None) else None)
             or store.prefix)
    return "%s %s" % (store.type, where)


def _legend_flags():
    return URGENCY + tuple(flag for flag in FLAGS if flag not in URGENCY)


def urgency_sorted(rows):
    """The rows most urgent first (expired, expiring, unheld, unused, never used, overlapping, ok)."""
    def key(row):
        ranks = [URGENCY.index(flag) for flag in row["flags"] if flag in URGENCY]
        days = row["expires_in_days"]
        return (min(ranks) if ranks else len(URGENCY), days is None, days or 0,
                _owner_label(row), _credential_label(row))
    return sorted(rows, key=key)


def report_format(params):
    """``format`` when given, else guessed from the suffix of ``dest``, else json."""
    if params.get("format"):
        return params["format"]
    suffix = os.path.splitext(params.get("dest") or "")[1].lower()
    return SUFFIX_FORMATS.get(suffix, "json")


@contextmanager
def pooled(client, parallelism=parallel.DEFAULT_PARALLELISM):
    """(adapter, pool, clock) for a report through ``client``: its per-principal reads on a ``parallel.Pool`` of
    ``parallelism`` workers, one token for all; ``clock`` is the server's, read from the pooled answers."""
    from .platforms import adapter_for  # the adapters import the HTTP stack: only when a report is made
    with parallel.Pool(parallelism) as pool:
        shared = parallel.shared_client(client, pool)
        yield adapter_for(shared), pool, shared.server_now


def _each(adapter_call, items, pool=None):
    """``adapter_call(item)`` for every item, in order, on ``pool`` when given: the first error is raised."""
    outcomes = (pool or parallel.InOrder()).map(adapter_call, items)
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [outcome.value for outcome in outcomes]


def gather(adapter, include_personal=False, pool=None):
    """[(principal or None for personal keys, [credentials])] in listing order; the credential listings (one per
    principal) on ``pool`` when given (a ``parallel.Pool`` the adapter's client sends through: see ``pooled``)."""
    principals = list(adapter.list_principals()) + ([None] if include_personal else [])
    listings = _each(adapter.list_credentials, [p["id"] if p else None for p in principals], pool)
    return list(zip(principals, listings))


def _days_since(moment, now):
    return None if moment is None else int(math.floor(days_between(moment, now)))


def _overlap_key(principal, credential):
    """Credentials that stand for one another: same owner and name (nameless keys: same owner)."""
    return (principal["id"] if principal else None, credential.get("name"))


def judge(groups, now, expiring_within_days=14, unused_days=30, records_use=True, held=None):
    """One row per credential, with its flags.

    ``held(principal, credential)`` says whether a store holds its secret (None: not judged).
    ``records_use`` is false where the platform keeps no last use (Orkes): then neither
    ``unused`` nor ``never_used`` is judged, and ``days_unused`` is null.
    """
    live_by_key = {}
    for principal, credentials in groups:
        for credential in credentials:
            left = days_until(credential.get("expires_at"), now)
            if left is None or left > 0:
                key = _overlap_key(principal, credential)
                live_by_key[key] = live_by_key.get(key, 0) + 1
    rows = []
    for principal, credentials in groups:
        for credential in credentials:
            left = days_until(credential.get("expires_at"), now)
            expired = left is not None and left <= 0
            last_used = parse_time(credential.get("last_used_at"))
            since = last_used or parse_time(credential.get("created_at"))
            days_unused = _days_since(since, now) if records_use else None
            flags = []
            if expired:
                flags.append("expired")
            elif left is not None and left <= expiring_within_days:
                flags.append("expiring")
            if records_use and days_unused is not None and days_unused >= unused_days:
                flags.append("unused")
            if records_use and last_used is None:
                flags.append("never_used")
            if held is not None and not expired and not held(principal, credential):
                flags.append("unheld")
            if not expired and live_by_key.get(_overlap_key(principal, credential), 0) > 1:
                flags.append("overlapping")
            rows.append({
                "service_principal": principal["name"] if principal else None,
                "service_principal_id": principal["id"] if principal else None,
                "personal": principal is None,
                "name": credential.get("name"),
                "id": credential.get("id"),
                "client_id": credential.get("client_id"),
                "status": credential.get("status"),
                "created_at": credential.get("created_at"),
                "expires_at": credential.get("expires_at"),
                "expires_in_days": None if left is None else int(math.floor(left)),
                "last_used_at": credential.get("last_used_at"),
                "days_unused": days_unused,
                "flags": flags,
            })
    return rows


def held_by(store, platform):
    """``held(principal, credential)`` for ``judge``: the store holds an entry with the credential's ID.

    The platform's entries are listed and read once, all together, on the first question (vault_file: one
    decryption for each, whatever the number of credentials judged); only ``credential_id`` is kept of each. A
    named credential is judged by its own entry key, a nameless Orkes key by the entries of its principal.
    """
    from .stores import PERSONAL, SERVICE_PRINCIPAL, EntryKey  # the store package, only when a store is asked for

    read = {}

    def entries():
        if not read:
            keys = list(store.list(platform))
            found, errors = store.read_many(keys)
            read.update(keys=keys, errors=errors, ids={
                key: (entry.content or {}).get("credential_id") if entry else None for key, entry in found.items()})
        return read

    def credential_id(key):
        if key in entries()["errors"]:  # an entry the store could not read is not judged held: its error is said
            raise read["errors"][key]
        return read["ids"].get(key)

    def held(principal, credential):
        owner = principal["name"] if principal else PERSONAL_OWNER
        kind = SERVICE_PRINCIPAL if principal else PERSONAL
        if credential.get("name"):
            return credential_id(EntryKey(platform, owner, credential["name"], kind)) == credential["id"]
        return any(credential_id(key) == credential["id"] for key in entries()["keys"]
                   if (key.principal, key.owner) == (owner, kind))

    return held


def summarise(rows):
    summary = {flag: sum(1 for row in rows if flag in row["flags"]) for flag in FLAGS}
    summary["total"] = len(rows)
    summary["flagged"] = sum(1 for row in rows if row["flags"])
    return summary


def build_report(adapter, params, clock, held=None, pool=None):
    """The module's result (without dest): rows, summary, and what they were judged against.

    ``clock()`` is read after the listings: the client's clock is the server's (the Date of its answers).
    ``pool``: the per-principal reads run on it (see ``pooled``); without it, one after the other.
    """
    groups = gather(adapter, bool(params.get("include_personal")), pool)
    now = clock()
    expiring = params.get("expiring_within_days")
    unused = params.get("unused_days")
    rows = judge(groups, now, 14 if expiring is None else expiring, 30 if unused is None else unused,
                 records_use=adapter.capabilities.records_credential_use, held=held)
    grants = _grants(adapter, groups, pool)
    for row in rows if grants is not None else ():
        row["grants"] = next((g["grants"] for g in grants if g["service_principal_id"] == row["service_principal_id"]),
                             None)
    for row in rows:
        row["kind"] = "credential"
    if adapter.capabilities.has_workload_federation:  # trusts (kind: trust) have no secret and no expiry
        rows += trust_rows(adapter, [principal for principal, dummy in groups if principal is not None])
    report = {
        "changed": False,
        "credentials": rows,
        "summary": summarise(rows),
        "generated_at": format_time(now),
        "platform": adapter.capabilities.platform,
        "principals": sum(1 for principal, dummy in groups if principal is not None),
        "thresholds": {"expiring_within_days": 14 if expiring is None else expiring,
                       "unused_days": 30 if unused is None else unused, "store_checked": held is not None,
                       "store": None,
                       "use_recorded": adapter.capabilities.records_credential_use},
    }
    if grants is not None:
        report["permissions"] = grants
    return report


def _grants(adapter, groups, pool=None):
    """[{service_principal, service_principal_id, grants}] where principals hold permissions (one read each)."""
    if "permissions" not in adapter.capabilities.principal_settings:
        return None
    principals = [principal for principal, dummy in groups if principal]
    return [{"service_principal": principal["name"], "service_principal_id": principal["id"],
             "grants": len(grant_set(found))}
            for principal, found in zip(principals, _each(adapter.list_permissions, principals, pool))]


def _grant_counts(report):
    return ", ".join("%s %d" % (row["service_principal"], row["grants"]) for row in report.get("permissions") or [])


# ---- rendering ------------------------------------------------------------------------------

def _owner_label(row):
    return "(personal API key)" if row.get("personal") else (row["service_principal"] or "")


def _credential_label(row):
    return row["name"] or row["id"] or ""


def _kind(row):
    """``credential`` (a secret to keep) or ``trust`` (secretless: a workload's token buys access)."""
    return row.get("kind") or "credential"


def _days_left(row):
    return "never" if row["expires_at"] is None and row["expires_in_days"] is None else _value(row["expires_in_days"])


def _store_words(thresholds):
    if not thresholds["store_checked"]:
        return "the store was not checked"
    return "unheld judged against the %s store" % (thresholds.get("store") or "given")


def _value(value, empty="-"):
    return empty if value is None or value == "" else str(value)


def render_json(report):
    return json.dumps({k: v for k, v in report.items() if k != "changed"}, indent=2, sort_keys=False) + "\n"


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")
# Markdown: < > & as character references (no HTML tag or entity can start), the table's and inline
# markup's ASCII punctuation with a backslash (GFM's escape for ``|`` in a cell); ``_`` stays (flag names).
_MD_ESCAPES = dict({"&": "&amp;", "<": "&lt;", ">": "&gt;"}, **{ch: "\\" + ch for ch in "\\|`*[]!#~"})


def text_of(value):
    """Any value the API returned as text that every encoder takes: a lone surrogate becomes U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", str(value))


def _md(text):
    """A Markdown table cell, the one escaping of the report: no markup, no line break, no cell break."""
    text = _LINE_BREAKS.sub(" ", text_of(text))
    return "".join(_MD_ESCAPES.get(ch, ch) for ch in text)


def render_markdown(report):
    summary, thresholds = report["summary"], report["thresholds"]
    lines = [
        "# Credential report: %s" % report["platform"], "",
        "Generated %s from %s. %d credentials of %d principals; expiring = within %d days, unused = %d days "
        "or more; %s. Most urgent first." % (
            report["generated_at"], _md(report.get("server_url") or report["platform"]), summary["total"],
            report["principals"], thresholds["expiring_within_days"], thresholds["unused_days"],
            _store_words(thresholds)), "",
        "| " + " | ".join(FLAGS) + " | total |",
        "|" + "---:|" * (len(FLAGS) + 1),
        "| " + " | ".join(str(summary[f]) for f in FLAGS) + " | %d |" % summary["total"], "",
        "| Service principal | Kind | Credential | ID | Client ID | Created | Expires | Days left | Last used | "
        "Days unused | Flags |",
        "|---|---|---|---|---|---|---|---:|---|---:|---|",
    ]
    for row in urgency_sorted(report["credentials"]):
        lines.append("| " + " | ".join(_md(cell) for cell in (
            _owner_label(row), _kind(row), _credential_label(row), _value(row["id"]), _value(row["client_id"]),
            _value(row["created_at"]), _value(row["expires_at"], "never"), _days_left(row),
            _value(row["last_used_at"], "never"), _value(row["days_unused"]),
            ", ".join(row["flags"]) or "ok")) + " |")
    lines += ["", "| Flag | Set when |", "|---|---|"]
    lines += ["| %s | %s |" % (f, _md(FLAG_MEANING[f])) for f in _legend_flags()]
    if report.get("permissions") is not None:
        lines += ["", "Grants (access values on named resources) per application: %s." % (
            _md(_grant_counts(report)) or "no applications")]
    return "\n".join(lines) + "\n"


COLOURS = {"expired": "#c62828", "expiring": "#ef8f00", "ok": "#2e7d32", "never": "#78909c"}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1c2733;background:#fff}
h1{font-size:22px;margin:0 0 4px}p.meta{color:#55606c;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:18px}
.card{border:1px solid #d8dde3;border-radius:8px;padding:8px 14px;min-width:92px}
.card b{display:block;font-size:24px}.card span{font-size:12px;color:#55606c}
.card.hot{border-color:#c62828;background:#fdecea}.card.warn{border-color:#ef8f00;background:#fff4e0}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e3e7ec;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.num{text-align:right}td time{white-space:nowrap}td.mono{font-family:ui-monospace,monospace;font-size:12px}
.flag{display:inline-block;border-radius:10px;padding:0 7px;margin:1px;font-size:11px;color:#fff}
.flag.expired{background:#c62828}.flag.expiring{background:#ef8f00}.flag.unused{background:#6d4c41}
.flag.never_used{background:#8e24aa}.flag.unheld{background:#1565c0}.flag.overlapping{background:#00838f}
.flag.broad{background:#ad1457}.flag.disabled{background:#546e7a}.flag.ok{background:#2e7d32}
h2{font-size:16px;margin:22px 0 6px}svg text{font-size:11px;fill:#1c2733}
table.legend{width:auto;margin-top:8px}table.legend td{border-bottom:1px solid #e3e7ec}
"""
HOT_FLAGS = ("expired", "unheld")


def _chart(rows, expiring_within_days):
    """Horizontal bars of days to expiry: soonest first, zero and the expiring threshold marked."""
    ordered = urgency_sorted(rows)
    known = [r["expires_in_days"] for r in rows if r["expires_in_days"] is not None]
    low = min([0] + known)
    high = max([expiring_within_days, 1] + known)
    label_width, plot_width, bar_height, gap, top = 300, 520, 14, 4, 26
    height = top + len(ordered) * (bar_height + gap) + 10

    def x(days):
        return label_width + (days - low) * plot_width / float(high - low)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" class="expiry-chart" width="%d" height="%d" '
             'viewBox="0 0 %d %d"><title>Days to expiry per credential</title>'
             % (label_width + plot_width + 110, height, label_width + plot_width + 110, height)]
    for days, label, dash, anchor in ((0, "today", "", "end"),
                                      (expiring_within_days, "%d days" % expiring_within_days, "4 3", "start")):
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#55606c" stroke-dasharray="%s"/>'
                     '<text x="%.1f" y="%d" text-anchor="%s">%s</text>'
                     % (x(days), top - 6, x(days), height - 6, dash, x(days) + (3 if anchor == "start" else -3),
                        top - 10, anchor, escape(label)))
    for index, row in enumerate(ordered):
        y = top + index * (bar_height + gap)
        days = row["expires_in_days"]
        kind = ("never" if days is None else "expired" if "expired" in row["flags"]
                else "expiring" if "expiring" in row["flags"] else "ok")
        # A credential that never expires has no bar (a long one would read as "many days left").
        start, end = (x(0), x(0)) if days is None else sorted((x(0), x(days)))
        text = "%s / %s" % (_owner_label(row), _credential_label(row))
        shown = text if len(text) <= 46 else text[:45] + "\u2026"
        value = "never expires" if days is None else "%d day%s" % (days, "" if abs(days) == 1 else "s")
        parts.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (label_width - 8, y + bar_height - 3, escape(shown)))
        parts.append('<rect class="mark %s" data-credential-id="%s" x="%.1f" y="%d" width="%.1f" height="%d" '
                     'fill="%s" rx="2"><title>%s: %s</title></rect>'
                     % (kind, escape(_value(row["id"], ""), quote=True), start, y,
                        0.0 if days is None else max(end - start, 2.0), bar_height,
                        COLOURS[kind], escape(text), value))
        parts.append('<text x="%.1f" y="%d">%s</text>' % (max(end, x(0)) + 4, y + bar_height - 3, escape(value)))
    parts.append("</svg>")
    return "".join(parts)


def _date(stamp, empty):
    """The day at a glance, the exact time on hover."""
    if not stamp:
        return escape(empty)
    return '<time datetime="%s" title="%s">%s</time>' % (escape(stamp, quote=True), escape(stamp, quote=True),
                                                         escape(stamp[:10]))


def render_html(report):
    summary, thresholds = report["summary"], report["thresholds"]
    cards = ['<div class="card"><b>%d</b><span>credentials</span></div>' % summary["total"]]
    for flag in FLAGS:
        hot = ("hot" if flag in HOT_FLAGS else "warn") if summary[flag] else ""
        judged = thresholds["store_checked"] if flag == "unheld" else (
            thresholds["use_recorded"] if flag in ("unused", "never_used") else True)
        cards.append('<div class="card %s" title="%s"><b>%s</b><span>%s</span></div>'
                     % (hot, escape(FLAG_MEANING[flag], quote=True), summary[flag] if judged else "-",
                        flag if judged else flag + " (not judged)"))
    body_rows = []
    for row in urgency_sorted(report["credentials"]):
        flags = "".join('<span class="flag %s">%s</span>' % (f, f) for f in row["flags"]) or \
            '<span class="flag ok">ok</span>'
        cells = [escape(_owner_label(row)), escape(_kind(row)), escape(_credential_label(row)),
                 escape(_value(row["id"])),
                 escape(_value(row["client_id"])), _date(row["created_at"], "-"), _date(row["expires_at"], "never"),
                 escape(_days_left(row)), _date(row["last_used_at"], "never"),
                 escape(_value(row["days_unused"])), flags]
        classes = ("", "", "", "mono", "mono", "", "", "num", "", "num", "")
        body_rows.append('<tr data-credential-id="%s">%s</tr>' % (escape(_value(row["id"], ""), quote=True), "".join(
            '<td class="%s">%s</td>' % (c, cell) if c else "<td>%s</td>" % cell for c, cell in zip(classes, cells))))
    meta = ("Generated %s from %s: %d credentials of %d principals. Expiring: within %d days; unused: %d days or "
            "more; %s. Most urgent first." % (
                report["generated_at"], report.get("server_url") or report["platform"], summary["total"],
                report["principals"], thresholds["expiring_within_days"], thresholds["unused_days"],
                _store_words(thresholds)))
    legend = "".join('<tr><td><span class="flag %s">%s</span></td><td>%s</td></tr>' % (f, f, escape(FLAG_MEANING[f]))
                     for f in _legend_flags())
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        "<title>Credential report: %s</title><style>%s</style></head><body>" % (escape(report["platform"]), STYLE),
        "<h1>Credential report: %s</h1>" % escape(report["platform"]),
        '<p class="meta">%s</p>' % escape(meta),
        '<div class="cards">%s</div>' % "".join(cards),
        "<h2>Days to expiry</h2>", _chart(report["credentials"], thresholds["expiring_within_days"]),
        "<h2>Credentials</h2>",
        '<table class="credentials"><thead><tr><th>Service principal</th><th>Kind</th><th>Credential</th><th>ID</th>'
        "<th>Client ID</th><th>Created</th><th>Expires</th><th>Days left</th><th>Last used</th>"
        "<th>Days unused</th><th>Flags</th></tr></thead><tbody>%s</tbody></table>" % "".join(body_rows),
        '<h2>Flags</h2><table class="legend"><tr><th>Flag</th><th>Set when</th></tr>%s</table>' % legend,
        "" if report.get("permissions") is None else '<p class="meta grants">%s</p>' % escape(
            "Grants (access values on named resources) per application: %s." % (
                _grant_counts(report) or "no applications")),
        "</body></html>\n",
    ])


RENDERERS = {"json": render_json, "markdown": render_markdown, "html": render_html}


def escape(value, quote=False):
    """HTML text (or an attribute value with ``quote``) of any string, lone surrogates included."""
    return _html_escape(text_of(value), quote=quote)


def write_report(dest, text, mode=DEFAULT_MODE):
    """Write atomically (a reader never sees half a report), mode 0600 unless asked otherwise."""
    folder = os.path.dirname(os.path.abspath(dest))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".credential-report-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, dest)
    except BaseException as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ConductorError("Could not write the report to %s: %s" % (dest, exc.strerror or exc))
        raise


def credential_report(adapter, params, clock, held=None, server_url=None, environ=None, pool=None):
    """Everything the module does: validate, gather (on ``pool`` when given), judge, and write ``dest`` when asked.

    With ``store`` in ``params`` (and no ``held`` given), each live credential is judged held or not by it.
    """
    validate_report_params(adapter, params)
    store = None
    if held is None and params.get("store"):
        from .stores import store_for  # the store package, only when a store is asked for
        store = store_for(params["store"], environ if environ is not None else os.environ)
        held = held_by(store, adapter.capabilities.platform)
    result = build_report(adapter, params, clock, held=held, pool=pool)
    result["thresholds"]["store"] = store_label(store)
    result["server_url"] = server_url
    if params.get("dest"):
        fmt = report_format(params)
        write_report(params["dest"], RENDERERS[fmt](result), report_mode(params))
        result["dest"] = os.path.abspath(params["dest"])
        result["format"] = fmt
    return result
