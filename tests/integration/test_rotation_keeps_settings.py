# -*- coding: utf-8 -*-
"""A rotation that names a credential without its settings keeps the live credential's settings (its CIDRs,
scoped roles, DPoP binding and expiry period), through real ansible-playbook runs against the sandbox:
sp_credential, service_principals and the rotate playbook (as the event-driven rulebook runs it).
Settings a task gives are wanted; settings it leaves out are the live credential's."""

from __future__ import annotations

from datetime import datetime

from conftest import ready_playbook, role_environment, entries
from helpers import CRED, TOKEN, held, live_credentials, principals_named

SPS = "conductor.principals.service_principals"
READ_ONLY = "2GaLs9rReadOnlyAdmin0000002"
ENTRY = "conductor-principals/conductorone/Keeper/ci"
#: A credential set up with every setting away from its default.
SET_UP = {"name": "ci", "expires_days": 30, "allowed_cidrs": ["127.0.0.0/8"], "scoped_roles": ["Read-Only Admin"],
          "require_dpop": True}


def lifetime_days(created, expires):
    def read(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round((read(expires) - read(created)).total_seconds() / 86400)


def settings_of(raw):
    """A credential's settings as the API lists them (the wire shape, not the collection's reading)."""
    return {"allowed_cidrs": sorted(raw.get("allowSourceCidrs") or []),
            "scoped_role_ids": sorted(raw.get("scopedRoleIds") or []),
            "require_dpop": bool(raw.get("requireDpop")),
            "expires_days": lifetime_days(raw.get("createdAt"), raw.get("expiresAt"))}


KEPT = {"allowed_cidrs": ["127.0.0.0/8"], "scoped_role_ids": [READ_ONLY], "require_dpop": True, "expires_days": 30}


def only(listed, name):
    named = [c for c in listed if c["displayName"] == name]
    assert len(named) == 1, listed
    return named[0]


def assert_token_with(playbook, content):
    """The stored secret obtains a (DPoP-bound) token through the collection's access_token module."""
    done = playbook([{TOKEN: {"validate": True}, "register": "t"}], keep=["t"],
                    module_defaults={"client_id": content["client_id"], "client_secret": content["client_secret"]})
    assert done.results["t"]["token_type"] == "DPoP"


def test_sp_credential_rotation_naming_only_the_credential_keeps_its_settings(fresh, run, store):
    store_option = {"path": str(store)}
    made = run([{"conductor.principals.service_principal": {"name": "Keeper"}},
                {CRED: dict(SET_UP, service_principal="Keeper", store=store_option), "register": "c"}], keep=["c"])
    sp_id, old = made.results["c"]["credential"]["service_principal_id"], made.results["c"]["credential"]["id"]
    assert settings_of(only(live_credentials(fresh, sp_id), "ci")) == KEPT

    rotated = run([{CRED: {"service_principal": "Keeper", "name": "ci", "force_rotate": True, "verify": True,
                           "store": store_option}, "register": "c"}], keep=["c"]).results["c"]
    assert rotated["changed"] and rotated["revoked_ids"] == [old]
    new = only(live_credentials(fresh, sp_id), "ci")
    assert new["id"] != old and settings_of(new) == KEPT
    assert entries(store)[ENTRY]["credential_id"] == new["id"]
    # The result says what was made: the kept settings.
    assert rotated["credential"]["allowed_cidrs"] == ["127.0.0.0/8"] and rotated["credential"]["require_dpop"]

    # A setting given is wanted: a rotation that gives a lifetime makes the new one with it, the rest kept.
    again = run([{CRED: {"service_principal": "Keeper", "name": "ci", "force_rotate": True, "expires_days": 60,
                         "replace_on_change": True, "store": store_option}, "register": "c"}], keep=["c"])
    assert again.results["c"]["changed"]
    assert settings_of(only(live_credentials(fresh, sp_id), "ci")) == dict(KEPT, expires_days=60)


def test_check_mode_rotation_predicts_the_kept_settings(fresh, run, store):
    store_option = {"path": str(store)}
    run([{"conductor.principals.service_principal": {"name": "Keeper"}},
         {CRED: dict(SET_UP, service_principal="Keeper", store=store_option)}])
    checked = run([{CRED: {"service_principal": "Keeper", "name": "ci", "force_rotate": True, "store": store_option},
                    "register": "c"}], keep=["c"], check=True).results["c"]
    assert checked["changed"] and checked["credential"]["allowed_cidrs"] == ["127.0.0.0/8"]
    assert checked["credential"]["scoped_role_ids"] == [READ_ONLY] and checked["credential"]["require_dpop"]


def test_service_principals_rotating_one_named_credential_keeps_its_settings(fresh, run, store):
    principal = {"name": "Keeper", "credentials": [SET_UP, {"name": "other"}]}
    run([{SPS: {"principals": [principal], "store": {"path": str(store)}}}])
    sp_id = principals_named(fresh, "Keeper")[0]["id"]
    before = {c["displayName"]: c for c in live_credentials(fresh, sp_id)}

    result = run([{SPS: {"principals": [{"name": "Keeper", "credentials": [{"name": "ci"}]}], "force_rotate": True,
                         "verify": True, "store": {"path": str(store)}}, "register": "tenant"}],
                 keep=["tenant"]).results["tenant"]
    assert [row["action"] for row in result["credentials"]] == ["rotated"], result["credentials"]
    after = {c["displayName"]: c for c in live_credentials(fresh, sp_id)}
    assert after["ci"]["id"] != before["ci"]["id"] and settings_of(after["ci"]) == KEPT
    assert after["other"] == before["other"]


def test_rotate_playbook_for_one_credential_keeps_its_settings_and_touches_nothing_else(
        fresh, playbook, store, tmp_path, tmp_path_factory):
    store.parent.mkdir(exist_ok=True)
    env = role_environment(fresh, store)
    principal = {"name": "Keeper", "credentials": [SET_UP, {"name": "other", "expires_days": 60}]}
    ready_playbook(fresh, env, "provision", {"provision_principals": [principal]}, tmp_path, tmp_path_factory)
    sp_id = principals_named(fresh, "Keeper")[0]["id"]
    before, stored_before = {c["displayName"]: c for c in live_credentials(fresh, sp_id)}, held(store)
    writes = fresh.counters()["writes"]

    # What the event-driven rulebook runs for one credential entering its rotation window.
    extra_vars = {"rotate_principals": [{"name": "Keeper", "credentials": [{"name": "ci"}]}], "rotate_all": True,
                  "rotate_store": {"type": "vault_file", "path": str(store)}}
    ready_playbook(fresh, env, "rotate", extra_vars, tmp_path, tmp_path_factory)
    after = {c["displayName"]: c for c in live_credentials(fresh, sp_id)}
    assert set(after) == {"ci", "other"} and after["other"] == before["other"]
    assert after["ci"]["id"] != before["ci"]["id"] and settings_of(after["ci"]) == KEPT
    # One create and one revoke: nothing else of the principal was written.
    assert fresh.counters()["writes"] - writes == 2
    stored_after = held(store)
    assert stored_after[("conductorone", "Keeper", "ci")] == after["ci"]["id"]
    assert stored_after[("conductorone", "Keeper", "other")] == stored_before[("conductorone", "Keeper", "other")]
    assert_token_with(playbook, entries(store)[ENTRY])
