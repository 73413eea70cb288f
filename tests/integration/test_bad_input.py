# -*- coding: utf-8 -*-
"""Bad input (bad_input.yml): each row fails its task with one sentence naming what to fix, and writes nothing.

An ansible-playbook run costs about 1.5 s, so the rows of one platform run as one playbook: each row
is a task with ignore_errors, followed by a set_fact that reads the sandbox's write counter. Every row
thus gets its own result and its own count of writes, and fails as its own test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import one_sentence, orkes

ROWS = yaml.safe_load(Path(__file__).with_name("bad_input.yml").read_text())["rows"]
PLATFORMS = ("conductorone", "orkes")
# Rows name these principals: credential rows need an owner to get past the owner lookup.
OWNERS = {"conductorone": "Bad", "orkes": "bad-app"}
SECRET_KEYS = ("client_secret", "access_token", "dpop_key")
WRITES = "{{ (lookup('ansible.builtin.url', '%s/_sandbox/counters', split_lines=False) | from_json).writes }}"


def _platform(row):
    return row.get("platform", "conductorone")


@pytest.fixture(scope="module")
def outcomes(sandbox, playbook_in, tmp_path_factory):
    """{row id: (registered result, writes the row caused)}, one playbook per platform."""
    sandbox.reset()
    sandbox.c1_api("POST", "/api/v1/service_principals", json={"displayName": OWNERS["conductorone"]})
    sandbox.orkes_api("POST", "/applications", json={"name": OWNERS["orkes"]})
    found = {}
    for platform in PLATFORMS:
        rows = [row for row in ROWS if _platform(row) == platform]
        tasks = [{"name": "writes before", "ansible.builtin.set_fact": {"w_start": WRITES % sandbox.url}}]
        for index, row in enumerate(rows):
            tasks += [{"name": row["id"], "conductor.principals." + row["module"]: row["args"],
                       "register": "r%d" % index, "ignore_errors": True},
                      {"name": "writes after " + row["id"],
                       "ansible.builtin.set_fact": {"w%d" % index: WRITES % sandbox.url}}]
        keep = ["w_start"] + ["r%d" % i for i in range(len(rows))] + ["w%d" % i for i in range(len(rows))]
        run = playbook_in(tmp_path_factory.mktemp("bad-input-" + platform))
        if platform == "orkes":
            results = run(tasks, keep=keep, connection_vars=False, module_defaults=orkes(sandbox),
                          expect_rc=None).results
        else:
            results = run(tasks, keep=keep, expect_rc=None).results
        before = results.get("w_start")
        for index, row in enumerate(rows):
            after = results.get("w%d" % index)
            writes = None if before is None or after is None else int(after) - int(before)
            found[row["id"]] = (results.get("r%d" % index), writes)
            before = after
    return found


def test_rows_are_well_formed():
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "duplicate row ids"
    for row in ROWS:
        assert set(row) <= {"id", "module", "args", "expect", "platform"}, row["id"]
        assert _platform(row) in PLATFORMS and row["expect"] and isinstance(row["args"], dict), row["id"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_bad_input_fails_with_one_sentence_and_writes_nothing(row, outcomes, reliability):
    reliability.record("bad_input_rows")
    result, writes = outcomes[row["id"]]
    assert result is not None, "the task of this row did not run (the batch playbook stopped early?)"
    shown = {k: v for k, v in result.items() if k not in SECRET_KEYS}
    assert result.get("failed") is True, "the task did not fail: %s" % shown
    message = result.get("msg")
    assert one_sentence(message) is None, "%s: %r" % (one_sentence(message), message)
    assert "Traceback (most recent call last)" not in str(result.get("exception", "")), result["exception"]
    assert "module_stderr" not in result, result["module_stderr"]
    assert row["expect"] in message, "expected %r in %r" % (row["expect"], message)
    assert writes == 0, "the row wrote %s time(s) before failing" % writes
    reliability.record("bad_input_clean")
