# -*- coding: utf-8 -*-
"""The one reader of API error bodies (OAuth, C1, Orkes, and bodies that are not JSON)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import parse_error_body


class Answer(object):
    def __init__(self, text):
        self.text = text

    def json(self):
        return json.loads(self.text)


@pytest.mark.parametrize("body, expected", [
    ({"error": "invalid_client", "error_description": "bad secret"}, ("invalid_client", "bad secret")),
    ({"error": "invalid_dpop_proof"}, ("invalid_dpop_proof", "")),
    ({"code": 3, "message": "displayName is required"}, ("", "displayName is required")),
    ({"status": 404, "message": "Application not found", "error": {"nested": 1}}, ("", "Application not found")),
    ([1, 2], ("", "")),
])
def test_json_bodies(body, expected):
    assert parse_error_body(Answer(json.dumps(body))) == expected


def test_a_body_that_is_not_json_gives_its_start():
    assert parse_error_body(Answer("<html>" + "x" * 500)) == ("", "<html>" + "x" * 194)


def test_secrets_are_redacted_from_both_parts():
    answer = Answer(json.dumps({"error": "bad secret-token:abc", "message": "you sent hunter2-hunter2"}))
    code, message = parse_error_body(answer, secrets=("hunter2-hunter2",))
    assert "secret-token:abc" not in code and "hunter2" not in message
    assert message == "you sent <redacted>"
