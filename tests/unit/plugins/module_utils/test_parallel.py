# -*- coding: utf-8 -*-
"""The bounded pool: the cap on requests in flight, one session per worker, a backoff shared by all."""

from __future__ import annotations

import threading

import pytest

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
