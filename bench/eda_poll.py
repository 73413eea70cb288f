"""make bench, the event source's row: one poll of conductor.principals.credential_events over 1,000 principals
with one credential each, beside credential_report over the same tenant, in the same process.

Measured: the requests each makes (the sandbox's counters), their seconds, and the events of a first poll (every
finding is new) and of a second one (nothing changed: no event). Fails when a poll costs more requests than the
report, or when a poll that finds nothing new emits anything. Writes bench/results/eda_poll.json.

Run by `make bench` (or alone: PYTHONPATH=build/collections python bench/eda_poll.py).
"""

import importlib
import json
import sys
import tempfile
import time
from pathlib import Path


from bench import OUT, REPORT_PRINCIPALS, Sandbox, seed_with_credentials

SOURCE = "ansible_collections.conductor.principals.extensions.eda.plugins.event_source.credential_events"
RUNNER = "ansible_collections.conductor.principals.plugins.module_utils.runner"


def seed(sandbox, principals):
    """``principals`` principals with one credential each (30 days, never used: flagged never_used)."""
    return len(seed_with_credentials(sandbox, principals, "poll-")) + 1  # and sandbox-admin


def measured(sandbox, action):
    """(what ``action()`` returned, its requests, its seconds)."""
    sandbox.control("POST", "/counters/reset")
    started = time.monotonic()
    value = action()
    seconds = time.monotonic() - started
    counters = sandbox.control("GET", "/counters")
    return value, counters["reads"] + counters["writes"] + counters["token_requests"], round(seconds, 2)


def main():
    source, runner = importlib.import_module(SOURCE), importlib.import_module(RUNNER)
    work = Path(tempfile.mkdtemp(prefix="conductor-bench-eda-"))
    sandbox = Sandbox(work)
    try:
        principals = seed(sandbox, REPORT_PRINCIPALS)
        c1 = sandbox.boot["conductorone"]
        environ = {"CONDUCTORONE_SERVER_URL": c1["server_url"], "CONDUCTORONE_CLIENT_ID": c1["client_id"],
                   "CONDUCTORONE_CLIENT_SECRET": c1["client_secret"]}
        report, report_requests, report_seconds = measured(
            sandbox, lambda: runner.run("credential_report", {}, environ=environ))
        assert not report.get("failed"), report.get("msg")
        poller, dummy = source.poller_for({}, environ)
        first, first_requests, first_seconds = measured(sandbox, poller.poll)
        second, second_requests, second_seconds = measured(sandbox, poller.poll)
    finally:
        sandbox.stop()
    row = {"principals": principals, "credential_report": {"requests": report_requests, "seconds": report_seconds},
           "first_poll": {"requests": first_requests, "seconds": first_seconds, "events": len(first)},
           "unchanged_poll": {"requests": second_requests, "seconds": second_seconds, "events": len(second)},
           "requests_per_principal": round(second_requests / float(principals), 3)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "eda_poll.json").write_text(json.dumps(row, indent=2) + "\n")
    print("\ncredential_events over %d principals, one credential each:" % principals)
    print("  credential_report  %5d requests  %6.2f s" % (report_requests, report_seconds))
    print("  first poll         %5d requests  %6.2f s  %d events" % (first_requests, first_seconds, len(first)))
    print("  unchanged poll     %5d requests  %6.2f s  %d events" % (second_requests, second_seconds, len(second)))
    print("  requests per principal per poll: %.3f" % row["requests_per_principal"])
    problems = []
    if max(first_requests, second_requests) > report_requests:
        problems.append("a poll made more requests than credential_report")
    if second:
        problems.append("a poll that found nothing new emitted %d events" % len(second))
    if problems:
        sys.exit("eda_poll: " + "; ".join(problems))


if __name__ == "__main__":
    main()
