# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One adapter per platform, each a PlatformAdapter (base.py: the interface and the neutral shapes)."""

from __future__ import annotations

from ..errors import ConfigError
from .base import PlatformAdapter
from .c1 import C1Adapter
from .orkes import OrkesAdapter

C1 = C1Adapter.capabilities.platform
ORKES = OrkesAdapter.capabilities.platform
ADAPTERS = {C1: C1Adapter, ORKES: OrkesAdapter}
#: The ``platform`` option's values, and the one a task gets when it names none.
PLATFORMS = tuple(ADAPTERS)
DEFAULT_PLATFORM = C1
#: Each platform's facts (credential_plan.Capabilities), as its adapter declares them.
CAPABILITIES = {platform: adapter.capabilities for platform, adapter in ADAPTERS.items()}


def expiry_choices():
    """Every lifetime (days) a credential can be made with on some platform, sorted (the modules' choices)."""
    return sorted({days for c in CAPABILITIES.values() if c.credentials_expire for days in c.expiry_choices})


def platforms_where(test):
    """The platforms whose capabilities pass ``test`` (a function of a Capabilities), in ADAPTERS' order."""
    return [platform for platform, capabilities in CAPABILITIES.items() if test(capabilities)]


def labels_where(test, full=False):
    """The names users know the platforms passing ``test`` by ("ConductorOne", "Orkes Conductor"), joined by "or"."""
    return " or ".join(CAPABILITIES[p].full_label if full else CAPABILITIES[p].label for p in platforms_where(test))


def permission_choices():
    """(target types, access values) a grant can have on some platform: the modules' choices."""
    return (tuple(t for c in CAPABILITIES.values() for t in c.permission_target_types),
            tuple(a for c in CAPABILITIES.values() for a in c.permission_access))


def adapter_for(client):
    try:
        return ADAPTERS[client.settings.platform](client)
    except KeyError:
        raise ConfigError("platform %s is not supported yet" % client.settings.platform)


__all__ = ["adapter_for", "expiry_choices", "labels_where", "permission_choices", "platforms_where", "ADAPTERS",
           "CAPABILITIES", "DEFAULT_PLATFORM", "PLATFORMS", "PlatformAdapter", "C1", "ORKES"]
