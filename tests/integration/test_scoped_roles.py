# -*- coding: utf-8 -*-
"""C1 scoped roles must be roles the principal holds, and credentials renamed in place, through real
ansible-playbook runs against the sandbox.

A credential's (or trust's) permissions are the intersection of its scoped roles and its principal's roles
(``servicePrincipal.user.roleIds``): a scope the principal lacks gives nothing. No public API sets a principal's
roles (the console does); the tests set them with the sandbox's control.
"""

from __future__ import annotations

import pytest

from conftest import STORE_PASSWORD, entries
from helpers import CRED, SP, api, live_credentials, one_sentence, principals_named, writes

SPS = "conductor.principals.service_principals"
PROVIDER = "conductor.principals.federation_provider"
TRUST = "conductor.principals.sp_trust"
SUPER_ADMIN = "2GaLs9rSuperAdmin0000000001"
READ_ONLY = "2GaLs9rReadOnlyAdmin0000002"
CONNECTOR = "2GaLs9rConnectorAdmin000004"


def principal_holding(sandbox, name, *role_ids):
    """A principal made through the API, then given ``role_ids`` as the console would."""
    made = api(sandbox, "POST", "/api/v1/service_principals", json={"displayName": name})["servicePrincipal"]
    sandbox.control("POST", "/c1/principals/%s/roles" % made["id"], json={"roleIds": list(role_ids)})
    return made


def assert_refused(message, principal="holder"):
    """The one sentence of a scope the principal lacks: the role, the roles held, where roles are set."""
    assert one_sentence(message) is None, message
    assert "does not hold the role 'Connector Admin' (%s)" % CONNECTOR in message, message
    assert "holds 'Read-Only Admin' (%s)" % READ_ONLY in message, message
    assert "%r" % principal in message and "ConductorOne console" in message, message


def provider_task(sandbox):
    return {PROVIDER: {"issuer_url": sandbox.url + "/_sandbox/oidc", "type": "github_actions", "name": "GitHub"}}


@pytest.mark.parametrize("by", ["service_principal", "service_principal_id"])
def test_sp_credential_refuses_a_scoped_role_its_principal_lacks_and_writes_nothing(fresh, playbook, by):
    made = principal_holding(fresh, "holder", READ_ONLY)
    owner = {"service_principal": "holder"} if by == "service_principal" else {"service_principal_id": made["id"]}
    before = writes(fresh)
    run = playbook([{CRED: dict(owner, name="ci", scoped_roles=["Read-Only Admin", "Connector Admin"]),
                     "register": "cred", "ignore_errors": True}], keep=["cred"])
    assert run.results["cred"]["failed"]
    assert_refused(run.results["cred"]["msg"])
    assert writes(fresh) == before and live_credentials(fresh, made["id"]) == []
    # A scope it holds is fine.
    ok = playbook([{CRED: dict(owner, name="ci", scoped_roles=["Read-Only Admin"]), "register": "cred"}],
                  keep=["cred"])
    assert ok.results["cred"]["credential"]["scoped_role_ids"] == [READ_ONLY]


def test_sp_trust_refuses_a_scoped_role_its_principal_lacks_and_writes_nothing(fresh, playbook):
    playbook([provider_task(fresh)])
    made = principal_holding(fresh, "holder", READ_ONLY)
    before = writes(fresh)
    trust = {"service_principal": "holder", "name": "infra", "provider": fresh.url + "/_sandbox/oidc",
             "github": {"repository": "acme/infra"}, "scoped_roles": ["Connector Admin"]}
    run = playbook([{TRUST: trust, "register": "t", "ignore_errors": True}], keep=["t"])
    assert run.results["t"]["failed"]
    assert_refused(run.results["t"]["msg"])
    assert writes(fresh) == before
    assert api(fresh, "GET", "/api/v1/service_principals/%s/trusts" % made["id"]).get("list") in (None, [])


def test_service_principals_refuses_the_item_whose_scope_the_principal_lacks_before_writing_it(fresh, playbook, run,
                                                                                               store):
    playbook([provider_task(fresh)])
    made = principal_holding(fresh, "holder", READ_ONLY)
    before = writes(fresh)
    principals = [{"name": "holder", "credentials": [{"name": "ci", "scoped_roles": ["Connector Admin"]}],
                   "trusts": [{"name": "infra", "provider": fresh.url + "/_sandbox/oidc",
                               "github": {"repository": "acme/infra"}, "scoped_roles": [CONNECTOR]}]}]
    result = run([{SPS: {"principals": principals, "store": {"path": str(store)}}, "register": "tenant",
                   "ignore_errors": True}], keep=["tenant"]).results["tenant"]
    assert result["failed"] and len(result["failed_items"]) == 2, result["failed_items"]
    for item in result["failed_items"]:
        assert_refused(item["msg"])
    assert one_sentence(result["msg"]) is None
    assert writes(fresh) == before and live_credentials(fresh, made["id"]) == []
    assert entries(store) == {}


def test_provision_role_refuses_a_scoped_role_the_principal_lacks(fresh, roles):
    made = principal_holding(fresh, "holder", READ_ONLY)
    before = writes(fresh)
    failed = roles("provision", {"provision_principals": [
        {"name": "holder", "credentials": [{"name": "ci", "scoped_roles": ["Connector Admin"]}]}]}, expect_rc=2)
    assert "does not hold the role 'Connector Admin' (%s)" % CONNECTOR in failed.stdout
    assert "ConductorOne console" in failed.stdout
    assert writes(fresh) == before and live_credentials(fresh, made["id"]) == []


def test_a_principal_made_in_the_same_run_holds_the_tenants_default_roles(fresh, run, store):
    # Default roles as the sandbox's tenant has them (Super Admin, Read-Only Admin): a scope among them works.
    made = run([{SPS: {"principals": [{"name": "new-one", "credentials": [
        {"name": "ci", "scoped_roles": ["Read-Only Admin"]}]}], "store": {"path": str(store)}}, "register": "tenant"},
        {SP: {"name": "new-two"}}, {CRED: {"service_principal": "new-two", "name": "ci", "scoped_roles": [SUPER_ADMIN]},
                                    "register": "cred"}], keep=["tenant", "cred"])
    assert made.results["tenant"]["credentials"][0]["action"] == "created"
    assert made.results["cred"]["credential"]["scoped_role_ids"] == [SUPER_ADMIN]
    # The roles are read back from the API, not assumed: a tenant whose default is Read-Only Admin alone.
    fresh.settings(c1_default_principal_role_ids=[READ_ONLY])
    result = run([{SPS: {"principals": [{"name": "new-three", "credentials": [
        {"name": "ci", "scoped_roles": ["Connector Admin"]}]}], "store": {"path": str(store)}}, "register": "tenant",
        "ignore_errors": True}],
        keep=["tenant"]).results["tenant"]
    assert result["principals"][0]["action"] == "created" and len(result["failed_items"]) == 1
    assert_refused(result["failed_items"][0]["msg"], "new-three")
    assert live_credentials(fresh, principals_named(fresh, "new-three")[0]["id"]) == []


def test_sp_credential_with_id_renames_in_place_and_a_rerun_writes_nothing(fresh, playbook):
    made = playbook([{SP: {"name": "renamer"}}, {CRED: {"service_principal": "renamer", "name": "old"},
                                                 "register": "cred"}], keep=["cred"]).results["cred"]
    credential = made["credential"]
    rename = {CRED: {"service_principal": "renamer", "id": credential["id"], "name": "new"}, "register": "cred"}
    before = fresh.counters()
    run = playbook([rename], keep=["cred"], diff=True)
    renamed = run.results["cred"]
    assert renamed["changed"] is True and "client_secret" not in renamed
    assert renamed["credential"]["id"] == credential["id"] and renamed["credential"]["name"] == "new"
    assert renamed["client_id"] == credential["client_id"] and renamed["revoked_ids"] == []
    assert renamed["diff"]["before"]["name"] == "old" and renamed["diff"]["after"]["name"] == "new"
    after = fresh.counters()
    grown = {route: n - before["by_route"].get(route, 0) for route, n in after["by_route"].items()
             if n != before["by_route"].get(route, 0) and not route.startswith(("GET", "POST /auth"))}
    assert grown == {"PATCH /api/v1/service_principals/{service_principal_id}/credentials/{id}": 1}, grown
    live = live_credentials(fresh, credential["service_principal_id"])
    assert [(c["id"], c["displayName"]) for c in live] == [(credential["id"], "new")]
    checked = playbook([rename], keep=["cred"], check=True).results["cred"]
    assert checked["changed"] is False
    quiet = writes(fresh)
    again = playbook([rename], keep=["cred"]).results["cred"]
    assert again["changed"] is False and writes(fresh) == quiet


def test_a_stored_credential_renamed_by_id_keeps_its_secret_and_its_entry_moves(fresh, playbook, store):
    """With a store, the rename is still in place (same client ID, no new secret): the entry moves to the new name."""
    env = {"CONDUCTOR_PRINCIPALS_STORE_PASSWORD": STORE_PASSWORD}
    held = {"path": str(store)}
    made = playbook([{SP: {"name": "renamer"}}, {CRED: {"service_principal": "renamer", "name": "old", "store": held},
                                                 "register": "cred"}], keep=["cred"], extra_env=env).results["cred"]
    credential, secret = made["credential"], made["client_secret"]
    rename = {CRED: {"service_principal": "renamer", "id": credential["id"], "name": "new", "store": held},
              "register": "cred"}
    renamed = playbook([rename], keep=["cred"], extra_env=env).results["cred"]
    assert renamed["changed"] is True and "client_secret" not in renamed and renamed["revoked_ids"] == []
    assert renamed["credential"]["id"] == credential["id"] and renamed["credential"]["name"] == "new"
    stored = entries(store)
    assert [(e["names"]["credential"], e["credential_id"], e["client_secret"]) for e in stored.values()] == [
        ("new", credential["id"], secret)]
    assert [c["id"] for c in live_credentials(fresh, credential["service_principal_id"])] == [credential["id"]]
    quiet = writes(fresh)
    again = playbook([rename], keep=["cred"], extra_env=env).results["cred"]
    assert again["changed"] is False and writes(fresh) == quiet and entries(store) == stored
