# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safety rule of workload federation trusts: does a CEL condition let a stranger's token through?

A condition *pins* an identifying claim when it compares ``claims.x`` (or ``claims['x']``) with ``==`` to
a non-empty string literal, or with ``startsWith`` to a literal that fixes the owner in full. It is broad
unless every top-level ``||`` branch pins one through its ``&&`` terms. Which claims identify depends on
the provider's type, and a well-known issuer is judged by its own type whatever the provider declares.

The condition is read by a small tokenizer and recursive-descent parser of CEL's grammar (the collection
has no CEL library at run time); what it cannot read is judged broad, never pinned.
"""

from __future__ import annotations

import re

from .errors import ConfigError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# The issuers whose tokens come from one platform for everyone: the type they are judged by.
WELL_KNOWN_ISSUERS = {
    GITHUB_ISSUER: "github_actions",
    "https://gitlab.com": "gitlab_ci",
    "https://app.terraform.io": "hcp_terraform",
}

# The claims that name a token's owner on each platform; on any other type every claim does.
IDENTIFYING_CLAIMS = {
    "github_actions": ("repository", "repository_owner", "repository_id", "repository_owner_id", "sub"),
    "gitlab_ci": ("project_path", "namespace_path", "project_id", "namespace_id", "sub"),
    "hcp_terraform": ("terraform_organization_name", "terraform_organization_id", "sub"),
    "spiffe": ("sub",),
}
STRANGERS = {
    "github_actions": "a GitHub Actions job of any repository",
    "gitlab_ci": "a GitLab CI job of any project",
    "hcp_terraform": "an HCP Terraform run of any organisation",
    "spiffe": "any workload of the trust domain",
}


def issuer_type(issuer_url):
    """The type of a well-known issuer (GitHub's enterprise issuers included), or None."""
    issuer = str(issuer_url or "").strip().lower().rstrip("/")
    if issuer.startswith(GITHUB_ISSUER + "/"):
        return "github_actions"
    return WELL_KNOWN_ISSUERS.get(issuer)


def judged_type(provider_type, issuer_url=None):
    """The type a trust's condition is judged by: a well-known issuer's own, else the provider's."""
    return issuer_type(issuer_url) or provider_type or "custom"


# ---- reading CEL --------------------------------------------------------------------------
class Unreadable(Exception):
    """The text is not CEL this reader understands."""


_STRING = (r'''(?:[rR][bB]?|[bB][rR]?)?'''  # raw and bytes prefixes, then triple or single quotes
           r'''(?:"""(?:\\.|[^\\])*?"""|\'\'\'(?:\\.|[^\\])*?\'\'\'|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')''')
_TOKENS = re.compile(r'''
    (?P<space>\s+|//[^\n]*)
  | (?P<string>%s)
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[<>!+\-*/%%?:.,\[\](){}])
''' % _STRING, re.VERBOSE)
_ESCAPE = re.compile(r'''\\(?:([abfnrtv\\'"`?])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})'''
                     r'''|([0-3][0-7]{2})|(.))''', re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class Node:
    """One expression: ``kind`` (or, and, ==, !=, <, in, +, !, call, select, index, ident, string, ...),
    its ``parts``, a ``value`` (a name, a literal's value) and where it stands in the text."""

    def __init__(self, kind, parts=(), value=None, start=0, end=0):
        self.kind, self.parts, self.value, self.start, self.end = kind, list(parts), value, start, end


def _unescape(match):
    simple, hex2, hex4, hex8, octal, other = match.groups()
    if simple:
        return _SIMPLE_ESCAPES.get(simple, simple)
    if other is not None:
        raise Unreadable("the escape \\%s is not CEL" % other)
    return chr(int(hex2 or hex4 or hex8, 16) if octal is None else int(octal, 8))


def _string_value(text):
    """(kind, value) of a string literal's text: kind "string", or "bytes" (never equal to a claim's text)."""
    prefix = re.match(r"[rRbB]*", text).group()
    body = text[len(prefix):]
    quote = 3 if body[:3] in ('"""', "'''") else 1
    body = body[quote:-quote]
    if "r" not in prefix.lower():
        body = _ESCAPE.sub(_unescape, body)
    return ("bytes" if "b" in prefix.lower() else "string"), body


def tokenize(text):
    """[(kind, text, start)] of a CEL expression; Unreadable at the first character that starts no token."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKENS.match(text, position)
        if not match:
            raise Unreadable("%r at column %d starts no CEL token" % (text[position], position + 1))
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    """CEL's grammar (cel-spec, langdef.md), one method per rule, lowest precedence first."""

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    # -- tokens --
    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "", len(self.text))

    def take(self, *texts):
        """The next token if it is an operator or keyword among ``texts``, else None."""
        token = self.peek()
        if token[0] not in ("op", "name") or token[1] not in texts:
            return None
        self.at += 1
        return token

    def need(self, text):
        token = self.take(text)
        if token is None:
            dummy, found, start = self.peek()
            found = repr(found) if found else "the end"
            raise Unreadable("expected %r at column %d, found %s" % (text, start + 1, found))
        return token

    def node(self, kind, parts, value=None, start=None):
        start = parts[0].start if start is None else start
        end = self.tokens[self.at - 1][2] + len(self.tokens[self.at - 1][1])
        return Node(kind, parts, value, start, end)

    # -- rules --
    def parse(self):
        tree = self.expr()
        kind, found, start = self.peek()
        if kind != "end":
            raise Unreadable("unexpected %r at column %d" % (found, start + 1))
        return tree

    def expr(self):
        test = self.logical("||", self.conjunction)
        if self.take("?"):
            then = self.logical("||", self.conjunction)
            self.need(":")
            return self.node("?:", [test, then, self.expr()])
        return test

    def conjunction(self):
        return self.logical("&&", self.relation)

    def logical(self, operator, operand):
        parts = [operand()]
        while self.take(operator):
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return self.node("or" if operator == "||" else "and", parts)

    def relation(self):
        return self.binary(("==", "!=", "<", "<=", ">", ">=", "in"), self.addition)

    def addition(self):
        return self.binary(("+", "-"), self.multiplication)

    def multiplication(self):
        return self.binary(("*", "/", "%"), self.unary)

    def binary(self, operators, operand):
        left = operand()
        token = self.take(*operators)
        while token:
            left = self.node(token[1], [left, operand()])
            token = self.take(*operators)
        return left

    def unary(self):
        token = self.take("!", "-")
        if token:
            return self.node(token[1], [self.unary()], start=token[2])
        return self.member()

    def member(self):
        node = self.primary()
        while True:
            if self.take("."):
                name = self.name()
                if self.take("("):
                    node = self.node("call", [node] + self.arguments(")"), name)
                else:
                    node = self.node("select", [node], name)
            elif self.take("["):
                key = self.expr()
                self.need("]")
                node = self.node("index", [node, key])
            elif self.peek()[1] == "{" and _qualified(node):
                self.take("{")
                node = self.node("message", [node] + self.entries(), start=node.start)
            else:
                return node

    def name(self):
        kind, text, start = self.peek()
        if kind != "name":
            raise Unreadable("expected a name at column %d" % (start + 1))
        self.at += 1
        return text

    def arguments(self, closing):
        """Comma-separated expressions up to ``closing`` (a trailing comma allowed in lists)."""
        parts = []
        while not self.take(closing):
            parts.append(self.expr())
            if not self.take(","):
                self.need(closing)
                break
        return parts

    def entries(self):
        """``key: value`` pairs up to "}" (map and message literals), flattened."""
        parts = []
        while not self.take("}"):
            parts.append(self.expr())
            self.need(":")
            parts.append(self.expr())
            if not self.take(","):
                self.need("}")
                break
        return parts

    def primary(self):
        kind, text, start = self.peek()
        if kind == "end":
            raise Unreadable("the condition ends where an operand should be")
        self.at += 1
        if kind == "string":
            literal, value = _string_value(text)
            return self.node(literal, [], value, start)
        if kind == "number":
            return self.node("number", [], text, start)
        if kind == "name":
            if text in ("true", "false", "null"):
                return self.node(text, [], text, start)
            if text == "in":
                raise Unreadable("'in' at column %d has no left operand" % (start + 1))
            if self.take("("):
                return self.node("call", [Node("ident", [], None, start, start)] + self.arguments(")"), text, start)
            return self.node("ident", [], text, start)
        if text == "(":
            inner = self.expr()
            self.need(")")
            return inner
        if text == "[":
            return self.node("list", self.arguments("]"), None, start)
        if text == "{":
            return self.node("map", self.entries(), None, start)
        if text == ".":  # a name from the root scope: .claims
            return self.node("ident", [], self.name(), start)
        raise Unreadable("unexpected %r at column %d" % (text, start + 1))


def _qualified(node):
    """Whether ``node`` is a dotted name (a message type when "{" follows)."""
    while node.kind == "select":
        node = node.parts[0]
    return node.kind == "ident"


def parse(condition):
    """The tree of a CEL expression; Unreadable saying where it is not CEL this reader understands."""
    return _Parser(condition).parse()


# ---- the rule -------------------------------------------------------------------------------
def _claim(node):
    """The top-level claim ``node`` reads (claims.x or claims['x']), or None."""
    if node.kind in ("select", "index") and node.parts[0].kind == "ident" and node.parts[0].value == "claims":
        if node.kind == "select":
            return node.value
        key = node.parts[1]
        return key.value if key.kind == "string" else None
    return None


def _identifies(claim, kind):
    return claim is not None and claim in IDENTIFYING_CLAIMS.get(kind, (claim,))


def fixes_owner(prefix, claim, kind):
    """Whether ``startsWith(prefix)`` fixes the owner in full: a "/" after a non-empty owner ("acme/",
    "repo:acme/"), or for HCP Terraform's sub "organization:<name>:". "repo:acme" fixes nothing: repo:acme-evil/x
    starts with it."""
    if kind == "hcp_terraform" and claim == "sub":
        return re.match(r"organization:[^:]+:", prefix) is not None
    head, slash, _rest = prefix.partition("/")
    return bool(slash) and bool(head.rpartition(":")[2])


def pinned_claim(node, kind):
    """The identifying claim ``node`` pins (every way it can be true compares one), or None."""
    if node.kind == "and":
        return next((claim for claim in (pinned_claim(part, kind) for part in node.parts) if claim), None)
    if node.kind == "or":
        claims = [pinned_claim(part, kind) for part in node.parts]
        return claims[0] if all(claims) else None
    if node.kind == "==":
        for read, other in (node.parts, node.parts[::-1]):
            claim = _claim(read)
            if _identifies(claim, kind) and other.kind == "string" and other.value:
                return claim
    if node.kind == "call" and node.value == "startsWith" and len(node.parts) == 2:
        claim, prefix = _claim(node.parts[0]), node.parts[1]
        if _identifies(claim, kind) and prefix.kind == "string" and fixes_owner(prefix.value, claim, kind):
            return claim
    return None  # has(), !=, in, matches, another claim, anything under ! or ?: pin nothing


def _risk(kind):
    """(what must be pinned, who else gets in) for the messages."""
    needed = IDENTIFYING_CLAIMS.get(kind)
    example = '"organization:acme:"' if kind == "hcp_terraform" else '"acme/"'
    what = ("one of %s" % ", ".join("claims." + claim for claim in needed)) if needed else "a claim"
    how = "%s with == to a non-empty string, or with startsWith to a prefix that fixes the owner such as %s" % (
        what, example)
    return how, STRANGERS.get(kind, "any token of the issuer")


def broad_reason(condition, provider_type, issuer_url=None):
    """Why ``condition`` lets a stranger's token through on this provider, or None when every way it can be
    true pins an identifying claim."""
    kind = judged_type(provider_type, issuer_url)
    how, stranger = _risk(kind)
    text = str(condition or "").strip()
    try:
        tree = parse(text) if text else Node("true")
    except Unreadable as exc:
        return "the safety rule cannot read it as CEL (%s), so it cannot show that it pins %s" % (exc, how)
    if tree.kind == "true":
        return "the condition is true, so every token of the issuer is accepted"
    branches = tree.parts if tree.kind == "or" else [tree]
    loose = [branch for branch in branches if not pinned_claim(branch, kind)]
    if not loose:
        return None
    where = "its || branch %s" % text[loose[0].start:loose[0].end] if len(branches) > 1 else "it"
    return "%s does not pin %s, so %s can match it" % (where, how, stranger)


def check_broad(condition, provider_type, allow_broad=False, issuer_url=None):
    """The broad reason (a warning when ``allow_broad``); without ``allow_broad`` a broad condition is bad input."""
    reason = broad_reason(condition, provider_type, issuer_url)
    if reason and not allow_broad:
        raise ConfigError("The trust's condition is too broad: %s; narrow it, or set allow_broad_condition: true "
                          "if that is what you mean" % reason)
    return reason
