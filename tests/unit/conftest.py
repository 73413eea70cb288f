# -*- coding: utf-8 -*-
"""Shared fixtures for the unit tests of the core (no network: `responses` or a loopback server)."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.tests.unit.helpers import FakeClock, make_v1_secret
# Real secret store servers (bao server -dev, moto) for the store backend tests.
from ansible_collections.conductor.principals.tests.servers import bao_server, moto_server  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def v1_secret():
    return make_v1_secret()
