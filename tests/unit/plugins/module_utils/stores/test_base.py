# -*- coding: utf-8 -*-
"""The store naming rule of base.py, as a property: every key has its own path, for every backend's alphabet.

Names are arbitrary Unicode (lone surrogates too: the rule encodes them with ``surrogatepass``), with
the characters the rule treats specially drawn more often than chance would.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    PERSONAL, SERVICE_PRINCIPAL, EntryKey, store_for)

BACKENDS = {
    "vault_file": {"type": "vault_file", "path": "/nonexistent/store.vault", "password": "p"},
    "hashi_vault": {"type": "hashi_vault", "url": "http://127.0.0.1:1", "token": "t"},
    "aws_secretsmanager": {"type": "aws_secretsmanager", "region": "eu-west-1"},
}
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True)

# Any code point (surrogates included), or one the rule treats specially: the escape, the separator, dots, @.
CHARACTERS = st.one_of(st.characters(exclude_categories=()), st.sampled_from("+/.@ %2EF0aé\u202e"))
NAMES = st.one_of(st.text(CHARACTERS, max_size=12), st.sampled_from(["", ".", "..", "@personal", "+", "+2F"]))
SERVICE_KEYS = st.builds(EntryKey, NAMES, NAMES, NAMES, st.just(SERVICE_PRINCIPAL))
PERSONAL_KEYS = st.builds(EntryKey, NAMES, st.just("@personal"), NAMES, st.just(PERSONAL))  # their one principal
KEYS = st.one_of(SERVICE_KEYS, PERSONAL_KEYS)


def stores():
    return {name: store_for(options, {}) for name, options in BACKENDS.items()}


STORES = stores()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@PROPERTY
@given(key=KEYS)
def test_every_path_decodes_back_to_its_one_key(backend, key):
    store = STORES[backend]
    path = store.path(key)
    prefix, *segments = path.split("/")
    assert prefix == store.prefix and len(segments) == 3
    keep = re.compile("[+%s]+" % store.allowed.replace("/", ""))
    for segment in segments:
        assert keep.fullmatch(segment), segment  # only characters the backend allows
        assert set(segment) != {"."}  # never "." or "..", which a server or library could resolve
    found = store.key_of(*segments)
    assert found == key and found.owner == key.owner  # a left inverse: no two keys share a path


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@PROPERTY
@given(one=KEYS, other=KEYS)
def test_two_keys_share_a_path_only_when_they_are_one_key(backend, one, other):
    store = STORES[backend]
    same_key = tuple(one) == tuple(other) and one.owner == other.owner
    assert (store.path(one) == store.path(other)) == same_key


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@PROPERTY
@given(name=NAMES)
def test_a_name_and_its_segment_are_never_read_as_each_other(backend, name):
    store = STORES[backend]
    segment = store.segment(name)
    assert store.name_of(segment) == name
    if segment != name:  # a name that is itself a segment of another name maps elsewhere
        assert store.segment(segment) != segment
