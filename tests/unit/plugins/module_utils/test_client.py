# -*- coding: utf-8 -*-
"""Pagination, error rendering and the create-once hook."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient, create_once
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import (
    ConductorError, OutcomeUnknownError, redact)
from ansible_collections.conductor.principals.tests.unit.helpers import SERVER

LIST = SERVER + "/api/v1/service_principals"
TOKEN = "tok-abcdefghijklmnopqrstuvwxyz"


def client():
    return ApiClient(resolve_settings({"server_url": SERVER, "access_token": TOKEN}, {}))


@responses.activate
def test_pagination_follows_next_page_token_to_the_end():
    responses.add("GET", LIST, match=[matchers.query_param_matcher({"page_size": "2"})],
                  json={"list": [{"id": 1}, {"id": 2}], "nextPageToken": "p2"})
    responses.add("GET", LIST, match=[matchers.query_param_matcher({"page_size": "2", "page_token": "p2"})],
                  json={"list": [{"id": 3}, {"id": 4}], "nextPageToken": "p3"})
    responses.add("GET", LIST, match=[matchers.query_param_matcher({"page_size": "2", "page_token": "p3"})],
                  json={"list": [{"id": 5}], "nextPageToken": ""})
    assert [i["id"] for i in client().paginate("/api/v1/service_principals", "list", page_size=2)] == [1, 2, 3, 4, 5]
    assert len(responses.calls) == 3


@responses.activate
def test_a_search_posts_its_filters_with_page_size_and_token_in_the_body():
    search = SERVER + "/api/v1/search/workload_federation_trusts"
    responses.add("POST", search, match=[matchers.json_params_matcher({"providerId": "p1", "pageSize": 2})],
                  json={"list": [{"id": 1}, {"id": 2}], "nextPageToken": "p2"})
    responses.add("POST", search, match=[matchers.json_params_matcher(
        {"providerId": "p1", "pageSize": 2, "pageToken": "p2"})], json={"list": [{"id": 3}], "nextPageToken": ""})
    found = client().paginate("/api/v1/search/workload_federation_trusts", "search trusts", page_size=2,
                              search={"providerId": "p1"})
    assert [i["id"] for i in found] == [1, 2, 3]
    assert len(responses.calls) == 2 and not responses.calls[0].request.url.count("?")


@responses.activate
def test_pagination_refuses_a_server_that_repeats_a_page():
    responses.add("GET", LIST, json={"list": [{"id": 1}], "nextPageToken": "same"})
    with pytest.raises(ConductorError) as err:
        list(client().paginate("/api/v1/service_principals", "list service principals"))
    assert "repeated page token" in str(err.value)


@responses.activate
def test_api_errors_render_as_one_sentence_with_status_message_and_request_id():
    responses.add("POST", LIST, status=403, headers={"X-Request-Id": "req-42"},
                  json={"code": 7, "message": "permission denied for Bearer " + TOKEN})
    with pytest.raises(ConductorError) as err:
        client().call("POST", "/api/v1/service_principals", "create service principal 'CI'", json={})
    text = str(err.value)
    assert text == ("Could not create service principal 'CI': the credential lacks permission for it, for "
                    "example because it is scoped to a read-only role (HTTP 403; the API said \"permission denied "
                    "for Bearer <redacted>\"; request id req-42).")
    assert TOKEN not in text and err.value.status == 403 and err.value.request_id == "req-42"


@responses.activate
def test_404_can_be_an_expected_answer():
    responses.add("GET", LIST + "/gone", status=404, json={"code": 5, "message": "not found"})
    assert client().call("GET", "/api/v1/service_principals/gone", "get", ok=(200, 404)) is None


def test_redact_scrubs_secrets_tokens_and_jwts():
    text = ("secret-token:conductorone.com:v1:abc123 Bearer abcdefghijklmnopqrstu "
            "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln and the word DPoP proof")
    assert redact(text) == "<redacted> <redacted> <redacted> and the word DPoP proof"
    assert redact("given value", secrets=["value"]) == "given <redacted>"


def test_create_once_returns_what_the_lost_create_made():
    sent = []

    def send():
        sent.append(1)
        raise OutcomeUnknownError("lost")

    assert create_once(send, lambda: {"id": "made"}) == ({"id": "made"}, True)
    assert len(sent) == 1


def test_create_once_resends_only_after_seeing_nothing_was_made():
    answers = [OutcomeUnknownError("lost"), {"id": "new"}]

    def send():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert create_once(send, lambda: None) == ({"id": "new"}, False)
    assert answers == []
