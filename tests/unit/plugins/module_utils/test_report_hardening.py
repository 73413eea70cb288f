# -*- coding: utf-8 -*-
"""Issue 24, findings 5 and 8: hostile names and lone surrogates in every report format."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.report import credential_report, render_markdown
from ansible_collections.conductor.principals.tests.unit.helpers import NOW, ReportPlatform

HOSTILE = ["<script>alert(1)</script>", "line\r<img src=x onerror=alert(1)>", "a\u2028b\u2029c", "x | y \\ z\n# h",
           "&lt;b&gt; [link](javascript:alert(1)) `code` *em*", "lone \udc80 surrogate \ud800"]


def report(adapter, **options):
    params = dict(dict(expiring_within_days=14, unused_days=30, include_personal=False, dest=None, format=None),
                  **options)
    return credential_report(adapter, params, lambda: NOW, server_url="https://t.example")


@pytest.fixture
def hostile():
    adapter = ReportPlatform()
    for index, name in enumerate(HOSTILE):
        adapter.credential(adapter.principal(name), "cred-" + name, age_days=index)
    return adapter


def test_markdown_has_no_markup_and_one_table_row_per_credential(hostile):
    text = render_markdown(report(hostile))
    rows = [line for line in text.split("\n") if line.startswith("| ") and "cred-" in line]
    assert len(rows) == len(HOSTILE)
    assert not any(ch in text for ch in "<>\r\u2028\u2029\udc80\ud800")
    for row in rows:  # every cell separator is a bare pipe; escaped ones are \|
        assert row.replace("\\|", "").count("|") == 12  # 11 columns
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&amp;lt;b&amp;gt;" in text
    assert "\\[link\\](javascript:alert(1))" in text and "\\`code\\`" in text


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.mark.parametrize("fmt,suffix", [("json", "json"), ("markdown", "md"), ("html", "html")])
def test_every_format_survives_any_string_and_leaves_no_temporary_file(hostile, tmp_path, fmt, suffix):
    dest = tmp_path / ("report." + suffix)
    result = report(hostile, dest=str(dest), format=fmt)
    assert os.listdir(tmp_path) == [dest.name]
    text = dest.read_text(encoding="utf-8")
    if fmt == "json":
        names = {row["service_principal"] for row in json.loads(text)["credentials"]}
        assert set(HOSTILE) <= names  # lossless: JSON escapes a lone surrogate
    elif fmt == "html":
        page = Tags()
        page.feed(text)
        assert "script" not in page.tags and "img" not in page.tags
        assert "\ufffd" in text
    assert len(result["credentials"]) == len(HOSTILE)
