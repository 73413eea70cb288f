# -*- coding: utf-8 -*-
"""Issue 24 through real ansible-playbook runs: colliding names over two runs, no_log at -v --diff.

The store-layer findings (redirects, links, locks, foreign exceptions) are reproduced with real
files and servers in tests/unit/plugins/module_utils/stores/test_hardening.py.
"""

from __future__ import annotations

import pytest

from helpers import CRED, PERSONAL, SP, orkes, writes

PASSWORD = "store password 4 hardening"


@pytest.fixture
def vault_store(tmp_path):
    directory = tmp_path / "store"
    directory.mkdir(mode=0o700)
    return {"path": str(directory / "principals.vault")}


def _credential(store, **where):
    return {CRED: dict(where, name="deploy" if "service_principal" in where else "laptop", store=store),
            "register": "made"}


def test_a_principal_named_at_personal_and_the_personal_key_keep_apart_over_two_runs(fresh, playbook, vault_store):
    tasks = [{SP: {"name": "@personal"}},
             {CRED: {"service_principal": "@personal", "name": "laptop", "expires_days": 30, "store": vault_store},
              "register": "sp"},
             {PERSONAL: {"name": "laptop", "expires_days": 30, "store": vault_store}, "register": "mine"}]
    env = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": PASSWORD}
    first = playbook(tasks, keep=["sp", "mine"], extra_env=env)
    assert first.results["sp"]["stored"]["location"].endswith("#conductor-principals/conductorone/+40personal/laptop")
    assert first.results["mine"]["stored"]["location"].endswith("#conductor-principals/conductorone/@personal/laptop")
    before = writes(fresh)
    second = playbook(tasks, keep=["sp", "mine"], extra_env=env)
    assert writes(fresh) == before
    assert second.results["sp"]["changed"] is False and second.results["mine"]["changed"] is False
    assert second.results["mine"]["credential"]["id"] == first.results["mine"]["credential"]["id"]


def test_dot_names_on_two_platforms_keep_apart_in_vault_over_two_runs(fresh, playbook, bao_server):
    bao_server.wipe()
    store = {"type": "hashi_vault", "url": bao_server.url}
    env = {"VAULT_TOKEN": bao_server.token}
    c1 = [{SP: {"name": ".."}}, {CRED: {"service_principal": "..", "name": "deploy", "store": store}, "register": "c1"}]
    ork = [{SP: {"name": ".."}}, {CRED: {"service_principal": "..", "name": "deploy", "store": store},
                                  "register": "ork"}]

    def both():
        one = playbook(c1, keep=["c1"], extra_env=env)
        two = playbook(ork, keep=["ork"], extra_env=env, connection_vars=False, module_defaults=orkes(fresh))
        return one.results["c1"], two.results["ork"]

    first = both()
    before = writes(fresh)
    second = both()
    assert writes(fresh) == before
    assert [result["changed"] for result in second] == [False, False]
    assert [result["credential"]["id"] for result in second] == [result["credential"]["id"] for result in first]
    assert {result["stored"]["location"] for result in first} == {
        "secret/conductor-principals/conductorone/+2E+2E/deploy", "secret/conductor-principals/orkes/+2E+2E/deploy"}
    bao_server.wipe()


def test_no_log_hides_the_summary_and_diff_at_verbose_diff(fresh, playbook):
    made = playbook([{SP: {"name": "quiet-bot"}},
                     {CRED: {"service_principal": "quiet-bot", "name": "ci", "expires_days": 30},
                      "register": "made", "no_log": True}], keep=["made"], diff=True)
    credential = made.results["made"]["credential"]
    assert credential["id"] and credential["client_id"]
    assert credential["id"] not in made.output and credential["client_id"] not in made.output
    assert "diff without the secret" not in made.output
    # Without no_log the secret-free summary and diff are still shown.
    shown = playbook([{CRED: {"service_principal": "quiet-bot", "name": "ci2", "expires_days": 30},
                       "register": "made"}], keep=["made"], diff=True)
    assert shown.results["made"]["credential"]["id"] in shown.output
