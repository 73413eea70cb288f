# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of ``allowed_cidrs``: credentials and trusts compare them in one canonical form."""

from __future__ import annotations

import ipaddress

from .errors import ConfigError


def normalise_cidrs(cidrs):
    """Validated, canonical, sorted CIDRs: ``10.0.0.5/24`` -> ``10.0.0.0/24``, ``2001:DB8::/32`` lowered."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise ConfigError("allowed_cidrs: %r is not an IPv4 or IPv6 CIDR such as 192.168.1.0/24 or "
                              "2001:db8::/32" % (cidr,))
    return sorted({str(n) for n in networks})
