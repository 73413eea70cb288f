"""In-memory state of both emulated services, one lock, optional persistence."""

import copy
import json
import os
import secrets
import threading
import time

ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def new_id(length=27):
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def rfc3339(epoch):
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


DEFAULT_SETTINGS = {
    "page_size": 10,
    "max_page_size": 100,
    "token_ttl": 3600,
    "refuse_plain_client_secret": False,
    "client_ip_override": None,
    "dpop_nonce_required": True,
    "latency_seconds": 0.0,  # each API answer waits this long (outside the lock): lets overlap show
    # The tenant's default roles, which a new C1 service principal holds (Super Admin, Read-Only Admin).
    "c1_default_principal_role_ids": ["2GaLs9rSuperAdmin0000000001", "2GaLs9rReadOnlyAdmin0000002"],
}


class Store(object):
    """Everything the sandbox knows. All access goes through ``with store.lock``."""

    def __init__(self, state_file=None, settings=None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.clock_offset = 0.0
        self.settings = dict(DEFAULT_SETTINGS, **(settings or {}))
        self.initial_settings = dict(self.settings)
        self.faults = []
        self.counters = {}
        self.in_flight = InFlight()
        self.issued = []  # every secret and token handed out, for leak checks
        self.seen_jti = {}  # replay protection: jti -> expiry
        self.data = self.empty()

    @staticmethod
    def empty():
        return {
            "c1": {"principals": {}, "credentials": {}, "roles": {}, "providers": {}, "trusts": {}},
            "c1_tokens": {},
            "orkes": {"apps": {}, "keys": {}, "roles": {}, "tags": {}},
            "orkes_tokens": {},
            "bootstrap": {},
        }

    def now(self):
        return time.time() + self.clock_offset

    # ---- persistence --------------------------------------------------------------------
    def snapshot(self):
        with self.lock:
            return copy.deepcopy({"data": self.data, "issued": self.issued, "clock_offset": self.clock_offset})

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            text = json.dumps(self.snapshot())
            temp = self.state_file + ".tmp"
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
            os.replace(temp, self.state_file)

    def load(self):
        if not self.state_file or not os.path.exists(self.state_file):
            return False
        with open(self.state_file) as handle:
            saved = json.load(handle)
        with self.lock:
            self.data = saved["data"]
            self.issued = saved.get("issued", [])
            self.clock_offset = saved.get("clock_offset", 0.0)
        return True

    def remember(self, value):
        with self.lock:
            self.issued.append(value)

    def use_jti(self, jti, expires):
        """False if this jti was seen before (a replay)."""
        with self.lock:
            now = self.now()
            for old in [k for k, v in self.seen_jti.items() if v < now]:
                del self.seen_jti[old]
            if jti in self.seen_jti:
                return False
            self.seen_jti[jti] = expires
            return True

    # ---- test controls -------------------------------------------------------------------
    def count(self, route, kind):
        with self.lock:
            self.counters.setdefault("by_route", {})
            self.counters["by_route"][route] = self.counters["by_route"].get(route, 0) + 1
            self.counters[kind] = self.counters.get(kind, 0) + 1

    def counter_report(self):
        with self.lock:
            report = {"reads": 0, "writes": 0, "token_requests": 0, "by_route": {}}
            report.update(copy.deepcopy(self.counters))
            return report

    def take_fault(self, method, route, path=None, principal_id=None):
        """The next fault of that route template (and, for a fault given a ``path``, of that path only).

        A fault given a ``principal_id`` is taken only by the token endpoint, for a credential of that principal.
        """
        with self.lock:
            for fault in self.faults:
                if fault["method"] == method and fault["route"] == route and fault["count"] > 0 \
                        and fault.get("path") in (None, path) and fault.get("principal_id") == principal_id:
                    fault["count"] -= 1
                    return dict(fault)
        return None


class InFlight(object):
    """API requests being answered right now: the peak, the total, and both per route template.

    Its own lock, not the store's: a request waiting for the store lock is still in flight.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        """Zero the peak and totals; requests still in flight stay counted as in flight."""
        with self.lock:
            current = getattr(self, "by_route", {})
            self.by_route = {route: {"now": e["now"], "max": e["now"], "total": 0}
                             for route, e in current.items() if e["now"]}
            self.now = sum(e["now"] for e in self.by_route.values())
            self.max, self.total = self.now, 0

    def enter(self, route):
        with self.lock:
            self.now += 1
            self.total += 1
            self.max = max(self.max, self.now)
            entry = self.by_route.setdefault(route, {"now": 0, "max": 0, "total": 0})
            entry["now"] += 1
            entry["total"] += 1
            entry["max"] = max(entry["max"], entry["now"])

    def leave(self, route):
        with self.lock:
            self.now -= 1
            self.by_route[route]["now"] -= 1

    def report(self):
        with self.lock:
            return {"now": self.now, "max": self.max, "total": self.total,
                    "by_route": {route: {"max": e["max"], "total": e["total"]} for route, e in self.by_route.items()}}
