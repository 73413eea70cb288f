# -*- coding: utf-8 -*-
"""Secretless identities (workload federation) through real ansible-playbook runs against the sandbox.

The sandbox's OIDC issuer signs GitHub- and GitLab-shaped tokens; its trusts are evaluated by a real
CEL engine. Every run goes through the conftest leak scan, which also looks for every OIDC token a
test hands in (oidc_token, test_token).
"""

from __future__ import annotations

import base64

import pytest

from helpers import api, github_token, issuer, principals_named, writes

PROVIDER = "conductor.principals.federation_provider"
PROVIDER_INFO = "conductor.principals.federation_provider_info"
TRUST = "conductor.principals.sp_trust"
TRUST_INFO = "conductor.principals.sp_trust_info"
TOKEN = "conductor.principals.access_token"
REPORT = "conductor.principals.credential_report"
MAIN = 'claims.repository == "acme/infra" && claims.ref == "refs/heads/main"'
READ_ONLY = ("/test", "/test-cel", "/search/workload_federation_trusts")  # POSTs that only read


def write_routes(before, after):
    """{route: count} of the writes between two counter readings (test-cel and TestToken only read)."""
    out = {}
    for route, count in after["by_route"].items():
        grown = count - before["by_route"].get(route, 0)
        method = route.split(" ", 1)[0]
        if grown and method != "GET" and not route.endswith(READ_ONLY) and "/auth/" not in route:
            out[route] = grown
    return out


def exchange(playbook, sandbox, client_id, token, expect_rc=0):
    """access_token with the OIDC token alone (no secret): the run's result, or its failure."""
    return playbook([{TOKEN: {"validate": True}, "register": "t", "ignore_errors": expect_rc != 0}], keep=["t"],
                    connection_vars=False, module_defaults={"server_url": sandbox.url, "client_id": client_id,
                                                            "oidc_token": token}).results["t"]


@pytest.fixture
def federated(fresh):
    """A principal 'federated' made straight through the API."""
    return api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "federated"})["servicePrincipal"]


def provider_task(sandbox, **extra):
    options = {"issuer_url": issuer(sandbox) + "/", "type": "github_actions", "name": "GitHub (sandbox)"}
    options.update(extra)
    return {PROVIDER: options, "register": "p"}


def trust_task(sandbox, **extra):
    """The sp_trust task of the principal 'federated'; an option given as None is left out (github=None)."""
    options = {"service_principal": "federated", "name": "infra-main", "provider": issuer(sandbox),
               "github": {"repository": "acme/infra", "ref": "main"}}
    options.update(extra)
    return {TRUST: {k: v for k, v in options.items() if v is not None}, "register": "t"}


@pytest.mark.matrix
def test_a_github_token_buys_a_token_of_the_principal_through_the_trust(fresh, playbook, federated):
    good = github_token(fresh)
    samples = [{"claims": {"repository": "acme/infra", "ref": "refs/heads/main"}, "expect": True},
               {"claims": {"repository": "acme/other", "ref": "refs/heads/main"}, "expect": False}]
    run = playbook([provider_task(fresh), trust_task(fresh, tests=samples, test_token=good)], keep=["p", "t"],
                   diff=True)
    provider, trust = run.results["p"], run.results["t"]
    assert provider["changed"] and provider["provider"]["issuer_url"] == issuer(fresh)
    assert provider["provider"]["type"] == "github_actions"
    assert trust["changed"] and trust["trust"]["condition"] == MAIN
    assert trust["trust"]["service_principal_id"] == federated["id"]
    assert trust["client_id"].endswith("/wfe") and trust["server_url"] == fresh.c1["server_url"]
    assert trust["token_test"]["matched"] is True
    assert "CEL evaluation" in [step["name"] for step in trust["token_test"]["steps"]]
    assert trust["diff"]["before"] == {} and trust["diff"]["after"]["condition"] == MAIN

    identity = exchange(playbook, fresh, trust["client_id"], github_token(fresh))["identity"]
    assert identity["principleId"] == federated["id"]
    for other in ({"repository": "acme/other"}, {"ref": "refs/heads/feature"}):
        refused = exchange(playbook, fresh, trust["client_id"], github_token(fresh, **other), expect_rc=2)
        assert refused.get("failed") and "access_token" not in refused, refused

    before = fresh.counters()
    again = playbook([provider_task(fresh, issuer_url=issuer(fresh).upper().replace("/_SANDBOX/OIDC", "/_sandbox/oidc")),
                      trust_task(fresh, tests=samples),
                      {PROVIDER_INFO: {"issuer_url": issuer(fresh)}, "register": "pi"},
                      {TRUST_INFO: {"service_principal": "federated"}, "register": "ti"}],
                     keep=["p", "t", "pi", "ti"])
    assert not again.results["p"]["changed"] and not again.results["t"]["changed"]
    assert write_routes(before, fresh.counters()) == {}
    assert [p["id"] for p in again.results["pi"]["providers"]] == [provider["provider"]["id"]]
    assert [t["client_id"] for t in again.results["ti"]["trusts"]] == [trust["client_id"]]


def test_a_wrong_sample_fails_before_any_write_also_in_check_mode(fresh, playbook, federated):
    playbook([provider_task(fresh)])
    wrong = [{"claims": {"repository": "acme/infra", "ref": "refs/heads/main"}, "expect": True},
             {"claims": {"repository": "acme/infra", "ref": "refs/heads/dev"}, "expect": True}]
    for check in (True, False):
        before = fresh.counters()
        failed = playbook([dict(trust_task(fresh, tests=wrong), ignore_errors=True)], keep=["t"],
                          check=check).results["t"]
        assert failed["failed"]
        assert "tests[1]: the condition gave false for these claims, expected true" in failed["msg"]
        assert write_routes(before, fresh.counters()) == {}
    assert api(fresh, "GET", "/api/v1/service_principals/%s/trusts" % federated["id"])["list"] == []


def test_a_broad_condition_is_refused_unless_asked_for(fresh, playbook, federated):
    playbook([provider_task(fresh)])
    broad = trust_task(fresh, condition='claims.ref == "refs/heads/main"')
    del broad[TRUST]["github"]
    before = fresh.counters()
    refused = playbook([dict(broad, ignore_errors=True)], keep=["t"]).results["t"]
    assert refused["failed"] and "too broad" in refused["msg"] and "claims.repository" in refused["msg"]
    assert write_routes(before, fresh.counters()) == {}
    allowed = dict(broad)
    allowed[TRUST] = dict(broad[TRUST], allow_broad_condition=True, enabled=False)
    run = playbook([allowed, {REPORT: {}, "register": "r"}], keep=["t", "r"])
    assert run.results["t"]["changed"] and any("broad" in w for w in run.results["t"].get("warnings", []))
    assert "The trust's condition is broad" in run.stdout + run.stderr
    rows = [r for r in run.results["r"]["credentials"] if r["kind"] == "trust"]
    assert [(r["name"], r["flags"]) for r in rows] == [("infra-main", ["broad", "disabled"])]
    assert run.results["r"]["summary"]["broad"] == 1 and run.results["r"]["summary"]["disabled"] == 1


def test_a_changed_condition_is_one_patch_and_disabled_stops_the_exchange(fresh, playbook, federated):
    made = playbook([provider_task(fresh), trust_task(fresh)], keep=["t"]).results["t"]
    client_id = made["client_id"]
    assert exchange(playbook, fresh, client_id, github_token(fresh))["identity"]["principleId"] == federated["id"]

    before = fresh.counters()
    changed = playbook([trust_task(fresh, github={"repository": "acme/infra", "ref": "release"})],
                       keep=["t"], diff=True).results["t"]
    assert changed["changed"] and changed["client_id"] == client_id
    assert changed["diff"]["before"]["condition"] == MAIN
    assert changed["trust"]["condition"].endswith('claims.ref == "refs/heads/release"')
    assert list(write_routes(before, fresh.counters()).values()) == [1]
    assert next(iter(write_routes(before, fresh.counters()))).startswith("PATCH ")

    # test_token names the failing step: a token of main no longer matches.
    failed = playbook([dict(trust_task(fresh, github={"repository": "acme/infra", "ref": "release"},
                                       test_token=github_token(fresh)), ignore_errors=True)], keep=["t"]).results["t"]
    assert failed["failed"] and "CEL evaluation" in failed["msg"]
    assert failed["token_test"]["matched"] is False
    assert [s["name"] for s in failed["token_test"]["steps"] if not s["passed"] and not s["skipped"]] == \
        ["CEL evaluation"]

    release = github_token(fresh, ref="refs/heads/release")
    assert exchange(playbook, fresh, client_id, release)["identity"]["principleId"] == federated["id"]
    before = fresh.counters()
    off = playbook([trust_task(fresh, github={"repository": "acme/infra", "ref": "release"}, enabled=False)],
                   keep=["t"]).results["t"]
    assert off["changed"] and off["trust"]["enabled"] is False and off["client_id"] == client_id
    assert list(write_routes(before, fresh.counters()).values()) == [1]
    refused = exchange(playbook, fresh, client_id, github_token(fresh, ref="refs/heads/release"), expect_rc=2)
    assert refused["failed"] and "disabled" in refused["msg"]


def test_a_provider_in_use_is_not_removed(fresh, playbook, federated):
    playbook([provider_task(fresh), trust_task(fresh)])
    before = fresh.counters()
    failed = playbook([dict(provider_task(fresh, state="absent"), ignore_errors=True)], keep=["p"]).results["p"]
    assert failed["failed"] and "federated/infra-main" in failed["msg"] and "cannot be removed" in failed["msg"]
    assert write_routes(before, fresh.counters()) == {}
    assert len(api(fresh, "GET", "/api/v1/workload_federation/providers")["list"]) == 1
    gone = playbook([dict(trust_task(fresh, state="absent")), provider_task(fresh, state="absent")],
                    keep=["t", "p"]).results
    assert gone["t"]["changed"] and gone["p"]["changed"]
    assert api(fresh, "GET", "/api/v1/workload_federation/providers")["list"] == []


def test_the_provision_role_makes_a_secretless_identity_and_its_rerun_writes_nothing(fresh, playbook, tmp_path):
    env = {"CONDUCTORONE_SERVER_URL": fresh.c1["server_url"], "CONDUCTORONE_CLIENT_ID": fresh.c1["client_id"],
           "CONDUCTORONE_CLIENT_SECRET": fresh.c1["client_secret"]}
    variables = {
        "provision_federation_providers": [{"issuer_url": issuer(fresh), "type": "github_actions"}],
        "provision_principals": [{"name": "deployer", "trusts": [{
            "name": "infra-main", "provider": issuer(fresh), "github": {"repository": "acme/infra", "ref": "main"},
            "tests": [{"claims": {"repository": "acme/infra", "ref": "refs/heads/dev"}, "expect": False}]}]}],
    }
    role = {"ansible.builtin.include_role": {"name": "conductor.principals.provision"}, "vars": variables}
    first = playbook([role], keep=["conductor_principals_trusts"], connection_vars=False, extra_env=env)
    fact = first.results["conductor_principals_trusts"]
    client_id = fact["deployer"]["infra-main"]["client_id"]
    assert client_id.endswith("/wfe") and fact["deployer"]["infra-main"]["server_url"] == fresh.c1["server_url"]
    sp_id = principals_named(fresh, "deployer")[0]["id"]
    assert exchange(playbook, fresh, client_id, github_token(fresh))["identity"]["principleId"] == sp_id
    assert api(fresh, "GET", "/api/v1/service_principals/%s/credentials" % sp_id)["list"] == []

    before = writes(fresh)
    again = playbook([role], keep=["conductor_principals_trusts"], connection_vars=False, extra_env=env)
    assert writes(fresh) == before
    assert again.results["conductor_principals_trusts"] == fact

    # Removing a principal also removes the store entries of its credentials: that needs the store.
    variables["provision_principals"][0]["state"] = "absent"
    store = {"CONDUCTOR_PRINCIPALS_STORE_PATH": str(tmp_path / "store.vault"),
             "CONDUCTOR_PRINCIPALS_STORE_PASSWORD": "correct horse battery staple"}
    playbook([role], connection_vars=False, extra_env=dict(env, **store))
    assert principals_named(fresh, "deployer") == []
    refused = exchange(playbook, fresh, client_id, github_token(fresh), expect_rc=2)
    assert refused["failed"]


# ---- enabled: false is never live -------------------------------------------------------------
TRUST_ONE = "/api/v1/service_principals/{service_principal_id}/trusts/{client_id}"
PROVIDER_ONE = "/api/v1/workload_federation/providers/{id}"


def trusts_of(sandbox, sp_id):
    return api(sandbox, "GET", "/api/v1/service_principals/%s/trusts" % sp_id)["list"]


def providers(sandbox):
    return api(sandbox, "GET", "/api/v1/workload_federation/providers")["list"]


def test_a_trust_made_disabled_ends_disabled_and_its_rerun_writes_nothing(fresh, playbook, federated):
    playbook([provider_task(fresh)])
    made = playbook([trust_task(fresh, enabled=False)], keep=["t"]).results["t"]
    assert made["changed"] and made["trust"]["enabled"] is False
    assert [(t["clientId"], t["disabled"]) for t in trusts_of(fresh, federated["id"])] == [(made["client_id"], True)]
    before = writes(fresh)
    again = playbook([trust_task(fresh, enabled=False)], keep=["t"]).results["t"]
    assert not again["changed"] and again["client_id"] == made["client_id"]
    assert writes(fresh) == before


def test_a_disabled_trust_whose_disable_is_refused_is_deleted_again(fresh, playbook, federated):
    playbook([provider_task(fresh)])
    fresh.fault("PATCH", TRUST_ONE, "500")
    before = fresh.counters()
    failed = playbook([dict(trust_task(fresh, enabled=False, retries=0), ignore_errors=True)],
                      keep=["t"]).results["t"]
    assert failed["failed"] and "\n" not in failed["msg"].strip()
    assert "could not be disabled" in failed["msg"] and "undone" in failed["msg"], failed["msg"]
    assert trusts_of(fresh, federated["id"]) == []
    made = write_routes(before, fresh.counters())
    assert made == {"POST /api/v1/service_principals/{service_principal_id}/trusts": 1,
                    "PATCH " + TRUST_ONE: 1, "DELETE " + TRUST_ONE: 1}, made


def test_a_disabled_trust_of_service_principals_is_deleted_again_when_its_disable_is_refused(fresh, playbook):
    playbook([provider_task(fresh)])
    entry = {"name": "infra-main", "provider": issuer(fresh), "enabled": False,
             "github": {"repository": "acme/infra", "ref": "main"}}
    task = {"conductor.principals.service_principals": {"principals": [{"name": "federated", "trusts": [entry]}],
                                                        "retries": 0}, "register": "sp", "ignore_errors": True}
    fresh.fault("PATCH", TRUST_ONE, "500")
    failed = playbook([task], keep=["sp"]).results["sp"]
    assert failed["failed"], failed
    sp_id = principals_named(fresh, "federated")[0]["id"]
    assert trusts_of(fresh, sp_id) == []
    assert "undone" in str(failed), failed
    made = playbook([task], keep=["sp"]).results["sp"]
    assert not made.get("failed"), made
    assert [t["disabled"] for t in trusts_of(fresh, sp_id)] == [True]
    before = writes(fresh)
    again = playbook([task], keep=["sp"]).results["sp"]
    assert not again["changed"] and writes(fresh) == before


def test_a_provider_made_disabled_ends_disabled_and_its_rerun_writes_nothing(fresh, playbook):
    made = playbook([provider_task(fresh, enabled=False)], keep=["p"]).results["p"]
    assert made["changed"] and made["provider"]["enabled"] is False
    assert [p["disabled"] for p in providers(fresh)] == [True]
    before = writes(fresh)
    again = playbook([provider_task(fresh, enabled=False)], keep=["p"]).results["p"]
    assert not again["changed"] and writes(fresh) == before


def test_a_disabled_provider_whose_disable_is_refused_is_deleted_again(fresh, playbook):
    fresh.fault("PATCH", PROVIDER_ONE, "500")
    failed = playbook([dict(provider_task(fresh, enabled=False, retries=0), ignore_errors=True)],
                      keep=["p"]).results["p"]
    assert failed["failed"] and "\n" not in failed["msg"].strip()
    assert "could not be disabled" in failed["msg"] and "undone" in failed["msg"], failed["msg"]
    assert providers(fresh) == []


# ---- text that is not Unicode ----------------------------------------------------------------
def lone(text):
    """``text`` and a lone surrogate (U+DC80), as a task receives it: Ansible's b64decode of bytes that are
    not UTF-8 (a playbook's YAML cannot hold a lone surrogate; a file, a lookup or a filter can make one)."""
    return "{{ '%s' | b64decode }}" % base64.b64encode(text.encode() + b"\x80").decode()


@pytest.mark.parametrize("field, task", [
    ("github.repository", lambda s: trust_task(s, github={"repository": lone("acme/infra")})),
    ("gitlab.project_path", lambda s: trust_task(s, github=None, gitlab={"project_path": lone("acme/")})),
    ("kubernetes.namespace", lambda s: trust_task(s, github=None, kubernetes={"namespace": lone("ns"),
                                                                              "service_account": "deploy"})),
    ("condition", lambda s: trust_task(s, github=None, condition=lone('claims.repository == "acme/infra" && "'))),
    ("description", lambda s: trust_task(s, description=lone("for "))),
    ("name", lambda s: trust_task(s, name=lone("infra-"))),
    ("passthrough_claims[0]", lambda s: trust_task(s, passthrough_claims=[lone("actor")])),
    ("description", lambda s: provider_task(s, description=lone("for "))),
    ("name", lambda s: provider_task(s, name=lone("GitHub "))),
], ids=["github", "gitlab", "kubernetes", "condition", "trust-description", "trust-name", "passthrough",
        "provider-description", "provider-name"])
def test_a_lone_surrogate_in_a_federation_field_is_refused_naming_the_field(fresh, playbook, federated, field, task):
    playbook([provider_task(fresh)])
    before = writes(fresh)
    result = playbook([dict(task(fresh), ignore_errors=True)], keep=["t", "p"]).results
    failed = result.get("t") or result.get("p")
    assert failed["failed"] and "\n" not in failed["msg"].strip(), failed
    assert "Traceback" not in str(failed) and "UnicodeEncodeError" not in str(failed), failed
    assert failed["msg"].startswith(field + ":"), failed["msg"]
    assert writes(fresh) == before


def test_a_lone_surrogate_in_a_trust_of_service_principals_is_refused_before_any_write(fresh, playbook):
    playbook([provider_task(fresh)])
    before = writes(fresh)
    entry = {"name": "infra-main", "provider": issuer(fresh), "github": {"repository": lone("acme/infra")}}
    task = {"conductor.principals.service_principals": {"principals": [{"name": "federated", "trusts": [entry]}]},
            "register": "sp", "ignore_errors": True}
    failed = playbook([task], keep=["sp"]).results["sp"]
    assert failed["failed"] and "github.repository" in failed["msg"], failed
    assert "UnicodeEncodeError" not in str(failed), failed
    assert writes(fresh) == before
