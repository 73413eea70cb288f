# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One vocabulary for what a plan does (principals, credentials, providers, trusts) and what a result row says
was done."""

from __future__ import annotations

#: A plan's action: the word a result row (service_principals, the roles' summary) says for it.
DONE = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "rotate": "rotated",
    "rename": "renamed",
    "set_status": "updated",
    "delete": "removed",
    "revoke": "revoked",
    "keep": "unchanged",
    "none": "unchanged",
}


def done(action):
    """The result's word for a plan's ``action`` (a KeyError for an action no plan has: a bug)."""
    return DONE[action]
