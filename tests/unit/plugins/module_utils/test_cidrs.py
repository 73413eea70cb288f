# -*- coding: utf-8 -*-
"""allowed_cidrs in their one canonical form (credentials and trusts)."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils import credentials, federation
from ansible_collections.conductor.principals.plugins.module_utils.cidrs import normalise_cidrs
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError


def test_normalise_cidrs():
    assert normalise_cidrs(["2001:DB8::/32", "10.0.0.5/24", "10.0.0.0/24", "192.0.2.1"]) == \
        ["10.0.0.0/24", "192.0.2.1/32", "2001:db8::/32"]


def test_a_bad_cidr_is_one_sentence_naming_it():
    with pytest.raises(ConfigError, match=r"allowed_cidrs: '10\.0\.0\.300/8' is not an IPv4 or IPv6 CIDR"):
        normalise_cidrs(["10.0.0.0/8", "10.0.0.300/8"])


def test_trusts_use_the_one_reader_and_credentials_no_longer_pass_it_on():
    assert federation.normalise_cidrs is normalise_cidrs
    assert not hasattr(credentials, "normalise_cidrs") and not hasattr(credentials, "expires_in_days")
