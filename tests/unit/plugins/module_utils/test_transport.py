# -*- coding: utf-8 -*-
"""Retries, backoff and the create-safety rule, on a fake clock (no sleeps)."""

from __future__ import annotations

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError, ProtocolError

from ansible_collections.conductor.principals.plugins.module_utils.errors import (
    ConductorError, OutcomeUnknownError)
from ansible_collections.conductor.principals.plugins.module_utils.transport import Transport, parse_retry_after

URL = "https://api.example.test/api/v1/service_principals"


def transport(clock, **kwargs):
    kwargs.setdefault("retries", 5)
    return Transport(sleep=clock.sleep, clock=clock.monotonic, rng=lambda: 0.5, **kwargs)


def refused():
    # What requests raises when nothing listens: the request never left, and the host said so.
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    cause.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.exceptions.ConnectionError(requests.packages.urllib3.exceptions.MaxRetryError(None, URL, cause))


def unreached():
    # A connection that could not be made for another reason (no route yet): worth retrying.
    return requests.exceptions.ConnectionError(
        requests.packages.urllib3.exceptions.MaxRetryError(None, URL, NewConnectionError(None, "no route")))


def dropped():
    # What requests raises when the server closes the connection before answering.
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


@responses.activate
def test_429_waits_at_least_retry_after_then_succeeds(clock):
    responses.add("GET", URL, status=429, headers={"Retry-After": "7"})
    responses.add("GET", URL, status=429, headers={"Retry-After": "2"})
    responses.add("GET", URL, json={"list": []})
    response = transport(clock).request("GET", URL)
    assert response.status_code == 200
    assert clock.sleeps[0] >= 7 and clock.sleeps[1] >= 2
    assert len(responses.calls) == 3


def test_retry_after_as_http_date():
    from datetime import datetime, timezone
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Sun, 22 Nov 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("12", now) == 12
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap(clock):
    t = transport(clock, backoff_base=1.0, backoff_max=10.0)
    t.rng = lambda: 0.0
    assert [t.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    t.rng = lambda: 0.999999
    assert t.backoff(3) == pytest.approx(4.0, rel=1e-5)
    assert t.backoff(1, retry_after=9) == 9


@pytest.mark.parametrize("status", [502, 503, 504])
@responses.activate
def test_5xx_on_reads_are_retried(clock, status):
    responses.add("GET", URL, status=status)
    responses.add("GET", URL, json={})
    assert transport(clock).request("GET", URL).status_code == 200
    assert len(clock.sleeps) == 1


@responses.activate
def test_retries_are_bounded_in_count_and_the_last_answer_is_returned(clock):
    for dummy in range(10):
        responses.add("GET", URL, status=503)
    response = transport(clock, retries=3).request("GET", URL)
    assert response.status_code == 503 and response.attempts == 4
    assert len(responses.calls) == 4 and len(clock.sleeps) == 3


@responses.activate
def test_retries_are_bounded_in_total_time(clock):
    for dummy in range(10):
        responses.add("GET", URL, status=429, headers={"Retry-After": "100"})
    transport(clock, retries=10, max_elapsed=250).request("GET", URL)
    assert sum(clock.sleeps) <= 250 and len(responses.calls) == 3


@responses.activate
def test_a_connection_never_made_is_retried_even_for_a_create(clock):
    responses.add("POST", URL, body=unreached())
    responses.add("POST", URL, json={"id": "sp-1"})
    assert transport(clock).request("POST", URL, json={}).json() == {"id": "sp-1"}


@responses.activate
def test_unreachable_server_fails_with_attempts(clock):
    for dummy in range(4):
        responses.add("GET", URL, body=unreached())
    with pytest.raises(ConductorError) as err:
        transport(clock, retries=3).request("GET", URL)
    assert str(err.value) == ("Cannot reach api.example.test (connection failed); check server_url and the network "
                              "(after 4 attempts).")


@responses.activate
def test_a_refused_connection_fails_at_once(clock):
    responses.add("GET", URL, body=refused())
    responses.add("GET", URL, json={"list": []})
    with pytest.raises(ConductorError) as err:
        transport(clock, retries=5).request("GET", URL)
    assert str(err.value) == "Cannot reach api.example.test (connection refused); check server_url and the network."
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_a_timeout_is_still_retried(clock):
    responses.add("GET", URL, body=requests.exceptions.ConnectTimeout("timed out"))
    responses.add("GET", URL, json={"list": []})
    assert transport(clock).request("GET", URL).status_code == 200 and len(clock.sleeps) == 1


@pytest.mark.parametrize("url_from, says", [
    ("the environment variable CONDUCTORONE_SERVER_URL",
     "the URL came from the environment variable CONDUCTORONE_SERVER_URL; check it and the network."),
    ("the server_url option", "the URL came from the server_url option; check it and the network."),
    ("derived from the client ID (NAME@HOST/SUFFIX gives https://HOST)",
     "the URL was derived from the client ID (NAME@HOST/SUFFIX gives https://HOST); set server_url "
     "(or CONDUCTORONE_SERVER_URL) if the API is elsewhere, and check the network."),
])
@responses.activate
def test_the_error_says_where_the_url_came_from(clock, url_from, says):
    responses.add("GET", URL, body=refused())
    with pytest.raises(ConductorError) as err:
        transport(clock, url_from=url_from).request("GET", URL)
    assert str(err.value) == "Cannot reach api.example.test (connection refused); " + says


@responses.activate
def test_a_tls_failure_of_a_derived_url_does_not_say_check_server_url(clock):
    responses.add("GET", URL, body=requests.exceptions.SSLError("wrong version number"))
    with pytest.raises(ConductorError) as err:
        transport(clock, url_from="derived from the client ID").request("GET", URL)
    assert str(err.value).startswith("TLS handshake with api.example.test failed; the URL was derived from the "
                                     "client ID; set server_url")


@responses.activate
def test_lost_answer_to_a_create_is_never_resent_blindly(clock):
    responses.add("POST", URL, body=dropped())
    responses.add("POST", URL, json={"id": "dup"})
    with pytest.raises(OutcomeUnknownError):
        transport(clock).request("POST", URL, json={})
    assert len(responses.calls) == 1 and clock.sleeps == []


@pytest.mark.parametrize("status", [502, 504])
@responses.activate
def test_gateway_error_on_a_create_is_an_unknown_outcome(clock, status):
    responses.add("POST", URL, status=status)
    with pytest.raises(OutcomeUnknownError) as err:
        transport(clock).request("POST", URL, json={})
    assert err.value.status == status and len(responses.calls) == 1


@pytest.mark.parametrize("status", [429, 503])
@responses.activate
def test_refusals_of_a_create_are_retried(clock, status):
    responses.add("POST", URL, status=status, headers={"Retry-After": "1"})
    responses.add("POST", URL, json={"id": "sp-1"})
    assert transport(clock).request("POST", URL, json={}).status_code == 200


@responses.activate
def test_a_lost_answer_to_a_delete_is_retried(clock):
    responses.add("DELETE", URL + "/x", body=dropped())
    responses.add("DELETE", URL + "/x", json={})
    assert transport(clock).request("DELETE", URL + "/x").status_code == 200


@responses.activate
def test_per_attempt_values_are_made_fresh(clock):
    responses.add("POST", URL, status=503)
    responses.add("POST", URL, json={})
    made = iter(["a=1", "a=2"])
    counter = iter(range(10))
    transport(clock).request("POST", URL, data=lambda: next(made),
                             prepare=lambda h: h.update({"DPoP": "proof-%d" % next(counter)}))
    assert [c.request.body for c in responses.calls] == ["a=1", "a=2"]
    assert [c.request.headers["DPoP"] for c in responses.calls] == ["proof-0", "proof-1"]


@responses.activate
def test_timeout_and_tls_settings_reach_requests(clock, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    seen = {}

    class Recorder(requests.Session):
        def request(self, method, url, **kwargs):
            seen.update(kwargs)
            return super().request(method, url, **kwargs)

    responses.add("GET", URL, json={})
    transport(clock, timeout=4.5, ca_path=str(ca), session=Recorder()).request("GET", URL)
    assert seen["timeout"] == 4.5 and seen["verify"] == str(ca)
    assert transport(clock, validate_certs=False).verify is False
    assert transport(clock).verify is True


def test_the_environment_is_read_once_per_host_and_still_routes_each_request(clock, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    reads = []
    real_read = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies",
                        lambda url, no_proxy=None: reads.append(url) or real_read(url, no_proxy=no_proxy))
    sent = []

    class Recorder(requests.Session):
        def request(self, method, url, **kwargs):
            sent.append({"url": url, "trust_env": self.trust_env, "proxies": kwargs["proxies"], "verify": kwargs["verify"]})
            answer = requests.Response()
            answer.status_code = 200
            return answer

    direct = "https://direct.example.test/api/v1/service_principals"
    sender = transport(clock, session=Recorder())
    for url in (URL, URL, direct, URL, direct):
        sender.request("GET", url)
    assert len(reads) == 2  # one reading per host, not one per request
    proxy = "http://proxy.example.test:3128"
    assert [(each["url"], each["proxies"].get("https")) for each in sent] == [
        (URL, proxy), (URL, proxy), (direct, None), (URL, proxy), (direct, None)]
    # requests itself reads nothing more (no proxies, no CA bundle, no ~/.netrc login over our Authorization)
    assert {each["trust_env"] for each in sent} == {False}
    assert {each["verify"] for each in sent} == {"/etc/ssl/corporate.pem"}
    assert transport(clock, validate_certs=False).environment_settings(URL)[1] is False
