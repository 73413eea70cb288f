"""Where a service_principals run's memory goes: PSS per process over time, ansible-playbook against its workers.

    python bench/memory_tenant.py N [--out DIR]

Runs the scale row's playbook (bench.bulk_play: service_principals over N new principals with one credential
each into a vault_file, then a small copy task) as a first run and a no-change rerun, after a 50-task ping
floor, sampling every process's PSS (smaps_rollup) every 0.1 s. Prints, for each run: the peak of the summed
PSS, ansible-playbook's peak and its PSS just before it forks the service_principals worker (the parsed play
and the task's arguments: Ansible's), the worker's peak, and the largest processes' peaks. Writes the timelines to DIR/memory-N.json. Needs BENCH_COLLECTIONS as bench.py.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (  # noqa: E402  pylint: disable=wrong-import-position
    PLAYBOOK, bulk_play, n_principals_run, ping_tasks, play, playbook_env, process_tree)


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as rollup:
            return int(next(line.split()[1] for line in rollup if line.startswith("Pss:")))
    except (OSError, StopIteration, ValueError):
        return None


def sampled(sandbox, work, name, plays):
    """One ansible-playbook run: [(seconds, {pid: PSS KiB})], ansible-playbook's pid first in each sample."""
    path = work / (name + ".yml")
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    env, secrets = playbook_env(sandbox, work)
    started = time.monotonic()
    with open(work / (name + ".log"), "w") as log:
        process = subprocess.Popen(PLAYBOOK + ["-e", "@" + str(secrets), str(path)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        timeline = []
        while process.poll() is None:
            sample = dict((pid, pss_kib(pid)) for pid in process_tree(process.pid))
            timeline.append((round(time.monotonic() - started, 1), dict((p, v) for p, v in sample.items() if v)))
            time.sleep(0.1)
    if process.returncode:
        raise SystemExit("%s failed: see %s" % (name, work / (name + ".log")))
    return process.pid, timeline


def summary(name, main, timeline):
    """MiB: the peak sum; ansible-playbook's peak and its PSS before its first worker (a process of more than 10 MiB:
    the bulk task's) appears, and that worker's peak; the largest processes' peaks."""
    mib = lambda kib: round(kib / 1024.0, 1)  # noqa: E731
    peaks = {}
    for _seconds, sample in timeline:
        for pid, kib in sample.items():
            peaks[pid] = max(peaks.get(pid, 0), kib)
    first = next((pid for _s, sample in timeline for pid in sample if pid != main and peaks[pid] > 10240), None)
    forked = next((i for i, (_s, sample) in enumerate(timeline) if first in sample), len(timeline))
    row = {"run": name, "seconds": timeline[-1][0] if timeline else 0,
           "peak_pss_sum_mib": mib(max(sum(sample.values()) for _s, sample in timeline)),
           "main_peak_mib": mib(peaks.get(main, 0)),
           "main_before_first_worker_mib": mib(max([sample.get(main, 0) for _s, sample in timeline[:forked]] or [0])),
           "first_worker_peak_mib": mib(peaks.get(first, 0)),
           "largest_mib": [mib(kib) for kib in sorted(peaks.values(), reverse=True)[:4]]}
    print(json.dumps(row), flush=True)
    return row


def main():
    args, work, out, sandbox = n_principals_run(__doc__.splitlines()[0], "conductor-memory-")
    figures = {"n": args.n}
    try:
        store = work / "store.vault"
        for name, plays in (("ping", play(sandbox, ping_tasks(50), token=False)),
                            ("first", bulk_play(args.n, 8, store)), ("rerun", bulk_play(args.n, 8, store))):
            pid, timeline = sampled(sandbox, work, name, plays)
            figures[name] = {"summary": summary(name, pid, timeline), "timeline": timeline}
        (out / ("memory-%d.json" % args.n)).write_text(json.dumps(figures))
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
