# -*- coding: utf-8 -*-
"""service_principals' own decisions over plain values: the tenant planned, the waves' store."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.conductor.principals.plugins.module_utils import tenant as tenant_module
from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import check_held_roles
from ansible_collections.conductor.principals.plugins.module_utils.errors import (
    ConductorError, ConfigError, OutcomeUnknownError)
from ansible_collections.conductor.principals.plugins.module_utils.inputs import check_principals
from ansible_collections.conductor.principals.plugins.module_utils.parallel import Pool
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content
from ansible_collections.conductor.principals.plugins.module_utils.tenant import (
    CredentialStep, Forget, TenantRun, _may_mint, check_max_removals, failure_message, plan_tenant, prune_lookups)
from ansible_collections.conductor.principals.tests.unit.helpers import (
    TENANT_DEFAULTS, MemoryPlatform, MemoryStore, TenantClient, run_tenant_task)

DEFAULTS = TENANT_DEFAULTS


def checked(principals, platform="conductorone"):
    return check_principals(principals, "principals", platform, DEFAULTS, True, platform=platform)


def key(principal, credential):
    return EntryKey("conductorone", principal, credential)


# ---- the plan ----------------------------------------------------------------------------
def listed(*names):
    return [{"id": "id-%s-%d" % (name, n), "name": name} for n, name in enumerate(names)]


def actions(plan):
    return {(p.name, p.action) for p in plan.principals}


def test_create_keep_ensure_and_duplicate():
    wanted = checked([{"name": "new"}, {"name": "there"}, {"name": "twice"}])
    wanted += checked([{"name": "app", "roles": ["WORKER"]}], platform="orkes")
    plan = plan_tenant(wanted, listed("there", "twice", "twice", "app"), {})
    assert actions(plan) == {("new", "create"), ("there", "keep"), ("twice", "duplicate"), ("app", "update")}
    by_name = {p.name: p for p in plan.principals}
    assert by_name["there"].id == "id-there-0" and by_name["new"].id is None
    assert by_name["twice"].ids == ("id-twice-1", "id-twice-2")
    assert by_name["app"].settings == {"roles": ["WORKER"]}


def test_absent_removes_and_forgets_its_entries_and_a_gone_one_only_forgets():
    wanted = checked([{"name": "old", "state": "absent"}, {"name": "gone", "state": "absent"}])
    keys = {key("old", "ci"): {}, key("gone", "ci"): {}, key("other", "ci"): {}}
    plan = plan_tenant(wanted, listed("old"), keys)
    assert actions(plan) == {("old", "delete")}
    assert plan.forget == (Forget(key("old", "ci"), "id-old-0"), Forget(key("gone", "ci")))
    assert plan.credentials == ()


def test_without_prune_nothing_unlisted_is_touched():
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}]}])
    plan = plan_tenant(wanted, listed("a", "b", "c"), dict.fromkeys([key("a", "ci"), key("a", "old"), key("b", "ci")]))
    assert actions(plan) == {("a", "keep")} and plan.forget == ()
    assert [(c.principal, c.params["name"], c.params["state"]) for c in plan.credentials] == [
        ("a", "ci", "present")]


def entry(credential_id, principal_id=None):
    """An entry's content as prune reads it (``principal_id`` None: written before entries recorded it)."""
    content = {"credential_id": credential_id}
    if principal_id:
        content["service_principal_id"] = principal_id
    return content


def pruned(plan):
    """(removed principal IDs, revoked credential IDs, forgotten keys) of a plan."""
    return ({p.id for p in plan.principals if p.action == "delete"},
            {c.params["id"] for c in plan.credentials if c.pruned},
            {f.key for f in plan.forget})


def test_prune_is_bounded_by_the_store():
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}]}])
    entries = {key("a", "ci"): entry("c-a", "id-a-0"), key("a", "old"): entry("c-old", "id-a-0"),
               key("b", "ci"): entry("c-b", "id-b-1"), key("gone", "ci"): entry("c-g", "id-gone"),
               EntryKey("conductorone", "@personal", "mine"): entry("c-p")}
    plan = plan_tenant(wanted, listed("a", "b", "c"), entries, prune=True)
    # c has no entry: not ours. b has one and is not listed: removed. gone: only its entry.
    assert actions(plan) == {("a", "keep"), ("b", "delete")}
    assert plan.forget == (Forget(key("b", "ci"), "id-b-1"), Forget(key("gone", "ci")))
    assert [(c.params["name"], c.params.get("id"), c.params["state"], c.pruned)
            for c in plan.credentials] == [("ci", None, "present", False), ("old", "c-old", "absent", True)]


def test_prune_never_acts_on_a_name_an_entry_does_not_prove():
    """A principal made again by hand under a pruned name, another of that name, a credential of an entry's name."""
    wanted = checked([{"name": "a", "credentials": [{"name": "ci"}]}])
    tenant = [{"id": "a", "name": "a"}, {"id": "remade", "name": "gone"}, {"id": "ours", "name": "twin"},
              {"id": "theirs", "name": "twin"}]
    entries = {key("gone", "ci"): entry("c-gone", "managed-gone"), key("twin", "ci"): entry("c-twin", "ours"),
               key("a", "old"): entry("c-old", "a")}
    plan = plan_tenant(wanted, tenant, entries, prune=True)
    assert pruned(plan) == ({"ours"}, {"c-old"}, {key("gone", "ci"), key("twin", "ci")})
    assert [f.after for f in plan.forget] == [None, "ours"]


def test_a_principal_renamed_in_place_is_still_the_managed_one():
    tenant = [{"id": "sp", "name": "after"}, {"id": "theirs", "name": "before"}]
    entries = {key("before", "ci"): entry("c-1", "sp")}
    kept = checked([{"name": "after"}])
    assert prune_lookups(kept, tenant, entries, {}) == ["sp"]  # its entry waits while its credential lives
    assert pruned(plan_tenant(kept, tenant, entries, True, {"sp": {"c-1"}})) == (set(), set(), set())
    assert pruned(plan_tenant(kept, tenant, entries, True, {"sp": set()})) == (set(), set(), {key("before", "ci")})
    dropped = checked([{"name": "other"}])
    assert prune_lookups(dropped, tenant, entries, {}) == []
    assert pruned(plan_tenant(dropped, tenant, entries, True)) == ({"sp"}, set(), {key("before", "ci")})


def test_an_older_entry_is_the_principal_that_owns_its_credential():
    tenant = [{"id": "sp", "name": "after"}, {"id": "theirs", "name": "before"}, {"id": "x", "name": "x"}]
    entries = {key("before", "ci"): entry("c-1")}
    wanted = checked([{"name": "x"}])
    # Looked for under the entry's name first, then in the rest of the tenant.
    assert prune_lookups(wanted, tenant, entries, {}) == ["theirs"]
    assert prune_lookups(wanted, tenant, entries, {"theirs": {"c-9"}}) == ["sp", "x"]
    live = {"theirs": {"c-9"}, "sp": {"c-1"}, "x": set()}
    assert prune_lookups(wanted, tenant, entries, live) == []
    assert pruned(plan_tenant(wanted, tenant, entries, True, live)) == ({"sp"}, set(), {key("before", "ci")})
    # Its credential live nowhere: only the entry is forgotten.
    live["sp"] = set()
    assert pruned(plan_tenant(wanted, tenant, entries, True, live)) == (set(), set(), {key("before", "ci")})


def test_an_entry_prune_could_not_read_is_left_alone():
    plan = plan_tenant(checked([{"name": "x"}]), listed("a"), {key("a", "ci"): None}, prune=True)
    assert plan.unproven == (key("a", "ci"),) and pruned(plan) == (set(), set(), set())


# ---- prune, for any tenant: it touches only IDs the entries hold --------------------------------
NAMES = st.sampled_from(["a", "b", "c", "d"])
IDS = st.sampled_from(["p1", "p2", "p3", "p4", "p5"])
CREDENTIAL_IDS = st.sampled_from(["c1", "c2", "c3", "c4", "c5", "c6"])


@st.composite
def tenants(draw):
    """(wanted, listed principals, entries, live credentials): names shared, entries stale, old and new."""
    ids = draw(st.lists(IDS, unique=True, max_size=5))
    tenant = [{"id": i, "name": draw(NAMES)} for i in ids]
    credentials = {i: draw(st.sets(CREDENTIAL_IDS, max_size=3)) for i in ids}
    entries = {}
    for principal, credential in draw(st.lists(st.tuples(NAMES, st.sampled_from(["ci", "old", "x"])), max_size=6)):
        owner = draw(st.one_of(st.none(), IDS, st.just("gone")))
        content = st.builds(entry, CREDENTIAL_IDS, st.just(owner))
        entries[key(principal, credential)] = draw(st.one_of(st.none(), content))  # None: it could not be read
    wanted = []  # as check_principals gives it
    for name in draw(st.sets(NAMES, max_size=3)):
        state = draw(st.sampled_from(["present", "present", "absent"]))
        names = [] if state == "absent" else sorted(draw(st.sets(st.sampled_from(["ci", "old"]))))
        wanted.append({"name": name, "state": state, "settings": {}, "trusts": [],
                       "credentials": [{"name": c, "state": "present"} for c in names]})
    return wanted, tenant, entries, credentials


def held_ids(entries, credentials):
    """The principal and credential IDs the entries prove (the principal: recorded, or owning the credential)."""
    principals, held = set(), set()
    for content in entries.values():
        if content is None:
            continue
        held.add(content.get("credential_id"))
        principals.add(content.get("service_principal_id"))
        principals.update(i for i, ids in credentials.items() if content.get("credential_id") in ids)
    return principals, held


@settings(max_examples=200, deadline=None, derandomize=True)
@given(tenants())
def test_prune_never_removes_a_principal_or_revokes_a_credential_no_entry_holds(drawn):
    wanted, tenant, entries, credentials = drawn
    live = {}
    for _round in range(3):  # as TenantRun lists them: until prune needs no more
        need = prune_lookups(wanted, tenant, entries, live)
        live.update((i, credentials[i]) for i in need)
    assert prune_lookups(wanted, tenant, entries, live) == []
    plan = plan_tenant(wanted, tenant, entries, True, live)
    principals, held = held_ids(entries, credentials)
    listed_absent = {p["id"] for w in wanted if w["state"] == "absent" for p in tenant if p["name"] == w["name"]}
    removed = {p.id for p in plan.principals if p.action == "delete"} - listed_absent
    assert removed <= principals
    assert {c.params["id"] for c in plan.credentials if c.pruned} <= held
    assert all(c.params["state"] == "present" for c in plan.credentials if not c.pruned)


def test_trusts_of_present_principals_are_planned():
    wanted = checked([{"name": "a", "trusts": [{"name": "gh", "github": {"repository": "o/r"}}]}])
    plan = plan_tenant(wanted, [], [])
    assert [(t.principal, t.params["name"]) for t in plan.trusts] == [("a", "gh")]


# ---- what the core's result means ------------------------------------------------------------
SERVER_URL = "https://tenant.example"


def test_the_failure_message_names_each_item():
    message = failure_message([{"principal": "a", "credential": "ci", "msg": "Could not create credential 'ci'."},
                               {"principal": "b", "trust": "gh", "msg": "refused"}], 10)
    assert message == ("2 of 10 items failed, every other item is done: principal 'a' credential 'ci': Could not "
                       "create credential 'ci'; principal 'b' trust 'gh': refused")


_Client = TenantClient


@pytest.mark.parametrize("diff", [True, False])
def test_the_diff_is_built_only_when_asked(diff):
    """Without --diff nothing of it is kept while the waves run (1,000 items: the largest part of the result)."""
    run = TenantRun(_Client(), {}, diff=diff)
    run._noted("before", "credentials", "app-00/ci", {})
    run._noted("after", "credentials", "app-00/ci", {"id": "cred-1"})
    result = run._result({}, [], [])
    if diff:
        assert result["diff"] == {"before": {"credentials": {"app-00/ci": {}}},
                                  "after": {"credentials": {"app-00/ci": {"id": "cred-1"}}}}
    else:
        assert "diff" not in result and run.diff is None


@pytest.mark.parametrize("diff", [True, False])
def test_the_runner_tells_service_principals_whether_a_diff_is_wanted(monkeypatch, diff):
    from ansible_collections.conductor.principals.plugins.module_utils import runner
    told = []

    def service_principals(client, params, check_mode, environ, diff=False):
        told.append(diff)
        return {"changed": False, "diff": {"before": {}, "after": {}}}
    monkeypatch.setitem(runner.RUNNERS, "service_principals", service_principals)
    result = runner.run("service_principals", {"platform": "conductorone", "server_url": "https://tenant.example",
                                               "access_token": "t"}, diff=diff, environ={}, client=_Client())
    assert told == [diff] and ("diff" in result) is diff


# ---- a wave that raises --------------------------------------------------------------------
def wave_run(store, count=4):
    """A TenantRun over MemoryPlatform, ready to apply one wave of ``count`` new credentials ("app-N"/"ci")."""
    run = TenantRun(_Client(), {})
    run.pool = Pool(2)
    run.adapter = MemoryPlatform()
    run.store = store
    run.cache = {}
    run.shared = SimpleNamespace(server_now=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    names = ["app-%d" % n for n in range(count)]
    wanted = checked([{"name": name, "credentials": [{"name": "ci"}]} for name in names])
    work = [run._plan_credential(CredentialStep(w["name"], w["credentials"][0]),
                                 {w["name"]: {"id": "sp-" + w["name"]}}, {"sp-" + w["name"]: []}) for w in wanted]
    return run, work


def test_a_wave_in_the_store_leaves_no_new_secret_in_the_run(tmp_path):
    """Once the wave's entries are written, its new secrets live in the store and in the wave only (which is
    let go): the run's record of what it read keeps neither them nor the stale entry they replaced."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"})
    stale = key("app-1", "ci")
    version = store.write(stale, {"client_id": "old@t/spc", "client_secret": "secret-token:old", "credential_id": "c0"})
    run, _work = wave_run(store, count=2)
    run.cache = {stale: ({"client_secret": "secret-token:old", "credential_id": "c0"}, version)}
    run._prover = lambda credential, secret: None
    wanted = checked([{"name": "app-%d" % n, "credentials": [{"name": "ci"}]} for n in range(2)])
    work = [run._plan_credential(CredentialStep(w["name"], w["credentials"][0]),
                                 {w["name"]: {"id": "sp-" + w["name"]}}, {"sp-" + w["name"]: []}) for w in wanted]
    with run.pool:
        rows = run._apply_wave(work)
    assert [row["action"] for row in rows] == ["created", "created"] and run.wave_batches == 1
    assert {store.read(key("app-%d" % n, "ci")).content["credential_id"] for n in range(2)} == set(run.adapter.made)
    assert "secret-token" not in repr(run.cache)


def test_a_store_write_that_raises_revokes_every_credential_its_wave_made(tmp_path, monkeypatch):
    """Not a ConductorError: the wave stops, but none of its new credentials stays live with its secret unheld."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"})

    def broken(writes):
        raise RuntimeError("a bug in the store")
    monkeypatch.setattr(store, "write_many", broken)
    run, work = wave_run(store)
    with run.pool, pytest.raises(RuntimeError) as caught:
        run._apply_wave(work)
    assert len(run.adapter.made) == 4 and run.adapter.live() == {}
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert all("the new credential %s was revoked" % made in notes for made in run.adapter.made) or not hasattr(
        caught.value, "add_note")
    assert "secret-token" not in notes


@pytest.mark.parametrize("with_store", [True, False])
def test_a_bug_in_one_item_after_the_creates_leaves_each_new_credential_held_or_revoked(tmp_path, with_store):
    """With a store the wave's secrets are written before the bug: they stay held, and live. Without one, the
    result that would have returned them never comes: they are revoked."""
    store = store_for({"type": "vault_file", "path": str(tmp_path / "store.vault"), "password": "pw"}) \
        if with_store else None
    run, work = wave_run(store)

    def prover(credential, secret):
        if credential["id"] == run.adapter.made[2]:
            raise KeyError("a bug in the proof")
    run._prover = prover
    with run.pool, pytest.raises(KeyError):
        run._apply_wave(work)
    assert len(run.adapter.made) == 4
    if with_store:
        held = {store.read(key("app-%d" % n, "ci")).content["credential_id"] for n in range(4)}
        assert set(run.adapter.live()) == held == set(run.adapter.made)
    else:
        assert run.adapter.live() == {}


def test_a_bug_in_a_later_wave_returns_the_secrets_of_the_waves_done():
    """return_secrets without a store: the result is where the waves done hold their secrets, so a bug in a later
    wave ends the task failed with that result (the wave that raised undone), not with a traceback alone."""
    platform = MemoryPlatform()
    names = ["app-%d" % n for n in range(6)]
    for name in names:
        platform.principal(name)

    raised = []

    def prover(credential, secret):
        if credential["id"] == "c5":  # the first create of the second wave (a wave is 4 items at parallelism 1)
            unshaped = secret.partition(":")[2]  # a secret of no known shape, as an Orkes one
            raised.append(unshaped)  # a bug whose message carries the wave's own new secret
            raise KeyError("a bug in the proof of %s" % unshaped)
        platform.prove(credential, secret)
    params = dict(DEFAULTS, principals=[{"name": name, "credentials": [{"name": "ci"}]} for name in names],
                  return_secrets=True, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tenant_module, "adapter_for", lambda client: platform)
        patch.setattr(tenant_module.parallel, "shared_client",
                      lambda client, pool: SimpleNamespace(server_now=lambda: platform.now))
        run = TenantRun(_Client(), params)
        run._prover = prover
        result = run.run()
    held = {name: value["ci"] for name, value in result["secrets"]["conductorone"].items()}
    assert result["failed"] and "unexpected KeyError" in result["msg"] and "2 later waves" not in result["msg"]
    assert sorted(held) == names[:4] and [row["principal"] for row in result["credentials"]] == names[:4]
    assert set(platform.live()) == {c["id"] for c in platform.every.values() if c["client_id"] in
                                    {value["client_id"] for value in held.values()}}
    assert "KeyError" in result["exception"]
    for secret in [value["client_secret"] for value in held.values()] + raised:
        assert secret not in result["msg"] + result["exception"]


def test_pruned_principals_of_one_name_each_have_their_row():
    """Prune removes by ID: two managed principals that came to share a name are two removals, two rows."""
    platform = MemoryPlatform()
    store = MemoryStore(log=platform.writes)
    for credential in ("ci", "deploy"):
        owner = platform.principal("old")
        made = platform.add_credential(owner["id"], credential)
        store.put(key("old", credential), entry_content(key("old", credential), made, made["client_id"],
                                                        platform.secrets[made["id"]], SERVER_URL))
    result = run_tenant(platform, store, [{"name": "app"}], prune=True)
    removed = [row for row in result["principals"] if row["action"] == "removed"]
    assert sorted((row["name"], row["id"]) for row in removed) == [("old", "sp1"), ("old", "sp2")]
    assert sorted(c["name"] for row in removed for c in row["revoked_credentials"]) == ["ci", "deploy"]
    assert result["summary"]["principals"]["removed"] == 2 and platform.principals == [
        p for p in platform.principals if p["name"] == "app"]


def test_a_principal_prune_listed_to_judge_is_removed_without_listing_it_again():
    """An entry written before entries recorded their principal's ID: prune lists the principal of that name to
    find the credential; its removal then reports that listing (one request, not two)."""
    platform = MemoryPlatform()
    store = MemoryStore(log=platform.writes)
    owner = platform.principal("old")
    made = platform.add_credential(owner["id"], "ci")
    content = entry_content(key("old", "ci"), made, made["client_id"], platform.secrets[made["id"]], SERVER_URL)
    content.pop("service_principal_id")
    store.put(key("old", "ci"), content)
    result = run_tenant(platform, store, [{"name": "app"}], prune=True)
    removed = [row for row in result["principals"] if row["action"] == "removed"]
    assert [c["id"] for row in removed for c in row["revoked_credentials"]] == [made["id"]]
    assert platform.call_counts["list_credentials"] == 1


# ---- the whole engine on an in-memory tenant, for any tenant and list ----------------------------------
PRINCIPAL_NAMES = ("app", "db", "ops")
CREDENTIAL_NAMES = ("ci", "deploy", "old")
#: (age, lifetime) in days: fresh, within rotate_before_days, expired, made with another lifetime.
AGES = ((0, 90), (10, 90), (80, 90), (95, 90), (1, 30), (20, 30))
#: A credential's store entry: holds it, holds another (gone) credential's ID, or there is none.
ENTRIES = st.sampled_from(["held", "stale", None])
ENGINE = settings(max_examples=60, deadline=None, derandomize=True)
#: Besides the drawn ones, every engine property runs these: an expired credential held by its entry, rotated (with
#: an older one of its name by hand), and a new one made for a new principal.
EXPIRED = ({"app": [("ci", 95, 90, "held"), ("ci", 96, 90, None)]},
           [{"name": "app", "credentials": [{"name": "ci", "state": "present", "replace_on_change": True}]}], False)
NEW = ({}, [{"name": "app", "credentials": [{"name": "ci", "state": "present", "replace_on_change": True}]}], False)


@st.composite
def tenants_and_lists(draw):
    """(tenant, principals option, prune). The tenant: per principal name, None (no such principal) or its
    credentials as (name, age, lifetime, entry), entry "held" (holds it), "stale" (holds another ID) or None;
    the list names some principals present (0-3 credentials each, some absent) or absent."""
    tenant, listed = {}, []
    for name in PRINCIPAL_NAMES:
        if draw(st.booleans()):
            made = draw(st.lists(st.sampled_from(CREDENTIAL_NAMES + ("by hand",)), max_size=3))
            tenant[name] = [(credential,) + draw(st.sampled_from(AGES)) + (draw(ENTRIES),) for credential in made]
        state = draw(st.sampled_from(["present", "present", "present", "absent", None]))
        if state == "absent":
            listed.append({"name": name, "state": "absent"})
        elif state == "present":
            credentials = draw(st.lists(st.sampled_from(CREDENTIAL_NAMES), unique=True, min_size=1, max_size=3))
            listed.append({"name": name, "credentials": [
                {"name": credential, "state": draw(st.sampled_from(["present", "present", "absent"])),
                 "expires_days": draw(st.sampled_from([None, 30, 90])), "replace_on_change": True}
                for credential in credentials]})
    return tenant, listed, draw(st.booleans())


def built(tenant):
    """The MemoryPlatform and MemoryStore (one log of writes) of a drawn tenant."""
    platform = MemoryPlatform()
    store = MemoryStore(log=platform.writes)
    for name, credentials in tenant.items():
        principal = platform.principal(name)
        for credential, age, lifetime, entry in credentials:
            made = platform.add_credential(principal["id"], credential, age, lifetime)
            if entry is not None:
                held = made if entry == "held" else dict(made, id="c-gone")
                store.put(key(name, credential), entry_content(key(name, credential), held, held.get("client_id"),
                                                               platform.secrets[made["id"]], SERVER_URL))
    return platform, store


def run_tenant(platform, store, principals, prune):
    """One service_principals task: the real engine (TenantRun) on MemoryPlatform and MemoryStore, one request at
    a time (a fault injected by call number is the same fault on every replay); the proofs asked of the platform."""
    params = dict(DEFAULTS, principals=principals, store={"type": store.type}, prune=prune, parallelism=1,
                  allow_empty=True, max_removals=len(platform.principals))  # the guards have tests of their own
    return run_tenant_task(platform, params, lambda: store)


def declared(principals):
    """{(principal, credential): state} of the credentials the list names, on principals listed present."""
    return {(p["name"], c["name"]): c["state"] for p in principals if p.get("state", "present") == "present"
            for c in p["credentials"]}


def snapshot(platform, store):
    """What a replay of the log starts from: the principals' names, the live credentials, what each entry holds."""
    return {"names": {p["id"]: p["name"] for p in platform.principals}, "live": set(platform.live()),
            "held": {(k.principal, k.credential): content.get("credential_id")
                     for k, content, _version in store.entries.values()}}


def revoked_before_held(platform, before, principals, since):
    """The credentials of a listed present name revoked (in ``platform.writes[since:]``, from ``before``) while
    their store entry held no other live credential: each revoked before its replacement was held."""
    names = dict(before["names"], **{p["id"]: p["name"] for p in platform.principals})
    wanted = {name for name, state in declared(principals).items() if state == "present"}
    held, live, early = dict(before["held"]), set(before["live"]), []
    for event in platform.writes[since:]:
        if event[0] == "create":
            live.add(event[1])
        elif event[0] in ("store write", "store delete"):
            where = (event[1].principal, event[1].credential)
            held[where] = event[2] if event[0] == "store write" else None
        elif event[0] == "delete principal":
            live = {c for c in live if platform.every[c]["service_principal_id"] != event[1]}
        elif event[0] == "revoke":
            credential = platform.every[event[1]]
            name = (names.get(credential["service_principal_id"]), credential["name"])
            if event[1] in before["live"] and name in wanted and (held.get(name) not in live
                                                                  or held.get(name) == event[1]):
                early.append(event[1])
            live.discard(event[1])
    return early


@ENGINE
@given(tenants_and_lists())
@example(EXPIRED)
@example(NEW)
def test_apply_then_plan_is_a_no_op(drawn):
    tenant, principals, prune = drawn
    platform, store = built(tenant)
    first = run_tenant(platform, store, principals, prune)
    assert not first.get("failed"), first.get("msg")
    done = len(platform.writes)
    again = run_tenant(platform, store, principals, prune)
    assert not again.get("failed"), again.get("msg")
    assert platform.writes[done:] == [] and again["changed"] is False
    assert {r["action"] for r in again["principals"] + again["credentials"]} <= {"unchanged"}


# Faults: {(where.method, its call number): "refused" (a ConductorError) or "lost" (made, its answer lost)}.
FAULTY_CALLS = tuple("platform." + m for m in ("list_principals", "create_principal", "list_credentials",
                                               "create_credential", "revoke_credential", "prove")) + tuple(
    "store." + m for m in ("list", "read", "write", "delete"))
FAULTS = st.dictionaries(st.tuples(st.sampled_from(FAULTY_CALLS), st.integers(1, 3)),
                         st.sampled_from(["refused", "lost"]), max_size=10)


def injected(faults, where):
    """The Faults callable of one fake (``where``: platform or store) for drawn FAULTS."""
    def fault(method, number):
        kind = faults.get(("%s.%s" % (where, method), number))
        if kind is None:
            return None
        return OutcomeUnknownError("the answer was lost") if kind == "lost" else ConductorError("refused")
    return fault


def unheld(platform, store, made):
    """The credentials of ``made`` that are live and that no entry holds."""
    holders = {content.get("credential_id") for _key, content, _version in store.entries.values()}
    live = platform.live()
    return [i for i in made if i in live and i not in holders]


def faulty_then_clean(tenant, principals, prune, faults):
    """A run under ``faults``, then one clean run: (platform, store, what the faulty run left unheld and did not
    name, the clean run's result, the credentials either run revoked before their replacement was held)."""
    platform, store = built(tenant)
    platform.faults, store.faults = injected(faults, "platform"), injected(faults, "store")
    before = snapshot(platform, store)
    try:
        failed = run_tenant(platform, store, principals, prune)["failed_items"]
    except ConductorError:
        failed = []  # a read the whole task needs failed: nothing was made
    # Its new credentials end held or revoked; one whose revoke failed too stays, named in its item's message.
    said = {(item["principal"], item.get("credential")): item["msg"] for item in failed}
    names = {p["id"]: p["name"] for p in platform.principals}
    unnamed = []
    for made in unheld(platform, store, platform.made):
        credential = platform.every[made]
        message = said.get((names.get(credential["service_principal_id"]), credential["name"])) or ""
        if made not in message and "may be live that nobody holds" not in message:
            unnamed.append(made)
    early = revoked_before_held(platform, before, principals, 0)
    platform.faults, store.faults = {}, {}
    since, before = len(platform.writes), snapshot(platform, store)
    clean = run_tenant(platform, store, principals, prune)
    return platform, store, unnamed, clean, early + revoked_before_held(platform, before, principals, since)


@ENGINE
@given(tenants_and_lists(), FAULTS)
@example(EXPIRED, {})
@example(EXPIRED, {("store.write", 1): "refused"})
def test_no_credential_is_revoked_before_its_replacement_is_held(drawn, faults):
    tenant, principals, prune = drawn
    early = faulty_then_clean(tenant, principals, prune, faults)[-1]
    assert early == []


@ENGINE
@given(tenants_and_lists(), FAULTS)
@example(EXPIRED, {("store.write", 1): "refused"})
@example(NEW, {("store.write", 1): "lost"})
@example(NEW, {("platform.create_credential", 1): "lost", ("platform.list_credentials", 1): "refused"})
def test_after_faults_and_one_clean_run_each_listed_credential_is_live_once_and_held(drawn, faults):
    tenant, principals, prune = drawn
    platform, store, unnamed, clean, _early = faulty_then_clean(tenant, principals, prune, faults)
    assert unnamed == []  # the faulty run left no new credential unheld without saying so
    assert not clean.get("failed"), clean.get("msg")
    live = platform.live()
    names = {p["id"]: p["name"] for p in platform.principals}
    for (principal, name), state in declared(principals).items():
        ids = [i for i, c in live.items() if names.get(c["service_principal_id"]) == principal and c["name"] == name]
        entry = store.held(key(principal, name))
        if state == "absent":
            assert ids == [] and entry is None
        else:
            assert len(ids) == 1, "%s/%s: live %s" % (principal, name, ids)
            assert entry is not None and entry["credential_id"] == ids[0]
            assert entry["client_secret"] == platform.secrets[ids[0]]
    assert not {p["name"] for p in principals if p.get("state") == "absent"} & set(names.values())
    assert unheld(platform, store, platform.made) == []  # each one the runs made is held, or revoked


# ---- scoped roles the principal holds -------------------------------------------------------------
class HoldingPlatform(MemoryPlatform):
    """MemoryPlatform whose principals hold roles (C1's user.roleIds), read by get_principal (each read counted)."""

    def __init__(self, held):
        MemoryPlatform.__init__(self)
        self.held, self.gets = held, []
        self.roles = {"r-ro": "r-ro", "r-conn": "r-conn"}

    def get_principal(self, principal_id):
        self.gets.append(principal_id)
        return {"id": principal_id, "name": principal_id, "role_ids": self.held.get(principal_id)}

    def check_held_roles(self, role_ids, principal, what="credential"):  # as C1Adapter's: read back once
        held = principal["role_ids"]
        if held is None:
            held = self.read_once(("role_ids", principal["id"]), lambda: self.get_principal(principal["id"]))["role_ids"]
        check_held_roles(role_ids, held, {}, principal["name"], what)


def test_scoped_credentials_are_checked_against_their_principals_roles_read_once_per_principal():
    run = TenantRun(_Client(), {})
    run.pool, run.adapter, run.store, run.cache = Pool(2), HoldingPlatform({"sp-new": ["r-ro"]}), None, {}
    run.shared = SimpleNamespace(server_now=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    wanted = checked([{"name": "new", "credentials": [{"name": "a", "scoped_roles": ["r-conn"]},
                                                      {"name": "b", "scoped_roles": ["r-ro"]}, {"name": "plain"}]},
                      {"name": "old", "credentials": [{"name": "c", "scoped_roles": ["r-conn"]}]}])
    items = [CredentialStep(w["name"], c) for w in wanted for c in w["credentials"]]
    # A principal made by this run whose create answer lacked its roles, and one listed with its roles.
    principals = {"new": {"id": "sp-new", "action": "created", "ok": True, "role_ids": None},
                  "old": {"id": "sp-old", "action": "unchanged", "ok": True, "role_ids": ["r-conn"]}}
    listings = {"sp-new": [], "sp-old": []}
    with pytest.raises(ConfigError) as refused:
        run._plan_credential(items[0], principals, listings)
    assert "service principal 'new' does not hold the role r-conn" in refused.value.message
    assert [run._plan_credential(item, principals, listings)[2].plan.action for item in items[1:]] == ["create"] * 3
    assert run.adapter.gets == ["sp-new"]  # the listed principal's roles came with it; the new one's read once
    assert run.adapter.made == []  # planning writes nothing


def _pruning(removed, managed, absent=()):
    """A plan removing ``removed`` principals (and those listed ``absent``), over a store that records ``managed``."""
    steps = tuple(SimpleNamespace(name="p%d" % n, action="delete") for n in range(removed))
    steps += tuple(SimpleNamespace(name=name, action="delete") for name in absent)
    keys = [EntryKey("conductorone", "p%d" % n, "ci") for n in range(managed)]
    wanted = [{"name": name, "state": "absent"} for name in absent]
    return SimpleNamespace(principals=steps), wanted, keys


@pytest.mark.parametrize("removed, managed, max_removals, refused", [
    (1, 3, None, False), (2, 3, None, True), (20, 200, None, False), (21, 200, None, True),
    (2, 3, 2, False), (1, 3, 0, True), (0, 0, None, False)])
def test_prune_is_bounded_by_max_removals(removed, managed, max_removals, refused):
    plan, wanted, keys = _pruning(removed, managed)
    if not refused:
        check_max_removals(plan, wanted, keys, max_removals)
        return
    with pytest.raises(ConfigError) as err:
        check_max_removals(plan, wanted, keys, max_removals)
    assert ("prune would remove %d of the %d principals the store records, more than max_removals" % (removed, managed)
            in err.value.message and "set max_removals: %d" % removed in err.value.message)


def test_principals_listed_absent_are_not_counted_by_max_removals():
    check_max_removals(*_pruning(1, 3, absent=("gone-1", "gone-2")))
    with pytest.raises(ConfigError, match="must be 0 or more"):
        check_max_removals(*_pruning(0, 3), max_removals=-1)


def test_an_empty_list_is_refused_unless_allowed():
    with pytest.raises(ConfigError, match="^principals is empty, so there is nothing to manage"):
        check_principals([], "principals", "conductorone", {}, has_store=True)
    assert check_principals([], "principals", "conductorone", {}, has_store=True, allow_empty=True) == []


def test_only_a_list_that_may_make_a_secret_needs_a_writable_store_first():
    """A decommission list (every principal absent) makes no secret: its store may be long gone."""
    assert _may_mint([{"name": "a", "credentials": [{"name": "ci"}]}])
    assert _may_mint([{"name": "a", "state": "absent"}, {"name": "b", "credentials": [{"name": "ci", "state": "present"}]}])
    assert not _may_mint([{"name": "a", "state": "absent", "credentials": [{"name": "ci"}]}, {"name": "b"}])
    assert not _may_mint([{"name": "a", "credentials": [{"name": "ci", "state": "absent"}]}])
