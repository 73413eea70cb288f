# -*- coding: utf-8 -*-
"""The credential report's logic and rendering against an in-memory adapter."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from ansible_collections.conductor.principals.plugins.module_utils import parallel
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.report import (
    FLAGS, credential_report, judge, render_html, render_markdown, report_format)
from ansible_collections.conductor.principals.tests.unit.helpers import NOW, MemoryStore, ReportPlatform


@pytest.fixture
def tenant():
    adapter = ReportPlatform()
    ci = adapter.principal("Terraform CI")
    ops = adapter.principal("Ops <bot> | nightly")
    adapter.principal("Empty")
    ids = {
        "fine": adapter.credential(ci, "fine", age_days=1, used_days_ago=0)["id"],
        "expired": adapter.credential(ci, "gone", age_days=31, lifetime=30, used_days_ago=5)["id"],
        "expiring": adapter.credential(ci, "soon", age_days=20, lifetime=30, used_days_ago=1)["id"],
        "unused": adapter.credential(ops, "stale", age_days=60, used_days_ago=45)["id"],
        "never": adapter.credential(ops, "fresh", age_days=2)["id"],
        "old_never": adapter.credential(ops, "forgotten", age_days=40)["id"],
        "dup_old": adapter.credential(ops, "dup", age_days=10, used_days_ago=0)["id"],
        "dup_new": adapter.credential(ops, "dup", age_days=1, used_days_ago=0)["id"],
        "forever": adapter.credential(ops, "forever", age_days=3, lifetime=0, used_days_ago=0)["id"],
    }
    return adapter, ids


def params(**overrides):
    base = dict(expiring_within_days=14, unused_days=30, include_personal=False, dest=None, format=None)
    base.update(overrides)
    return base


def report(adapter, **overrides):
    return credential_report(adapter, params(**overrides), lambda: NOW, server_url="https://t.example")


def flags_by_id(result):
    return {row["id"]: row["flags"] for row in result["credentials"]}


def test_each_credential_gets_exactly_its_flags(tenant):
    adapter, ids = tenant
    flags = flags_by_id(report(adapter))
    assert flags == {
        ids["fine"]: [], ids["expired"]: ["expired"], ids["expiring"]: ["expiring"], ids["unused"]: ["unused"],
        ids["never"]: ["never_used"], ids["old_never"]: ["unused", "never_used"],
        ids["dup_old"]: ["overlapping"], ids["dup_new"]: ["overlapping"], ids["forever"]: []}


def test_rows_carry_the_interface_fields_and_days(tenant):
    adapter, ids = tenant
    rows = {row["id"]: row for row in report(adapter)["credentials"]}
    stale = rows[ids["unused"]]
    for field in ("service_principal", "service_principal_id", "name", "id", "client_id", "created_at",
                  "expires_at", "expires_in_days", "last_used_at", "days_unused", "flags"):
        assert field in stale
    assert (stale["service_principal"], stale["name"], stale["days_unused"], stale["expires_in_days"]) == \
        ("Ops <bot> | nightly", "stale", 45, 30)
    assert rows[ids["expired"]]["expires_in_days"] == -1
    assert rows[ids["old_never"]]["days_unused"] == 40  # counted from creation
    assert rows[ids["forever"]]["expires_in_days"] is None


def test_summary_counts_each_flag(tenant):
    adapter, dummy = tenant
    summary = report(adapter)["summary"]
    assert summary == {"expired": 1, "expiring": 1, "unused": 2, "never_used": 2, "unheld": 0, "overlapping": 2,
                       "broad": 0, "disabled": 0, "total": 9, "flagged": 7}


def test_thresholds_move_the_flags(tenant):
    adapter, ids = tenant
    flags = flags_by_id(report(adapter, expiring_within_days=60, unused_days=50))
    assert flags[ids["fine"]] == []  # 89 days left
    assert "expiring" in flags[ids["unused"]] and "unused" not in flags[ids["unused"]]


def test_an_expired_credential_never_overlaps_and_need_not_be_held(tenant):
    adapter, ids = tenant
    ci = adapter.principals[0]
    adapter.credential(ci, "gone", age_days=1, used_days_ago=0)  # the replacement of the expired "gone"
    result = report(adapter)
    assert flags_by_id(result)[ids["expired"]] == ["expired"]
    held = flags_by_id(credential_report(adapter, params(), lambda: NOW, held=lambda p, c: False))
    assert held[ids["expired"]] == ["expired"] and held[ids["fine"]] == ["unheld"]


def test_unheld_is_judged_only_with_a_store(tenant):
    adapter, ids = tenant
    asked = []

    def held(principal, credential):
        asked.append((principal["name"], credential["name"]))
        return credential["id"] != ids["fine"]

    result = credential_report(adapter, params(), lambda: NOW, held=held)
    assert flags_by_id(result)[ids["fine"]] == ["unheld"] and result["summary"]["unheld"] == 1
    assert ("Terraform CI", "fine") in asked and result["thresholds"]["store_checked"] is True
    assert report(adapter)["thresholds"]["store_checked"] is False


def test_requests_are_one_listing_of_principals_and_one_per_principal(tenant):
    adapter, dummy = tenant
    report(adapter)
    assert adapter.calls == ["principals", "sp1", "sp2", "sp3"]


def test_personal_keys_are_listed_on_request():
    adapter = ReportPlatform()
    adapter.credential(None, "laptop", age_days=1, used_days_ago=0)
    rows = report(adapter, include_personal=True)["credentials"]
    assert [(r["personal"], r["service_principal"], r["name"]) for r in rows] == [(True, None, "laptop")]
    assert report(adapter)["credentials"] == []


def test_orkes_judges_no_use_and_overlaps_nameless_keys():
    adapter = ReportPlatform()
    adapter.capabilities = replace(adapter.capabilities, platform="orkes", records_credential_use=False,
                                   has_personal_credentials=False)
    app = adapter.principal("worker")
    for dummy in range(2):
        adapter.credential(app, None, age_days=100, lifetime=0)
    result = report(adapter)
    assert [r["flags"] for r in result["credentials"]] == [["overlapping"], ["overlapping"]]
    assert [r["days_unused"] for r in result["credentials"]] == [None, None]
    with pytest.raises(ConfigError, match="include_personal works only on platform conductorone"):
        report(adapter, include_personal=True)


@pytest.mark.parametrize("overrides, message", [
    (dict(unused_days=0), "unused_days must be 1 or more, not 0"),
    (dict(expiring_within_days=-1), "expiring_within_days must be 0 or more"),
    (dict(dest="/no/such/folder/report.html"), "dest: the folder /no/such/folder does not exist"),
])
def test_bad_input_is_one_sentence_before_any_request(tenant, overrides, message):
    adapter, dummy = tenant
    with pytest.raises(ConfigError, match=message):
        report(adapter, **overrides)
    assert adapter.calls == []


def test_format_follows_dest_unless_given():
    assert report_format(params(dest="r.html")) == "html"
    assert report_format(params(dest="r.MD")) == "markdown"
    assert report_format(params(dest="r.txt")) == "json"
    assert report_format(params(dest="r.html", format="json")) == "json"


class Page(HTMLParser):
    """Counts table body rows and chart marks, and collects the text."""

    def __init__(self):
        super().__init__()
        self.in_body = False
        self.rows = []
        self.marks = []
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append(attrs.get("data-credential-id"))
        elif tag == "rect" and "mark" in (attrs.get("class") or "").split():
            self.marks.append(attrs.get("data-credential-id"))

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False

    def handle_data(self, data):
        self.text.append(data)


def test_html_has_one_row_and_one_chart_mark_per_credential_and_escapes_names(tenant):
    adapter, ids = tenant
    page = Page()
    page.feed(render_html(report(adapter)))
    assert sorted(page.rows) == sorted(ids.values()) and sorted(page.marks) == sorted(ids.values())
    assert "script" not in page.tags
    assert "Ops <bot> | nightly" in "".join(page.text)  # shown as text, not parsed as a tag
    assert "bot" not in page.tags


def test_markdown_escapes_pipes_and_has_one_line_per_credential(tenant):
    adapter, ids = tenant
    text = render_markdown(report(adapter))
    lines = [line for line in text.splitlines() if any(i in line for i in ids.values())]
    assert len(lines) == len(ids)
    assert "Ops &lt;bot&gt; \\| nightly" in text
    assert all(flag in text for flag in FLAGS)


@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_dest_is_written_atomically_with_mode_0600(tenant, tmp_path, fmt):
    adapter, dummy = tenant
    dest = tmp_path / ("report." + {"json": "json", "markdown": "md", "html": "html"}[fmt])
    dest.write_text("old")
    result = report(adapter, dest=str(dest))
    assert result["dest"] == str(dest) and result["format"] == fmt and result["changed"] is False
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert os.listdir(tmp_path) == [dest.name]
    if fmt == "json":
        assert json.loads(dest.read_text())["summary"]["total"] == 9


def test_judge_counts_expired_at_the_exact_moment():
    adapter = ReportPlatform()
    sp = adapter.principal("p")
    adapter.credential(sp, "edge", age_days=30, lifetime=30, used_days_ago=0)
    rows = judge([(sp, adapter.credentials[sp["id"]])], NOW)
    assert rows[0]["flags"] == ["expired"] and rows[0]["expires_in_days"] == 0


class ReadCountingStore(MemoryStore):
    """The shared in-memory store holding ``entries`` ({EntryKey: content}); each read noted in ``reads``."""

    def __init__(self, entries):
        super().__init__()
        self.reads = []
        for key, content in entries.items():
            self.put(key, content)

    def read(self, key):
        self.reads.append(key)
        return super().read(key)


def test_held_by_a_store_reads_each_entry_once(tenant):
    from ansible_collections.conductor.principals.plugins.module_utils.report import held_by
    from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey
    adapter, ids = tenant
    store = ReadCountingStore({
        EntryKey("conductorone", "Terraform CI", "fine"): {"credential_id": ids["fine"], "client_secret": "s1"},
        EntryKey("conductorone", "Ops <bot> | nightly", "dup"): {"credential_id": ids["dup_new"]},
        EntryKey("conductorone", "Ops <bot> | nightly", "stale"): {"credential_id": "an-older-one"},
    })
    result = credential_report(adapter, params(), lambda: NOW, held=held_by(store, "conductorone"))
    unheld = sorted(i for i, flags in flags_by_id(result).items() if "unheld" in flags)
    assert unheld == sorted([ids["unused"], ids["never"], ids["old_never"], ids["dup_old"], ids["expiring"],
                             ids["forever"]])  # not the expired one: it needs no secret
    assert len(store.reads) == len(set(store.reads)) == 3  # every entry of the platform once, all together
    assert "s1" not in json.dumps(result)


def test_a_report_with_a_vault_file_store_decrypts_it_twice_whatever_the_number_of_credentials(tmp_path, monkeypatch):
    """One decryption to list, one to read every entry: judging N credentials held is not N decryptions."""
    from ansible_collections.conductor.principals.plugins.module_utils.report import held_by
    from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
    from ansible_collections.conductor.principals.plugins.module_utils.stores import vault_file
    store = store_for({"type": "vault_file", "path": str(tmp_path / "s.vault"), "password": "pw"})
    adapter = ReportPlatform()
    held_ids = set()
    for n in range(40):
        principal = adapter.principal("app-%02d" % n)
        credential = adapter.credential(principal, "ci", used_days_ago=0)
        if n % 2:
            store.write(EntryKey("conductorone", principal["name"], "ci"), {"credential_id": credential["id"]})
            held_ids.add(credential["id"])
    decrypts = []
    load = vault_file.Store._load
    monkeypatch.setattr(vault_file.Store, "_load", lambda self, **kw: decrypts.append(1) or load(self, **kw))
    flags = flags_by_id(credential_report(adapter, params(), lambda: NOW, held=held_by(store, "conductorone")))
    assert {i for i, f in flags.items() if "unheld" not in f} == held_ids and len(flags) == 40
    assert len(decrypts) == 2


def test_held_by_a_store_finds_nameless_keys_among_the_principals_entries():
    from ansible_collections.conductor.principals.plugins.module_utils.report import held_by
    from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey
    adapter = ReportPlatform()
    adapter.capabilities = replace(adapter.capabilities, platform="orkes", records_credential_use=False)
    app = adapter.principal("worker")
    kept, loose = adapter.credential(app, None, lifetime=0), adapter.credential(app, None, lifetime=0)
    store = ReadCountingStore({EntryKey("orkes", "worker", "key"): {"credential_id": kept["id"]},
                               EntryKey("orkes", "other", "key"): {"credential_id": loose["id"]}})
    flags = flags_by_id(credential_report(adapter, params(), lambda: NOW, held=held_by(store, "orkes")))
    assert flags == {kept["id"]: ["overlapping"], loose["id"]: ["unheld", "overlapping"]}


class GrantingAdapter(ReportPlatform):
    """Principals that hold permissions (as on Orkes): one read of each one's grants."""
    capabilities = replace(ReportPlatform.capabilities, principal_settings=frozenset(("permissions",)))

    def __init__(self, grants):
        super().__init__()
        self.grants = grants

    def list_permissions(self, principal):
        self.calls.append("grants of " + principal["id"])
        return self.grants.get(principal["id"], [])


def test_grants_are_counted_per_principal_and_shown_in_every_format(tmp_path):
    adapter = GrantingAdapter({"sp1": [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]},
                                       {"type": "WORKFLOW_DEF", "id": "payments", "access": ["READ"]}]})
    worker = adapter.principal("worker | a")
    adapter.principal("idle")
    adapter.credential(worker, None, age_days=1, lifetime=0)
    result = report(adapter)
    assert result["permissions"] == [{"service_principal": "worker | a", "service_principal_id": "sp1", "grants": 2},
                                     {"service_principal": "idle", "service_principal_id": "sp2", "grants": 0}]
    assert [r["grants"] for r in result["credentials"]] == [2]
    assert adapter.calls.count("grants of sp1") == 1
    assert "per application: worker \\| a 2, idle 0." in render_markdown(result)
    assert "per application: worker | a 2, idle 0." in render_html(result)
    plain = report(ReportPlatform())
    assert "permissions" not in plain and "per application" not in render_markdown(plain)


# ---- the page a newcomer reads: urgency order, legend table, never-expiring, store named, mode ----------

def _ids_in_order(text, ids):
    positions = {name: text.index(credential_id) for name, credential_id in ids.items() if credential_id in text}
    return sorted(positions, key=positions.get)


def test_rows_are_sorted_by_urgency_on_both_pages(tenant):
    from ansible_collections.conductor.principals.plugins.module_utils.report import urgency_sorted
    adapter, ids = tenant
    result = report(adapter)
    ordered = [row["flags"] for row in urgency_sorted(result["credentials"])]
    firsts = [flags[0] if flags else "ok" for flags in ordered]
    rank = ["expired", "expiring", "unheld", "unused", "never_used", "overlapping", "ok"]
    assert [rank.index(min(flags, key=rank.index)) if flags else 6 for flags in ordered] == sorted(
        rank.index(min(flags, key=rank.index)) if flags else 6 for flags in ordered)
    assert firsts[0] == "expired" and firsts[-1] == "ok"
    table = render_markdown(result).split("| Service principal |")[1]
    order = _ids_in_order(table, ids)
    assert order[0] == "expired" and order.index("expiring") < order.index("unused") < order.index("fine")


def test_the_legend_is_a_table_and_a_never_expiring_credential_says_so(tenant):
    adapter, ids = tenant
    result = report(adapter)
    text = render_markdown(result)
    assert "| Flag | Set when |" in text and "| expired | past its expiry: it no longer works |" in text
    [forever] = [line for line in text.splitlines() if ids["forever"] in line]
    assert "| never | never |" in forever or "| never |" in forever
    page = render_html(result)
    assert '<table class="legend">' in page
    mark = page.split('data-credential-id="%s" ' % ids["forever"])[1]
    assert 'width="0.0"' in mark.split(">")[0] and "never expires" in mark.split("</text>")[0] + page


def test_the_page_names_the_store_it_checked(tenant, tmp_path):
    adapter, dummy = tenant
    store = {"type": "vault_file", "path": str(tmp_path / "ids.vault"), "password": "pw-not-shown"}
    result = credential_report(adapter, params(store=store), lambda: NOW)
    assert result["thresholds"]["store"] == "vault_file %s" % (tmp_path / "ids.vault")
    for page in (render_markdown(result), render_html(result)):
        assert "unheld judged against the vault_file %s store" % (tmp_path / "ids.vault") in page
        assert "pw-not-shown" not in page
    assert "the store was not checked" in render_markdown(report(adapter))


@pytest.mark.parametrize("mode, expected", [("0644", 0o644), (0o640, 0o640), ("600", 0o600), (None, 0o600)])
def test_dest_mode_for_a_page_a_web_server_serves(tenant, tmp_path, mode, expected):
    adapter, dummy = tenant
    dest = tmp_path / "report.html"
    report(adapter, dest=str(dest), mode=mode)
    assert stat.S_IMODE(os.stat(dest).st_mode) == expected


@pytest.mark.parametrize("mode, dest", [("0755", True), ("0666", True), ("rw-r--r--", True), (644, True),
                                        ("0644", False)])
def test_a_bad_mode_is_one_sentence_and_nothing_is_written(tenant, tmp_path, mode, dest):
    adapter, dummy = tenant
    target = tmp_path / "report.html"
    with pytest.raises(ConfigError) as err:
        report(adapter, dest=str(target) if dest else None, mode=mode)
    assert str(err.value).count(".") >= 1 and "mode" in str(err.value)
    assert not target.exists()


def test_on_a_pool_the_report_is_the_same_rows_in_listing_order_one_listing_per_principal(tenant):
    adapter, dummy = tenant
    alone = report(adapter)
    adapter.calls.clear()
    with parallel.Pool(4) as pool:
        pooled = credential_report(adapter, params(), lambda: NOW, server_url="https://t.example", pool=pool)
    assert pooled == alone
    assert adapter.calls[0] == "principals" and sorted(adapter.calls[1:]) == ["sp1", "sp2", "sp3"]


def test_on_a_pool_a_failed_listing_fails_the_report_with_its_sentence(tenant):
    adapter, dummy = tenant

    def refused(owner):
        raise ConductorError("Could not list the credentials of %s" % owner)
    adapter.list_credentials = refused
    with parallel.Pool(4) as pool, pytest.raises(ConductorError, match="Could not list the credentials of sp1"):
        credential_report(adapter, params(), lambda: NOW, pool=pool)
