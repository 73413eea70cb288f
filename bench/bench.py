"""make bench: idempotent converges side by side, against the sandbox, in one run.

Compared in the same run on the same machine (figures as ratios, the machine is shared):
  ours-by-name  service_principal + sp_credential per principal, by name, token once (access_token)
  ours-ids      service_principal_info once, then the same tasks by ID
  role          the conductor.principals.provision role (secret store, one token and one listing per run)
  uri           hand-written ansible.builtin.uri tasks doing the same API calls
  ping floor    the same number of ansible.builtin.ping tasks as ours-by-name
plus lookups by name in tenants of 10, 1,000 and 10,000 principals (page size 100), and the
bootstrap row: the provision role's first run over N = 50 new principals with one credential
each (every secret stored and proven) and its no-change rerun, beside a ping floor of N tasks.
And the report row: credential_report over 1,000 principals with one credential each, beside
the ping floor of as many tasks. And the bulk row: service_principals over N = 1,000 new principals
with one credential each into a vault_file store (every secret stored and proven), first run and
no-change rerun, at parallelism 1, 4, 8 and 16, beside a ping floor measured in the same run.
And the module row: a no-change sp_credential task (each task its own worker, no loop) against a ping
task, their playbooks run alternately, memory as the peak of PSS and USS summed over every process of
the run (read from /proc/<pid>/smaps_rollup while it runs), beside the largest process's peak RSS.
Rows: `python bench/bench.py --rows bootstrap` (or `make bench ROWS=bootstrap`; `make bench-report`
for the report row) runs only those; the other rows already in results.json are kept.
And the scale row: service_principals at N = 100, 1,000 and 10,000 (BENCH_SCALE_N; parallelism 8), first run
and no-change rerun, with the list written in the playbook and again read from a JSON file by a lookup, each N
beside its own ping floor and a bare threaded client's rerun, memory as summed PSS.
Writes bench/results/results.json, bench/results/converge.png, bootstrap.png, bulk.png and scale.png.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
PLAYBOOK = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local"]
SIZES = (20, 100)
TENANTS = (10, 1000, 10000)
BOOTSTRAP_N = 50
ROWS = ("converge", "tenant", "bootstrap", "report", "bulk", "module", "scale")
# The scaling row: service_principals at each N (parallelism 8), first run and no-change rerun.
SCALE_N = tuple(int(n) for n in os.environ.get("BENCH_SCALE_N", "100,1000,10000").split(","))
SCALE_PARALLELISM = 8
BULK_N = int(os.environ.get("BENCH_BULK_N", "1000"))
BULK_PARALLELISM = (1, 4, 8, 16)
BULK_PING_TASKS = 50
REPORT_PRINCIPALS = 1000
MODULE_TASKS = 20  # tasks per playbook of the module row
MODULE_ROUNDS = 5  # its playbooks run alternately this many times; the medians are kept
MEMORY_SAMPLE_SECONDS = 0.05
STORE_PASSWORD = "bench store password"


class Sandbox(object):
    def __init__(self, work):
        boot = work / "boot.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "conductor_sandbox", "--port", "0", "--bootstrap-file", str(boot)],
            env=dict(os.environ, PYTHONPATH=str(ROOT / "sandbox")), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        while not boot.exists():
            time.sleep(0.05)
        self.boot = json.loads(boot.read_text())
        self.url = self.boot["server_url"]

    def control(self, method, path, **kwargs):
        response = requests.request(method, self.url + "/_sandbox" + path, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)


def n_principals_run(description, prefix, *more_arguments):
    """The start of a script over N principals (memory_tenant, profile_tenant): its arguments (``n``, ``--out``
    and ``more_arguments``, each (name, type, default)), a work directory, the out directory (``--out``, else the
    work one) and a sandbox started in the work directory."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("n", type=int)
    for name, kind, default in more_arguments:
        parser.add_argument(name, type=kind, default=default)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix=prefix))
    out = Path(args.out) if args.out else work
    out.mkdir(parents=True, exist_ok=True)
    return args, work, out, Sandbox(work)


def play(sandbox, tasks, pre_tasks=(), token=True):
    c1 = sandbox.boot["conductorone"]
    defaults = {"server_url": c1["server_url"]}
    if token:
        defaults["access_token"] = "{{ bench_token.access_token | default(omit) }}"
        pre_tasks = [{"name": "One token for the whole run", "conductor.principals.access_token": {
            "client_id": c1["client_id"], "client_secret": "{{ bench_secret }}", "server_url": c1["server_url"]},
            "register": "bench_token"}] + list(pre_tasks)
    return [{"name": "bench", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/conductor.principals.all": defaults},
             "tasks": list(pre_tasks) + list(tasks)}]


def by_name_tasks(n):
    return [{"name": "principal", "conductor.principals.service_principal": {"name": "{{ item }}"},
             "loop": ["bench-%03d" % i for i in range(n)]},
            {"name": "credential", "conductor.principals.sp_credential": {
                "service_principal": "{{ item }}", "name": "ci", "expires_days": 90},
             "loop": ["bench-%03d" % i for i in range(n)]}]


def by_id_tasks(n):
    wanted = ["bench-%03d" % i for i in range(n)]
    return [{"name": "list once", "conductor.principals.service_principal_info": {}, "register": "all_sp"},
            {"name": "index", "ansible.builtin.set_fact": {"sp_ids": "{{ all_sp.service_principals | "
                                                                      "items2dict(key_name='name', value_name='id') }}"}},
            {"name": "principal", "conductor.principals.service_principal": {"id": "{{ sp_ids[item] }}",
                                                                             "name": "{{ item }}"},
             "loop": wanted},
            {"name": "credential", "conductor.principals.sp_credential": {
                "service_principal_id": "{{ sp_ids[item] }}", "name": "ci", "expires_days": 90}, "loop": wanted}]


def uri_tasks(sandbox, n):
    c1 = sandbox.boot["conductorone"]
    base = c1["server_url"]
    auth = {"Authorization": "Bearer {{ tok.json.access_token }}"}
    return [
        {"name": "token", "ansible.builtin.uri": {"url": base + "/auth/v1/token", "method": "POST",
                                                  "body_format": "form-urlencoded", "body": {
                                                      "grant_type": "client_credentials", "client_id": c1["client_id"],
                                                      "client_secret": "{{ bench_secret }}"}},
         "register": "tok", "no_log": True},
        {"name": "page 1", "ansible.builtin.uri": {"url": base + "/api/v1/service_principals?page_size=100",
                                                   "headers": auth}, "register": "page1"},
        {"name": "page 2", "ansible.builtin.uri": {
            "url": base + "/api/v1/service_principals?page_size=100&page_token={{ page1.json.nextPageToken }}",
            "headers": auth}, "register": "page2", "when": "page1.json.nextPageToken | length > 0"},
        {"name": "index", "ansible.builtin.set_fact": {"sp_ids": "{{ (page1.json.list + (page2.json.list | "
                                                                  "default([]))) | items2dict(key_name='displayName', "
                                                                  "value_name='id') }}"}},
        {"name": "create missing principals", "ansible.builtin.uri": {
            "url": base + "/api/v1/service_principals", "method": "POST", "body_format": "json",
            "body": {"displayName": "{{ item }}"}, "headers": auth},
         "loop": ["bench-%03d" % i for i in range(n)], "when": "item not in sp_ids"},
        {"name": "credentials", "ansible.builtin.uri": {
            "url": base + "/api/v1/service_principals/{{ sp_ids[item] }}/credentials?page_size=100",
            "headers": auth}, "loop": ["bench-%03d" % i for i in range(n)], "register": "creds"},
        {"name": "create missing credentials", "ansible.builtin.uri": {
            "url": base + "/api/v1/service_principals/{{ sp_ids[item.item] }}/credentials", "method": "POST",
            "body_format": "json", "body": {"displayName": "ci", "expires": "7776000s"}, "headers": auth},
         "loop": "{{ creds.results }}", "loop_control": {"label": "{{ item.item }}"},
         "when": "item.json.list | selectattr('displayName', 'equalto', 'ci') | list | length == 0",
         "no_log": True},
    ]


def role_play(n, prefix="bench-"):
    """The provision role as users run it: connection and store from the environment (see run)."""
    return [{"name": "bench role", "hosts": "localhost", "gather_facts": False, "vars": {
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "provision_principals": [{"name": "%s%03d" % (prefix, i), "credentials": [{"name": "ci", "expires_days": 90}]}
                                 for i in range(n)]},
        "roles": [{"role": "conductor.principals.provision"}]}]


def ping_tasks(count):
    return [{"name": "ping", "ansible.builtin.ping": {}, "loop": list(range(count))}]


def process_tree(root):
    """root and every process below it (the children files of each of their threads)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for thread in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, thread)) as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            pass  # gone meanwhile
    return pids


def tree_memory_kib(root):
    """PSS and USS (Private_Clean + Private_Dirty) in KiB, summed over the processes below root (smaps_rollup)."""
    pss = uss = 0
    for pid in process_tree(root)[1:]:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as rollup:
                fields = dict((line.split()[0].rstrip(":"), line.split()[1]) for line in rollup if line[0].isupper())
        except (OSError, IndexError):
            continue
        pss += int(fields.get("Pss", 0))
        uss += int(fields.get("Private_Clean", 0)) + int(fields.get("Private_Dirty", 0))
    return pss, uss


def playbook_env(sandbox, work):
    """The environment of a bench playbook (connection and store from it) and its -e file of the client secret."""
    secrets_file = work / "secret.json"
    secrets_file.write_text(json.dumps({"bench_secret": sandbox.boot["conductorone"]["client_secret"]}))
    c1 = sandbox.boot["conductorone"]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ["BENCH_COLLECTIONS"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
               CONDUCTORONE_SERVER_URL=c1["server_url"], CONDUCTORONE_CLIENT_ID=c1["client_id"],
               CONDUCTORONE_CLIENT_SECRET=c1["client_secret"],
               CONDUCTOR_PRINCIPALS_STORE_PATH=str(work / "store.vault"),
               CONDUCTOR_PRINCIPALS_STORE_PASSWORD=STORE_PASSWORD)
    return env, secrets_file


def run(sandbox, work, name, plays):
    """One ansible-playbook run: seconds, http requests by kind, peak RSS of its largest process and the peak
    of its processes' summed PSS and USS, in MiB."""
    path = work / (name + ".yml")
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    env, secrets_file = playbook_env(sandbox, work)
    sandbox.control("POST", "/counters/reset")
    # RUSAGE_CHILDREN of a fresh helper process: the peak RSS of this one playbook run's process tree.
    log = work / (name + ".log")
    # Its CPU seconds too (user + system, all processes of the run): less moved by the machine's other jobs.
    probe = ("import resource,subprocess,sys; r=subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'w'))"
             ".returncode; u=resource.getrusage(resource.RUSAGE_CHILDREN);"
             " print(r, u.ru_maxrss, u.ru_utime + u.ru_stime)")
    started = time.monotonic()
    helper = subprocess.Popen([sys.executable, "-c", probe, str(log)] + PLAYBOOK + ["-e", "@" + str(secrets_file),
                                                                                   str(path)],
                              env=env, stdout=subprocess.PIPE, text=True)
    # RSS counts the pages the forks share with ansible-playbook once per process: the sum of PSS
    # (shared pages split between their users) or USS (pages of one process only) is what the run costs.
    peak_pss = peak_uss = 0
    while helper.poll() is None:
        pss, uss = tree_memory_kib(helper.pid)  # ansible-playbook, its workers and what they start
        peak_pss, peak_uss = max(peak_pss, pss), max(peak_uss, uss)
        try:
            helper.wait(timeout=MEMORY_SAMPLE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    seconds = time.monotonic() - started
    output = helper.stdout.read().split()
    if helper.returncode or output[0] != "0":
        raise SystemExit("benchmark playbook %s failed:\n%s" % (name, log.read_text()[-3000:]))
    counters = sandbox.control("GET", "/counters")
    return {"seconds": round(seconds, 3), "cpu_seconds": round(float(output[2]), 3),
            "requests": counters["reads"] + counters["writes"] + counters["token_requests"],
            "token_requests": counters["token_requests"], "writes": counters["writes"],
            "peak_rss_mib": round(int(output[1]) / 1024.0, 1), "peak_pss_sum_mib": round(peak_pss / 1024.0, 1),
            "peak_uss_sum_mib": round(peak_uss / 1024.0, 1)}


def converge_rows(sandbox, work, results, baseline):
    for n in SIZES:
        sandbox.control("POST", "/reset")
        run(sandbox, work, "create-%d" % n, play(sandbox, by_name_tasks(n)))  # first converge creates
        row = {
            "ours_by_name": run(sandbox, work, "by-name-%d" % n, play(sandbox, by_name_tasks(n))),
            "ours_ids": run(sandbox, work, "ids-%d" % n, play(sandbox, by_id_tasks(n))),
            "uri": run(sandbox, work, "uri-%d" % n, play(sandbox, uri_tasks(sandbox, n), token=False)),
            "ping_floor": run(sandbox, work, "ping-%d" % n, play(sandbox, ping_tasks(2 * n), token=False)),
        }
        # The role's first run rotates the module-made credentials into its store; the second is measured.
        (work / "store.vault").unlink(missing_ok=True)
        run(sandbox, work, "role-first-%d" % n, role_play(n))
        row["role"] = run(sandbox, work, "role-%d" % n, role_play(n))
        for name, figures in row.items():
            figures["tasks"] = 2 * n
            figures["per_task_seconds"] = round((figures["seconds"] - baseline["seconds"]) / (2 * n), 4)
        assert all(row[k]["writes"] == 0 for k in ("ours_by_name", "ours_ids", "uri", "role")), "a converge wrote"
        results["converge"][str(n)] = row


def tenant_rows(sandbox, work, results, baseline):
    for m in TENANTS:
        sandbox.control("POST", "/reset")
        sandbox.control("POST", "/seed", json={"principals": m, "prefix": "tenant-"})
        run(sandbox, work, "tenant-create-%d" % m, play(sandbox, by_name_tasks(20)))
        results["tenant"][str(m)] = {
            "lookup_one_by_name": run(sandbox, work, "lookup-%d" % m, play(sandbox, [
                {"name": "lookup", "conductor.principals.service_principal_info": {"name": "bench-000"}}])),
            "converge_20_by_name": run(sandbox, work, "t-by-name-%d" % m, play(sandbox, by_name_tasks(20))),
            "converge_20_ids": run(sandbox, work, "t-ids-%d" % m, play(sandbox, by_id_tasks(20))),
        }
        (work / "store.vault").unlink(missing_ok=True)
        run(sandbox, work, "t-role-first-%d" % m, role_play(20))
        results["tenant"][str(m)]["converge_20_role"] = run(sandbox, work, "t-role-%d" % m, role_play(20))


def stored_entries(store):
    """The entries of the vault_file store, read with ansible-core's VaultLib (not the collection's code)."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    vault = VaultLib([("default", VaultSecret(STORE_PASSWORD.encode()))])
    return json.loads(vault.decrypt(store.read_bytes()))["entries"]


def bootstrap_rows(sandbox, work, results, baseline):
    """First provision run of N new principals (one credential each) and its rerun, beside the ping floor."""
    n = BOOTSTRAP_N
    sandbox.control("POST", "/reset")
    store = work / "store.vault"
    store.unlink(missing_ok=True)
    first = run(sandbox, work, "boot-first-%d" % n, role_play(n, prefix="boot-"))
    entries = stored_entries(store)
    content = store.read_bytes()
    rerun = run(sandbox, work, "boot-rerun-%d" % n, role_play(n, prefix="boot-"))
    ping = run(sandbox, work, "boot-ping-%d" % n, play(sandbox, ping_tasks(n), token=False))
    ping_task = (ping["seconds"] - baseline["seconds"]) / n
    first.update(new_credentials=n, stored=len(entries),
                 # one token for the run, then one proof per new secret (verify) before the task returned
                 proofs=first["token_requests"] - 1,
                 ping_tasks_per_credential=round((first["seconds"] - baseline["seconds"]) / n / ping_task, 3))
    rerun.update(store_writes=0 if store.read_bytes() == content else 1,
                 ping_tasks_per_principal=round((rerun["seconds"] - baseline["seconds"]) / n / ping_task, 3))
    ping["per_task_seconds"] = round(ping_task, 4)
    assert first["stored"] == n and first["proofs"] == n, "the first run did not store and prove every secret"
    assert rerun["writes"] == 0 and rerun["store_writes"] == 0, "the rerun wrote"
    results["bootstrap"] = {"n": n, "first_run": first, "rerun": rerun, "ping_floor": ping}


def seed_with_credentials(sandbox, count, prefix):
    """A reset sandbox with ``count`` principals named ``prefix``N, one 30-day credential each (never used); their
    IDs (the tenant also holds sandbox-admin)."""
    sandbox.control("POST", "/reset")
    sandbox.control("POST", "/seed", json={"principals": count, "prefix": prefix})
    c1 = sandbox.boot["conductorone"]
    with requests.Session() as http:
        token = http.post(c1["server_url"] + "/auth/v1/token", timeout=60, data={
            "grant_type": "client_credentials", "client_id": c1["client_id"],
            "client_secret": c1["client_secret"]}).json()["access_token"]
        http.headers["Authorization"] = "Bearer " + token
        page, ids = "", []
        while True:
            body = http.get(c1["server_url"] + "/api/v1/service_principals", timeout=60,
                            params={"page_size": 100, "page_token": page}).json()
            ids += [p["id"] for p in body["list"] if p["displayName"].startswith(prefix)]
            page = body.get("nextPageToken")
            if not page:
                break
        for sp_id in ids:
            http.post(c1["server_url"] + "/api/v1/service_principals/%s/credentials" % sp_id, timeout=60,
                      json={"displayName": "ci", "expires": "2592000s"}).raise_for_status()
    return ids


def report_row(sandbox, work):
    """credential_report over REPORT_PRINCIPALS principals with one credential each, and a ping floor of
    as many tasks (the token and the report)."""
    ids = seed_with_credentials(sandbox, REPORT_PRINCIPALS, "report-")
    dest = work / "report.html"
    row = {"principals": len(ids) + 1,  # and sandbox-admin
           "load_average_before": load_average(),
           "report": run(sandbox, work, "report", play(sandbox, [{
               "name": "report", "conductor.principals.credential_report": {"dest": str(dest)}}])),
           "token_only": run(sandbox, work, "report-token", play(sandbox, [])),
           "ping_floor": run(sandbox, work, "report-ping", play(sandbox, ping_tasks(2), token=False)),
           "ping_tasks": run(sandbox, work, "report-ping-50", play(sandbox, ping_tasks(BULK_PING_TASKS), token=False)),
           "empty": run(sandbox, work, "report-empty", play(sandbox, [], token=False))}
    row["report"]["html_kib"] = round(dest.stat().st_size / 1024.0, 1)
    # The report's own cost: its playbook less the same playbook without it (Ansible's start and the token task),
    # per principal, in ping tasks of a floor of BULK_PING_TASKS measured in the same run.
    ping_task = (row["ping_tasks"]["seconds"] - row["empty"]["seconds"]) / BULK_PING_TASKS
    row["ping_task_seconds"] = round(ping_task, 4)
    row["ping_tasks_per_principal"] = round(
        (row["report"]["seconds"] - row["token_only"]["seconds"]) / row["principals"] / ping_task, 4)
    row["pss_vs_ping"] = round(row["report"]["peak_pss_sum_mib"] / row["ping_tasks"]["peak_pss_sum_mib"], 3)
    row["load_average_after"] = load_average()
    # token + pages + per principal its credentials + the federation providers once + one search of the trusts
    row["expected_requests"] = 1 + -(-row["principals"] // 100) + row["principals"] + 1 + 1
    return row


def report_rows(sandbox, work, results, baseline):
    results["report"] = report_row(sandbox, work)


def module_rows(sandbox, work, results, baseline):
    """MODULE_TASKS separate no-change sp_credential tasks (each its own worker, as a task without a loop runs)
    after one token task, against MODULE_TASKS ping tasks; each less the same playbook without those tasks.
    The four playbooks run alternately, MODULE_ROUNDS times."""
    sandbox.control("POST", "/reset")
    run(sandbox, work, "module-create", play(sandbox, by_name_tasks(1)))
    credential = {"name": "no-change sp_credential", "conductor.principals.sp_credential": {
        "service_principal": "bench-000", "name": "ci", "expires_days": 90}}
    playbooks = {"sp_credential": play(sandbox, [credential] * MODULE_TASKS), "token_only": play(sandbox, []),
                 "ping": play(sandbox, [{"name": "ping", "ansible.builtin.ping": {}}] * MODULE_TASKS, token=False),
                 "empty": play(sandbox, [], token=False)}
    starts = {"sp_credential": "token_only", "ping": "empty"}
    runs = dict((name, []) for name in playbooks)
    for _round in range(MODULE_ROUNDS):
        for name, plays in playbooks.items():
            runs[name].append(run(sandbox, work, "module-" + name, plays))
    assert all(f["writes"] == 0 for f in runs["sp_credential"]), "a no-change sp_credential task wrote"

    def per_task(name, figures, key="seconds"):
        return (figures[name][key] - figures[starts[name]][key]) / MODULE_TASKS

    def median(key):
        return dict((name, {key: sorted(f[key] for f in figures)[MODULE_ROUNDS // 2]})
                    for name, figures in runs.items())
    rounds = [dict((name, figures[i]) for name, figures in runs.items()) for i in range(MODULE_ROUNDS)]
    wall, cpu = median("seconds"), median("cpu_seconds")
    row = {"tasks": MODULE_TASKS, "rounds": MODULE_ROUNDS, "runs": runs,
           "per_task_seconds": dict((name, round(per_task(name, wall), 4)) for name in starts),
           # the ratio of the medians, and each round's own (the machine is shared: its load moves)
           "sp_credential_ping_tasks": round(per_task("sp_credential", wall) / per_task("ping", wall), 3),
           "sp_credential_ping_tasks_by_round": [round(per_task("sp_credential", r) / per_task("ping", r), 3)
                                                 for r in rounds],
           "per_task_cpu_seconds": dict((name, round(per_task(name, cpu, "cpu_seconds"), 4)) for name in starts),
           "sp_credential_ping_tasks_cpu": round(per_task("sp_credential", cpu, "cpu_seconds")
                                                 / per_task("ping", cpu, "cpu_seconds"), 3)}
    for key in ("peak_pss_sum_mib", "peak_uss_sum_mib", "peak_rss_mib"):
        row[key] = dict((name, max(f[key] for f in figures)) for name, figures in runs.items())
    results["module"] = row


def bulk_play(n, parallelism, store, principals_file=None):
    """One service_principals task over n principals with one credential each (connection from the environment).

    With ``principals_file`` the list is written there as JSON and the task reads it with a lookup, as a tenant's
    list kept beside the playbook is: the task's worker templates it, and ansible-playbook never holds it parsed."""
    principals = [{"name": "bulk-%04d" % i, "credentials": [{"name": "ci"}]} for i in range(n)]
    if principals_file is not None:
        Path(principals_file).write_text(json.dumps(principals))
        principals = "{{ lookup('ansible.builtin.file', %r) | from_json }}" % str(principals_file)
    return [{"name": "bench bulk", "hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "the whole tenant", "conductor.principals.service_principals": {
            "parallelism": parallelism, "verify": True, "store": {"path": str(store)}, "principals": principals},
        "register": "bulk"}, {
        "name": "summary", "ansible.builtin.copy": {"content": "{{ bulk.summary | to_json }}",
                                                    "dest": str(store) + ".summary.json", "mode": "0600"}}]}]


def bulk_rows(sandbox, work, results, baseline):
    """service_principals, N new principals x 1 credential into vault_file: first run and rerun per parallelism."""
    n = BULK_N
    ping = run(sandbox, work, "bulk-ping", play(sandbox, ping_tasks(BULK_PING_TASKS), token=False))
    ping_task = (ping["seconds"] - baseline["seconds"]) / BULK_PING_TASKS
    ping["per_task_seconds"] = round(ping_task, 4)
    row = {"n": n, "ping_floor": ping, "runs": {}}
    for parallelism in BULK_PARALLELISM:
        sandbox.control("POST", "/reset")
        store = work / ("bulk-%d.vault" % parallelism)
        store.unlink(missing_ok=True)
        sandbox.control("POST", "/in_flight/reset")
        first = run(sandbox, work, "bulk-first-%d" % parallelism, bulk_play(n, parallelism, store))
        first["in_flight_max"] = sandbox.control("GET", "/in_flight")["max"]
        summary = json.loads(Path(str(store) + ".summary.json").read_text())
        entries = stored_entries(store)
        content = store.read_bytes()
        first.update(stored=len(entries), proofs=first["token_requests"] - 1, store_batches=summary["store_batches"],
                     ping_tasks_per_credential=round((first["seconds"] - baseline["seconds"]) / n / ping_task, 4))
        assert first["stored"] == n and first["proofs"] == n, "the first run did not store and prove every secret"
        assert summary["credentials"] == {"created": n}, summary
        sandbox.control("POST", "/in_flight/reset")
        rerun = run(sandbox, work, "bulk-rerun-%d" % parallelism, bulk_play(n, parallelism, store))
        rerun["in_flight_max"] = sandbox.control("GET", "/in_flight")["max"]
        rerun.update(store_writes=0 if store.read_bytes() == content else 1,
                     ping_tasks_per_principal=round((rerun["seconds"] - baseline["seconds"]) / n / ping_task, 4),
                     request_bound=n + n // 100 + 5)
        assert rerun["writes"] == 0 and rerun["store_writes"] == 0, "the rerun wrote"
        first["rss_vs_ping"] = round(first["peak_rss_mib"] / ping["peak_rss_mib"], 3)
        rerun["rss_vs_ping"] = round(rerun["peak_rss_mib"] / ping["peak_rss_mib"], 3)
        row["runs"][str(parallelism)] = {"first_run": first, "rerun": rerun}
    results["bulk"] = row


def load_average():
    return [round(value, 2) for value in os.getloadavg()]


def bare_rerun(sandbox, parallelism=SCALE_PARALLELISM):
    """A bare threaded client doing only a rerun's minimum requests: one token, the principals' pages, one
    credential listing per principal, ``parallelism`` threads each on its own requests session."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    c1 = sandbox.boot["conductorone"]
    base = c1["server_url"]
    local = threading.local()
    sandbox.control("POST", "/counters/reset")
    started = time.monotonic()
    token = requests.post(base + "/auth/v1/token", timeout=60, data={
        "grant_type": "client_credentials", "client_id": c1["client_id"],
        "client_secret": c1["client_secret"]}).json()["access_token"]
    headers = {"Authorization": "Bearer " + token}

    def get(path, params):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.get(base + path, params=params, headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()
    ids, page = [], ""
    while True:
        body = get("/api/v1/service_principals", {"page_size": 100, "page_token": page})
        ids += [p["id"] for p in body["list"]]
        page = body.get("nextPageToken")
        if not page:
            break
    with ThreadPoolExecutor(parallelism) as pool:
        listed = list(pool.map(lambda sp: get("/api/v1/service_principals/%s/credentials" % sp, {"page_size": 100}),
                               ids))
    seconds = time.monotonic() - started
    counters = sandbox.control("GET", "/counters")
    assert len(listed) == len(ids)
    return {"seconds": round(seconds, 3), "principals": len(ids),
            "requests": counters["reads"] + counters["writes"] + counters["token_requests"]}


def scale_rows(sandbox, work, results, baseline):
    """service_principals over N = 100, 1,000, 10,000 new principals with one credential each into a vault_file
    (parallelism 8, every secret stored and proven), then the no-change rerun, each N beside its own ping floor
    and a bare client's rerun, measured in the same run; load average noted at each step."""
    row = results.get("scale") or {}
    for n in SCALE_N:
        figures = {"n": n, "parallelism": SCALE_PARALLELISM, "load_average_before": load_average()}
        ping = run(sandbox, work, "scale-ping-%d" % n, play(sandbox, ping_tasks(BULK_PING_TASKS), token=False))
        ping_task = (ping["seconds"] - baseline["seconds"]) / BULK_PING_TASKS
        ping["per_task_seconds"] = round(ping_task, 4)
        first, rerun = scale_runs(sandbox, work, n, ping, baseline)
        # The same runs with the list in a JSON file the task reads (what ansible-playbook holds is then Ansible's
        # start, not the parsed list): side by side, so that the two forms' seconds and memory compare.
        from_file = dict(zip(("first_run", "rerun"), scale_runs(sandbox, work, n, ping, baseline,
                                                                 principals_file=work / ("scale-%d.json" % n))))
        bare = bare_rerun(sandbox)
        bare["ping_tasks_per_principal"] = round(bare["seconds"] / n / ping_task, 4)
        for f in (first, rerun, from_file["first_run"], from_file["rerun"]):
            f["pss_vs_ping"] = round(f["peak_pss_sum_mib"] / ping["peak_pss_sum_mib"], 3)
            f["uss_vs_ping"] = round(f["peak_uss_sum_mib"] / ping["peak_uss_sum_mib"], 3)
        # Ansible's own start (the empty playbook) taken off: what remains against the bare client's seconds.
        for f in (rerun, from_file["rerun"]):
            f["vs_bare"] = round((f["seconds"] - baseline["seconds"]) / bare["seconds"], 2)
        figures.update(ping_floor=ping, first_run=first, rerun=rerun, from_file=from_file, bare_rerun=bare,
                       load_average_after=load_average())
        row[str(n)] = figures
        results["scale"] = row  # kept row by row: a long N that fails leaves the others
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
    results["scale"] = row


def scale_runs(sandbox, work, n, ping, baseline, principals_file=None):
    """The scale row's first run over a reset tenant and an empty store (every secret stored and proven), then
    its no-change rerun: (first, rerun) figures."""
    ping_task = ping["per_task_seconds"]
    sandbox.control("POST", "/reset")
    store = work / ("scale-%d.vault" % n)
    store.unlink(missing_ok=True)
    sandbox.control("POST", "/in_flight/reset")
    name = "%d%s" % (n, "-file" if principals_file else "")
    first = run(sandbox, work, "scale-first-" + name, bulk_play(n, SCALE_PARALLELISM, store, principals_file))
    first["in_flight_max"] = sandbox.control("GET", "/in_flight")["max"]
    summary = json.loads(Path(str(store) + ".summary.json").read_text())
    content = store.read_bytes()
    first.update(stored=len(stored_entries(store)), proofs=first["token_requests"] - 1,
                 store_batches=summary["store_batches"],
                 ping_tasks_per_credential=round((first["seconds"] - baseline["seconds"]) / n / ping_task, 4),
                 load_average=load_average())
    assert first["stored"] == n and first["proofs"] == n, "the first run did not store and prove every secret"
    rerun = run(sandbox, work, "scale-rerun-" + name, bulk_play(n, SCALE_PARALLELISM, store, principals_file))
    rerun.update(store_writes=0 if store.read_bytes() == content else 1,
                 ping_tasks_per_principal=round((rerun["seconds"] - baseline["seconds"]) / n / ping_task, 4),
                 request_bound=n + n // 100 + 5, load_average=load_average())
    assert rerun["writes"] == 0 and rerun["store_writes"] == 0, "the rerun wrote"
    return first, rerun


def scale_report(row, baseline):
    print("\nservice_principals at scale (parallelism %d, one credential each, vault_file; costs in ping tasks of the"
          " same N's floor, Ansible's start taken off):" % SCALE_PARALLELISM)
    print("%-6s %-6s %9s %10s %9s %7s %7s %9s %9s %9s %14s" % (
        "N", "run", "seconds", "ping/item", "requests", "tokens", "writes", "PSS MiB", "PSS/ping", "vs bare",
        "load avg"))
    for n, f in sorted(row.items(), key=lambda item: int(item[0])):
        ping = f["ping_floor"]
        for name, r, ratio in (("first", f["first_run"], "ping_tasks_per_credential"),
                               ("rerun", f["rerun"], "ping_tasks_per_principal"),
                               ("first*", f["from_file"]["first_run"], "ping_tasks_per_credential"),
                               ("rerun*", f["from_file"]["rerun"], "ping_tasks_per_principal")):
            print("%-6s %-6s %9.2f %10.4f %9d %7d %7d %9.1f %9.2f %9s %14s" % (
                n, name, r["seconds"], r[ratio], r["requests"], r["token_requests"], r["writes"],
                r["peak_pss_sum_mib"], r["pss_vs_ping"], r.get("vs_bare", "-"),
                "/".join("%.1f" % v for v in r["load_average"])))
        bare = f["bare_rerun"]
        print("%-6s %-6s %9.2f %10.4f %9d   (bare threaded client, the rerun's minimum requests)" % (
            n, "bare", bare["seconds"], bare["ping_tasks_per_principal"], bare["requests"]))
        print("%-6s %-6s %9.2f %10s %9s %7s %7s %9.1f   (ping task %.3f s)" % (
            n, "ping", ping["seconds"], "1", "-", "-", "-", ping["peak_pss_sum_mib"], ping["per_task_seconds"]))
    print("(* the principals read from a JSON file by a lookup, not written in the playbook)")
    print("\n" + scale_markdown(row, baseline) + "\n\n" + scale_file_markdown(row, baseline))


def cpu_cost(figures, n, ping, baseline):
    """Ping tasks per item in CPU seconds of the run's processes (the machine's other jobs move them less)."""
    ping_task = (ping["cpu_seconds"] - baseline["cpu_seconds"]) / BULK_PING_TASKS
    return (figures["cpu_seconds"] - baseline["cpu_seconds"]) / n / ping_task


def scale_markdown(row, baseline):
    """The scale row as the Markdown table of docs/bench.md and the README (wall time; CPU seconds in brackets)."""
    lines = ["| N | first run: ping tasks per new credential (target <= 0.04) | rerun: ping tasks per principal "
             "(target <= 0.01) | rerun requests (bound N + N/100 + 5) / tokens / writes | rerun vs a bare client "
             "(Ansible's start off) | summed PSS vs the ping floor, first / rerun | ping task | load average |",
             "|---|---|---|---|---|---|---|---|"]
    for n, f in sorted(row.items(), key=lambda item: int(item[0])):
        first, rerun, ping = f["first_run"], f["rerun"], f["ping_floor"]
        cells = "| {:,} | {:.3f} ({:.3f}) | {:.4f} ({:.4f}) | {:,} ({:,}) / {} / {} | {:.2f}x | {:.2f} / {:.2f} | " \
                "{:.2f} s | {} |"
        lines.append(cells.format(
            int(n), first["ping_tasks_per_credential"], cpu_cost(first, int(n), ping, baseline),
            rerun["ping_tasks_per_principal"], cpu_cost(rerun, int(n), ping, baseline), rerun["requests"],
            rerun["request_bound"], rerun["token_requests"], rerun["writes"], rerun["vs_bare"], first["pss_vs_ping"],
            rerun["pss_vs_ping"], ping["per_task_seconds"],
            "%.1f-%.1f" % (min(f["load_average_before"][0], f["load_average_after"][0]),
                           max(f["load_average_before"][0], f["load_average_after"][0]))))
    return "\n".join(lines)


def scale_file_markdown(row, baseline):
    """The scale row's two forms side by side: the list written in the playbook against read from a JSON file."""
    lines = ["| N | first run, in the playbook / from a file (target <= 0.04) | rerun, in the playbook / from a file "
             "(target <= 0.01) | summed PSS vs the ping floor, first run: in the playbook / from a file | rerun: in "
             "the playbook / from a file (target <= 1.5) |", "|---|---|---|---|---|"]
    for n, f in sorted(row.items(), key=lambda item: int(item[0])):
        inline, from_file = f, f["from_file"]
        lines.append("| {:,} | {:.3f} / {:.3f} | {:.4f} / {:.4f} | {:.2f} / {:.2f} | {:.2f} / {:.2f} |".format(
            int(n),
            inline["first_run"]["ping_tasks_per_credential"], from_file["first_run"]["ping_tasks_per_credential"],
            inline["rerun"]["ping_tasks_per_principal"], from_file["rerun"]["ping_tasks_per_principal"],
            inline["first_run"]["pss_vs_ping"], from_file["first_run"]["pss_vs_ping"],
            inline["rerun"]["pss_vs_ping"], from_file["rerun"]["pss_vs_ping"]))
    return "\n".join(lines)


def scale_chart(results):
    """Cost per item against N, log-log: first run per new credential, rerun per principal, the bare client."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    row = results["scale"]
    sizes = sorted(int(n) for n in row)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for keys, ratio, label, target in (
            (("first_run",), "ping_tasks_per_credential", "first run, per new credential (stored + proven)", 0.04),
            (("rerun",), "ping_tasks_per_principal", "no-change rerun, per principal", 0.01),
            (("from_file", "rerun"), "ping_tasks_per_principal", "no-change rerun, the list read from a file", None),
            (("bare_rerun",), "ping_tasks_per_principal", "bare threaded client, the rerun's requests only", None)):
        values = []
        for n in sizes:
            figures = row[str(n)]
            for key in keys:
                figures = figures[key]
            values.append(figures[ratio])
        line = axis.plot(sizes, values, marker="o", label=label)[0]
        if target:
            axis.axhline(target, color=line.get_color(), linestyle="dashed", linewidth=1)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("principals N (one credential each), parallelism %d" % SCALE_PARALLELISM)
    axis.set_ylabel("cost per item, in ping tasks (same N's floor)")
    axis.set_title("service_principals: cost per item against N (dashed: targets)\nflat = no step that grows with N")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(OUT / "scale.png", dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS),
                        help="comma-separated rows to run, of %s (default: all)" % ", ".join(ROWS))
    rows = [r for r in parser.parse_args().rows.split(",") if r]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error("unknown rows %s; choose from %s" % (", ".join(unknown), ", ".join(ROWS)))
    OUT.mkdir(parents=True, exist_ok=True)
    previous = OUT / "results.json"
    results = json.loads(previous.read_text()) if previous.exists() else {}
    results.setdefault("converge", {})
    results.setdefault("tenant", {})
    results["machine"] = {"cpus": os.cpu_count()}
    work = Path(tempfile.mkdtemp(prefix="conductor-bench-"))
    sandbox = Sandbox(work)
    try:
        baseline = run(sandbox, work, "empty", play(sandbox, [], token=False))
        results["empty_playbook"] = baseline
        for row in ROWS:
            if row in rows:
                globals()[row + "_rows"](sandbox, work, results, baseline)
    finally:
        sandbox.stop()
    previous.write_text(json.dumps(results, indent=2))
    report(results)
    if "converge" in rows:
        chart(results)
    if "bootstrap" in rows:
        bootstrap_chart(results)
    if "bulk" in rows:
        bulk_chart(results)
    if "scale" in rows:
        scale_chart(results)


def report(results):
    if results.get("module"):
        module_report(results["module"])
    if results.get("bulk"):
        bulk_report(results["bulk"])
    if results.get("report"):
        report_report(results["report"])
    if results.get("scale"):
        scale_report(results["scale"], results["empty_playbook"])
    if results.get("bootstrap"):
        boot = results["bootstrap"]
        print("\nBootstrap, N = %d principals with one credential each (provision role):" % boot["n"])
        print("%-34s %9s %9s %7s %7s %22s" % ("run", "seconds", "requests", "tokens", "writes", "ping tasks per item"))
        for name, key, ratio in (("first run (stored + proven)", "first_run", "ping_tasks_per_credential"),
                                 ("no-change rerun", "rerun", "ping_tasks_per_principal"),
                                 ("ping floor (N tasks)", "ping_floor", None)):
            f = boot[key]
            print("%-34s %9.2f %9d %7d %7d %22s" % (name, f["seconds"], f["requests"], f["token_requests"],
                                                   f["writes"], "%.3f" % f[ratio] if ratio else "1 (%.3f s)"
                                                   % f["per_task_seconds"]))
    if not results.get("converge"):
        return
    print("\nIdempotent converge, N principals with one credential each (2N tasks):")
    print("%-5s %-14s %9s %11s %9s %7s %9s" % ("N", "way", "seconds", "s per task", "requests", "tokens", "RSS MiB"))
    for n, row in results["converge"].items():
        for name, f in row.items():
            print("%-5s %-14s %9.2f %11.4f %9d %7d %9.1f" % (n, name, f["seconds"], f["per_task_seconds"],
                                                          f["requests"], f["token_requests"], f["peak_rss_mib"]))
        print("      ours/ping per task: %.2f   ours/uri: %.2f   role/uri: %.2f   RSS ours/ping: %.2f   "
              "RSS role/ping: %.2f" % (
                  row["ours_by_name"]["per_task_seconds"] / row["ping_floor"]["per_task_seconds"],
                  row["ours_by_name"]["seconds"] / row["uri"]["seconds"],
                  row["role"]["seconds"] / row["uri"]["seconds"],
                  row["ours_by_name"]["peak_rss_mib"] / row["ping_floor"]["peak_rss_mib"],
                  row["role"]["peak_rss_mib"] / row["ping_floor"]["peak_rss_mib"]))
    print("\nTenant scale (page size 100): HTTP requests")
    print("%-8s %20s %22s %18s %20s" % ("M", "lookup one by name", "converge 20 by name", "converge 20 by ID",
                                         "converge 20 role"))
    for m, row in results["tenant"].items():
        print("%-8s %20d %22d %18d %20d" % (m, row["lookup_one_by_name"]["requests"], row["converge_20_by_name"][
            "requests"], row["converge_20_ids"]["requests"], row["converge_20_role"]["requests"]))


def module_report(row):
    print("\nOne task, %d a playbook, %d rounds run alternately (medians; memory: the largest of the rounds):"
          % (row["tasks"], row["rounds"]))
    print("%-26s %11s %10s %15s %15s %12s" % ("task", "s per task", "ping tasks", "summed PSS MiB",
                                              "summed USS MiB", "max RSS MiB"))
    for name, label in (("sp_credential", "sp_credential, no change"), ("ping", "ansible.builtin.ping"),
                        ("token_only", "(the token task only)"), ("empty", "(empty playbook)")):
        seconds = row["per_task_seconds"].get(name)
        print("%-26s %11s %10s %15.1f %15.1f %12.1f" % (
            label, "%.4f" % seconds if seconds is not None else "-",
            {"sp_credential": "%.3f" % row["sp_credential_ping_tasks"], "ping": "1"}.get(name, "-"),
            row["peak_pss_sum_mib"][name], row["peak_uss_sum_mib"][name], row["peak_rss_mib"][name]))
    print("      sp_credential in ping tasks, round by round: %s; in CPU seconds (median): %.3f (%.4f s against %.4f)"
          % (", ".join("%.3f" % r for r in row["sp_credential_ping_tasks_by_round"]),
             row["sp_credential_ping_tasks_cpu"], row["per_task_cpu_seconds"]["sp_credential"],
             row["per_task_cpu_seconds"]["ping"]))


def bulk_report(row):
    print("\nservice_principals, N = %d new principals x 1 credential into vault_file (ping task %.3f s, %.1f MiB):"
          % (row["n"], row["ping_floor"]["per_task_seconds"], row["ping_floor"]["peak_rss_mib"]))
    print("%-4s %-10s %9s %13s %9s %7s %7s %9s %9s %8s" % ("par", "run", "seconds", "ping/item", "requests", "tokens",
                                                        "writes", "in flight", "RSS MiB", "RSS/ping"))
    for parallelism, runs in row["runs"].items():
        for name, key, ratio in (("first", "first_run", "ping_tasks_per_credential"),
                                 ("rerun", "rerun", "ping_tasks_per_principal")):
            f = runs[key]
            print("%-4s %-10s %9.2f %13.4f %9d %7d %7d %9d %9.1f %8.2f" % (
                parallelism, name, f["seconds"], f[ratio], f["requests"], f["token_requests"], f["writes"],
                f["in_flight_max"], f["peak_rss_mib"], f["rss_vs_ping"]))


def report_report(row):
    report, floor = row["report"], row["ping_floor"]
    print("\ncredential_report over %d principals, one credential each (HTML %.1f KiB):"
          % (row["principals"], report["html_kib"]))
    print("%-12s %9s %9s %7s %9s" % ("run", "seconds", "requests", "tokens", "RSS MiB"))
    for name, f in (("report", report), ("ping floor", floor)):
        print("%-12s %9.2f %9d %7d %9.1f" % (name, f["seconds"], f["requests"], f["token_requests"],
                                             f["peak_rss_mib"]))
    print("      requests expected (token + pages + credentials of each + providers + trust search): %d; "
          "report/ping seconds: %.2f; seconds over the floor: %.2f"
          % (row["expected_requests"], report["seconds"] / floor["seconds"], report["seconds"] - floor["seconds"]))
    if "ping_tasks_per_principal" in row:
        print("      per principal, Ansible's start and the token task taken off: %.4f ping task (ping task %.3f s); "
              "summed PSS %.1f MiB, %.2fx the %d-ping floor's; load average %s"
              % (row["ping_tasks_per_principal"], row["ping_task_seconds"], report["peak_pss_sum_mib"],
                 row["pss_vs_ping"], BULK_PING_TASKS, "/".join("%.1f" % v for v in row["load_average_before"])))


def chart(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = [int(n) for n in results["converge"]]
    figure, axis = plt.subplots(figsize=(7, 4))
    for key, label in (("ours_by_name", "conductor.principals (by name)"), ("ours_ids", "conductor.principals (IDs)"),
                       ("role", "provision role (with secret store)"),
                       ("uri", "hand-written uri tasks"), ("ping_floor", "ping floor (same task count)")):
        axis.plot(sizes, [results["converge"][str(n)][key]["seconds"] for n in sizes], marker="o", label=label)
    axis.set_xlabel("principals N (one credential each)")
    axis.set_ylabel("idempotent converge, seconds")
    axis.set_title("Idempotent converge time against N (one run, same machine)")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(OUT / "converge.png", dpi=110)


def bootstrap_chart(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    boot = results["bootstrap"]
    labels = ["first run\nper new credential\n(stored + proven)", "no-change rerun\nper principal", "ping floor\nper task"]
    values = [boot["first_run"]["ping_tasks_per_credential"], boot["rerun"]["ping_tasks_per_principal"], 1.0]
    targets = [1.0, 0.1, None]
    figure, axis = plt.subplots(figsize=(7, 4))
    bars = axis.bar(labels, values, color=["#4c72b0", "#55a868", "#999999"])
    for bar, value, target in zip(bars, values, targets):
        axis.annotate("%.2f" % value, (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom")
        if target:
            axis.hlines(target, bar.get_x(), bar.get_x() + bar.get_width(), colors="red", linestyles="dashed")
    axis.set_ylabel("cost in ping tasks (same run)")
    axis.set_title("provision role, N = %d: bootstrap and rerun against the ping floor\n(dashed: target)" % boot["n"])
    axis.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(OUT / "bootstrap.png", dpi=110)


def bulk_chart(results):
    """service_principals at N = 1,000 by parallelism: cost in ping tasks, and peak RSS against the ping floor."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    bulk = results["bulk"]
    levels = list(bulk["runs"])
    first = [bulk["runs"][p]["first_run"] for p in levels]
    rerun = [bulk["runs"][p]["rerun"] for p in levels]
    figure, (cost, memory) = plt.subplots(1, 2, figsize=(10, 4))
    cost.plot(levels, [f["ping_tasks_per_credential"] for f in first], marker="o",
              label="first run, per new credential (stored + proven)")
    cost.plot(levels, [f["ping_tasks_per_principal"] for f in rerun], marker="o", label="no-change rerun, per principal")
    cost.axhline(0.1, color="#4c72b0", linestyle="dashed", linewidth=1)
    cost.axhline(0.02, color="#dd8452", linestyle="dashed", linewidth=1)
    cost.set_xlabel("parallelism")
    cost.set_ylabel("cost in ping tasks (same run)")
    cost.set_ylim(0, max(0.12, max(f["ping_tasks_per_credential"] for f in first) * 1.2))
    cost.legend(fontsize="small", loc="center right")
    memory.plot(levels, [f["rss_vs_ping"] for f in first], marker="o", label="first run")
    memory.plot(levels, [f["rss_vs_ping"] for f in rerun], marker="o", label="no-change rerun")
    memory.axhline(1.5, color="red", linestyle="dashed", linewidth=1)
    memory.set_xlabel("parallelism")
    memory.set_ylabel("peak RSS / ping floor's")
    memory.set_ylim(1.0, 1.7)
    memory.legend(fontsize="small")
    for axis in (cost, memory):
        axis.grid(True, alpha=0.3)
    figure.suptitle("service_principals, N = %d principals with one credential each (dashed: targets)" % bulk["n"])
    figure.tight_layout()
    figure.savefig(OUT / "bulk.png", dpi=110)


if __name__ == "__main__":
    main()
