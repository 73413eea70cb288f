"""Test controls, faults, concurrency, and the command line (TLS, persistence, SIGTERM)."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import admin_headers, c1_call

SANDBOX_DIR = str(Path(__file__).resolve().parents[1])


def test_counters_split_reads_writes_and_token_requests(sbx):
    headers = admin_headers(sbx)
    c1_call(sbx, "GET", "/api/v1/service_principals", headers)
    c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": "x"})
    counters = sbx.control("GET", "/counters")
    assert (counters["reads"], counters["writes"], counters["token_requests"]) == (1, 1, 1)
    assert counters["by_route"]["POST /api/v1/service_principals"] == 1


def test_reset_removes_everything_but_the_bootstrap(sbx):
    c1_call(sbx, "POST", "/api/v1/service_principals", json={"displayName": "temp"})
    sbx.control("POST", "/reset")
    names = [p["displayName"] for p in c1_call(sbx, "GET", "/api/v1/service_principals")["list"]]
    assert names == ["sandbox-admin"]


def test_429_with_retry_after_then_5xx_then_success(sbx):
    headers = admin_headers(sbx)
    sbx.control("POST", "/faults", json={"method": "GET", "route": "/api/v1/service_principals", "mode": "429",
                                         "count": 1, "retry_after": 3})
    sbx.control("POST", "/faults", json={"method": "GET", "route": "/api/v1/service_principals", "mode": "503"})
    first = requests.get(sbx.base + "/api/v1/service_principals", headers=headers, timeout=10)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert requests.get(sbx.base + "/api/v1/service_principals", headers=headers, timeout=10).status_code == 503
    assert requests.get(sbx.base + "/api/v1/service_principals", headers=headers, timeout=10).status_code == 200


def test_drop_after_commit_commits_and_drops(sbx):
    headers = admin_headers(sbx)
    sbx.control("POST", "/faults", json={"method": "POST", "route": "/api/v1/service_principals",
                                         "mode": "drop_after_commit"})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(sbx.base + "/api/v1/service_principals", headers=headers, json={"displayName": "ghost"},
                      timeout=10)
    names = [p["displayName"] for p in c1_call(sbx, "GET", "/api/v1/service_principals", headers)["list"]]
    assert names.count("ghost") == 1


def test_connections_are_kept_alive_and_a_drop_closes_only_its_own(sbx):
    """As a real API: one connection carries many requests; a dropped answer closes that connection only."""
    headers = admin_headers(sbx)
    connection = http.client.HTTPConnection("127.0.0.1", int(sbx.base.rsplit(":", 1)[1]), timeout=10)
    for _ in range(3):
        connection.request("GET", "/api/v1/service_principals", headers=headers)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200 and answer.getheader("Connection", "").lower() != "close"
    sbx.control("POST", "/faults", json={"method": "POST", "route": "/api/v1/service_principals",
                                         "mode": "drop_after_commit"})
    with requests.Session() as session:
        assert session.get(sbx.base + "/api/v1/service_principals", headers=headers, timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            session.post(sbx.base + "/api/v1/service_principals", headers=headers, json={"displayName": "lost"},
                         timeout=10)
    # the kept-alive connection opened before the drop still answers
    connection.request("GET", "/api/v1/service_principals", headers=headers)
    answer = connection.getresponse()
    assert answer.status == 200 and "lost" in answer.read().decode()
    connection.close()


def test_fifty_concurrent_clients(sbx):
    headers = admin_headers(sbx)

    def work(index):
        created = requests.post(sbx.base + "/api/v1/service_principals", headers=headers, timeout=30,
                                json={"displayName": "c%02d" % index})
        listed = requests.get(sbx.base + "/api/v1/service_principals", headers=headers, timeout=30)
        return created.status_code, listed.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(work, range(50)))
    assert results == [(200, 200)] * 50


def _start(tmp_path, *extra):
    boot = tmp_path / "boot.json"
    if boot.exists():
        boot.unlink()
    process = subprocess.Popen([sys.executable, "-m", "conductor_sandbox", "--port", "0", "--bootstrap-file",
                                str(boot)] + list(extra), env=dict(os.environ, PYTHONPATH=SANDBOX_DIR),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not boot.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.05)
    return process, json.loads(boot.read_text()), boot


def _stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_cli_tls_bootstrap_file_and_sigterm(tmp_path):
    process, boot, path = _start(tmp_path, "--tls-dir", str(tmp_path / "tls"))
    try:
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert boot["server_url"].startswith("https://127.0.0.1:") and boot["ca_path"]
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(boot["server_url"] + "/_sandbox/counters", timeout=10, verify=True)
        assert requests.get(boot["server_url"] + "/_sandbox/counters", timeout=10,
                            verify=boot["ca_path"]).status_code == 200
        client_host = boot["conductorone"]["client_id"].split("@")[1].split("/")[0]
        assert "https://" + client_host == boot["server_url"]  # the server derives from the client ID
    finally:
        _stop(process)


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    process, boot, _ = _start(tmp_path, "--state-file", str(state))
    try:
        form = {"grant_type": "client_credentials", "client_id": boot["conductorone"]["client_id"],
                "client_secret": boot["conductorone"]["client_secret"]}
        token = requests.post(boot["server_url"] + "/auth/v1/token", data=form, timeout=10).json()["access_token"]
        requests.post(boot["server_url"] + "/api/v1/service_principals", json={"displayName": "kept"},
                      headers={"Authorization": "Bearer " + token}, timeout=10).raise_for_status()
    finally:
        _stop(process)
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    process, boot2, _ = _start(tmp_path, "--state-file", str(state))
    try:
        assert boot2["conductorone"]["client_id"] == boot["conductorone"]["client_id"]
        form = {"grant_type": "client_credentials", "client_id": boot2["conductorone"]["client_id"],
                "client_secret": boot2["conductorone"]["client_secret"]}
        token = requests.post(boot2["server_url"] + "/auth/v1/token", data=form, timeout=10).json()["access_token"]
        listed = requests.get(boot2["server_url"] + "/api/v1/service_principals", timeout=10,
                              headers={"Authorization": "Bearer " + token}).json()["list"]
        assert "kept" in [p["displayName"] for p in listed]
    finally:
        _stop(process)


def test_seed_creates_principals_in_bulk(sbx):
    sbx.control("POST", "/seed", json={"principals": 30, "prefix": "bulk-"})
    names, token = [], ""
    while True:
        body = c1_call(sbx, "GET", "/api/v1/service_principals", params={"page_size": 100, "page_token": token})
        names += [p["displayName"] for p in body["list"]]
        token = body["nextPageToken"]
        if not token:
            break
    assert len([n for n in names if n.startswith("bulk-")]) == 30


def test_in_flight_counts_overlap_peak_and_routes(sbx):
    headers = admin_headers(sbx)
    sbx.control("POST", "/settings", json={"latency_seconds": 0.3})
    sbx.control("POST", "/in_flight/reset")
    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            answers = list(pool.map(lambda _: requests.get(sbx.base + "/api/v1/service_principals", headers=headers,
                                                           timeout=10).status_code, range(5)))
    finally:
        sbx.control("POST", "/settings", json={"latency_seconds": 0})
    assert answers == [200] * 5
    report = sbx.control("GET", "/in_flight")
    assert report["now"] == 0 and report["total"] == 5 and 2 <= report["max"] <= 5
    assert report["by_route"]["GET /api/v1/service_principals"]["total"] == 5
    sbx.control("POST", "/in_flight/reset")
    assert sbx.control("GET", "/in_flight") == {"now": 0, "max": 0, "total": 0, "by_route": {}}


def test_in_flight_one_at_a_time_peaks_at_one(sbx):
    headers = admin_headers(sbx)
    sbx.control("POST", "/in_flight/reset")
    for _ in range(3):
        c1_call(sbx, "GET", "/api/v1/service_principals", headers)
    report = sbx.control("GET", "/in_flight")
    assert (report["max"], report["total"]) == (1, 3)


def test_fault_with_path_hits_only_that_path(sbx):
    headers = admin_headers(sbx)
    first = c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": "one"})
    second = c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": "two"})
    ids = [first["servicePrincipal"]["id"], second["servicePrincipal"]["id"]]
    path = "/api/v1/service_principals/%s/credentials" % ids[0]
    sbx.control("POST", "/faults", json={"method": "POST", "route": "/api/v1/service_principals/{service_principal_id}"
                                         "/credentials", "path": path, "mode": "500", "count": 5})
    body = {"displayName": "c", "expires": "%ds" % (30 * 86400)}
    hit = requests.post(sbx.base + path, headers=headers, json=body, timeout=10)
    missed = requests.post(sbx.base + "/api/v1/service_principals/%s/credentials" % ids[1], headers=headers,
                           json=body, timeout=10)
    assert (hit.status_code, missed.status_code) == (500, 200)


def test_client_ids_are_never_handed_out_twice(sbx, monkeypatch):
    from conductor_sandbox import c1
    headers = admin_headers(sbx)
    owner = c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": "ids"})[
        "servicePrincipal"]["id"]
    monkeypatch.setattr(c1, "CUTE", ("clever-fox",))
    draws = [7, 7]  # the second credential draws the first one's name first
    real = c1.secrets.randbelow
    monkeypatch.setattr(c1.secrets, "randbelow", lambda n: draws.pop(0) if draws else real(n))
    made = [c1_call(sbx, "POST", "/api/v1/service_principals/%s/credentials" % owner, headers,
                    json={"displayName": "c%d" % n, "expires": "%ds" % (30 * 86400)})["credential"]["clientId"]
            for n in range(2)]
    assert made[0].startswith("clever-fox-00007@") and made[1] != made[0]


def test_fault_with_principal_id_refuses_only_that_principals_token_requests(sbx):
    from conftest import token_for
    headers = admin_headers(sbx)
    creds = []
    for name in ("one", "two"):
        owner = c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": name})[
            "servicePrincipal"]["id"]
        answer = c1_call(sbx, "POST", "/api/v1/service_principals/%s/credentials" % owner, headers,
                         json={"displayName": "c", "expires": "%ds" % (30 * 86400)})
        creds.append((owner, answer["credential"]["clientId"], answer["clientSecret"]))
    refused = {"method": "POST", "route": "/auth/v1/token", "mode": "invalid_client"}
    assert requests.post(sbx.base + "/_sandbox/faults", json=refused, timeout=10).status_code == 400
    assert requests.post(sbx.base + "/_sandbox/faults", json=dict(refused, mode="500", principal_id=creds[0][0]),
                         timeout=10).status_code == 400
    sbx.control("POST", "/faults", json=dict(refused, principal_id=creds[0][0], count=1))
    token_for(sbx, creds[1][1], creds[1][2])  # another principal's credential, and the admin's, are untouched
    admin_headers(sbx)
    assert token_for(sbx, creds[0][1], creds[0][2], expect=401)["error"] == "invalid_client"
    token_for(sbx, creds[0][1], creds[0][2])  # count 1: the next one passes
