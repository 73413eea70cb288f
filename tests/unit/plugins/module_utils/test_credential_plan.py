# -*- coding: utf-8 -*-
"""The pure credential planner, over plain values: no adapter, no store, no clock."""

from __future__ import annotations

from dataclasses import asdict, astuple, replace
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import (
    ACTIONS, Applied, Capabilities, Desired, Owner, Stored, check_held_roles, check_params, keep_refused, plan,
    result_of, settle)
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import StoredEntry

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
C1 = Capabilities(platform="conductorone", credentials_have_names=True, credentials_expire=True,
                  records_credential_use=True, has_personal_credentials=True,
                  credential_settings=frozenset(("name", "expires_days", "allowed_cidrs", "scoped_roles",
                                                 "require_dpop")))
ORKES = Capabilities(platform="orkes", credentials_can_pause=True, credential_settings=frozenset(("enabled",)))
SP = Owner.principal("sp", "deployer")


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(cid, name="ci", age_days=0.0, lifetime=90, **extra):
    created = NOW - timedelta(days=age_days)
    value = {"id": cid, "name": name, "client_id": "client-" + cid, "service_principal_id": "sp",
             "created_at": stamp(created),
             "expires_at": stamp(created + timedelta(days=lifetime)) if lifetime else None,
             "allowed_cidrs": [], "scoped_role_ids": [], "require_dpop": False, "last_used_at": None,
             "status": "ACTIVE"}
    value.update(extra)
    return value


def key(cid, age_days=0.0, status="ACTIVE"):
    return credential(cid, name=None, age_days=age_days, lifetime=None, status=status)


def desired(caps=C1, role_ids=None, **params):
    base = dict(name="ci", state="present", rotate_before_days=0, force_rotate=False, revoke_previous=True,
                replace_on_change=False)
    base.update(params)
    return Desired.from_params(base, caps, role_ids=role_ids, with_store=bool(base.get("store")))


def stored(cid, present=True, claimed=None):
    entry = StoredEntry({"client_secret": "s3cret", "credential_id": cid}, "v1") if present else None
    return Stored.of_entry(entry, "vault_file", "vault.yml#sp/ci", claimed)


# ---- the old entry's secret -------------------------------------------------------------------
def test_the_old_entry_is_kept_for_apply_but_no_view_of_a_plan_reaches_its_secret():
    held = stored("c1")
    p = plan(C1, desired(store={"type": "vault_file"}), [credential("c1")], held, NOW, SP)
    assert p.stored is held and held.content == {"client_secret": "s3cret", "credential_id": "c1"}
    for view in (asdict(p), asdict(held), repr(p), repr(held), astuple(held), vars(replace(held))):
        assert "s3cret" not in repr(view)
    # Equality is by what the store says, not by the secret it holds.
    assert held == Stored.of_entry(StoredEntry({"client_secret": "other", "credential_id": "c1"}, "v1"),
                                   "vault_file", "vault.yml#sp/ci")
    assert stored("c1", present=False).content is None


def test_a_plan_shares_the_stores_entry_instead_of_copying_it():
    # A copy per plan held the whole decrypted store twice in a service_principals run (one plan per entry).
    entry = StoredEntry({"client_secret": "s3cret", "credential_id": "c1", "names": {"principal": "sp"}}, "v1")
    held = Stored.of_entry(entry, "vault_file", "vault.yml#sp/ci")
    assert held.content is entry.content


def test_what_apply_did_gives_its_new_secret_only_by_name():
    done = Applied(credential=credential("c2"), secret="s-new", revoked=["c1"])
    assert done.secret == "s-new" and done.revoked == ("c1",)
    assert "s-new" not in repr(done)
    with pytest.raises(TypeError):
        asdict(done)  # not a dataclass: nothing copies the secret out


# ---- create, keep, rotate ---------------------------------------------------------------------
def test_create_when_none_is_listed():
    p = plan(C1, desired(), [], None, NOW, SP)
    assert (p.action, p.reason, p.current, p.retire) == ("create", "missing", None, ())
    assert p.create_spec == {"name": "ci", "expires_days": 90, "allowed_cidrs": None, "scoped_role_ids": None,
                             "require_dpop": None}
    assert p.changed and p.makes_credential and not p.rotated
    result = result_of(p)
    assert result["credential"]["expires_at"] == stamp(NOW + timedelta(days=90))
    assert result["credential"]["service_principal_id"] == "sp" and result["credential"]["id"] is None
    assert result["changed"] and not result["rotated"] and "client_secret" not in result


def test_keep_a_young_credential_and_ignore_other_names():
    listed = [credential("c1", age_days=10), credential("c2", name="other", age_days=100)]
    p = plan(C1, desired(rotate_before_days=30), listed, None, NOW, SP)
    assert (p.action, p.current["id"], p.retire, p.kept) == ("keep", "c1", (), {})
    assert not p.changed
    result = result_of(p, Applied(credential=p.current))
    assert result == {"changed": False, "revoked_ids": [], "kept_ids": [], "kept_reasons": {},
                      "credential": listed[0], "diff": {"before": listed[0], "after": listed[0]}}


def test_rotate_by_age_within_rotate_before_days():
    p = plan(C1, desired(rotate_before_days=30), [credential("c1", age_days=70)], None, NOW, SP)
    assert p.action == "rotate" and p.rotated
    assert p.reason == "expires in 20.0 days, within rotate_before_days 30"
    assert p.revoke_ids == ["c1"] and p.retire[0][0]["id"] == "c1"


def test_rotate_an_expired_credential_even_without_rotate_before_days():
    p = plan(C1, desired(), [credential("c1", age_days=91)], None, NOW, SP)
    assert (p.action, p.reason) == ("rotate", "expired")


def test_force_rotate():
    p = plan(C1, desired(force_rotate=True), [credential("c1", age_days=1)], None, NOW, SP)
    assert (p.action, p.reason, p.revoke_ids) == ("rotate", "force_rotate", ["c1"])
    result = result_of(p, Applied(credential=credential("c2"), secret="s-new", revoked=("c1",)))
    assert result["client_secret"] == "s-new" and result["rotated"] and result["revoked_ids"] == ["c1"]
    assert result["diff"]["before"]["previous_ids"] == ["c1"] and result["diff"]["after"]["previous_ids"] == []


def test_older_credentials_of_the_name_go_too_newest_is_current():
    listed = [credential("c2", age_days=5), credential("c1", age_days=50)]
    p = plan(C1, desired(), listed, None, NOW, SP)
    assert (p.action, p.current["id"], p.revoke_ids) == ("keep", "c2", ["c1"])
    assert p.changed
    assert result_of(p)["diff"]["after"]["previous_ids"] == []


def test_revoke_previous_false_keeps_the_old_one_with_a_reason():
    p = plan(C1, desired(force_rotate=True, revoke_previous=False), [credential("c1")], None, NOW, SP)
    assert p.retire == () and p.kept == {"c1": "revoke_previous is false: kept for an overlap"}
    assert result_of(p)["kept_ids"] == ["c1"]


def test_a_refused_revoke_after_the_create_keeps_the_older_with_the_refusal_and_warns():
    p = plan(C1, desired(force_rotate=True), [credential("c1", age_days=1)], None, NOW, SP)
    assert keep_refused(p, {}) is p
    refusal = 'Could not revoke credential c1: the API refused it (HTTP 500; the API said "boom")'
    settled = keep_refused(p, {"c1": refusal})
    assert settled.retire == () and settled.refused == {"c1": refusal}
    assert settled.kept == {"c1": "revoking it failed: %s; a later run revokes it" % refusal}
    result = result_of(p, Applied(credential=credential("c2"), secret="s-new", revoked=(), plan=settled))
    assert result["changed"] is True and result["client_secret"] == "s-new" and result["rotated"] is True
    assert result["revoked_ids"] == [] and result["kept_ids"] == ["c1"] and result["kept_reasons"] == settled.kept
    assert result["diff"]["after"]["previous_ids"] == ["c1"]
    (warning,) = result["warnings"]
    assert "new credential c2 is in place" in warning and "previous credential c1 stays live" in warning
    assert refusal in warning and "s-new" not in warning
    assert "warnings" not in result_of(p, Applied(credential=credential("c2"), secret="s-new", revoked=("c1",)))


def test_of_two_made_in_the_same_second_the_one_the_store_holds_is_current():
    listed = [credential("a"), credential("b")]  # same created_at
    p = plan(C1, desired(), listed, None, NOW, SP)
    assert (p.action, p.current["id"], p.revoke_ids) == ("keep", "b", ["a"])  # without a store: by ID
    held = plan(C1, desired(store={"type": "vault_file"}), listed, stored("a"), NOW, SP)
    assert (held.action, held.current["id"], held.revoke_ids) == ("keep", "a", ["b"])
    # A newer credential still wins over the held one: the store's entry is then stale and the plan rotates.
    newer = plan(C1, desired(store={"type": "vault_file"}), [credential("a", age_days=1), credential("b")],
                 stored("a"), NOW, SP)
    assert (newer.action, newer.current["id"]) == ("rotate", "b")


# ---- drift -----------------------------------------------------------------------------------
def test_drift_without_replace_on_change_fails_with_todays_message():
    with pytest.raises(ConductorError) as caught:
        plan(C1, desired(require_dpop=True), [credential("c1")], None, NOW, SP)
    assert caught.value.message == (
        "Credential 'ci' (c1) differs in settings the API cannot change in place: require_dpop is false, wanted "
        "true; set replace_on_change: true to replace it with a new credential")


def test_drift_with_replace_on_change_replaces():
    want = desired(replace_on_change=True, allowed_cidrs=["10.0.0.5/24"], role_ids=["role-ro"],
                   scoped_roles=["Read-Only Admin"])
    p = plan(C1, want, [credential("c1", allowed_cidrs=["10.0.0.0/24"])], None, NOW, SP)
    assert p.action == "replace"
    assert p.reason == "changed settings: scoped_role_ids is [], wanted [role-ro]"
    assert p.create_spec["allowed_cidrs"] == ["10.0.0.0/24"] and p.create_spec["scoped_role_ids"] == ["role-ro"]


def test_unresolved_roles_are_refused_by_the_planner():
    want = desired(scoped_roles=["Read-Only Admin"])
    assert want.needs_roles
    with pytest.raises(ValueError):
        plan(C1, want, [], None, NOW, SP)
    assert not want.with_role_ids(["role-ro"]).needs_roles


def test_an_id_not_listed_is_bad_input():
    with pytest.raises(ConfigError, match="No credential has id 'nope' here; remove id to create one"):
        plan(C1, desired(id="nope"), [credential("c1")], None, NOW, SP)


# ---- retiring by use and by overlap -------------------------------------------------------
def test_retire_by_use_keeps_a_recently_used_previous_credential():
    previous = credential("c1", age_days=80, last_used_at=stamp(NOW - timedelta(hours=2)))
    p = plan(C1, desired(rotate_before_days=30, revoke_previous_after_unused_hours=24), [previous], None, NOW, SP)
    assert p.action == "rotate" and p.retire == ()
    assert list(p.kept) == ["c1"] and p.kept["c1"].startswith("last used 2.0 hours ago")
    # once unused that long, a later run revokes it
    newer = credential("c2", age_days=1)
    old = dict(previous, last_used_at=stamp(NOW - timedelta(hours=30)))
    later = plan(C1, desired(revoke_previous_after_unused_hours=24), [newer, old], None, NOW, SP)
    assert (later.action, later.revoke_ids, later.kept) == ("keep", ["c1"], {})


def test_retire_by_overlap_even_if_still_used():
    newer = credential("c2", age_days=8)
    old = credential("c1", age_days=80, last_used_at=stamp(NOW - timedelta(hours=1)))
    p = plan(C1, desired(revoke_previous_after_unused_hours=24, max_overlap_days=7), [newer, old], None, NOW, SP)
    assert (p.action, p.revoke_ids) == ("keep", ["c1"])
    young = plan(C1, desired(revoke_previous_after_unused_hours=24, max_overlap_days=9), [newer, old], None, NOW, SP)
    assert young.retire == () and "max_overlap_days 9" in young.kept["c1"]


def test_settle_counts_the_overlap_from_the_new_credentials_created_at():
    old = credential("c1", age_days=80, last_used_at=stamp(NOW - timedelta(hours=1)))
    p = plan(C1, desired(force_rotate=True, revoke_previous_after_unused_hours=24), [old], None, NOW, SP)
    made = credential("c2", age_days=-1)  # the server's clock a day ahead
    settled = settle(p, made)
    assert stamp(NOW + timedelta(days=8)) in settled.kept["c1"]
    assert stamp(NOW + timedelta(days=7)) in p.kept["c1"]


# ---- the store ----------------------------------------------------------------------------------
def test_unheld_no_entry_rotates_the_live_credential():
    p = plan(C1, desired(store={"type": "vault_file"}), [credential("c1")], stored(None, present=False), NOW, SP)
    assert p.action == "rotate"
    assert p.reason == "its secret is not in the vault_file store (no entry at vault.yml#sp/ci)"
    result = result_of(p)
    assert result["diff"]["before"]["stored"] is None
    assert result["diff"]["after"]["stored"] == {"location": "vault.yml#sp/ci", "credential_id": None}
    assert result["stored"] == {"type": "vault_file", "location": "vault.yml#sp/ci"}


def test_unheld_entry_holds_another_id():
    p = plan(C1, desired(store={"type": "vault_file"}), [credential("c1")], stored("c0"), NOW, SP)
    assert p.action == "rotate"
    assert p.reason == ("the vault_file store entry at vault.yml#sp/ci holds credential c0, not the live "
                        "credential c1")


def test_held_credential_is_kept_and_the_secret_never_shows():
    entry = stored("c1")
    p = plan(C1, desired(store={"type": "vault_file"}), [credential("c1")], entry, NOW, SP)
    assert p.action == "keep"
    assert "s3cret" not in repr(p) and "s3cret" not in repr(result_of(p))
    assert result_of(p)["diff"]["before"]["stored"] == {"location": "vault.yml#sp/ci", "credential_id": "c1"}


# ---- state absent, set_status, pending owner --------------------------------------------------
def test_state_absent_revokes_every_credential_of_the_name_then_deletes_the_entry():
    listed = [credential("c1", age_days=5), credential("c2", age_days=1), credential("x", name="other")]
    p = plan(C1, desired(state="absent", store={"type": "vault_file"}), listed, stored("c2"), NOW, SP)
    assert (p.action, p.revoke_ids, p.store_delete) == ("revoke", ["c2", "c1"], True)
    result = result_of(p)
    assert result["changed"] and result["credential"] is None and "stored" not in result
    assert result["diff"]["after"] == {}


def test_state_absent_with_nothing_there_is_none():
    p = plan(C1, desired(state="absent"), [credential("x", name="other")], None, NOW, SP)
    assert (p.action, p.changed) == ("none", False)
    # an entry left behind is still deleted
    q = plan(C1, desired(state="absent", store={"type": "vault_file"}), [], stored("gone"), NOW, SP)
    assert (q.action, q.store_delete, q.changed) == ("revoke", True, True)


def test_set_status_pauses_in_place():
    p = plan(ORKES, desired(ORKES, name=None, enabled=False), [key("k1")], None, NOW, SP)
    assert (p.action, p.status, p.reason) == ("set_status", "INACTIVE", "status is ACTIVE, wanted INACTIVE")
    assert result_of(p)["credential"]["status"] == "INACTIVE" and p.changed


def test_orkes_inactive_key_only_means_no_active_key():
    p = plan(ORKES, desired(ORKES, name=None), [key("k1", status="INACTIVE")], None, NOW, SP)
    assert (p.action, p.reason) == ("rotate", "no active key")
    assert p.create_spec["expires_days"] is None and p.create_spec["name"] is None


def test_pending_owner_plans_a_create_or_nothing():
    owner = Owner.pending("deployer")
    p = plan(C1, desired(store={"type": "vault_file"}), [], stored(None, present=False), NOW, owner)
    result = result_of(p)
    assert result["changed"] and result["credential"]["service_principal_id"] is None
    assert result["diff"]["before"] == {} and result["stored"]["type"] == "vault_file"
    gone = result_of(plan(C1, desired(state="absent"), [], None, NOW, owner))
    assert gone == {"changed": False, "credential": None, "revoked_ids": [], "diff": {"before": {}, "after": {}}}
    with pytest.raises(ConductorError):
        owner.api_id


# ---- Orkes: nameless keys, the store's claims -------------------------------------------------
def test_orkes_nameless_selection_respects_other_entries_claims():
    listed = [key("k1", age_days=9), key("k2", age_days=5), key("k3", age_days=1)]
    want = desired(ORKES, name="ci", store={"type": "vault_file"})
    # the entry holds k2; k3 belongs to another name's entry: only k1 is this name's older key
    p = plan(ORKES, want, listed, stored("k2", claimed={"k3"}), NOW, SP)
    assert (p.action, p.current["id"], p.revoke_ids) == ("keep", "k2", ["k1"])
    # no entry yet: the newest unclaimed active key stands for this name, and the store does not hold it
    q = plan(ORKES, want, listed, stored(None, present=False, claimed={"k3"}), NOW, SP)
    assert (q.action, q.current["id"]) == ("rotate", "k2")
    assert [c["id"] for c in q.older] == ["k2", "k1"]
    # absent with a store revokes only the held key
    gone = plan(ORKES, desired(ORKES, name="ci", state="absent", store={"type": "vault_file"}), listed,
                stored("k2", claimed={"k3"}), NOW, SP)
    assert gone.revoke_ids == ["k2"]


def test_orkes_without_store_absent_means_every_key():
    listed = [key("k1", age_days=9), key("k2", age_days=5)]
    p = plan(ORKES, desired(ORKES, name=None, state="absent"), listed, None, NOW, SP)
    assert p.revoke_ids == ["k2", "k1"]


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("caps, params, message", [
    (ORKES, {"name": "ci", "expires_days": 30}, "name, expires_days cannot be set on platform orkes; remove them"),
    (C1, {"name": "ci", "enabled": False}, "enabled cannot be set on platform conductorone; remove it"),
    (C1, {"name": "ci", "expires_days": 0}, "expires_days must be one of 30, 60, 90, 180, not 0"),
    (C1, {"name": "ci", "rotate_before_days": -1}, "rotate_before_days must be 0 (never) or more, not -1"),
    (C1, {}, "Give name (or id) to say which credential to manage"),
    (ORKES, {"store": {"type": "vault_file"}},
     "Give name with store: the credential's name is the key of its store entry"),
    (ORKES, {"name": "ci", "store": {"type": "vault_file"}, "revoke_previous_after_unused_hours": 4},
     "revoke_previous_after_unused_hours needs the last use of each credential"),
    (C1, {"name": "ci", "allowed_cidrs": ["10.0.0.300/8"]}, "allowed_cidrs: '10.0.0.300/8' is not an IPv4"),
])
def test_bad_input_is_one_sentence(caps, params, message):
    with pytest.raises(ConfigError) as caught:
        Desired.from_params(params, caps)
    assert caught.value.message.startswith(message)


def test_personal_keys_may_never_expire():
    check_params({"name": "laptop", "expires_days": 0}, C1, personal=True)
    p = plan(C1, Desired.from_params({"name": "laptop", "expires_days": 0}, C1, personal=True), [], None, NOW,
             Owner.personal())
    assert p.create_spec["expires_days"] == 0 and p.action == "create"


def test_every_action_is_named():
    assert set(ACTIONS) == {"create", "rotate", "replace", "keep", "rename", "set_status", "revoke", "none"}


# ---- scoped roles the principal holds -----------------------------------------------------------------
ROLE_NAMES = {"r-super": "Super Admin", "r-ro": "Read-Only Admin", "r-conn": "Connector Admin"}


def test_scoped_roles_the_principal_holds_pass():
    check_held_roles(["r-ro"], ["r-super", "r-ro"], ROLE_NAMES, "ci")
    check_held_roles([], [], ROLE_NAMES, "ci")


def test_a_scoped_role_the_principal_lacks_is_named_with_the_held_ones_in_one_sentence():
    with pytest.raises(ConfigError) as refused:
        check_held_roles(["r-ro", "r-conn"], ["r-ro"], ROLE_NAMES, "ci", product="ConductorOne")
    message = refused.value.message
    assert message.startswith("scoped_roles: service principal 'ci' does not hold the role 'Connector Admin' "
                              "(r-conn), so the credential would get no permission from it")
    assert "it holds 'Read-Only Admin' (r-ro)" in message
    assert message.endswith("in the ConductorOne console (no public API sets a principal's roles)")
    assert "\n" not in message and message.count(".") == 0


def test_every_missing_role_is_named_and_a_principal_without_roles_says_so():
    with pytest.raises(ConfigError) as refused:
        check_held_roles(["r-conn", "r-super", "unnamed"], [], ROLE_NAMES, "deployer", what="trust")
    message = refused.value.message
    assert "does not hold the roles 'Connector Admin' (r-conn), 'Super Admin' (r-super) and unnamed, so the " \
           "trust would get no permission from them" in message
    assert "it holds no role" in message and "the missing roles in" in message


def test_an_owner_carries_the_roles_it_holds_as_a_neutral_principal():
    owner = Owner.principal("sp", "deployer", ["r-ro"])
    assert owner.as_principal() == {"id": "sp", "name": "deployer", "role_ids": ["r-ro"]}
    assert Owner.principal("sp").as_principal()["role_ids"] is None


# ---- rename in place ---------------------------------------------------------------------------------
def test_a_credential_given_by_id_with_another_name_is_renamed_in_place():
    live = credential("c1", name="old")
    p = plan(C1, desired(name="new", id="c1"), [live], None, NOW, SP)
    assert p.action == "rename" and p.changed and not p.makes_credential and p.retire == ()
    assert p.reason == "name is 'old', wanted 'new'"
    result = result_of(p)
    assert result["changed"] and result["credential"] == dict(live, name="new")
    assert result["diff"]["before"]["name"] == "old" and result["diff"]["after"]["name"] == "new"
    renamed = dict(live, name="new")
    assert result_of(p, Applied(credential=renamed))["credential"] == renamed
    assert plan(C1, desired(name="new", id="c1"), [renamed], None, NOW, SP).action == "keep"


def test_a_rename_gives_way_to_a_new_credential_when_one_is_due():
    live = credential("c1", name="old", age_days=89)
    p = plan(C1, desired(name="new", id="c1", force_rotate=True), [live], None, NOW, SP)
    assert p.action == "rotate" and p.create_spec["name"] == "new"


def test_nameless_credentials_are_never_renamed():
    p = plan(ORKES, desired(ORKES, name=None, id="k1"), [key("k1")], None, NOW, SP)
    assert p.action == "keep"


# ---- a rotation keeps the live credential's settings --------------------------------------------
LIVE_SETTINGS = dict(lifetime=30, allowed_cidrs=["10.0.0.0/8"], scoped_role_ids=["role-b", "role-a"],
                     require_dpop=True)


@pytest.mark.parametrize("why", [dict(force_rotate=True), dict(rotate_before_days=40)])
def test_a_rotation_naming_only_the_credential_makes_the_new_one_with_the_live_settings(why):
    p = plan(C1, desired(**why), [credential("c1", age_days=5, **LIVE_SETTINGS)], None, NOW, SP)
    assert p.action == "rotate"
    assert p.create_spec == {"name": "ci", "expires_days": 30, "allowed_cidrs": ["10.0.0.0/8"],
                             "scoped_role_ids": ["role-a", "role-b"], "require_dpop": True}
    assert p.predicted["allowed_cidrs"] == ["10.0.0.0/8"] and p.predicted["require_dpop"] is True
    assert p.predicted["expires_at"] == stamp(NOW + timedelta(days=30))


def test_a_rotation_for_the_store_keeps_the_live_settings_too():
    p = plan(C1, desired(store={"type": "vault_file"}), [credential("c1", **LIVE_SETTINGS)], stored("c1", False),
             NOW, SP)
    assert p.action == "rotate" and p.create_spec["allowed_cidrs"] == ["10.0.0.0/8"]
    assert p.create_spec["expires_days"] == 30 and p.create_spec["require_dpop"] is True


def test_settings_given_are_wanted_and_the_others_kept():
    p = plan(C1, desired(force_rotate=True, expires_days=60, replace_on_change=True),
             [credential("c1", **LIVE_SETTINGS)], None, NOW, SP)
    assert p.action == "replace"
    assert p.create_spec == {"name": "ci", "expires_days": 60, "allowed_cidrs": ["10.0.0.0/8"],
                             "scoped_role_ids": ["role-a", "role-b"], "require_dpop": True}
    cleared = plan(C1, desired(force_rotate=True, allowed_cidrs=[], require_dpop=False, replace_on_change=True,
                               scoped_roles=[], role_ids=[]),
                   [credential("c1", **LIVE_SETTINGS)], None, NOW, SP)
    assert cleared.create_spec["allowed_cidrs"] == [] and cleared.create_spec["require_dpop"] is False
    assert cleared.create_spec["scoped_role_ids"] == [] and cleared.create_spec["expires_days"] == 30


def test_the_kept_period_is_the_nearest_the_api_offers_and_a_create_takes_the_defaults():
    odd = plan(C1, desired(force_rotate=True), [credential("c1", lifetime=100)], None, NOW, SP)
    assert odd.create_spec["expires_days"] == 90
    made = plan(C1, desired(), [], None, NOW, SP)
    assert made.create_spec == {"name": "ci", "expires_days": 90, "allowed_cidrs": None, "scoped_role_ids": None,
                                "require_dpop": None}


def test_a_personal_key_that_never_expires_is_rotated_into_one_that_never_expires():
    p = plan(C1, desired(force_rotate=True), [credential("c1", lifetime=None)], None, NOW, Owner.personal())
    assert p.create_spec["expires_days"] == 0


def test_a_platform_without_those_settings_keeps_none():
    p = plan(ORKES, desired(ORKES, name=None, force_rotate=True), [key("k1")], None, NOW, SP)
    assert p.action == "rotate" and p.create_spec == desired(ORKES, name=None).settings()
