"""Workload federation: providers, trusts (updateMask PATCH), TestToken, test-cel, the exchange, and the
sandbox's GitHub- and GitLab-shaped OIDC tokens. Every answer is checked against the OpenAPI schemas."""

import json

import pytest
import requests
from jsonschema import Draft202012Validator

from conductor_sandbox import validation
from conftest import admin_headers, c1_call, token_for

SP = "/api/v1/service_principals"
PROVIDERS = "/api/v1/workload_federation/providers"
TRUSTS = SP + "/{service_principal_id}/trusts"
TRUST = TRUSTS + "/{client_id}"
TEST_CEL = "/api/v1/workload_federation/test-cel"
SEARCH_TRUSTS = "/api/v1/search/workload_federation_trusts"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT = "urn:ietf:params:oauth:token-type:jwt"
GITHUB = "https://token.actions.githubusercontent.com"
MAIN_OF_INFRA = 'claims.repository == "acme/infra" && claims.ref == "refs/heads/main"'


def conforms(method, template, body):
    schema = validation.response_schema(method, template)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
    assert not errors, errors
    return body


@pytest.fixture
def fed(sbx):
    """The sandbox with one admin token, a principal and helpers."""
    class Fed(object):
        headers = admin_headers(sbx)
        server = sbx

        def call(self, method, path, expect=200, template=None, **kwargs):
            body = c1_call(sbx, method, path, self.headers, expect=expect, **kwargs)
            if template and expect == 200:
                conforms(method, template, body)
            return body

        def provider(self, issuer=None, kind="CUSTOM", **fields):
            body = dict({"displayName": "ci", "issuerUrl": issuer or sbx.base + "/_sandbox/oidc",
                         "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_" + kind, "oidc": {}}, **fields)
            return self.call("POST", PROVIDERS, json=body, template=PROVIDERS)["provider"]

        def principal(self, name="federated"):
            return self.call("POST", SP, json={"displayName": name})["servicePrincipal"]

        def trust(self, sp_id, provider_id, condition=MAIN_OF_INFRA, **fields):
            body = dict({"providerId": provider_id, "displayName": "main", "conditionExpression": condition},
                        **fields)
            return self.call("POST", TRUSTS.format(service_principal_id=sp_id), json=body,
                             template=TRUSTS)["trust"]

        def oidc(self, **values):
            return sbx.control("POST", "/oidc/token", json=values)

        def exchange(self, client_id, subject):
            return requests.post(sbx.base + "/auth/v1/token", timeout=10, data={
                "grant_type": EXCHANGE, "client_id": client_id, "subject_token": subject,
                "subject_token_type": JWT})

        def test_token(self, trust, subject, **fields):
            path = TRUST.format(service_principal_id=trust["servicePrincipalId"], client_id=trust["clientId"])
            return self.call("POST", path + "/test", json=dict({"subjectToken": subject}, **fields),
                             template=TRUST + "/test")

    return Fed()


# ---- providers ----------------------------------------------------------------------------

def test_provider_crud_in_the_documented_shapes(fed):
    made = fed.provider(GITHUB, "GITHUB_ACTIONS", description="GitHub")
    assert made["issuerUrl"] == GITHUB and made["disabled"] is False and made["oidc"] == {}
    one = PROVIDERS + "/" + made["id"]
    assert fed.call("GET", one, template=PROVIDERS + "/{id}")["provider"] == made
    listed = fed.call("GET", PROVIDERS, template=PROVIDERS)["list"]
    assert [p["id"] for p in listed] == [made["id"]]
    changed = fed.call("PATCH", one, template=PROVIDERS + "/{id}", json={
        "provider": {"displayName": "gha", "description": "ignored: not in the mask", "disabled": True},
        "updateMask": "displayName,disabled"})["provider"]
    assert (changed["displayName"], changed["disabled"], changed["description"]) == ("gha", True, "GitHub")
    fed.call("DELETE", one, json={}, template=PROVIDERS + "/{id}")
    fed.call("GET", one, expect=404)


def test_one_provider_per_normalised_issuer(fed):
    fed.provider("https://GitLab.Example.COM/", "GITLAB_CI")
    for same in ("https://gitlab.example.com", "HTTPS://gitlab.example.com//", "https://GITLAB.example.com/"):
        answer = fed.call("POST", PROVIDERS, expect=409, json={
            "issuerUrl": same, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM", "oidc": {}})
        assert "already exists" in answer["message"]
    assert fed.call("GET", PROVIDERS)["list"][0]["issuerUrl"] == "https://gitlab.example.com"
    # The path is part of the issuer (case kept): another path is another provider.
    assert fed.provider("https://gitlab.example.com/Group")["issuerUrl"] == "https://gitlab.example.com/Group"


@pytest.mark.parametrize("body, words", [
    ({"issuerUrl": "https://x.example.com", "oidc": {}}, "wellKnownProvider is required"),
    ({"issuerUrl": "https://x.example.com", "oidc": {},
      "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_UNSPECIFIED"}, "wellKnownProvider is required"),
    ({"issuerUrl": "http://x.example.com", "oidc": {}, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"},
     "https://"),
    ({"issuerUrl": "https://x.example.com", "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"},
     "oidc settings"),
    ({"issuerUrl": "https://gitlab.com", "oidc": {}, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_GITHUB_ACTIONS"},
     GITHUB),
    ({"issuerUrl": "https://x.example.com", "oidc": {}, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_SPIFFE"},
     "spiffe://"),
    ({"issuerUrl": "spiffe://prod.example.com", "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_SPIFFE",
      "spiffe": {}}, "bundleEndpointUrl"),
    ({"issuerUrl": "not a url", "oidc": {}, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"},
     "absolute URL"),
    ({"issuerUrl": "https://x.example.com", "oidc": {"audience": "x"},
      "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"}, "invalid request"),
    ({"issuerUrl": "https://x.example.com", "oidc": {}, "disabled": True,
      "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM"}, "invalid request"),  # not a create field
])
def test_bad_provider_bodies_are_refused_with_one_sentence(fed, body, words):
    answer = fed.call("POST", PROVIDERS, expect=400, json=body)
    assert words in answer["message"]
    assert fed.call("GET", PROVIDERS)["list"] == []


def test_spiffe_provider_and_its_mutable_bundle_url(fed):
    made = fed.call("POST", PROVIDERS, json={
        "issuerUrl": "spiffe://Prod.Example.com", "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_SPIFFE",
        "spiffe": {"bundleEndpointUrl": "https://spire.example.com/keys"}}, template=PROVIDERS)["provider"]
    assert made["issuerUrl"] == "spiffe://prod.example.com" and made["oidc"] is None
    one = PROVIDERS + "/" + made["id"]
    changed = fed.call("PATCH", one, json={"provider": {"spiffe": {"bundleEndpointUrl": "https://b.example.com/k"}},
                                           "updateMask": "spiffe.bundleEndpointUrl"})["provider"]
    assert changed["spiffe"] == {"bundleEndpointUrl": "https://b.example.com/k"}


@pytest.mark.parametrize("mask, words", [
    ("issuerUrl", "immutable"), ("wellKnownProvider", "immutable"), ("issuer_url", "immutable"),
    ("colour", "updateMask must name"), ("", "updateMask must name")])
def test_provider_update_mask_refusals(fed, mask, words):
    made = fed.provider()
    answer = fed.call("PATCH", PROVIDERS + "/" + made["id"], expect=400,
                      json={"provider": {"issuerUrl": "https://other.example.com"}, "updateMask": mask})
    assert words in answer["message"]
    assert fed.call("GET", PROVIDERS + "/" + made["id"])["provider"] == made


def test_a_provider_in_use_is_not_deleted_and_the_message_names_the_trusts(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], displayName="deploy")
    answer = fed.call("DELETE", PROVIDERS + "/" + provider["id"], expect=400, json={})
    assert answer["code"] == 9 and trust["clientId"] in answer["message"] and "deploy" in answer["message"]
    assert sp["id"] in answer["message"]
    fed.call("GET", PROVIDERS + "/" + provider["id"])
    fed.call("DELETE", TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"]), json={})
    fed.call("DELETE", PROVIDERS + "/" + provider["id"], json={})


# ---- trusts -------------------------------------------------------------------------------

def test_trust_crud_by_full_client_id_or_cutename(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], description="d", allowSourceCidrs=["10.0.0.0/8"],
                      passthroughClaims=["repository"])
    assert trust["clientId"].endswith("@%s/wfe" % fed.server.base.split("//")[1])
    assert trust["disabled"] is False and trust["servicePrincipalId"] == sp["id"]
    assert trust["providerId"] == provider["id"] and trust["passthroughClaims"] == ["repository"]
    cute = trust["clientId"].split("@")[0]
    for name in (trust["clientId"], cute):
        got = fed.call("GET", TRUST.format(service_principal_id=sp["id"], client_id=name), template=TRUST)
        assert got["trust"] == trust
    encoded = requests.utils.quote(trust["clientId"], safe="")  # "@" and "/" percent-encoded, as clients send it
    assert fed.call("GET", TRUSTS.format(service_principal_id=sp["id"]) + "/" + encoded)["trust"] == trust
    listed = fed.call("GET", TRUSTS.format(service_principal_id=sp["id"]), template=TRUSTS)
    assert [t["clientId"] for t in listed["list"]] == [trust["clientId"]]
    other = fed.principal("other")
    fed.call("GET", TRUST.format(service_principal_id=other["id"], client_id=cute), expect=404)
    fed.call("GET", TRUST.format(service_principal_id=sp["id"], client_id=cute + "@elsewhere/wfe"), expect=404)
    fed.call("DELETE", TRUST.format(service_principal_id=sp["id"], client_id=cute), json={}, template=TRUST)
    assert fed.call("GET", TRUSTS.format(service_principal_id=sp["id"]))["list"] == []


@pytest.mark.parametrize("fields, words", [
    ({"conditionExpression": "claims.sub =="}, "not valid CEL"),
    ({"conditionExpression": ""}, "empty"),
    ({"conditionExpression": None}, "conditionExpression is required"),
    ({"conditionExpression": 'subject == "x"'}, "undeclared subject"),
    ({"conditionExpression": '"yes"'}, "must return a bool"),
    ({"providerId": "nope"}, "names no provider"),
    ({"allowSourceCidrs": ["10.0.0.0/33"]}, "not an IPv4 or IPv6 CIDR"),
    ({"allowSourceCidrs": ["10.0.%d.0/24" % i for i in range(33)]}, "at most 32"),
    ({"scopedRoleIds": ["no-such-role"]}, "unknown role id"),
    ({"disabled": True}, "invalid request"),  # not a create field
])
def test_bad_trust_bodies_are_refused_and_nothing_is_made(fed, fields, words):
    provider = fed.provider()
    sp = fed.principal()
    body = dict({"providerId": provider["id"], "displayName": "t", "conditionExpression": "true"}, **fields)
    body = {k: v for k, v in body.items() if v is not None}
    answer = fed.call("POST", TRUSTS.format(service_principal_id=sp["id"]), expect=400, json=body)
    assert words in answer["message"]
    assert fed.call("GET", TRUSTS.format(service_principal_id=sp["id"]))["list"] == []


def test_update_mask_changes_only_the_named_fields(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], description="keep", allowSourceCidrs=["10.0.0.0/8"])
    path = TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"])
    changed = fed.call("PATCH", path, template=TRUST, json={
        "trust": {"conditionExpression": 'claims.repository == "acme/other"', "description": "not in the mask",
                  "displayName": "renamed"},
        "updateMask": "conditionExpression,displayName"})["trust"]
    assert changed["conditionExpression"] == 'claims.repository == "acme/other"'
    assert (changed["displayName"], changed["description"]) == ("renamed", "keep")
    assert changed["clientId"] == trust["clientId"] and changed["allowSourceCidrs"] == ["10.0.0.0/8"]
    # snake_case paths are accepted; a named field absent from the body is cleared.
    cleared = fed.call("PATCH", path, json={"trust": {}, "updateMask": "allow_source_cidrs"})["trust"]
    assert cleared["allowSourceCidrs"] == [] and cleared["displayName"] == "renamed"
    disabled = fed.call("PATCH", path, json={"trust": {"disabled": True}, "updateMask": "disabled"})["trust"]
    assert disabled["disabled"] is True
    assert fed.call("GET", path)["trust"] == disabled


@pytest.mark.parametrize("body, words", [
    ({"trust": {"providerId": "x"}, "updateMask": "providerId"}, "immutable"),
    ({"trust": {}, "updateMask": "clientId"}, "immutable"),
    ({"trust": {}, "updateMask": "color"}, "updateMask must name"),
    ({"trust": {"displayName": "x"}}, "updateMask must name"),
    ({"trust": {"conditionExpression": "claims.sub =="}, "updateMask": "conditionExpression"}, "not valid CEL"),
    ({"trust": {}, "updateMask": "conditionExpression"}, "empty"),
    ({"trust": {"allowSourceCidrs": ["nope"]}, "updateMask": "allowSourceCidrs"}, "CIDR"),
])
def test_bad_trust_updates_change_nothing(fed, body, words):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    path = TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"])
    answer = fed.call("PATCH", path, expect=400, json=body)
    assert words in answer["message"]
    assert fed.call("GET", path)["trust"] == trust


def test_trusts_go_with_their_principal(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    subject = fed.oidc(shape="github", aud=trust["clientId"])["token"]
    token = fed.exchange(trust["clientId"], subject).json()["access_token"]
    fed.call("DELETE", SP + "/" + sp["id"], json={})
    assert fed.exchange(trust["clientId"], subject).status_code == 401
    answer = requests.get(fed.server.base + "/api/v1/auth/introspect", timeout=10,
                          headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 401  # its tokens went with it
    fed.call("DELETE", PROVIDERS + "/" + provider["id"], json={})  # no trust uses it any more


# ---- SearchTrusts: trusts across principals ------------------------------------------------

def search_all(fed, headers=None, **search):
    """Every page of SearchTrusts (pageSize and pageToken in the body), each checked against the schema."""
    found, token, pages = [], "", 0
    while True:
        body = dict(search, pageToken=token) if token else dict(search)
        answer = c1_call(fed.server, "POST", SEARCH_TRUSTS, headers or fed.headers, json=body)
        conforms("POST", SEARCH_TRUSTS, answer)
        found += answer["list"]
        pages += 1
        token = answer["nextPageToken"]
        if not token:
            return found, pages


def test_search_trusts_spans_every_principal_with_optional_filters(fed):
    github, gitlab = fed.provider(GITHUB, "GITHUB_ACTIONS"), fed.provider("https://gitlab.com", "GITLAB_CI")
    alpha, beta = fed.principal("alpha"), fed.principal("beta")
    made = [fed.trust(alpha["id"], github["id"], displayName="deploy", description="prod pushes"),
            fed.trust(alpha["id"], gitlab["id"], displayName="mirror"),
            fed.trust(beta["id"], github["id"], displayName="release")]
    listed = {t["clientId"]: t for t in made}
    everything, _pages = search_all(fed)
    assert {t["clientId"]: t for t in everything} == listed  # the trusts' own shape, each once
    by_provider, _pages = search_all(fed, providerId=github["id"])
    assert sorted(t["displayName"] for t in by_provider) == ["deploy", "release"]
    by_principal, _pages = search_all(fed, servicePrincipalId=alpha["id"])
    assert sorted(t["displayName"] for t in by_principal) == ["deploy", "mirror"]
    both, _pages = search_all(fed, providerId=github["id"], servicePrincipalId=beta["id"])
    assert [t["displayName"] for t in both] == ["release"]
    assert [t["displayName"] for t in search_all(fed, query="PROD")[0]] == ["deploy"]  # name or description
    assert [t["displayName"] for t in search_all(fed, query="mirr")[0]] == ["mirror"]
    assert search_all(fed, providerId="no-such-provider") == ([], 1)
    assert search_all(fed, servicePrincipalId="no-such-principal") == ([], 1)


def test_search_trusts_pages_by_the_body_page_size_and_token(fed):
    provider = fed.provider()
    principals = [fed.principal("p%d" % n) for n in range(5)]
    made = [fed.trust(sp["id"], provider["id"], displayName="t%d" % n)["clientId"]
            for n, sp in enumerate(principals * 5)]  # 25 trusts: the default page size is 10
    found, pages = search_all(fed)
    assert [t["clientId"] for t in found] == made and pages == 3
    found, pages = search_all(fed, pageSize=7)
    assert [t["clientId"] for t in found] == made and pages == 4
    first = fed.call("POST", SEARCH_TRUSTS, json={"pageSize": 7})
    assert len(first["list"]) == 7 and first["nextPageToken"]
    answer = fed.call("POST", SEARCH_TRUSTS, expect=400, json={"pageToken": "not-a-token"})
    assert answer["code"] == 3 and "page token" in answer["message"]


@pytest.mark.parametrize("body, words", [
    ({"provider": "x"}, "invalid request"),  # only the spec's fields
    ({"pageSize": "ten"}, "invalid request"),
    ({"providerId": 7}, "invalid request"),
])
def test_search_trusts_refuses_a_body_the_spec_does_not_describe(fed, body, words):
    answer = fed.call("POST", SEARCH_TRUSTS, expect=400, json=body)
    assert answer["code"] == 3 and words in answer["message"]


def test_search_trusts_counts_as_a_read_and_needs_no_write_permission(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    cred = c1_call(fed.server, "POST", SP + "/" + sp["id"] + "/credentials", fed.headers, json={
        "displayName": "ro", "scopedRoles": ["2GaLs9rReadOnlyAdmin0000002"]})
    reader = token_for(fed.server, cred["credential"]["clientId"], cred["clientSecret"])["access_token"]
    fed.server.control("POST", "/counters/reset")
    found, _pages = search_all(fed, {"Authorization": "Bearer " + reader})
    assert [t["clientId"] for t in found] == [trust["clientId"]]
    counters = fed.server.control("GET", "/counters")
    assert counters["writes"] == 0 and counters["reads"] == 1
    assert counters["by_route"]["POST " + SEARCH_TRUSTS] == 1


# ---- the token exchange: CEL truth tables over GitHub- and GitLab-shaped tokens ---------------

@pytest.mark.parametrize("values, accepted", [
    ({}, True),  # acme/infra at refs/heads/main
    ({"repository": "acme/fork"}, False),
    ({"ref": "refs/heads/feature"}, False),
    ({"ref": "refs/tags/v1"}, False),
    ({"claims": {"repository": "acme/infra", "ref": "refs/heads/main", "sub": "anything"}}, True),
])
def test_a_github_condition_admits_one_repository_and_branch(fed, values, accepted):
    provider = fed.provider(GITHUB, "GITHUB_ACTIONS")
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    minted = fed.oidc(shape="github", issuer=GITHUB, aud=trust["clientId"].split("@")[1].split("/")[0], **values)
    answer = fed.exchange(trust["clientId"], minted["token"])
    assert (answer.status_code == 200) is accepted, answer.text
    if accepted:
        assert answer.json()["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
        who = c1_call(fed.server, "GET", "/api/v1/auth/introspect",
                      {"Authorization": "Bearer " + answer.json()["access_token"]})
        assert who["principleId"] == sp["id"]
    else:
        assert answer.json()["error"] == "invalid_grant" and "CEL evaluation" in answer.json()["error_description"]


@pytest.mark.parametrize("condition, values, accepted", [
    ('claims.project_path == "acme/infra" && claims.ref == "main" && claims.ref_protected == "true"', {}, True),
    ('claims.project_path == "acme/infra" && claims.ref == "main"', {"project_path": "acme/other"}, False),
    ('claims.sub == "project_path:acme/infra:ref_type:branch:ref:main"', {}, True),
    ('claims.sub.startsWith("project_path:acme/")', {"project_path": "other/infra"}, False),
    ('claims.namespace_path == "acme" && claims.environment == "production"', {"environment": "production"}, True),
    ('claims.environment == "production"', {}, False),  # no environment claim: an error never matches
])
def test_gitlab_conditions(fed, condition, values, accepted):
    provider = fed.provider("https://gitlab.com", "GITLAB_CI")
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], condition=condition)
    minted = fed.oidc(shape="gitlab", issuer="https://gitlab.com", aud=trust["clientId"], **values)
    assert (fed.exchange(trust["clientId"], minted["token"]).status_code == 200) is accepted


def test_exchange_refusals(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], condition="true")
    good = fed.oidc(shape="github", aud=trust["clientId"])["token"]
    assert fed.exchange(trust["clientId"], good).status_code == 200

    def refused(subject, error="invalid_grant", words=""):
        answer = fed.exchange(trust["clientId"], subject)
        assert answer.status_code in (400, 401) and answer.json()["error"] == error, answer.text
        assert words in answer.json()["error_description"]

    refused(fed.oidc(shape="github", aud="someone-else")["token"], words="Audience")
    refused(fed.oidc(shape="github", aud=trust["clientId"], issuer=GITHUB)["token"], words="Issuer")
    refused(fed.oidc(shape="github", aud=trust["clientId"], ttl=-5)["token"], words="freshness")
    refused(good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"), words="Signature")
    refused("not-a-jwt", words="JWT decode")
    refused(fed.oidc(aud=trust["clientId"], claims={"sub": ""})["token"], words="Subject")
    path = TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"])
    fed.call("PATCH", path, json={"trust": {"allowSourceCidrs": ["10.0.0.0/8"]}, "updateMask": "allowSourceCidrs"})
    refused(good, "invalid_client", "source IP")
    fed.server.control("POST", "/settings", json={"client_ip_override": "10.1.2.3"})
    assert fed.exchange(trust["clientId"], good).status_code == 200


def test_disabled_trust_or_provider_stops_the_exchange(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], condition="true")
    subject = fed.oidc(shape="gitlab", aud=trust["clientId"])["token"]
    path = TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"])
    fed.call("PATCH", path, json={"trust": {"disabled": True}, "updateMask": "disabled"})
    answer = fed.exchange(trust["clientId"], subject)
    assert answer.status_code == 401 and "disabled" in answer.json()["error_description"]
    fed.call("PATCH", path, json={"trust": {"disabled": False}, "updateMask": "disabled"})
    assert fed.exchange(trust["clientId"], subject).status_code == 200
    fed.call("PATCH", PROVIDERS + "/" + provider["id"], json={"provider": {"disabled": True}, "updateMask": "disabled"})
    answer = fed.exchange(trust["clientId"], subject)
    assert answer.status_code == 400 and "provider is disabled" in answer.json()["error_description"]


def test_scoped_roles_of_a_trust_narrow_its_tokens(fed):
    provider = fed.provider()
    sp = fed.principal()
    read_only = "2GaLs9rReadOnlyAdmin0000002"
    trust = fed.trust(sp["id"], provider["id"], condition="true", scopedRoleIds=[read_only])
    token = fed.exchange(trust["clientId"], fed.oidc(aud=trust["clientId"])["token"]).json()["access_token"]
    headers = {"Authorization": "Bearer " + token}
    c1_call(fed.server, "GET", SP, headers)
    c1_call(fed.server, "POST", SP, headers, expect=403, json={"displayName": "nope"})


# ---- TestToken ----------------------------------------------------------------------------

STEP_KEYS = ("jwtDecode", "signatureValidation", "issuerMatch", "audienceValidation", "tokenFreshness",
             "subjectValidation", "celEvaluation", "cidrCheck")


def test_test_token_reports_every_step(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    minted = fed.oidc(shape="github", aud=trust["clientId"])
    answer = fed.test_token(trust, minted["token"])
    assert answer["overallResult"] is True
    for key in STEP_KEYS[:-1]:
        assert answer[key]["passed"] is True and answer[key]["skipped"] is False, (key, answer[key])
        assert answer[key]["stepName"] and answer[key]["detail"]
    assert answer["cidrCheck"]["skipped"] is True  # no allowlist
    assert json.loads(answer["decodedClaimsJson"])["repository"] == "acme/infra"
    assert answer["celEvaluation"]["expected"] == MAIN_OF_INFRA and answer["celEvaluation"]["actual"] == "true"
    assert minted["token"] not in json.dumps(answer)


def test_test_token_names_the_failing_step(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"], allowSourceCidrs=["192.0.2.0/24"])
    fork = fed.oidc(shape="github", aud=trust["clientId"], repository="acme/fork")["token"]
    answer = fed.test_token(trust, fork, sourceIp="192.0.2.7")
    failing = [k for k in STEP_KEYS if not answer[k]["passed"] and not answer[k]["skipped"]]
    assert failing == ["celEvaluation"] and answer["overallResult"] is False
    assert answer["cidrCheck"]["passed"] is True and answer["cidrCheck"]["actual"] == "192.0.2.7"
    outside = fed.test_token(trust, fed.oidc(shape="github", aud=trust["clientId"])["token"], sourceIp="10.0.0.1/32")
    assert [k for k in STEP_KEYS if not outside[k]["passed"] and not outside[k]["skipped"]] == ["cidrCheck"]
    late = fed.test_token(trust, fed.oidc(shape="github", aud="x", ttl=-1)["token"], sourceIp="192.0.2.7")
    assert not late["audienceValidation"]["passed"] and not late["tokenFreshness"]["passed"]
    garbage = fed.test_token(trust, "garbage")
    assert garbage["jwtDecode"]["passed"] is False and garbage["overallResult"] is False
    assert all(garbage[k]["skipped"] for k in STEP_KEYS[1:]) and garbage["decodedClaimsJson"] == ""


def test_test_token_and_test_cel_count_as_reads_and_need_no_write_permission(fed):
    provider = fed.provider()
    sp = fed.principal()
    trust = fed.trust(sp["id"], provider["id"])
    cred = c1_call(fed.server, "POST", SP + "/" + sp["id"] + "/credentials", fed.headers, json={
        "displayName": "ro", "scopedRoles": ["2GaLs9rReadOnlyAdmin0000002"]})
    reader = token_for(fed.server, cred["credential"]["clientId"], cred["clientSecret"])["access_token"]
    headers = {"Authorization": "Bearer " + reader}
    subject = fed.oidc(shape="github", aud=trust["clientId"])["token"]
    fed.server.control("POST", "/counters/reset")
    path = TRUST.format(service_principal_id=sp["id"], client_id=trust["clientId"]) + "/test"
    assert c1_call(fed.server, "POST", path, headers, json={"subjectToken": subject})["overallResult"] is True
    assert c1_call(fed.server, "POST", TEST_CEL, headers, json={"expression": "true"})["matched"] is True
    counters = fed.server.control("GET", "/counters")
    assert counters["writes"] == 0 and counters["reads"] == 2
    assert counters["by_route"][
        "POST /api/v1/service_principals/{service_principal_id}/trusts/{client_id}/test"] == 1


# ---- test-cel -----------------------------------------------------------------------------

@pytest.mark.parametrize("expression, claims, matched, error", [
    (MAIN_OF_INFRA, {"repository": "acme/infra", "ref": "refs/heads/main"}, True, None),
    (MAIN_OF_INFRA, {"repository": "acme/infra", "ref": "refs/heads/dev"}, False, None),
    (MAIN_OF_INFRA, {"repository": "acme/fork", "ref": "refs/heads/main"}, False, None),
    ('claims.sub.startsWith("repo:acme/") && claims.sub.endsWith(":ref:refs/heads/main")',
     {"sub": "repo:acme/infra:ref:refs/heads/main"}, True, None),
    ('claims.sub.matches("^repo:acme/[^:]+:environment:prod$")', {"sub": "repo:acme/x:environment:prod"}, True, None),
    ('claims.repository in ["acme/a", "acme/b"]', {"repository": "acme/b"}, True, None),
    ('has(claims.environment) && claims.environment == "production"', {}, False, None),
    ('claims.groups.exists(g, g == "ops")', {"groups": ["dev", "ops"]}, True, None),
    ('claims.environment == "production"', {}, False, "failed on these claims"),
    ("claims.sub ==", {}, False, "not valid CEL"),
    ('claims.sub', {"sub": "x"}, False, "must return a bool"),
    ('repository == "x"', {}, False, "undeclared repository"),
    ("", {}, False, "empty"),
])
def test_test_cel_truth_table(fed, expression, claims, matched, error):
    answer = fed.call("POST", TEST_CEL, template=TEST_CEL,
                      json={"expression": expression, "claimsJson": json.dumps(claims)})
    assert answer["expression"] == expression and answer["matched"] is matched
    if error:
        assert error in answer["error"]
    else:
        assert "error" not in answer


def test_test_cel_refuses_claims_that_are_not_an_object(fed):
    answer = fed.call("POST", TEST_CEL, json={"expression": "true", "claimsJson": "[1]"})
    assert answer["matched"] is False and "claimsJson" in answer["error"]
    answer = fed.call("POST", TEST_CEL, json={"expression": "true", "claimsJson": "{"})
    assert answer["matched"] is False and "claimsJson" in answer["error"]
    fed.call("POST", TEST_CEL, expect=400, json={"expression": "true", "claims": {}})  # not a request field


# ---- the sandbox's OIDC issuer --------------------------------------------------------------

def test_github_shaped_token_claims(fed):
    minted = fed.oidc(shape="github", aud="a")
    claims = minted["claims"]
    assert claims["sub"] == "repo:acme/infra:ref:refs/heads/main"
    for name in ("repository", "repository_owner", "repository_id", "ref", "ref_type", "sha", "workflow",
                 "workflow_ref", "job_workflow_ref", "event_name", "actor", "run_id", "run_attempt",
                 "repository_visibility", "runner_environment"):
        assert isinstance(claims[name], str) and claims[name], name
    assert claims["repository_owner"] == "acme" and claims["ref_type"] == "branch"
    assert claims["job_workflow_ref"] == "acme/infra/.github/workflows/deploy.yml@refs/heads/main"
    env = fed.oidc(shape="github", repository="o/r", environment="prod")["claims"]
    assert env["sub"] == "repo:o/r:environment:prod" and env["environment"] == "prod"
    pr = fed.oidc(shape="github", repository="o/r", event_name="pull_request")["claims"]
    assert pr["sub"] == "repo:o/r:pull_request"
    tag = fed.oidc(shape="github", ref="refs/tags/v1")["claims"]
    assert tag["ref_type"] == "tag" and tag["sub"] == "repo:acme/infra:ref:refs/tags/v1"


def test_gitlab_shaped_token_claims(fed):
    claims = fed.oidc(shape="gitlab", project_path="grp/sub/proj", ref="main")["claims"]
    assert claims["sub"] == "project_path:grp/sub/proj:ref_type:branch:ref:main"
    assert claims["namespace_path"] == "grp/sub" and claims["ref_protected"] == "true"
    for name in ("project_id", "ref", "ref_type", "pipeline_source", "user_login", "namespace_id", "pipeline_id",
                 "job_id", "ref_path", "sha"):
        assert isinstance(claims[name], str) and claims[name], name
    assert "environment" not in claims
    assert fed.oidc(shape="gitlab", environment="production")["claims"]["environment"] == "production"


def test_plain_tokens_and_overrides_keep_the_old_inputs(fed):
    minted = fed.oidc(sub="repo:main", aud="x", ttl=60)
    assert minted["claims"] == {"sub": "repo:main"} and minted["issuer"] == fed.server.base + "/_sandbox/oidc"
    assert fed.oidc()["claims"] == {"sub": "workload"}
    over = fed.oidc(shape="github", sub="custom", claims={"actor": "mona", "extra": 1})["claims"]
    assert (over["sub"], over["actor"], over["extra"]) == ("custom", "mona", 1)
    bad = requests.post(fed.server.base + "/_sandbox/oidc/token", json={"shape": "jenkins"}, timeout=10)
    assert bad.status_code == 400 and "shape must be one of" in bad.json()["error"]
    issued = fed.server.control("GET", "/issued")["issued"]
    assert minted["token"] in issued  # leak scans know every minted token


def test_discovery_document(fed):
    found = fed.server.control("GET", "/oidc/.well-known/openid-configuration")
    assert found["issuer"] == fed.server.base + "/_sandbox/oidc"
    keys = requests.get(found["jwks_uri"], timeout=10).json()["keys"]
    assert keys[0]["kid"] == "sandbox-oidc-1"
