# -*- coding: utf-8 -*-
"""forks: 10, 50 principals with one credential each, created in parallel: each exists once."""

from __future__ import annotations

import json

from helpers import CRED, SP, api, writes

HOSTS = ["worker%02d" % i for i in range(50)]
TASKS = [{SP: {"name": "conc-{{ inventory_hostname }}"}},
         {CRED: {"service_principal": "conc-{{ inventory_hostname }}", "name": "ci"}, "register": "cred"}]


def _noting_received(directory):
    """TASKS, plus a note per host of the credential whose secret it received (the ID, never the secret)."""
    return TASKS + [{"ansible.builtin.copy": {
        "dest": "%s/{{ inventory_hostname }}.json" % directory, "mode": "0600",
        "content": "{{ {'id': cred.credential.id, 'received': cred.client_secret is defined} | to_json }}"},
        "no_log": True}]


def test_fifty_principals_in_parallel_then_nothing_changes(fresh, playbook, reliability, tmp_path):
    playbook(_noting_received(tmp_path), hosts=HOSTS, forks=10)
    notes = [json.loads((tmp_path / (host + ".json")).read_text()) for host in HOSTS]
    reliability.received(note["id"] for note in notes if note["received"])
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
    duplicates, orphans = fresh.audit()
    assert not duplicates and not orphans, (duplicates, orphans)
