# -*- coding: utf-8 -*-
"""The bounded pool: the cap on requests in flight, one session per worker, a backoff shared by all."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.auth import Authenticator
from ansible_collections.conductor.principals.plugins.module_utils.auth.base import Token, TokenSource
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.parallel import (
    Pool, SharedAuthenticator, SharedBackoff, check_parallelism)

SERVER = "https://tenant.example.test"


class Answer(object):
    def __init__(self, status=200, headers=None):
        self.status_code = status
        self.headers = headers or {}
        self.content = b"{}"

    def json(self):
        return {}


class Recorder(object):
    """Sessions that count concurrent requests; ``answers`` pops a status per request (default 200)."""

    def __init__(self, answers=None, gate=None):
        self.lock = threading.Lock()
        self.now = self.peak = self.total = 0
        self.sessions = []
        self.answers = list(answers or [])
        self.gate = gate
        self.threads = set()

    def factory(self):
        recorder = self

        class Session(object):
            def __init__(self):
                self.headers = {}
                self.closed = False
                self.thread = None
                recorder.sessions.append(self)

            def request(self, method, url, **kwargs):
                assert self.thread in (None, threading.get_ident()), "a session was shared between threads"
                self.thread = threading.get_ident()
                with recorder.lock:
                    recorder.now += 1
                    recorder.total += 1
                    recorder.peak = max(recorder.peak, recorder.now)
                    recorder.threads.add(threading.get_ident())
                    answer = recorder.answers.pop(0) if recorder.answers else Answer()
                try:
                    if recorder.gate is not None:
                        recorder.gate.wait()
                finally:
                    with recorder.lock:
                        recorder.now -= 1
                return answer

            def close(self):
                self.closed = True

        return Session()


def settings():
    return resolve_settings({"platform": "conductorone", "server_url": SERVER, "access_token": "t0ken"}, environ={})


def test_requests_overlap_up_to_parallelism_and_never_beyond():
    # The first three requests meet at a barrier: they can only pass it together, so they overlap.
    barrier = threading.Barrier(3, timeout=30)
    recorder = Recorder(gate=barrier)
    with Pool(3, session_factory=recorder.factory) as pool:
        transport = pool.transport(settings())
        outcomes = pool.map(lambda n: transport.request("GET", SERVER + "/x/%d" % n).status_code, range(9))
    assert [o.value for o in outcomes] == [200] * 9 and [o.item for o in outcomes] == list(range(9))
    assert recorder.peak == 3 and recorder.total == 9


def test_one_session_per_worker_closed_with_the_pool():
    recorder = Recorder()
    with Pool(4, session_factory=recorder.factory) as pool:
        transport = pool.transport(settings())
        pool.map(lambda n: transport.request("GET", SERVER), range(20))
    assert 1 <= len(recorder.sessions) <= 4
    assert all(s.closed for s in recorder.sessions)
    assert all(s.headers.get("User-Agent") == "conductor.principals-ansible" for s in recorder.sessions)


def test_the_cap_holds_for_threads_outside_the_workers_too():
    barrier = threading.Barrier(2, timeout=30)
    recorder = Recorder(gate=barrier)
    pool = Pool(2, session_factory=recorder.factory)
    transport = pool.transport(settings())
    threads = [threading.Thread(target=transport.request, args=("GET", SERVER)) for _n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.close()
    assert recorder.peak == 2 and recorder.total == 6


def test_a_conductor_error_is_the_item_outcome_and_the_others_carry_on():
    def work(n):
        if n == 2:
            raise ConductorError("item 2 failed")
        return n * 10

    with Pool(2) as pool:
        outcomes = pool.map(work, range(4))
    assert [o.value for o in outcomes] == [0, 10, None, 30]
    assert outcomes[2].error.message == "item 2 failed"


class FakeTime(object):
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_hold_by_one_worker_makes_every_other_wait():
    time = FakeTime()
    backoff = SharedBackoff(clock=time.clock, sleep=time.sleep)
    backoff.wait()
    assert time.sleeps == []  # an open gate costs nothing
    backoff.hold(5)
    assert time.sleeps == [5]
    time.now -= 3  # another worker arrives 2 s into the hold: it waits the 3 s that are left
    backoff.wait()
    assert time.sleeps == [5, 3]
    backoff.hold(1)  # a shorter hold never shortens a longer one
    assert backoff.holds == 2


def test_a_429_with_retry_after_holds_the_whole_pool():
    time = FakeTime()
    recorder = Recorder(answers=[Answer(429, {"Retry-After": "4"})])
    with Pool(2, session_factory=recorder.factory, clock=time.clock, sleep=time.sleep) as pool:
        transport = pool.transport(settings(), clock=time.clock, rng=lambda: 0.5)
        first = transport.request("GET", SERVER)
        assert first.status_code == 200 and time.sleeps == [4.0]
        # The gate is open again once the wait has passed: the next request does not wait.
        transport.request("GET", SERVER)
        assert time.sleeps == [4.0] and pool.backoff.holds == 1


def test_a_429_seen_by_one_thread_delays_a_request_of_another():
    time = FakeTime()
    recorder = Recorder()
    pool = Pool(2, session_factory=recorder.factory, clock=time.clock, sleep=time.sleep)
    pool.backoff.until = time.now + 6  # as left by a worker that was told Retry-After: 6
    pool.transport(settings()).request("GET", SERVER)
    assert time.sleeps == [6]
    pool.close()


@pytest.mark.parametrize("value", [0, -1, 65, "8", True, None, 2.5])
def test_parallelism_out_of_range_is_one_sentence(value):
    with pytest.raises(ConfigError, match="^parallelism must be a whole number from 1 to 64"):
        check_parallelism(value)


class CountingAuth(object):
    """An Authenticator's surface; counts token fetches."""

    def __init__(self):
        self.token = None
        self.fetches = 0
        self.lock = threading.Lock()
        self.secrets = ()

    def ensure_token(self, transport):
        if self.token is None:
            self.fetches += 1
            self.token = object()
        return self.token

    def refresh(self, transport):
        self.token = None
        self.ensure_token(transport)
        return True

    def headers(self, method, url):
        return {"Authorization": "Bearer x"}


def test_many_workers_fetch_one_token_and_refresh_a_stale_one_once():
    auth = CountingAuth()
    shared = SharedAuthenticator(auth)
    barrier = threading.Barrier(4, timeout=30)

    def worker(_number):
        shared.ensure_token(None)
        barrier.wait()  # every worker used the first token, and each now sees a 401
        return shared.refresh(None)

    with Pool(4) as pool:
        outcomes = pool.map(worker, range(4))
    assert all(o.value for o in outcomes)
    assert auth.fetches == 2  # the first token, and one refresh for all four workers
    assert shared.secrets == ()


class ScriptedSource(TokenSource):
    """A TokenSource whose fetches answer in turn from ``script``: a token value, or a ConductorError to raise.

    ``entered`` is set when a fetch starts; a fetch then waits for ``release`` (set by default)."""

    def __init__(self, *script):
        self.script = list(script)
        self.fetches = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def fetch(self, transport):
        self.fetches += 1
        answer = self.script.pop(0)
        self.entered.set()
        assert self.release.wait(30)
        if isinstance(answer, ConductorError):
            raise answer
        return Token(answer, "Bearer", 3600), None


def test_concurrent_401s_refresh_once_and_every_caller_sends_the_new_token():
    source = ScriptedSource("first", "second")
    shared = SharedAuthenticator(Authenticator(source))
    barrier = threading.Barrier(4, timeout=30)

    def worker(_number):
        shared.ensure_token(None)
        barrier.wait()  # each sent its request with the first token, and each now sees a 401
        return shared.refresh(None), shared.headers("GET", SERVER)

    with Pool(4) as pool:
        outcomes = pool.map(worker, range(4))
    assert [o.value for o in outcomes] == [(True, {"Authorization": "Bearer second"})] * 4
    assert source.fetches == 2


def test_a_failed_refresh_fails_the_callers_that_needed_it_with_its_one_error_and_the_next_call_tries_again():
    refused = ConductorError("ConductorOne refused the token request")
    source = ScriptedSource("first", refused, "third")
    shared = SharedAuthenticator(Authenticator(source))
    barrier = threading.Barrier(4, timeout=30)

    def worker(_number):
        shared.ensure_token(None)
        barrier.wait()
        return shared.refresh(None)

    with Pool(4) as pool:
        outcomes = pool.map(worker, range(4))
    assert [o.error for o in outcomes] == [refused] * 4 and source.fetches == 2  # one refresh tried, for all four
    # The old token stays meanwhile (a request built now carries it, and meets a 401 that refreshes again).
    assert shared.headers("GET", SERVER) == {"Authorization": "Bearer first"}
    assert shared.ensure_token(None).access_token == "first"
    assert shared.refresh(None) is True and source.fetches == 3
    assert shared.headers("GET", SERVER) == {"Authorization": "Bearer third"}


def test_headers_built_while_a_refresh_fails_carry_the_old_token():
    source = ScriptedSource("first", ConductorError("refused"))
    shared = SharedAuthenticator(Authenticator(source))

    def refresh_that_fails():
        shared.ensure_token(None)
        source.entered.clear()
        source.release.clear()
        pytest.raises(ConductorError, shared.refresh, None)
    refreshing = threading.Thread(target=refresh_that_fails)
    refreshing.start()
    assert source.entered.wait(30)  # the refresh holds the token while it fails
    built = []
    building = threading.Thread(target=lambda: built.append(shared.headers("GET", SERVER)))
    building.start()
    source.release.set()
    refreshing.join()
    building.join()
    assert built == [{"Authorization": "Bearer first"}]


def test_a_given_token_is_not_refreshed_by_anyone():
    source = ScriptedSource("given")
    source.can_refresh = False
    shared = SharedAuthenticator(Authenticator(source))
    shared.ensure_token(None)
    assert shared.refresh(None) is False and source.fetches == 1


def test_an_exception_that_is_not_a_conductor_error_is_raised_once_every_item_has_ended():
    first_failed, ended = threading.Event(), []

    def work(n):
        if n == 0:
            first_failed.set()
            raise KeyError("a bug")
        assert first_failed.wait(30)
        ended.append(n)  # still running when the bug is raised, and must end before the map returns
        return n

    with Pool(2) as pool:
        with pytest.raises(KeyError):
            pool.map(work, range(2))
        assert ended == [1]


def test_many_items_are_taken_by_one_job_per_worker_in_order():
    """A future per item cost more than the items' own work at 10,000; each worker takes the next item instead."""
    with Pool(3) as pool:
        submitted = []
        pool.map(lambda n: n, [0])  # the executor exists from the first map on
        real_submit = pool.executor.submit
        pool.executor.submit = lambda *args: submitted.append(args) or real_submit(*args)
        outcomes = pool.map(lambda n: n * 2, range(1000))
        assert len(submitted) == 3
        assert [o.value for o in outcomes] == [n * 2 for n in range(1000)] and [o.item for o in outcomes] == list(range(1000))
        assert len(pool.map(lambda n: n, [7])) == 1 and len(submitted) == 4
