# -*- coding: utf-8 -*-
"""The broad-condition rule (module_utils/conditions.py): the table of conditions_table.yml, which
sandbox/tests/test_condition_pinning.py also runs through the sandbox's real CEL engine, and the reader of CEL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.conductor.principals.plugins.module_utils import conditions
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError

TABLE = yaml.safe_load(Path(__file__).with_name("conditions_table.yml").read_text(encoding="utf-8"))
ROWS = TABLE["conditions"]


def test_the_table_holds_at_least_40_conditions_pinned_and_broad():
    assert len(ROWS) >= 40
    assert {row["pinned"] for row in ROWS} == {True, False}


@pytest.mark.parametrize("row", ROWS, ids=["%s: %s" % (r["type"], r["cel"]) for r in ROWS])
def test_the_rule_pins_what_the_table_says(row):
    reason = conditions.broad_reason(row["cel"], row["type"], row.get("issuer"))
    assert (reason is None) is row["pinned"], reason


@pytest.mark.parametrize("condition, reason", [
    ("true", "the condition is true, so every token of the issuer is accepted"),
    ('claims.ref == "refs/heads/main"',
     'it does not pin one of claims.repository, claims.repository_owner, claims.repository_id, '
     'claims.repository_owner_id, claims.sub with == to a non-empty string, or with startsWith to a prefix that '
     'fixes the owner such as "acme/", so a GitHub Actions job of any repository can match it'),
    ('claims.repository == "acme/infra" ||  claims.ref == "refs/heads/main"',
     'its || branch claims.ref == "refs/heads/main" does not pin one of claims.repository'),
    ('claims.repository == "acme/infra" || (has(claims.sub))', "its || branch has(claims.sub) does not pin"),
    ('claims.repository == ', "the safety rule cannot read it as CEL (the condition ends where an operand should be)"),
])
def test_the_reason_names_the_branch_the_claims_and_the_stranger(condition, reason):
    assert conditions.broad_reason(condition, "github_actions").startswith(reason)


@pytest.mark.parametrize("kind, stranger, example", [
    ("gitlab_ci", "a GitLab CI job of any project", '"acme/"'),
    ("hcp_terraform", "an HCP Terraform run of any organisation", '"organization:acme:"'),
    ("spiffe", "any workload of the trust domain", '"acme/"'),
    ("custom", "any token of the issuer", '"acme/"'),
])
def test_the_reason_says_who_gets_in_on_each_type(kind, stranger, example):
    reason = conditions.broad_reason("has(claims.sub)", kind)
    assert reason.endswith("so %s can match it" % stranger) and example in reason


def test_a_broad_condition_is_refused_unless_allowed_and_then_returned_as_a_warning():
    with pytest.raises(ConfigError, match="too broad: it does not pin one of claims.repository.*allow_broad_condition"):
        conditions.check_broad('claims.ref == "refs/heads/main"', "github_actions")
    with pytest.raises(ConfigError, match="GitHub Actions job"):
        conditions.check_broad('claims.ref == "refs/heads/main"', "custom",
                               issuer_url=conditions.GITHUB_ISSUER + "/")
    assert conditions.check_broad("true", "custom", allow_broad=True).startswith("the condition is true")
    assert conditions.check_broad('claims.repository == "acme/infra"', "github_actions") is None


@pytest.mark.parametrize("issuer, kind", [
    ("https://token.actions.githubusercontent.com", "github_actions"),
    ("HTTPS://Token.Actions.GitHubUserContent.com/", "github_actions"),
    ("https://token.actions.githubusercontent.com/acme-enterprise", "github_actions"),
    ("https://gitlab.com", "gitlab_ci"),
    ("https://app.terraform.io/", "hcp_terraform"),
    ("https://gitlab.example.com", None),
    ("https://token.actions.githubusercontent.com.evil.example", None),
    (None, None),
])
def test_well_known_issuers_give_their_type(issuer, kind):
    assert conditions.issuer_type(issuer) == kind


def test_the_judged_type_is_the_issuers_then_the_providers_then_custom():
    assert conditions.judged_type("custom", "https://gitlab.com") == "gitlab_ci"
    assert conditions.judged_type("spiffe", "spiffe://prod.example.com") == "spiffe"
    assert conditions.judged_type(None, "https://idp.example.com") == "custom"


@pytest.mark.parametrize("prefix, claim, kind, fixes", [
    ("acme/", "repository", "github_actions", True),
    ("repo:acme/", "sub", "github_actions", True),
    ("project_path:acme/", "sub", "gitlab_ci", True),
    ("repo:acme", "sub", "github_actions", False),
    ("repo:", "sub", "github_actions", False),
    ("repo:/", "sub", "github_actions", False),
    ("/", "repository", "github_actions", False),
    ("organization:acme:", "sub", "hcp_terraform", True),
    ("organization:acme", "sub", "hcp_terraform", False),
    ("organization::", "sub", "hcp_terraform", False),
    ("acme/", "sub", "hcp_terraform", False),
    ("acme/", "terraform_organization_name", "hcp_terraform", True),
])
def test_a_prefix_fixes_the_owner_only_in_full(prefix, claim, kind, fixes):
    assert conditions.fixes_owner(prefix, claim, kind) is fixes


# ---- the reader of CEL ------------------------------------------------------------------------
@pytest.mark.parametrize("literal, value", [
    ('"a/b"', "a/b"),
    ("'a/b'", "a/b"),
    (r'"a\x2fb"', "a/b"),
    (r'"a\u002Fb"', "a/b"),
    (r'"a\U0000002fb"', "a/b"),
    (r'"a\057b"', "a/b"),
    (r'"a\"b\\"', 'a"b\\'),
    (r'r"a\x2fb"', r"a\x2fb"),
    ('"""a"b"""', 'a"b'),
    ("'''a'b'''", "a'b"),
])
def test_string_literals_are_read_as_cel_reads_them(literal, value):
    tree = conditions.parse("claims.x == " + literal)
    assert (tree.parts[1].kind, tree.parts[1].value) == ("string", value)


def test_bytes_literals_are_not_strings():
    assert conditions.parse('claims.x == b"a"').parts[1].kind == "bytes"


def test_the_reader_follows_cels_precedence():
    tree = conditions.parse('claims.a == "x" || claims.b == "y" && !claims.c || claims.d')
    assert tree.kind == "or" and [part.kind for part in tree.parts] == ["==", "and", "select"]
    assert [part.kind for part in tree.parts[1].parts] == ["==", "!"]
    ternary = conditions.parse("claims.a ? claims.b : claims.c || claims.d")
    assert ternary.kind == "?:" and ternary.parts[2].kind == "or"
    assert conditions.parse("1 + 2 * 3 == 7").parts[0].parts[1].kind == "*"


@pytest.mark.parametrize("condition", [
    'claims.groups.exists(g, g == "admins")',
    '{"a": [1, 2,], "b": {}}["a"].size() == 2',
    "google.protobuf.Duration{seconds: 5} == duration('5s')",
    ".claims.sub == 'x' && -1 < 0u && 1.5e3 > 0x1F",
    "claims.x in ['a', 'b'] // why",
])
def test_the_reader_reads_cel_it_does_not_judge(condition):
    assert conditions.parse(condition) is not None


@pytest.mark.parametrize("condition, where", [
    ("claims.x == #", "'#' at column 13 starts no CEL token"),
    ("claims.x == ", "the condition ends where an operand should be"),
    ("(claims.x", "expected ')' at column 10, found the end"),
    ("claims.x claims.y", "unexpected 'claims' at column 10"),
    (r'claims.x == "\q"', r"the escape \q is not CEL"),
    ("claims.", "expected a name at column 8"),
])
def test_what_is_not_cel_is_named_with_its_column(condition, where):
    with pytest.raises(conditions.Unreadable, match=re.escape(where)):
        conditions.parse(condition)
