# -*- coding: utf-8 -*-
"""Retiring the previous credential only once nothing uses it: the decision on its own."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Capabilities, Owner
from ansible_collections.conductor.principals.plugins.module_utils.credentials import CredentialRun
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.retire import retire, validate_retire_params
from ansible_collections.conductor.principals.tests.unit.helpers import OnePrincipalPlatform, credential_params

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def old(used_hours_ago=None, key="old"):
    return {"id": key, "last_used_at": None if used_hours_ago is None else stamp(NOW - timedelta(hours=used_hours_ago))}


def ids(credentials):
    return [c["id"] for c in credentials]


def test_unset_keeps_todays_rule_every_older_one_goes():
    revoke, kept = retire([old(1), old(None, "b")], stamp(NOW), NOW, None)
    assert ids(revoke) == ["old", "b"] and kept == {}


def test_recently_used_is_kept_with_a_reason_that_names_the_window_and_the_deadline():
    revoke, kept = retire([old(2)], stamp(NOW - timedelta(days=1)), NOW, 24)
    assert revoke == []
    assert kept["old"].startswith("last used 2.0 hours ago, within revoke_previous_after_unused_hours 24")
    assert "from 2026-11-28T12:00:00Z (max_overlap_days 7)" in kept["old"]


@pytest.mark.parametrize("used_hours_ago", [None, 24, 30])
def test_never_used_or_unused_for_the_window_goes(used_hours_ago):
    revoke, kept = retire([old(used_hours_ago)], stamp(NOW), NOW, 24)
    assert ids(revoke) == ["old"] and kept == {}


def test_past_max_overlap_days_it_goes_even_if_used():
    newer = stamp(NOW - timedelta(days=7))
    assert ids(retire([old(0)], newer, NOW, 24, max_overlap_days=7)[0]) == ["old"]
    assert retire([old(0)], stamp(NOW - timedelta(days=6, hours=23)), NOW, 24, max_overlap_days=7)[0] == []
    assert ids(retire([old(0)], stamp(NOW - timedelta(days=2)), NOW, 24, max_overlap_days=2)[0]) == ["old"]


def test_a_newer_one_being_made_now_starts_the_overlap():
    revoke, kept = retire([old(1), old(48, "idle")], None, NOW, 24)
    assert ids(revoke) == ["idle"] and list(kept) == ["old"]


def capabilities(records):
    """The facts validate_retire_params reads: ConductorOne records each credential's last use, Orkes does not."""
    return Capabilities(platform="conductorone" if records else "orkes", records_credential_use=records)


@pytest.mark.parametrize("params, message", [
    (dict(revoke_previous_after_unused_hours=0), "revoke_previous_after_unused_hours must be 1 or more, not 0"),
    (dict(revoke_previous_after_unused_hours=24, max_overlap_days=0), "max_overlap_days must be 1 or more, not 0"),
    (dict(revoke_previous_after_unused_hours=24, revoke_previous=False),
     "set revoke_previous: true or remove revoke_previous_after_unused_hours"),
])
def test_bad_input(params, message):
    with pytest.raises(ConfigError, match=message):
        validate_retire_params(capabilities(True), params)


def test_orkes_keys_record_no_use_so_the_option_is_refused_there():
    with pytest.raises(ConfigError, match="which Orkes access keys do not record; remove it"):
        validate_retire_params(capabilities(False), dict(revoke_previous_after_unused_hours=24))
    validate_retire_params(capabilities(False), dict(max_overlap_days=7))  # without the hours: nothing to refuse


# ---- through CredentialRun (the shared in-memory platform) ------------------------------------

def run_with(adapter, check_mode=False, **overrides):
    overrides.setdefault("revoke_previous_after_unused_hours", 24)
    return CredentialRun(adapter, Owner.principal("sp"), credential_params(**overrides), check_mode=check_mode,
                         now=NOW).ensure()


def memory():
    adapter = OnePrincipalPlatform()
    adapter.capabilities = dataclasses.replace(adapter.capabilities, records_credential_use=True)
    return adapter


def test_a_rotation_keeps_the_used_one_and_a_later_run_revokes_it_once_unused():
    adapter = memory()
    old_one = adapter.add("ci", age_days=80, last_used_at=stamp(NOW - timedelta(hours=3)))
    rotated = run_with(adapter, force_rotate=True)
    assert rotated["changed"] and rotated["revoked_ids"] == [] and rotated["kept_ids"] == [old_one["id"]]
    assert "last used 3.0 hours ago" in rotated["kept_reasons"][old_one["id"]]
    adapter.credentials["sp"][0]["last_used_at"] = stamp(NOW - timedelta(hours=30))
    predicted = run_with(adapter, check_mode=True, diff=True)
    assert predicted["changed"] and predicted["revoked_ids"] == [old_one["id"]]
    assert predicted["diff"]["before"]["previous_ids"] == [old_one["id"]]
    assert predicted["diff"]["after"]["previous_ids"] == []
    assert ("revoke", old_one["id"]) not in adapter.writes  # check mode wrote nothing
    retired = run_with(adapter)
    assert retired["revoked_ids"] == [old_one["id"]] and retired["kept_reasons"] == {}


def test_a_run_within_the_window_changes_nothing_and_says_why():
    adapter = memory()
    older = adapter.add("ci", age_days=2, last_used_at=stamp(NOW - timedelta(hours=1)))
    adapter.add("ci", age_days=1)
    result = run_with(adapter)
    assert result["changed"] is False and result["kept_ids"] == [older["id"]] and adapter.writes == []
    assert result["diff"]["after"]["previous_ids"] == [older["id"]]


def test_revoke_previous_false_keeps_them_and_says_so():
    adapter = memory()
    older = adapter.add("ci", age_days=2)
    rotated = run_with(adapter, force_rotate=True, revoke_previous=False, revoke_previous_after_unused_hours=None)
    assert rotated["kept_reasons"] == {older["id"]: "revoke_previous is false: kept for an overlap"}
