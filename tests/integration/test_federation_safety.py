# -*- coding: utf-8 -*-
"""The safety rules of workload federation through real ansible-playbook runs against the sandbox: a condition
that lets a stranger's token through is refused (judged by the issuer's own type, even on a custom provider),
a trust's source IP allowlist can be tested with test_token_source_ip, and an issuer must be https://.
"""

from __future__ import annotations

import pytest

from helpers import api, github_token, issuer, writes

PROVIDER = "conductor.principals.federation_provider"
TRUST = "conductor.principals.sp_trust"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture
def federated(fresh):
    """A principal 'federated' made straight through the API."""
    return api(fresh, "POST", "/api/v1/service_principals", json={"displayName": "federated"})["servicePrincipal"]


def provider_task(issuer_url, **extra):
    return {PROVIDER: dict({"issuer_url": issuer_url, "name": "GitHub"}, **extra), "register": "p"}


def trust_task(provider, condition, **extra):
    options = {"service_principal": "federated", "name": "infra-main", "provider": provider, "condition": condition}
    options.update(extra)
    return {TRUST: options, "register": "t", "ignore_errors": True}


def trusts_of(sandbox, sp_id):
    return api(sandbox, "GET", "/api/v1/service_principals/%s/trusts" % sp_id)["list"]


@pytest.mark.parametrize("condition", [
    'has(claims.repository) && claims.ref == "refs/heads/main"',
    'claims.repository != "evil/x"',
    'claims.repository == "acme/infra" || claims.ref == "refs/heads/main"',
    'claims.sub.startsWith("repo:acme")',
    "claims['ref'] == 'refs/heads/main'",
], ids=["has", "not-equal", "one-branch-unpinned", "owner-prefix-without-slash", "index-form"])
def test_a_condition_that_does_not_pin_the_repository_in_every_branch_is_refused(
        fresh, playbook, federated, condition):
    playbook([provider_task(issuer(fresh), type="github_actions")])
    before = writes(fresh)
    refused = playbook([trust_task(issuer(fresh), condition)], keep=["t"]).results["t"]
    assert refused["failed"] and "too broad" in refused["msg"], refused
    assert "\n" not in refused["msg"].strip() and "claims.repository" in refused["msg"], refused["msg"]
    assert writes(fresh) == before and trusts_of(fresh, federated["id"]) == []


def test_a_condition_that_pins_the_repository_by_index_in_every_branch_is_accepted(fresh, playbook, federated):
    playbook([provider_task(issuer(fresh), type="github_actions")])
    condition = ("claims['repository'] == 'acme/infra' && claims.ref == 'refs/heads/main' || "
                 "claims.repository_owner == 'acme' && claims.ref == 'refs/heads/release'")
    made = playbook([trust_task(issuer(fresh), condition, test_token=github_token(fresh))], keep=["t"]).results["t"]
    assert made["changed"] and not made.get("failed"), made
    assert made["token_test"]["matched"] is True and not made.get("warnings"), made
    # What the rule calls pinned refuses a stranger's token: TestToken runs the trust's condition.
    stranger = playbook([trust_task(issuer(fresh), condition, test_token=github_token(
        fresh, repository="acme-evil/infra", repository_owner="acme-evil"))], keep=["t"]).results["t"]
    assert stranger["failed"] and "CEL evaluation" in stranger["msg"], stranger


@pytest.mark.parametrize("declared", [None, "custom"])
def test_a_provider_on_githubs_issuer_is_judged_as_github_actions(fresh, playbook, federated, declared):
    extra = {} if declared is None else {"type": declared}
    made = playbook([provider_task(GITHUB_ISSUER, **extra)], keep=["p"]).results["p"]
    assert made["provider"]["type"] == (declared or "github_actions"), made
    before = writes(fresh)
    refused = playbook([trust_task(GITHUB_ISSUER, 'claims.ref == "refs/heads/main"')], keep=["t"]).results["t"]
    assert refused["failed"] and "too broad" in refused["msg"] and "claims.repository" in refused["msg"], refused
    assert "GitHub Actions" in refused["msg"] and "\n" not in refused["msg"].strip(), refused["msg"]
    assert writes(fresh) == before and trusts_of(fresh, federated["id"]) == []


def test_test_token_source_ip_tests_the_trusts_allowed_cidrs(fresh, playbook, federated):
    playbook([provider_task(issuer(fresh), type="github_actions")])
    pinned = 'claims.repository == "acme/infra"'
    inside = playbook([trust_task(issuer(fresh), pinned, allowed_cidrs=["10.0.0.0/8"], test_token=github_token(fresh),
                                  test_token_source_ip="10.1.2.3")], keep=["t"]).results["t"]
    assert not inside.get("failed") and inside["token_test"]["matched"] is True, inside
    step = [s for s in inside["token_test"]["steps"] if s["name"] == "Source IP check"]
    assert step and step[0]["passed"] is True, inside["token_test"]
    before = writes(fresh)
    outside = playbook([trust_task(issuer(fresh), pinned, allowed_cidrs=["10.0.0.0/8"],
                                   test_token=github_token(fresh), test_token_source_ip="192.0.2.7")],
                       keep=["t"]).results["t"]
    assert outside["failed"] and "Source IP check" in outside["msg"], outside
    assert outside["token_test"]["matched"] is False and writes(fresh) == before


@pytest.mark.parametrize("issuer_url", ["http://issuer.example.com", "http://10.0.0.5/oidc"])
def test_an_http_issuer_that_is_not_loopback_is_refused_before_anything_is_sent(fresh, playbook, issuer_url):
    before = fresh.counters()
    refused = playbook([dict(provider_task(issuer_url), ignore_errors=True)], keep=["p"]).results["p"]
    assert refused["failed"] and "https://" in refused["msg"] and "\n" not in refused["msg"].strip(), refused
    assert "HTTP 400" not in refused["msg"] and "status" not in refused, refused
    after = fresh.counters()
    assert after["writes"] == before["writes"], after
    assert api(fresh, "GET", "/api/v1/workload_federation/providers")["list"] == []


def test_the_provision_role_refuses_a_broad_trust_before_anything_is_written(fresh, playbook):
    env = {"CONDUCTORONE_SERVER_URL": fresh.c1["server_url"], "CONDUCTORONE_CLIENT_ID": fresh.c1["client_id"],
           "CONDUCTORONE_CLIENT_SECRET": fresh.c1["client_secret"]}
    variables = {
        "provision_federation_providers": [{"issuer_url": GITHUB_ISSUER, "name": "GitHub"}],
        "provision_principals": [{"name": "deployer", "trusts": [{
            "name": "any-main", "provider": "GitHub", "condition": 'claims.ref == "refs/heads/main"'}]}],
    }
    role = {"ansible.builtin.include_role": {"name": "conductor.principals.provision"}, "vars": variables}
    before = writes(fresh)
    failed = playbook([role], connection_vars=False, extra_env=env, expect_rc=2)
    assert "trust 'any-main'" in failed.stdout and "too broad" in failed.stdout, failed.stdout[-3000:]
    assert "GitHub Actions job of any repository" in failed.stdout, failed.stdout[-3000:]
    assert writes(fresh) == before
    assert api(fresh, "GET", "/api/v1/workload_federation/providers")["list"] == []
