# -*- coding: utf-8 -*-
"""The one timestamp reader and writer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.timestamps import (
    days_between, days_until, format_time, from_epoch, from_epoch_millis, parse_time)

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def test_format_time_is_utc_whole_seconds_with_z():
    assert format_time(NOON) == "2026-11-22T12:00:00Z"
    assert format_time(NOON.replace(microsecond=999999)) == "2026-11-22T12:00:00Z"
    assert format_time(NOON.astimezone(timezone(timedelta(hours=5)))) == "2026-11-22T12:00:00Z"
    assert format_time(datetime(2026, 11, 22, 12, 0)) == "2026-11-22T12:00:00Z"  # naive means UTC
    assert format_time(None) is None


def test_epochs():
    assert from_epoch(NOON.timestamp()) == "2026-11-22T12:00:00Z"
    assert from_epoch_millis(int(NOON.timestamp() * 1000)) == "2026-11-22T12:00:00Z"
    assert from_epoch_millis("2026-11-22T12:00:00Z") == "2026-11-22T12:00:00Z"
    assert from_epoch_millis(None) is None
    assert from_epoch_millis(True) is True  # a bool is not a time


@pytest.mark.parametrize("text", ["2026-11-22T12:00:00Z", "2026-11-22T12:00:00.000000000Z",
                                  "2026-11-22T13:00:00+01:00", "2026-11-22T12:00:00", "2026-11-22t12:00:00z"])
def test_parse_time_reads_rfc3339_variants(text):
    assert parse_time(text) == NOON


def test_parse_and_format_round_trip():
    assert parse_time(format_time(NOON)) == NOON
    assert parse_time("") is None and parse_time(None) is None


def test_days_are_counted_in_fractions_and_go_negative_once_past():
    assert days_between(NOON, NOON + timedelta(days=2, hours=12)) == 2.5
    assert days_until("2026-11-21T00:00:00Z", NOON) == -1.5
    assert days_until("2026-11-23T12:00:00+00:00", NOON) == 1.0
    assert days_until(None, NOON) is None and days_until("", NOON) is None
