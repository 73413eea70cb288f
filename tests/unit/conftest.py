# -*- coding: utf-8 -*-
"""Shared fixtures for the unit tests of the core (no network: `responses` or a loopback server)."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.tests.unit.helpers import FakeClock, make_v1_secret


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def v1_secret():
    return make_v1_secret()
