# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where timestamps are read and written (RFC 3339, UTC, whole seconds), and days counted."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_DAY = 86400.0
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_FRACTION = re.compile(r"\.(\d+)")


def format_time(moment):
    """An aware (or UTC-naive) datetime as ``2026-11-22T12:00:00Z``; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime(_FORMAT)


def from_epoch(seconds):
    """Epoch seconds (int or float) as an RFC 3339 UTC timestamp."""
    return format_time(datetime.fromtimestamp(seconds, timezone.utc))


def from_epoch_millis(value):
    """Epoch milliseconds (how Orkes keeps time) as RFC 3339; anything else is returned as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return from_epoch(value / 1000.0)
    return value


def parse_time(value):
    """An RFC 3339 timestamp as an aware datetime (None and "" give None)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text)  # Python < 3.11 wants 6 digits
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def days_between(start, end):
    """Days (a float; negative when ``end`` is earlier) from one aware datetime to another."""
    return (end - start).total_seconds() / _DAY


def days_until(value, now):
    """Days (a float; negative once past) from ``now`` to the RFC 3339 timestamp ``value``; None without one."""
    moment = parse_time(value)
    return None if moment is None else days_between(now, moment)
