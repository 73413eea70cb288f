"""Where a service_principals run's time goes: the core in-process under cProfile, against the sandbox.

    python bench/profile_tenant.py N [--parallelism 8] [--out DIR]

Runs service_principals over N new principals with one credential each into a vault_file store (verify:
every secret stored and proven), then the no-change rerun, each under cProfile, as the action plugin runs
the core on the controller (the module's argument check, then runner.run). Prints each run's seconds and
requests, the wall-clock time per phase (list, store read, plan, apply, result) and the top functions of every
thread (the pool's workers too); writes the .prof files and profile-N.json to DIR. Needs the collection built
(PYTHONPATH=build/collections).
"""

import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import STORE_PASSWORD, n_principals_run  # noqa: E402  pylint: disable=wrong-import-position

# The phases of a run: wall-clock seconds of the core's steps, each timed around the function that does it.
PHASES = (
    ("check the list", "tenant", "check_principals"),
    ("list principals", "adapter", "list_principals"),
    ("store: list and read (decrypt)", "TenantRun", "_read_entries"),
    ("plan the tenant", "tenant", "plan_tenant"),
    ("principals (create, keep)", "TenantRun", "_principals"),
    ("list credentials (one per principal, on the pool)", "map", "list_credentials"),
    ("plan each credential (on the pool)", "map", "_credentials"),
    ("apply the waves (creates, store writes, proofs)", "TenantRun", "_apply_wave"),
    ("store writes (encrypt)", "store", "write_many"),
    ("trusts, forget", "TenantRun", "_trusts"),
    ("the result", "TenantRun", "_result"),
)


class Phases(object):
    """Wall-clock seconds per phase, and every thread's profile (cProfile sees only the thread it runs in)."""

    def __init__(self):
        self.seconds = dict((label, 0.0) for label, _where, _name in PHASES)
        self.profiles = []
        self.local = threading.local()
        self.undo = []

    def timed(self, label, function):
        def timer(*args, **kwargs):
            started = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.monotonic() - started
        return timer

    def patch(self, owner, name, replacement):
        self.undo.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def install(self):
        from ansible_collections.conductor.principals.plugins.module_utils import parallel, tenant
        from ansible_collections.conductor.principals.plugins.module_utils.platforms import c1
        from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
        where = {"tenant": tenant, "TenantRun": tenant.TenantRun, "adapter": c1.C1Adapter,
                 "store": vault_file.Store}
        for label, kind, name in PHASES:
            if kind != "map":
                self.patch(where[kind], name, self.timed(label, getattr(where[kind], name)))
        labels = dict((name, label) for label, kind, name in PHASES if kind == "map")
        phases, original_map, original_outcome = self, parallel.Pool.map, parallel.outcome_of

        def map_timed(pool, function, items):
            name = getattr(function, "__name__", "")
            label = labels.get(name) or labels.get(sys._getframe(1).f_code.co_name)
            return phases.timed(label, original_map)(pool, function, items) if label else \
                original_map(pool, function, items)

        def outcome_profiled(function, item):
            profile = getattr(phases.local, "profile", None)
            if profile is None:
                profile = phases.local.profile = cProfile.Profile()
                phases.profiles.append(profile)
            profile.enable()
            try:
                return original_outcome(function, item)
            finally:
                profile.disable()
        self.patch(parallel.Pool, "map", map_timed)
        self.patch(parallel, "outcome_of", outcome_profiled)

    def uninstall(self):
        for owner, name, value in reversed(self.undo):
            setattr(owner, name, value)


def checked_params(principals, parallelism, store, connection):
    from ansible_collections.conductor.principals.plugins.module_utils.arguments import check_arguments
    from ansible_collections.conductor.principals.plugins.modules.service_principals import MODULE_SPEC
    args = dict(connection, principals=principals, parallelism=parallelism, verify=True,
                store={"type": "vault_file", "path": str(store)})
    checked = check_arguments("service_principals", MODULE_SPEC, args)
    assert checked.error is None, checked.error
    return checked.params


def profiled(sandbox, name, params, out):
    from ansible_collections.conductor.principals.plugins.module_utils import runner
    environ = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": STORE_PASSWORD}
    sandbox.control("POST", "/counters/reset")
    phases = Phases()
    phases.install()
    profile = cProfile.Profile()
    started = time.monotonic()
    profile.enable()
    try:
        result = runner.run("service_principals", params, environ=environ)
    finally:
        profile.disable()
        phases.uninstall()
    seconds = time.monotonic() - started
    counters = sandbox.control("GET", "/counters")
    assert not result.get("failed"), result.get("msg")
    stats = pstats.Stats(profile)
    for worker in phases.profiles:  # every worker thread's profile with the main thread's
        stats.add(worker)
    stats.dump_stats(str(out / ("%s.prof" % name)))
    requests = counters["reads"] + counters["writes"] + counters["token_requests"]
    print("\n== %s: %.2f s under cProfile (every thread's), %d requests (%d tokens, %d writes), summary %s"
          % (name, seconds, requests, counters["token_requests"], counters["writes"],
             json.dumps(result["summary"]["credentials"])))
    for label, _kind, _name in PHASES:
        print("  %-52s %8.2f s" % (label, phases.seconds[label]))
    text = io.StringIO()
    stats.stream = text
    stats.sort_stats("tottime").print_stats(25)
    print("\n".join(line for line in text.getvalue().splitlines()[6:] if line.strip()))
    return {"seconds": round(seconds, 3), "requests": requests, "token_requests": counters["token_requests"],
            "writes": counters["writes"],
            "phases": dict((label, round(value, 3)) for label, value in phases.seconds.items())}


def main():
    args, work, out, sandbox = n_principals_run(__doc__.splitlines()[0], "conductor-profile-",
                                                ("--parallelism", int, 8))
    try:
        c1 = sandbox.boot["conductorone"]
        connection = {"platform": "conductorone", "server_url": c1["server_url"], "client_id": c1["client_id"],
                      "client_secret": c1["client_secret"]}
        principals = [{"name": "bulk-%05d" % i, "credentials": [{"name": "ci"}]} for i in range(args.n)]
        params = checked_params(principals, args.parallelism, work / "store.vault", connection)
        figures = {"n": args.n, "load_average": os.getloadavg(),
                   "first_run": profiled(sandbox, "first-%d" % args.n, params, out),
                   "rerun": profiled(sandbox, "rerun-%d" % args.n, params, out)}
        figures["load_average_after"] = os.getloadavg()
        (out / ("profile-%d.json" % args.n)).write_text(json.dumps(figures, indent=2))
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
