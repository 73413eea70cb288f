# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One adapter per platform, each a PlatformAdapter (base.py: the interface and the neutral shapes)."""

from __future__ import annotations

from ..config import C1, ORKES
from ..errors import ConfigError
from .base import PlatformAdapter
from .c1 import C1Adapter
from .orkes import OrkesAdapter

ADAPTERS = {C1: C1Adapter, ORKES: OrkesAdapter}
#: Each platform's facts (credential_plan.Capabilities), as its adapter declares them.
CAPABILITIES = {platform: adapter.capabilities for platform, adapter in ADAPTERS.items()}


def expiry_choices():
    """Every lifetime (days) a credential can be made with on some platform, sorted (the modules' choices)."""
    return sorted({days for c in CAPABILITIES.values() if c.credentials_expire for days in c.expiry_choices})


def platforms_where(test):
    """The platforms whose capabilities pass ``test`` (a function of a Capabilities), in ADAPTERS' order."""
    return [platform for platform, capabilities in CAPABILITIES.items() if test(capabilities)]


def adapter_for(client):
    try:
        return ADAPTERS[client.settings.platform](client)
    except KeyError:
        raise ConfigError("platform %s is not supported yet" % client.settings.platform)


__all__ = ["adapter_for", "expiry_choices", "platforms_where", "ADAPTERS", "CAPABILITIES", "PlatformAdapter", "C1", "ORKES"]
