# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many API requests at once, and never more than ``parallelism`` of them.

A ``Pool`` runs one function over many items on at most ``parallelism`` worker threads.
Requests go through ``transport.Transport`` as every module's do (its retries, TLS and
``Retry-After`` handling), with three changes made here:

- each worker thread sends on its own ``requests`` session (a session is not shared
  between threads), made on the worker's first request and closed with the pool;
- at most ``parallelism`` requests are in flight at once, whichever thread sends them
  (workers, the thread that lists before a wave, a proof of a new secret);
- a wait before a retry (a 429 with or without ``Retry-After``, a 503) holds *every*
  worker, not only the one that was refused: the API asked the task to slow down.

One token serves every worker: ``shared_client`` wraps the task's authenticator so that
only one thread fetches a token, and a 401 seen by several workers refreshes it once; a
refresh that fails fails the requests that needed it, and the next 401 tries again.

``Pool.map`` isolates items: an item whose function raises ConductorError gets that error
as its outcome, and the other items carry on. Any other exception is raised, once every
item has ended.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor, wait

from . import deps
from .client import ApiClient
from .errors import ConductorError, ConfigError
from .transport import Transport

DEFAULT_PARALLELISM = 8
MAX_PARALLELISM = 64

#: What ``Pool.map`` gives back for each item, in the items' order: ``value`` or ``error``.
Outcome = namedtuple("Outcome", "item value error")


class SharedBackoff(object):
    """A gate every request passes: a wait asked for by one worker holds all of them.

    ``hold(seconds)`` is what a Transport calls instead of ``time.sleep`` before a retry; it
    moves the gate's opening to at least ``seconds`` from now and waits for it. ``wait()`` is
    called before every request and returns once the gate is open.
    """

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.until = None
        self.holds = 0  # how many retry waits were asked for (for the result and the bench)

    def hold(self, seconds):
        with self.lock:
            self.holds += 1
            opening = self.clock() + max(0.0, float(seconds))
            self.until = opening if self.until is None else max(self.until, opening)
        self.wait()

    def wait(self):
        while True:
            with self.lock:
                left = None if self.until is None else self.until - self.clock()
            if left is None or left <= 0:
                return
            self.sleep(left)


class WorkerSessions(object):
    """What a Transport takes as its ``session``: one real session per thread, behind the gate and the cap."""

    def __init__(self, slots, backoff, factory=None):
        self.slots = slots
        self.backoff = backoff
        self.factory = factory or deps.requests.Session
        self.headers = {}  # applied to every thread's session (Transport sets the User-Agent here)
        self.trust_env = True  # likewise (Transport reads the environment itself and turns it off)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.sessions = []

    def session(self):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.factory()
            session.headers.update(self.headers)
            session.trust_env = self.trust_env
            self.local.session = session
            with self.lock:
                self.sessions.append(session)
        return session

    def request(self, method, url, **kwargs):
        session = self.session()
        self.backoff.wait()
        with self.slots:
            return session.request(method, url, **kwargs)

    def close(self):
        with self.lock:
            sessions, self.sessions = self.sessions, []
        for session in sessions:
            session.close()


class SharedAuthenticator(object):
    """The task's Authenticator for many threads: one token fetch at a time, one refresh per stale token.

    A refresh that fails raises its ConductorError in the caller that tried it and in every caller whose
    request was out while it was tried (each needed that refresh); the old token stays, never ``None``,
    and the next call that meets a 401 tries again.
    """

    def __init__(self, auth):
        self._auth = auth
        self._lock = threading.Lock()
        self._local = threading.local()
        self._tries = 0  # refreshes tried so far
        self._last = None  # what the last one gave: True, False (cannot refresh) or its ConductorError

    def ensure_token(self, transport):
        with self._lock:
            token = self._auth.ensure_token(transport)
            self._local.tries = self._tries
        return token

    def refresh(self, transport):
        with self._lock:
            if self._tries != getattr(self._local, "tries", 0):  # tried by another caller since this one's token
                self._local.tries = self._tries
                if isinstance(self._last, ConductorError):
                    raise self._last
                return self._last
            self._tries += 1
            self._local.tries = self._tries
            try:
                self._last = self._auth.refresh(transport)
            except ConductorError as exc:
                self._last = exc
                raise
            return self._last

    def headers(self, method, url):
        with self._lock:
            return self._auth.headers(method, url)

    def __getattr__(self, name):
        return getattr(self._auth, name)


def check_parallelism(value):
    """The parallelism option, or one sentence saying what to give."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARALLELISM:
        raise ConfigError("parallelism must be a whole number from 1 to %d, not %r" % (MAX_PARALLELISM, value))
    return value


def outcome_of(function, item):
    """``function(item)`` as an Outcome: its value, or the ConductorError it raised (any other exception is raised)."""
    try:
        return Outcome(item, function(item), None)
    except ConductorError as exc:
        return Outcome(item, None, exc)


class InOrder(object):
    """``Pool.map`` in the caller's thread, one item after the other: what a single-item task applies with."""

    parallelism = 1

    def map(self, function, items):
        return [outcome_of(function, item) for item in items]


class Pool(object):
    """At most ``parallelism`` worker threads and requests in flight; one session per worker."""

    def __init__(self, parallelism=DEFAULT_PARALLELISM, session_factory=None, clock=time.monotonic,
                 sleep=time.sleep):
        self.parallelism = check_parallelism(parallelism)
        self.slots = threading.BoundedSemaphore(self.parallelism)
        self.backoff = SharedBackoff(clock=clock, sleep=sleep)
        self.sessions = WorkerSessions(self.slots, self.backoff, session_factory)
        self.executor = None

    def transport(self, settings, **overrides):
        """A Transport with the connection options of ``settings`` that sends through this pool."""
        options = dict(timeout=settings.timeout, validate_certs=settings.validate_certs, ca_path=settings.ca_path,
                       retries=settings.retries, url_from=getattr(settings, "server_url_from", None))
        options.update(overrides)
        return Transport(session=self.sessions, sleep=self.backoff.hold, **options)

    def map(self, function, items):
        """``function(item)`` for every item, at most ``parallelism`` at once; an Outcome per item, in order.

        A ConductorError is the item's outcome; any other exception is a bug, and is raised.
        """
        items = list(items)
        if not items:
            return []
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="conductor")
        outcomes, bugs = [None] * len(items), []
        taken, lock = itertools.count(), threading.Lock()

        def take_items():
            # Each worker takes the next item until none is left: one future per worker, not per item (at 10,000
            # items a future each cost more than the items' own work on our side).
            while True:
                with lock:
                    index = next(taken)
                if index >= len(items):
                    return
                try:
                    outcomes[index] = outcome_of(function, items[index])
                except BaseException as exc:  # pylint: disable=broad-except  # a bug: raised below, once all have ended
                    bugs.append((index, exc))
        wait([self.executor.submit(take_items) for _worker in range(min(self.parallelism, len(items)))])
        if bugs:
            raise min(bugs, key=lambda bug: bug[0])[1]
        return outcomes

    def close(self):
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
        self.sessions.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def shared_client(client, pool):
    """An ApiClient like ``client`` (same settings, same token) whose requests go through ``pool``."""
    return ApiClient(client.settings, transport=pool.transport(client.settings),
                     authenticator=SharedAuthenticator(client.auth))
