# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retiring the previous credential only once nothing uses it (interface.md).

With ``revoke_previous_after_unused_hours`` an older credential of the same name is
revoked only once it has gone unused that long (``last_used_at`` empty, or older than
now minus those hours), or once the newer credential is ``max_overlap_days`` old; until
then it is kept with a reason, and a later run decides again. Ages are judged on the
server's clock, the one that wrote ``last_used_at``.
"""

from __future__ import annotations

from datetime import timedelta

from .errors import ConfigError
from .timestamps import days_between, format_time, parse_time

DEFAULT_MAX_OVERLAP_DAYS = 7
HOUR = 3600.0


def validate_retire_params(capabilities, params):
    """Bad input, before any request: one sentence each (``capabilities``: the platform's Capabilities)."""
    hours = params.get("revoke_previous_after_unused_hours")
    overlap = params.get("max_overlap_days")
    if hours is None:
        return
    if not capabilities.records_credential_use:
        raise ConfigError("revoke_previous_after_unused_hours needs the last use of each credential, which %s "
                          "access keys do not record; remove it (revoke_previous alone retires the previous key)"
                          % capabilities.platform.capitalize())
    if hours < 1:
        raise ConfigError("revoke_previous_after_unused_hours must be 1 or more, not %s" % hours)
    if overlap is not None and overlap < 1:
        raise ConfigError("max_overlap_days must be 1 or more, not %s" % overlap)
    if not params.get("revoke_previous", True):
        raise ConfigError("revoke_previous_after_unused_hours retires the previous credential, but revoke_previous "
                          "is false; set revoke_previous: true or remove revoke_previous_after_unused_hours")


def _hours(delta):
    return delta.total_seconds() / HOUR


def retire(older, newer_created_at, now, unused_hours, max_overlap_days=DEFAULT_MAX_OVERLAP_DAYS):
    """([credentials to revoke], {id: reason} of those kept).

    ``older``: the credentials the newer one replaces; ``newer_created_at``: when the newer one was
    made (None: it is being made now). ``unused_hours`` None keeps today's rule: every older one goes.
    """
    if unused_hours is None:
        return list(older), {}
    overlap_days = DEFAULT_MAX_OVERLAP_DAYS if max_overlap_days is None else max_overlap_days
    newer_created = parse_time(newer_created_at) or now
    newer_age_days = days_between(newer_created, now)
    revoke, kept = [], {}
    for credential in older:
        last_used = parse_time(credential.get("last_used_at"))
        if last_used is None or _hours(now - last_used) >= unused_hours:
            revoke.append(credential)
        elif newer_age_days >= overlap_days:
            revoke.append(credential)  # the overlap is over, even if something still uses it
        else:
            kept[credential["id"]] = (
                "last used %.1f hours ago, within revoke_previous_after_unused_hours %d; revoked by a run once "
                "unused that long, or from %s (max_overlap_days %d) even if still used"
                % (max(_hours(now - last_used), 0.0), unused_hours,
                   format_time(newer_created + timedelta(days=overlap_days)), overlap_days))
    return revoke, kept
