# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport: one requests session, timeouts, TLS, and bounded retries.

Retried: 429, 502, 503, 504, timeouts and connection errors, with exponential backoff and
jitter, waiting at least what ``Retry-After`` asks. A refused connection (nothing listens
there) fails at once: it is not worth six attempts. A request that may have changed
something (POST, PATCH) whose answer was lost is *not* retried: that raises
OutcomeUnknownError so the caller can look before sending it again.
"""

from __future__ import annotations

import errno
import random
import ssl
import time
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.parse import urlsplit

from . import deps
from .errors import ConductorError, OutcomeUnknownError

RETRY_STATUSES = frozenset((429, 502, 503, 504))
# Refused before any work was done, so safe to resend even for a create.
REFUSED_STATUSES = frozenset((429, 503))
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))

USER_AGENT = "conductor.principals-ansible"


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _host(url):
    parts = urlsplit(url)
    return parts.netloc or url


def _never_sent(exc):
    """True when a connection error happened before the request reached the server."""
    if isinstance(exc, deps.requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
    name = type(reason).__name__
    return name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")


def _refused(exc):
    """True when the server's host answered that nothing listens on the port (ECONNREFUSED)."""
    seen, todo = set(), [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or getattr(current, "errno", None) == errno.ECONNREFUSED:
            return True
        todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__]
                    + [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)])
    return False


class Transport(object):
    """Sends HTTP requests with the connection options of one task.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests run on a fake clock.
    ``url_from`` says where the server URL came from (config.ConnectionSettings.server_url_from),
    for the error that says what to check.
    """

    def __init__(self, timeout=30.0, validate_certs=True, ca_path=None, retries=5,
                 backoff_base=0.5, backoff_max=30.0, max_elapsed=300.0,
                 sleep=time.sleep, clock=time.monotonic, rng=random.random, session=None, url_from=None):
        deps.require("requests")
        self.url_from = url_from
        self.timeout = timeout
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_elapsed = max_elapsed
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.session = session or deps.requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # The environment is read once per host (environment_settings), not by requests on every request;
        # this also keeps a ~/.netrc login from replacing the Authorization header each request carries.
        self.session.trust_env = False
        self._environment = {}

    def backoff(self, attempt, retry_after=None):
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        exponential = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        wait = exponential * (0.5 + self.rng() / 2)  # "equal jitter": never less than half
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def request(self, method, url, idempotent=None, prepare=None, **kwargs):
        """Send one request with retries; return the final requests.Response.

        ``prepare(headers)`` is called before every attempt, and a callable ``data`` is
        called for every attempt, so one-time values (a DPoP proof, a client assertion)
        are never sent twice. Non-2xx answers are returned, not raised,
        except that retryable ones that run out of retries raise ConductorError.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        started = self.clock()
        attempt = 0
        base_headers = dict(kwargs.pop("headers", None) or {})
        make_data = kwargs.pop("data", None)
        while True:
            attempt += 1
            headers = dict(base_headers)
            if prepare is not None:
                prepare(headers)
            if make_data is not None:
                kwargs["data"] = make_data() if callable(make_data) else make_data
            proxies, verify = self.environment_settings(url)
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, verify=verify, proxies=proxies,
                    allow_redirects=False, **kwargs)
            except deps.requests.exceptions.SSLError as exc:
                raise ConductorError(self._tls_message(url, exc))
            except deps.requests.exceptions.RequestException as exc:
                never_sent = isinstance(exc, deps.requests.exceptions.ConnectionError) and _never_sent(exc)
                if not (idempotent or never_sent):
                    raise OutcomeUnknownError(
                        "The connection to %s was lost during %s %s, so it is unknown whether "
                        "the change was made" % (_host(url), method, urlsplit(url).path),
                        attempts=attempt)
                if not isinstance(exc, (deps.requests.exceptions.ConnectionError,
                                        deps.requests.exceptions.Timeout)):
                    raise ConductorError("The request to %s failed: %s" % (_host(url), type(exc).__name__))
                refused = _refused(exc)
                wait = None if refused else self._plan_wait(attempt, started, None)
                if wait is None:
                    raise ConductorError(
                        "Cannot reach %s (%s); %s"
                        % (_host(url), "timed out" if isinstance(exc, deps.requests.exceptions.Timeout)
                           else "connection refused" if refused else "connection failed",
                           self._check("the network")), attempts=attempt)
                self.sleep(wait)
                continue

            response.attempts = attempt
            if response.status_code not in RETRY_STATUSES:
                return response
            if not (idempotent or response.status_code in REFUSED_STATUSES):
                # A gateway error on a create: the backend may have done it.
                raise OutcomeUnknownError(
                    "%s %s at %s answered a gateway error, so it is unknown whether the change was made"
                    % (method, urlsplit(url).path, _host(url)),
                    status=response.status_code, attempts=attempt,
                    request_id=request_id_of(response))
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            wait = self._plan_wait(attempt, started, retry_after)
            if wait is None:
                return response  # the caller turns it into an error with the API's message
            self.sleep(wait)

    def environment_settings(self, url):
        """``(proxies, verify)`` for ``url``'s scheme and host as requests reads them from the environment
        (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE), read once per host: requests walks the whole environment
        twice on every request otherwise, a tenth of a listing's cost on the client."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        found = self._environment.get(origin)
        if found is None:
            with deps.requests.Session() as reader:  # trust_env on: requests' own reading, done once
                settings = reader.merge_environment_settings(url, {}, None, self.verify, None)
            found = self._environment[origin] = (settings["proxies"], settings["verify"])
        return found

    def _plan_wait(self, attempt, started, retry_after):
        """The wait before the next attempt, or None when retries or time are used up."""
        if attempt > self.retries:
            return None
        wait = self.backoff(attempt, retry_after)
        if (self.clock() - started) + wait > self.max_elapsed:
            return None
        return wait

    def _check(self, also):
        """What to check, naming where the server URL came from."""
        if not self.url_from:
            return "check server_url and %s" % also
        if self.url_from.startswith("derived"):
            return ("the URL was %s; set server_url (or CONDUCTORONE_SERVER_URL) if the API is elsewhere, "
                    "and check %s" % (self.url_from, also))
        return "the URL came from %s; check it and %s" % (self.url_from, also)

    def _tls_message(self, url, exc):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(getattr(exc, "reason", None), ssl.SSLCertVerificationError):
            return ("TLS verification of %s failed (the certificate is not trusted%s); set ca_path to the "
                    "CA bundle that signed it, or validate_certs: false only for a test server"
                    % (_host(url), "; the URL came from %s" % self.url_from if self.url_from else ""))
        return "TLS handshake with %s failed; %s" % (_host(url), self._check("ca_path"))


def request_id_of(response):
    for name in ("X-Request-Id", "X-Request-ID", "Grpc-Metadata-X-Request-Id", "X-Amzn-Trace-Id"):
        value = response.headers.get(name)
        if value:
            return value
    return None
