# -*- coding: utf-8 -*-
"""Workload federation: condition builders, the safety rule, the size limit, normalised comparison,
the updateMask and the plans of providers and trusts (pure functions; an in-memory adapter records calls)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.conductor.principals.plugins.module_utils import federation as fed
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.platforms import c1_federation as wire
from ansible_collections.conductor.principals.tests.unit.helpers import MemoryPlatform

GH = "https://token.actions.githubusercontent.com"


# ---- conditions -------------------------------------------------------------------------------
def test_github_form_builds_exact_claims():
    assert fed.github_condition({"repository": "acme/infra", "ref": "main"}) == \
        'claims.repository == "acme/infra" && claims.ref == "refs/heads/main"'
    assert fed.github_condition({"repository": "acme/infra", "ref": "refs/tags/v1", "environment": "prod",
                                 "event_name": "push", "workflow_ref": "acme/infra/.github/workflows/d.yml@refs/heads/main"}) == (
        'claims.repository == "acme/infra" && claims.ref == "refs/tags/v1" && claims.environment == "prod" && '
        'claims.event_name == "push" && claims.workflow_ref == "acme/infra/.github/workflows/d.yml@refs/heads/main"')


def test_gitlab_and_kubernetes_forms():
    assert fed.gitlab_condition({"project_path": "g/p", "ref": "main", "ref_protected": True, "environment": "e"}) == \
        'claims.project_path == "g/p" && claims.ref == "main" && claims.ref_protected == "true" && claims.environment == "e"'
    assert fed.gitlab_condition({"project_path": "g/p", "ref_protected": False}) == \
        'claims.project_path == "g/p" && claims.ref_protected == "false"'
    assert fed.kubernetes_condition({"namespace": "ci", "service_account": "deployer"}) == \
        'claims.sub == "system:serviceaccount:ci:deployer"'


def test_values_are_cel_string_literals():
    built = fed.github_condition({"repository": 'a/b" || true || "'})
    assert built == 'claims.repository == "a/b\\" || true || \\""'
    assert fed.broad_reason(built, "github_actions") is None  # the quote stays inside the literal


@pytest.mark.parametrize("params, message", [
    ({"github": {"repository": "infra"}}, "must be owner/name"),
    ({"github": {"ref": "main"}}, "github needs repository"),
    ({"gitlab": {"ref": "main"}}, "gitlab needs project_path"),
    ({"kubernetes": {"namespace": "ci"}}, "kubernetes needs service_account"),
    ({"condition": "true", "github": {"repository": "a/b"}}, "Give one condition form, not condition and github"),
    ({"condition": "claims.sub == '%s'" % ("x" * 1010)}, "C1 accepts at most 1024"),
])
def test_bad_condition_input(params, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        fed.build_condition(params)


def test_the_limit_counts_bytes_not_characters():
    ok = 'claims.sub == "%s"' % ("x" * (1024 - 16))
    assert fed.build_condition({"condition": ok}) == ok
    with pytest.raises(ConfigError, match="1025 bytes"):
        fed.build_condition({"condition": 'claims.sub == "%s"' % ("é" + "x" * (1024 - 17))})


# ---- the safety rule (its table: test_conditions.py) -------------------------------------------
def test_the_trust_is_judged_by_its_providers_issuer():
    memory = Memory()
    memory.providers = [provider(type="custom")]
    with pytest.raises(ConfigError, match="too broad.*GitHub Actions job of any repository"):
        fed.ensure_trust(memory, params(github=None, condition='claims.ref == "refs/heads/main"'))
    assert memory.writes == []


# ---- providers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("given, normal", [
    ("HTTPS://Token.Actions.GitHubUserContent.com/", GH),
    ("https://gitlab.example.com/sub/Path/", "https://gitlab.example.com/sub/Path"),
    ("spiffe://Prod.Example.com", "spiffe://prod.example.com"),
])
def test_issuer_normalised(given, normal):
    assert fed.normalise_issuer(given) == normal


@pytest.mark.parametrize("given", ["token.actions.githubusercontent.com", "ftp://x.example", "https://x.example/?a=1",
                                   "http://issuer.example.com", "http://10.0.0.5/oidc"])
def test_issuer_refused(given):
    with pytest.raises(ConfigError, match="issuer_url"):
        fed.normalise_issuer(given)


def provider(**over):
    base = {"id": "p1", "name": "GitHub", "issuer_url": GH, "type": "github_actions", "description": "",
            "enabled": True, "spiffe_bundle_endpoint_url": None}
    base.update(over)
    return base


def test_provider_plan():
    desired = fed.desired_provider({"issuer_url": GH + "/", "type": "github_actions", "name": "GitHub"})
    assert fed.plan_provider(None, desired).action == "create"
    assert fed.plan_provider(provider(), desired) == fed.ObjectPlan("none")
    renamed = dict(desired, name="GH", enabled=False)
    assert fed.plan_provider(provider(), renamed).changes == {"name": ("GitHub", "GH"), "enabled": (True, False)}
    with pytest.raises(ConfigError, match="type cannot change on the live provider p1 .type is github_actions, "
                                          "wanted custom.; set replace_on_change"):
        fed.plan_provider(provider(), dict(desired, type="custom"))
    assert fed.plan_provider(provider(), dict(desired, type="custom"), replace_on_change=True).action == "replace"
    assert fed.plan_provider(provider(), desired, state="absent").action == "delete"


def test_a_provider_made_disabled_is_disabled_after_its_create():
    off = fed.desired_provider({"issuer_url": GH, "type": "github_actions", "enabled": False})
    assert fed.plan_provider(None, off).disable_after_create is True
    assert fed.plan_provider(None, dict(off, enabled=None)).disable_after_create is False
    # A replacement keeps the state of the provider it replaces unless told otherwise.
    custom = dict(off, type="custom", enabled=None)
    assert fed.plan_provider(provider(enabled=False), custom, replace_on_change=True).disable_after_create is True
    assert fed.plan_provider(provider(), custom, replace_on_change=True).disable_after_create is False
    # An existing provider is disabled in place.
    assert fed.plan_provider(provider(), off) == fed.ObjectPlan("update", {"enabled": (True, False)})


def test_provider_type_and_spiffe_consistency():
    with pytest.raises(ConfigError, match="spiffe_bundle_endpoint_url applies only to type spiffe"):
        fed.desired_provider({"issuer_url": GH, "spiffe_bundle_endpoint_url": "https://b"})
    with pytest.raises(ConfigError, match="does not fit type spiffe"):
        fed.desired_provider({"issuer_url": GH, "type": "spiffe"})


@pytest.mark.parametrize("issuer, kind", [
    (GH, "github_actions"), ("https://gitlab.com/", "gitlab_ci"), ("https://app.terraform.io", "hcp_terraform"),
    ("https://gitlab.example.com", "custom"), ("http://127.0.0.1:8080/oidc", "custom"),
    ("http://localhost/oidc", "custom"), ("http://[::1]:9000", "custom"),
])
def test_a_well_known_issuer_gives_the_providers_type_when_none_is_given(issuer, kind):
    assert fed.desired_provider({"issuer_url": issuer})["type"] == kind
    assert fed.desired_provider({"issuer_url": issuer, "type": "custom"})["type"] == "custom"


def test_without_issuer_or_type_the_type_is_not_managed():
    assert fed.desired_provider({"name": "GitHub"})["type"] is None
    assert fed.plan_provider(provider(), fed.desired_provider({"name": "GitHub"})).action == "none"


def test_find_provider_by_issuer_name_or_id():
    providers = [provider(), provider(id="p2", name="GitLab", issuer_url="https://gitlab.com", type="gitlab_ci")]
    assert fed.find_provider(providers, "p2")["id"] == "p2"
    assert fed.find_provider(providers, "HTTPS://token.actions.githubusercontent.com/")["id"] == "p1"
    assert fed.find_provider(providers, "GitLab")["id"] == "p2"
    assert fed.find_provider(providers, "nope") is None


# ---- wire shapes: the updateMask names only what differs ------------------------------------------
def test_trust_update_body_names_only_changes():
    body = wire.trust_update_body({"client_id": "fox-1@h/wfe"}, {"condition": "claims.sub == \"x\"", "enabled": False})
    assert body == {"trust": {"clientId": "fox-1@h/wfe", "conditionExpression": "claims.sub == \"x\"",
                              "disabled": True}, "updateMask": "conditionExpression,disabled"}
    with pytest.raises(ValueError):
        wire.trust_update_body({"client_id": "x"}, {"provider_id": "p2"})


def test_trust_search_body_holds_only_the_filters_given():
    assert wire.trust_search() == {}
    assert wire.trust_search("p1") == {"providerId": "p1"}
    assert wire.trust_search(principal_id="sp1") == {"servicePrincipalId": "sp1"}
    assert wire.trust_search("p1", "sp1") == {"providerId": "p1", "servicePrincipalId": "sp1"}


def test_the_c1_adapter_searches_trusts_with_the_filters_given_and_reads_every_page():
    from ansible_collections.conductor.principals.plugins.module_utils.platforms.c1 import C1Adapter

    class Searching(object):
        def __init__(self):
            self.searches = []

        def paginate(self, path, what, search=None, **kwargs):
            self.searches.append((path, search))
            return iter([{"clientId": "fox-1@h/wfe", "servicePrincipalId": "sp1", "providerId": "p1",
                          "displayName": "main", "disabled": True}])

    client = Searching()
    found = C1Adapter(client).search_trusts(provider_id="p1")
    assert [(t["client_id"], t["service_principal_id"], t["enabled"]) for t in found] == [("fox-1@h/wfe", "sp1", False)]
    assert client.searches == [("/api/v1/search/workload_federation_trusts", {"providerId": "p1"})]


def test_provider_wire_round_trip():
    body = wire.provider_create_body({"issuer_url": GH, "name": None, "type": "github_actions"})
    assert body == {"issuerUrl": GH, "displayName": GH, "description": "",
                    "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_GITHUB_ACTIONS", "oidc": {}}
    raw = dict(body, id="p1", disabled=True)
    assert wire.provider(raw)["type"] == "github_actions" and wire.provider(raw)["enabled"] is False
    assert wire.provider_update_body({"id": "p1"}, {"spiffe_bundle_endpoint_url": "https://b/keys"}) == {
        "provider": {"id": "p1", "spiffe": {"bundleEndpointUrl": "https://b/keys"}},
        "updateMask": "spiffe.bundleEndpointUrl"}


def test_token_test_steps_in_order_without_the_token():
    raw = {"overallResult": False,
           "celEvaluation": {"stepName": "CEL evaluation", "passed": False, "detail": "false",
                             "expected": "true", "actual": "false"},
           "jwtDecode": {"stepName": "JWT decode", "passed": True, "detail": "eyJabc.eyJdef.sig decoded"},
           "cidrCheck": {"stepName": "CIDR check", "skipped": True}}
    result = wire.token_test(raw)
    assert [s["name"] for s in result["steps"]] == ["JWT decode", "CEL evaluation", "CIDR check"]
    assert "eyJ" not in json.dumps(result)
    assert result["steps"][1]["message"] == "false (expected true, got false)"
    assert [s["name"] for s in fed.failing_steps(result)] == ["CEL evaluation"]


# ---- trusts, applied through an in-memory adapter ------------------------------------------------
class Memory(MemoryPlatform):
    """MemoryPlatform with C1's providers and trusts: records every write; test-cel answers from a table of
    (expression, claims) -> matched."""

    def __init__(self, cel=None):
        super().__init__()
        self.providers = [provider()]
        self.principal("deploy")  # sp1
        self.trusts = []
        self.cel = cel or {}
        self.trust_reads = []  # ("list", principal) or ("search", provider, principal), in order

    def list_providers(self):
        return [dict(p) for p in self.providers]

    def list_trusts(self, pid):
        self.trust_reads.append(("list", pid))
        return [dict(t) for t in self.trusts if t["service_principal_id"] == pid]

    def search_trusts(self, provider_id=None, principal_id=None):
        self.trust_reads.append(("search", provider_id, principal_id))
        return [dict(t) for t in self.trusts if provider_id in (None, t["provider_id"])
                and principal_id in (None, t["service_principal_id"])]

    def resolve_role_ids(self, names_or_ids):
        return sorted({"role-" + n for n in names_or_ids})

    def create_trust(self, pid, desired):
        self.writes.append(("create", desired["name"]))
        trust = dict(desired, client_id="fox-%d@h/wfe" % len(self.writes), enabled=True, service_principal_id=pid)
        self.trusts.append(trust)
        return dict(trust)

    def update_trust(self, current, changes):
        self.writes.append(("patch", wire.trust_update_body(current, changes)["updateMask"]))
        for trust in self.trusts:
            if trust["client_id"] == current["client_id"]:
                trust.update(changes)
                return dict(trust)
        raise AssertionError("no such trust")

    def delete_trust(self, trust):
        self.writes.append(("delete", trust["client_id"]))
        self.trusts = [t for t in self.trusts if t["client_id"] != trust["client_id"]]

    def create_provider(self, desired):
        self.writes.append(("create provider", desired["issuer_url"]))
        made = dict(desired, id="p%d" % len(self.writes), enabled=True)
        self.providers.append(made)
        return dict(made)

    def update_provider(self, current, changes):
        self.writes.append(("patch provider", wire.provider_update_body(current, changes)["updateMask"]))
        found = next(p for p in self.providers if p["id"] == current["id"])
        found.update(changes)
        return dict(found)

    def delete_provider(self, prov):
        self.writes.append(("delete provider", prov["id"]))
        self.providers = [p for p in self.providers if p["id"] != prov["id"]]

    def test_cel(self, expression, claims):
        return {"matched": self.cel[json.dumps(claims, sort_keys=True)], "error": None}


def params(**over):
    base = {"service_principal": "deploy", "name": "main", "provider": GH,
            "github": {"repository": "acme/infra", "ref": "main"}, "state": "present"}
    base.update(over)
    return base


def test_trust_created_then_rerun_writes_nothing():
    memory = Memory()
    first = fed.ensure_trust(memory, params())
    assert first["changed"] and first["trust"]["condition"] == \
        'claims.repository == "acme/infra" && claims.ref == "refs/heads/main"'
    again = fed.ensure_trust(memory, params())
    assert not again["changed"] and memory.writes == [("create", "main")]


def test_changed_condition_is_one_patch_on_the_same_client_id():
    memory = Memory()
    client_id = fed.ensure_trust(memory, params())["trust"]["client_id"]
    result = fed.ensure_trust(memory, params(github={"repository": "acme/infra", "ref": "release"},
                                             allowed_cidrs=["10.0.0.5/24"]))
    assert result["trust"]["client_id"] == client_id
    assert memory.writes[1:] == [("patch", "conditionExpression,allowSourceCidrs")]
    assert not fed.ensure_trust(memory, params(github={"repository": "acme/infra", "ref": "release"},
                                               allowed_cidrs=["10.0.0.0/24"]))["changed"]


def test_check_mode_writes_nothing_and_predicts():
    memory = Memory()
    result = fed.ensure_trust(memory, params(), check_mode=True)
    assert result["changed"] and result["trust"]["client_id"] is None and memory.writes == []


def test_a_wrong_sample_fails_before_any_write():
    claims = {"repository": "acme/infra", "ref": "refs/heads/dev"}
    memory = Memory(cel={json.dumps(claims, sort_keys=True): False})
    with pytest.raises(ConfigError, match=r"tests\[0\]: the condition gave false for these claims, expected true"):
        fed.ensure_trust(memory, params(tests=[{"claims": claims, "expect": True}]))
    assert memory.writes == []


def test_broad_trust_refused_before_any_write():
    memory = Memory()
    with pytest.raises(ConfigError, match="too broad"):
        fed.ensure_trust(memory, params(github=None, condition='claims.ref == "refs/heads/main"'))
    result = fed.ensure_trust(memory, params(github=None, condition="claims.ref == \"refs/heads/main\"",
                                             allow_broad_condition=True))
    assert result["changed"] and "broad" in result["warnings"][0]


def test_provider_cannot_change_without_replace():
    memory = Memory()
    memory.providers.append(provider(id="p2", name="Other", issuer_url="https://other.example", type="custom"))
    first = fed.ensure_trust(memory, params())
    with pytest.raises(ConfigError, match="The provider of trust fox-1@h/wfe cannot change"):
        fed.ensure_trust(memory, params(provider="Other"))
    replaced = fed.ensure_trust(memory, params(provider="Other", replace_on_change=True))
    assert replaced["trust"]["client_id"] != first["trust"]["client_id"]
    assert memory.writes[-1] == ("delete", first["trust"]["client_id"])


def test_disabled_at_creation_is_create_then_patch():
    memory = Memory()
    fed.ensure_trust(memory, params(enabled=False))
    assert memory.writes == [("create", "main"), ("patch", "disabled")]
    assert fed.plan_trust(None, {"condition": "true", "enabled": False}, "p1").disable_after_create is True
    assert fed.plan_trust(None, {"condition": "true"}, "p1").disable_after_create is False


def refused(what):
    def call(*_args):
        raise ConductorError("Could not %s: the API refused it" % what, status=500)
    return call


def test_a_trust_whose_disable_is_refused_is_deleted_again():
    memory = Memory()
    memory.update_trust = refused("update trust x")
    with pytest.raises(ConductorError) as caught:
        fed.ensure_trust(memory, params(enabled=False))
    assert str(caught.value) == ("The new trust 'main' (fox-1@h/wfe) could not be disabled (the API refused it), "
                                 "so its create was undone: it was deleted again (HTTP 500).")
    assert memory.writes == [("create", "main"), ("delete", "fox-1@h/wfe")] and memory.trusts == []


def test_a_trust_neither_disabled_nor_deleted_is_named_as_live():
    memory = Memory()
    memory.update_trust = refused("update trust x")
    memory.delete_trust = refused("delete trust x")
    with pytest.raises(ConductorError) as caught:
        fed.ensure_trust(memory, params(enabled=False))
    assert str(caught.value) == ("The new trust 'main' (fox-1@h/wfe) could not be disabled (the API refused it "
                                 "(HTTP 500)) nor deleted again (the API refused it (HTTP 500)), so it is live: "
                                 "delete it (state: absent).")


def test_a_provider_made_disabled_is_created_then_disabled_and_its_rerun_writes_nothing():
    memory = Memory()
    memory.providers = []
    options = {"issuer_url": GH, "type": "github_actions", "enabled": False}
    made = fed.ensure_provider(memory, options)
    assert made["provider"]["enabled"] is False
    assert memory.writes == [("create provider", GH), ("patch provider", "disabled")]
    assert not fed.ensure_provider(memory, options)["changed"] and len(memory.writes) == 2


def test_a_provider_whose_disable_is_refused_is_deleted_again():
    memory = Memory()
    memory.providers = []
    memory.update_provider = refused("update federation provider p1")
    with pytest.raises(ConductorError, match=r"The new provider '.*' \(p1\) could not be disabled \(the API refused "
                                             r"it\), so its create was undone"):
        fed.ensure_provider(memory, {"issuer_url": GH, "type": "github_actions", "enabled": False})
    assert memory.writes == [("create provider", GH), ("delete provider", "p1")] and memory.providers == []


# ---- text that is not Unicode ---------------------------------------------------------------------
LONE = "\udc80"


@pytest.mark.parametrize("options, field", [
    ({"github": {"repository": "acme/infra" + LONE}}, "github.repository"),
    ({"kubernetes": {"namespace": "ns", "service_account": LONE}}, "kubernetes.service_account"),
    ({"condition": 'claims.sub == "%s"' % LONE}, "condition"),
    ({"passthrough_claims": ["actor", LONE]}, "passthrough_claims[1]"),
    ({"tests": [{"claims": {"repository" + LONE: "x"}, "expect": True}]}, "tests[0].claims"),
    ({"name": LONE}, "name"),
])
def test_a_lone_surrogate_is_refused_naming_its_field_before_any_write(options, field):
    memory = Memory()
    trust = params(**options)
    if "github" not in options:
        trust["github"] = None if set(options) & {"kubernetes", "condition"} else trust["github"]
    with pytest.raises(ConfigError) as caught:
        fed.ensure_trust(memory, trust)
    assert str(caught.value).startswith(field + ": holds a lone surrogate (U+DC80), which is not Unicode text")
    assert LONE not in str(caught.value) and memory.writes == []


def test_a_lone_surrogate_in_a_provider_field_is_refused():
    with pytest.raises(ConfigError, match="^description: holds a lone surrogate"):
        fed.ensure_provider(Memory(), {"issuer_url": GH, "type": "github_actions", "description": "x" + LONE})
    assert fed.check_text({"name": "\u00e9\U0001f600", "github": {"repository": "a/b"}}, fed.TRUST_TEXT) is None


def test_provider_in_use_is_not_removed():
    memory = Memory()
    fed.ensure_trust(memory, params())
    memory.trust_reads = []
    with pytest.raises(ConfigError, match=r"cannot be removed: 1 trust uses it \(deploy/main\)"):
        fed.ensure_provider(memory, {"issuer_url": GH, "state": "absent", "type": "custom"})
    assert ("delete provider", "p1") not in memory.writes
    assert memory.trust_reads == [("search", "p1", None)]


def test_a_provider_in_use_by_a_trust_of_any_principal_is_named_from_one_search():
    memory = Memory()
    for name in ("build", "release"):
        memory.principal(name)
    fed.ensure_trust(memory, params(service_principal="release", name="ship"))
    fed.ensure_trust(memory, params(service_principal="build", name="ci"))
    memory.trust_reads = []
    assert fed.trusts_using(memory, "p1") == ["build/ci", "release/ship"]
    assert fed.trusts_using(memory, "no-such-provider") == []
    assert memory.trust_reads == [("search", "p1", None), ("search", "no-such-provider", None)]


def test_trust_info_lists_one_principal_or_searches_every_principal():
    memory = Memory()
    memory.principal("build")
    fed.ensure_trust(memory, params(name="main"))
    fed.ensure_trust(memory, params(service_principal="build", name="main"))
    fed.ensure_trust(memory, params(service_principal="build", name="nightly"))
    memory.trust_reads = []
    every = fed.trust_info(memory, {})["trusts"]
    assert sorted((t["service_principal_id"], t["name"]) for t in every) == [
        ("sp1", "main"), ("sp2", "main"), ("sp2", "nightly")]
    assert [t["service_principal_id"] for t in fed.trust_info(memory, {"name": "main"})["trusts"]] == ["sp1", "sp2"]
    assert memory.trust_reads == [("search", None, None)] * 2
    memory.trust_reads = []
    one = fed.trust_info(memory, {"service_principal": "build", "name": "nightly"})["trusts"]
    assert [t["name"] for t in one] == ["nightly"] and memory.trust_reads == [("list", "sp2")]


def test_token_test_failure_names_the_step():
    memory = Memory()
    memory.test_token = lambda trust, token, source_ip=None: {"matched": False, "steps": [
        {"name": "Issuer match", "passed": True, "skipped": False, "message": ""},
        {"name": "CEL evaluation", "passed": False, "skipped": False, "message": "condition is false"}]}
    with pytest.raises(ConductorError, match="CEL evaluation: condition is false") as caught:
        fed.ensure_trust(memory, params(test_token="eyJ.a.b"))
    assert caught.value.to_dict()["changed"] is True
    assert caught.value.to_dict()["token_test"]["matched"] is False


def test_test_token_source_ip_goes_to_the_token_test():
    memory = Memory()
    asked = []
    memory.test_token = lambda trust, token, source_ip=None: asked.append(source_ip) or {"matched": True, "steps": [
        {"name": "Source IP check", "passed": True, "skipped": False, "message": ""}]}
    fed.ensure_trust(memory, params(test_token="eyJ.a.b", test_token_source_ip=" 10.0.0.5 "))
    fed.ensure_trust(memory, params(test_token="eyJ.a.b"))
    assert asked == ["10.0.0.5", None]


@pytest.mark.parametrize("extra, message", [
    ({"test_token": "eyJ.a.b", "test_token_source_ip": "10.0.0.300"}, "test_token_source_ip: '10.0.0.300' is not an"),
    ({"test_token_source_ip": "10.0.0.5"}, "test_token_source_ip needs test_token"),
])
def test_a_wrong_source_ip_is_refused_before_any_write(extra, message):
    memory = Memory()
    with pytest.raises(ConfigError, match=message):
        fed.ensure_trust(memory, params(**extra))
    assert memory.writes == []
    assert fed.check_source_ip("2001:db8::/64") == "2001:db8::/64"


def test_duplicate_trust_names_listed():
    with pytest.raises(ConductorError, match="2 trusts of this service principal are named 'x'"):
        fed.find_trust([{"name": "x", "client_id": "a"}, {"name": "x", "client_id": "b"}], "x")
    assert fed.find_trust([{"name": "x", "client_id": "fox-1@h/wfe"}], client_id="fox-1")["name"] == "x"


def test_report_rows_of_trusts_flag_broad_and_disabled():
    memory = Memory()
    fed.ensure_trust(memory, params())
    fed.ensure_trust(memory, params(name="any", github=None, condition='claims.ref == "refs/heads/main"',
                                    allow_broad_condition=True, enabled=False))
    rows = fed.trust_rows(memory, memory.principals)
    assert [(r["kind"], r["name"], r["flags"]) for r in rows] == [
        ("trust", "main", []), ("trust", "any", ["broad", "disabled"])]
    assert rows[0]["expires_at"] is None and rows[0]["client_id"] == rows[0]["id"]


def test_report_rows_of_the_trusts_of_many_principals_come_from_one_search():
    memory = Memory()
    for n in range(2, 6):
        memory.principal("svc-%d" % n)
    for name in ("svc-5", "deploy", "svc-3"):
        fed.ensure_trust(memory, params(service_principal=name, name="t-" + name))
    memory.trust_reads = []
    principals = [p for p in memory.principals if p["name"] != "svc-3"]  # the report's principals only
    rows = fed.trust_rows(memory, principals)
    assert [(r["service_principal"], r["name"]) for r in rows] == [("deploy", "t-deploy"), ("svc-5", "t-svc-5")]
    assert memory.trust_reads == [("search", None, None)]


# ---- the role's planning ---------------------------------------------------------------------------
def test_federation_plan_checks_the_providers_and_flattens_them():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.conductor.principals.plugins.plugin_utils.federation_role import federation_plan
    plan = federation_plan([{"issuer_url": GH, "type": "github_actions", "name": None}])
    assert plan == {"providers": [{"issuer_url": GH, "type": "github_actions"}], "platform": "conductorone"}
    with pytest.raises(AnsibleFilterError, match="names the issuer .* more than once"):
        federation_plan([{"issuer_url": GH}, {"issuer_url": GH + "/"}])


def test_federation_plan_judges_the_trusts_of_the_principals_by_the_safety_rule():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.conductor.principals.plugins.plugin_utils.federation_role import federation_plan
    providers = [{"issuer_url": GH, "name": "GitHub"}, {"issuer_url": "https://idp.example.com", "type": "custom"}]

    def principals(provider, condition, **extra):
        return [{"name": "deployer", "trusts": [dict({"name": "t", "provider": provider, "condition": condition},
                                                     **extra)]}]
    broad = 'claims.ref == "refs/heads/main"'
    for provider in ("GitHub", GH + "/", "https://gitlab.com"):  # by name, by issuer, a well-known issuer unlisted
        with pytest.raises(AnsibleFilterError, match="principal 'deployer', trust 't': The trust's condition is too "
                                                     "broad: it does not pin one of claims"):
            federation_plan(providers, principals(provider, broad))
    federation_plan(providers, principals("https://idp.example.com", broad))  # custom: any claim identifies
    with pytest.raises(AnsibleFilterError, match="the condition is true"):
        federation_plan(providers, principals("p-unknown-id", "true"))  # an unknown provider: the rule every type has
    federation_plan(providers, principals("GitHub", broad, allow_broad_condition=True))
    federation_plan(providers, principals("GitHub", broad, state="absent"))
    gone = dict(principals("GitHub", "true")[0], state="absent")
    federation_plan(providers, [gone])
    federation_plan(providers, principals("GitHub", None, github={"repository": "acme/infra"}))
