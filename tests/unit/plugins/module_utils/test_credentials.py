# -*- coding: utf-8 -*-
"""The generic credential logic against an in-memory adapter (the sandbox tests cover the wire)."""

from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Owner
from ansible_collections.conductor.principals.plugins.module_utils.credentials import CredentialRun, credential_info
from ansible_collections.conductor.principals.plugins.module_utils.errors import (
    ConductorError, ConfigError, OutcomeUnknownError)
from ansible_collections.conductor.principals.tests.unit.helpers import NOW, OnePrincipalPlatform, credential_params


def ensure(adapter, check_mode=False, **overrides):
    return CredentialRun(adapter, Owner.principal("sp"), credential_params(**overrides), check_mode=check_mode,
                         now=NOW).ensure()


def test_creates_once_returns_the_secret_then_is_idempotent():
    adapter = OnePrincipalPlatform()
    first = ensure(adapter, expires_days=90, allowed_cidrs=["10.0.0.5/24"])
    assert first["changed"] and first["client_secret"].startswith("secret-token:new-")
    second = ensure(adapter, expires_days=90, allowed_cidrs=["10.0.0.0/24"])
    assert not second["changed"] and "client_secret" not in second
    assert adapter.writes == [("create", first["credential"]["id"])]


def test_check_mode_predicts_and_writes_nothing():
    adapter = OnePrincipalPlatform()
    result = ensure(adapter, check_mode=True)
    assert result["changed"] and result["credential"]["id"] is None and "client_secret" not in result
    assert adapter.writes == []


def test_drift_fails_naming_each_difference_without_writing():
    adapter = OnePrincipalPlatform()
    adapter.add("ci", lifetime=90)
    with pytest.raises(ConductorError) as err:
        ensure(adapter, expires_days=30, require_dpop=True, allowed_cidrs=["192.168.1.0/24"])
    text = str(err.value)
    assert "expires_days is 90, wanted 30" in text and "require_dpop is false, wanted true" in text
    assert "allowed_cidrs is [], wanted [192.168.1.0/24]" in text and "replace_on_change" in text
    assert adapter.writes == []


def test_replace_on_change_creates_new_then_revokes_old():
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci")
    result = ensure(adapter, scoped_roles=["Read-Only Admin"], replace_on_change=True)
    assert result["changed"] and result["revoked_ids"] == [old["id"]]
    # Never a moment without a credential: the new one is made before the old one goes.
    assert adapter.writes == [("create", result["credential"]["id"]), ("revoke", old["id"])]
    assert result["credential"]["scoped_role_ids"] == ["role-ro"]


def test_rotation_window_overlap_and_cutover():
    adapter = OnePrincipalPlatform()
    old = adapter.add("ci", age_days=80, lifetime=90)  # 10 days left
    assert not ensure(adapter, rotate_before_days=7)["changed"]
    rotated = ensure(adapter, rotate_before_days=14, revoke_previous=False)
    assert rotated["changed"] and rotated["rotated"] and rotated["revoked_ids"] == []
    assert rotated["kept_ids"] == [old["id"]]
    assert set(adapter.live()) == {old["id"], rotated["credential"]["id"]}
    assert ensure(adapter, rotate_before_days=14, revoke_previous=False)["kept_ids"] == [old["id"]]
    cutover = ensure(adapter, rotate_before_days=14)
    assert cutover["changed"] and cutover["revoked_ids"] == [old["id"]] and "client_secret" not in cutover


def test_expired_credential_is_replaced_and_force_rotate_works():
    adapter = OnePrincipalPlatform()
    adapter.add("ci", age_days=100, lifetime=90)
    assert ensure(adapter)["reason"] == "expired"
    assert ensure(adapter, force_rotate=True)["reason"] == "force_rotate"


def test_lost_create_answer_revokes_the_orphan_and_creates_again():
    adapter = OnePrincipalPlatform()
    adapter.lose_creates(1)
    result = ensure(adapter)
    orphan = adapter.writes[1][1]
    assert [w[0] for w in adapter.writes] == ["create", "revoke", "create"]
    assert result["revoked_ids"] == [orphan] and result["client_secret"]
    assert list(adapter.live()) == [result["credential"]["id"]]


def test_create_lost_twice_fails_naming_what_it_revoked():
    adapter = OnePrincipalPlatform()
    adapter.lose_creates(2)
    with pytest.raises(ConductorError) as err:
        ensure(adapter)
    assert "lost 2 times" in str(err.value) and "c1" in str(err.value) and "c2" in str(err.value)
    assert adapter.live() == {}  # nothing alive that nobody can use


@pytest.mark.parametrize("fails, said", [
    (("list_credentials", 2), "a credential named 'ci' may be live that nobody holds"),  # the 1st lists for the plan
    (("revoke_credential", 1), "the credential c1 it made is live and nobody holds its secret; revoke it by hand"),
])
def test_a_lost_create_that_cannot_be_cleaned_up_says_what_may_be_live(fails, said):
    """Finding (or revoking) what a lost create made fails too: the task says a credential nobody holds may be live."""
    adapter = OnePrincipalPlatform()
    adapter.faults = lambda method, number: (OutcomeUnknownError("lost") if method == "create_credential"
                                             else (method, number) == fails or None)
    with pytest.raises(ConductorError) as err:
        ensure(adapter)
    assert said in str(err.value) and "the answer to the create was lost" in str(err.value)
    assert list(adapter.live()) == ["c1"]


@pytest.mark.parametrize("overrides, fragment", [
    (dict(expires_days=45), "expires_days must be one of 30, 60, 90, 180, not 45"),
    (dict(allowed_cidrs=["10.0.0.0/33"]), "'10.0.0.0/33' is not an IPv4 or IPv6 CIDR"),
    (dict(scoped_roles=["Nope"]), "no role has the ID or name 'Nope'"),
    (dict(enabled=False), "enabled cannot be set on platform conductorone"),
    (dict(name=None), "Give name (or id)"),
    (dict(rotate_before_days=-1), "rotate_before_days must be"),
])
def test_bad_input_fails_before_any_write(overrides, fragment):
    adapter = OnePrincipalPlatform()
    with pytest.raises(ConfigError) as err:
        ensure(adapter, **overrides)
    assert fragment in str(err.value)
    assert adapter.writes == []


def test_absent_revokes_every_credential_of_the_name():
    adapter = OnePrincipalPlatform()
    ids = [adapter.add("ci")["id"], adapter.add("ci")["id"]]
    adapter.add("other")
    result = ensure(adapter, state="absent")
    assert result["changed"] and sorted(result["revoked_ids"]) == sorted(ids)
    assert not ensure(adapter, state="absent")["changed"]


class RefusingAdapter(OnePrincipalPlatform):
    """The API refuses to revoke the credentials whose IDs are in ``refused``."""

    def __init__(self):
        super().__init__()
        self.refused = set()

    def revoke_credential(self, owner, credential):
        if credential["id"] in self.refused:
            raise ConductorError("Could not revoke credential %s: the API refused it" % credential["id"], status=403,
                                 api_message="permission denied")
        super().revoke_credential(owner, credential)


def test_a_refused_revoke_after_a_create_keeps_the_new_credential_and_a_rerun_retires_the_older():
    adapter = RefusingAdapter()
    old = adapter.add("ci", age_days=10)
    adapter.refused.add(old["id"])
    rotated = ensure(adapter, force_rotate=True)
    new = rotated["credential"]["id"]
    assert rotated["changed"] is True and rotated["client_secret"] == "secret-token:new-%s" % new
    assert rotated["revoked_ids"] == [] and rotated["kept_ids"] == [old["id"]]
    assert 'HTTP 403; the API said "permission denied"' in rotated["kept_reasons"][old["id"]]
    assert len(rotated["warnings"]) == 1 and rotated["client_secret"] not in rotated["warnings"][0]
    assert sorted(adapter.live()) == sorted([old["id"], new])
    adapter.refused.clear()
    again = ensure(adapter)
    assert again["revoked_ids"] == [old["id"]] and again["credential"]["id"] == new and "warnings" not in again
    assert list(adapter.live()) == [new]


def test_a_refused_revoke_without_a_create_still_fails():
    adapter = RefusingAdapter()
    older = adapter.add("ci", age_days=10)
    adapter.add("ci", age_days=1)  # the newer one
    adapter.refused.add(older["id"])
    with pytest.raises(ConductorError, match="Could not revoke credential %s" % older["id"]):
        ensure(adapter)  # the newer one is kept, nothing new to hold: the task fails as before
    with pytest.raises(ConductorError, match="Could not revoke credential %s" % older["id"]):
        ensure(adapter, state="absent")
    assert list(adapter.live()) == [older["id"]]


def test_info_reports_days_left_and_expired():
    adapter = OnePrincipalPlatform()
    adapter.add("a", age_days=80, lifetime=90)
    adapter.add("b", age_days=91, lifetime=90)
    found = {c["name"]: c for c in credential_info(adapter, "sp", {}, now=NOW)["credentials"]}
    assert (found["a"]["expires_in_days"], found["a"]["expired"]) == (10, False)
    assert (found["b"]["expires_in_days"], found["b"]["expired"]) == (-1, True)


# ---- a new secret nothing would keep (no store, no register) --------------------------------------
def unregistered(adapter, check_mode=False, **overrides):
    return CredentialRun(adapter, Owner.principal("sp", "deployer"), credential_params(**overrides),
                         check_mode=check_mode, now=NOW, unregistered=True).ensure()


def test_a_task_that_registers_nothing_may_not_mint_a_secret_without_a_store():
    adapter = OnePrincipalPlatform()
    with pytest.raises(ConfigError) as caught:
        unregistered(adapter)
    message = str(caught.value)
    assert "would create credential 'ci' of 'deployer'" in message
    assert "give store" in message and "register the result" in message
    assert adapter.writes == []
    old = adapter.add("ci", age_days=10)
    with pytest.raises(ConfigError) as caught:
        unregistered(adapter, force_rotate=True)
    assert "would rotate credential 'ci'" in str(caught.value) and adapter.writes == []
    assert list(adapter.live()) == [old["id"]]


def test_check_mode_and_a_run_that_mints_nothing_are_not_refused():
    adapter = OnePrincipalPlatform()
    assert unregistered(adapter, check_mode=True)["changed"]
    adapter.add("ci")
    assert not unregistered(adapter)["changed"] and adapter.writes == []


# ---- a proof refused for the credential's allowed_cidrs --------------------------------------------
def test_outside_cidrs_names_this_hosts_address_only_when_it_is_outside(monkeypatch):
    from ansible_collections.conductor.principals.plugins.module_utils import credentials
    monkeypatch.setattr(credentials, "source_address", lambda server_url: "192.0.2.7")
    hint = credentials.outside_cidrs({"allowed_cidrs": ["10.0.0.0/8"]}, "https://tenant.example")
    assert "connects from 192.0.2.7, outside the credential's allowed_cidrs (10.0.0.0/8)" in hint
    assert "verify: false" in hint
    assert credentials.outside_cidrs({"allowed_cidrs": ["192.0.2.0/24"]}, "https://tenant.example") == ""
    assert credentials.outside_cidrs({"allowed_cidrs": []}, "https://tenant.example") == ""
    monkeypatch.setattr(credentials, "source_address", lambda server_url: None)
    assert credentials.outside_cidrs({"allowed_cidrs": ["10.0.0.0/8"]}, "https://tenant.example") == ""
