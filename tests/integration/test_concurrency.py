# -*- coding: utf-8 -*-
"""forks: 10, 50 principals with one credential each, created in parallel: each exists once."""

from __future__ import annotations

from test_c1_modules import CRED, SP, api, writes

HOSTS = ["worker%02d" % i for i in range(50)]
TASKS = [{SP: {"name": "conc-{{ inventory_hostname }}"}},
         {CRED: {"service_principal": "conc-{{ inventory_hostname }}", "name": "ci"}}]


def test_fifty_principals_in_parallel_then_nothing_changes(fresh, playbook):
    playbook(TASKS, hosts=HOSTS, forks=10)
    names, token = [], ""
    while True:
        body = api(fresh, "GET", "/api/v1/service_principals", params={"page_size": 100, "page_token": token})
        names += [p["displayName"] for p in body["list"] if p["displayName"].startswith("conc-")]
        token = body["nextPageToken"]
        if not token:
            break
    assert sorted(names) == sorted("conc-" + h for h in HOSTS)  # each exactly once
    before = writes(fresh)
    second = playbook(TASKS, hosts=HOSTS, forks=10)
    assert "changed=1" not in second.stdout and "changed=2" not in second.stdout
    assert writes(fresh) == before
