"""C1 behaviour: token paths, refusals, API shapes (validated against the OpenAPI schemas), pagination."""

import time

import pytest
import requests
from jsonschema import Draft202012Validator

from conductor_sandbox import validation
from conftest import ASSERTION_TYPE, Dpop, admin_headers, assertion, c1_call, token_for

SP = "/api/v1/service_principals"
CREDS = SP + "/{service_principal_id}/credentials"


def conforms(method, template, body):
    schema = validation.response_schema(method, template)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
    assert not errors, errors


def new_sp(server, name="sp", headers=None):
    body = c1_call(server, "POST", SP, headers=headers, json={"displayName": name})
    conforms("POST", SP, body)
    return body["servicePrincipal"]


def new_credential(server, sp_id, headers=None, **fields):
    fields.setdefault("displayName", "c")
    fields.setdefault("expires", "7776000s")
    body = c1_call(server, "POST", CREDS.format(service_principal_id=sp_id), headers=headers, json=fields)
    conforms("POST", CREDS, body)
    return body["credential"], body["clientSecret"]


def test_every_operation_answers_in_the_documented_shape(sbx):
    headers = admin_headers(sbx)
    conforms("GET", "/api/v1/auth/introspect", c1_call(sbx, "GET", "/api/v1/auth/introspect", headers))
    sp = new_sp(sbx, "shapes", headers)
    one = SP + "/{id}"
    conforms("GET", SP, c1_call(sbx, "GET", SP, headers))
    conforms("GET", one, c1_call(sbx, "GET", SP + "/" + sp["id"], headers))
    conforms("PATCH", one, c1_call(sbx, "PATCH", SP + "/" + sp["id"], headers,
                                   json={"servicePrincipal": {"displayName": "renamed"}, "updateMask": "displayName"}))
    cred, secret = new_credential(sbx, sp["id"], headers, allowSourceCidrs=["10.0.0.0/8"])
    assert secret.startswith("secret-token:conductorone.com:v1:")
    path = CREDS.format(service_principal_id=sp["id"])
    conforms("GET", CREDS, c1_call(sbx, "GET", path, headers))
    got = c1_call(sbx, "GET", path + "/" + cred["id"], headers)
    conforms("GET", CREDS + "/{id}", got)
    assert "clientSecret" not in got  # shown once only
    conforms("PATCH", CREDS + "/{id}", c1_call(sbx, "PATCH", path + "/" + cred["id"], headers,
                                              json={"credential": {"displayName": "n"}, "updateMask": "displayName"}))
    conforms("DELETE", CREDS + "/{id}", c1_call(sbx, "DELETE", path + "/" + cred["id"], headers, json={}))
    roles = c1_call(sbx, "GET", "/api/v1/iam/roles", headers)
    conforms("GET", "/api/v1/iam/roles", roles)
    conforms("GET", "/api/v1/iam/roles/{role_id}",
             c1_call(sbx, "GET", "/api/v1/iam/roles/" + roles["list"][0]["id"], headers))
    personal = c1_call(sbx, "POST", "/api/v1/iam/personal_clients", headers, json={"displayName": "me"})
    conforms("POST", "/api/v1/iam/personal_clients", personal)
    conforms("GET", "/api/v1/iam/personal_clients", c1_call(sbx, "GET", "/api/v1/iam/personal_clients", headers))
    conforms("GET", "/api/v1/iam/personal_clients/{id}",
             c1_call(sbx, "GET", "/api/v1/iam/personal_clients/" + personal["client"]["id"], headers))
    conforms("DELETE", one, c1_call(sbx, "DELETE", SP + "/" + sp["id"], headers, json={}))


def test_deleting_a_principal_deletes_its_credentials(sbx):
    sp = new_sp(sbx)
    cred, secret = new_credential(sbx, sp["id"])
    c1_call(sbx, "DELETE", SP + "/" + sp["id"], json={})
    token_for(sbx, cred["clientId"], secret, expect=401)


def test_listings_and_tokens_follow_creates_revokes_deletes_and_a_reset(sbx):
    """Each principal's credentials and each client ID come from an index beside the credentials: it must follow
    every change, and a reset's new tenant."""
    def listed(sp_id):
        return [c["id"] for c in c1_call(sbx, "GET", CREDS.format(service_principal_id=sp_id))["list"]]
    first, second = new_sp(sbx, "first"), new_sp(sbx, "second")
    (one, one_secret), (two, two_secret), (other, other_secret) = (
        new_credential(sbx, first["id"]), new_credential(sbx, first["id"]), new_credential(sbx, second["id"]))
    assert listed(first["id"]) == [one["id"], two["id"]] and listed(second["id"]) == [other["id"]]
    c1_call(sbx, "DELETE", CREDS.format(service_principal_id=first["id"]) + "/" + one["id"], json={})
    assert listed(first["id"]) == [two["id"]]
    token_for(sbx, one["clientId"], one_secret, expect=401)
    token_for(sbx, other["clientId"], other_secret)
    c1_call(sbx, "DELETE", SP + "/" + second["id"], json={})
    token_for(sbx, other["clientId"], other_secret, expect=401)
    token_for(sbx, two["clientId"], two_secret)
    sbx.control("POST", "/reset")
    token_for(sbx, two["clientId"], two_secret, expect=401)
    again = new_sp(sbx, "first")
    assert listed(again["id"]) == []
    cred, secret = new_credential(sbx, again["id"])
    assert listed(again["id"]) == [cred["id"]]
    token_for(sbx, cred["clientId"], secret)


@pytest.mark.parametrize("plain", [False, True])
def test_assertion_and_plain_secret_both_obtain_tokens(sbx, plain):
    sp = new_sp(sbx)
    cred, secret = new_credential(sbx, sp["id"])
    body = token_for(sbx, cred["clientId"], secret, plain=plain)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600


def test_plain_secret_can_be_refused_to_prove_the_assertion_path(sbx):
    sbx.control("POST", "/settings", json={"refuse_plain_client_secret": True})
    token_for(sbx, sbx.admin["client_id"], sbx.admin["client_secret"], plain=True, expect=401)
    token_for(sbx, sbx.admin["client_id"], sbx.admin["client_secret"])


def _post_assertion(server, client_id, jws):
    return requests.post(server.base + "/auth/v1/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jws})


@pytest.mark.parametrize("overrides, fragment", [
    (dict(audience="127.0.0.1:1234"), "aud"),
    (dict(audience="other.example"), "aud"),
    (dict(now=time.time() - 3600), "validity window"),
    (dict(now=time.time() + 3600), "validity window"),
    (dict(lifetime=3600), "lives too long"),
    (dict(iss="someone-else@127.0.0.1/spc"), "iss and sub"),
])
def test_bad_assertions_are_refused(sbx, overrides, fragment):
    client_id, secret = sbx.admin["client_id"], sbx.admin["client_secret"]
    response = _post_assertion(sbx, client_id, assertion(client_id, secret, **overrides))
    assert response.status_code == 401 and fragment in response.json()["error_description"]


def test_assertion_replay_and_wrong_key_are_refused(sbx):
    client_id, secret = sbx.admin["client_id"], sbx.admin["client_secret"]
    jws = assertion(client_id, secret)
    assert _post_assertion(sbx, client_id, jws).status_code == 200
    assert _post_assertion(sbx, client_id, jws).status_code == 401
    sp = new_sp(sbx)
    other, other_secret = new_credential(sbx, sp["id"])
    assert _post_assertion(sbx, client_id, assertion(client_id, other_secret)).status_code == 401


def test_expired_revoked_and_cidr_limited_credentials_are_refused(sbx):
    sp = new_sp(sbx)
    expiring, expiring_secret = new_credential(sbx, sp["id"], expires="60s")
    revoked, revoked_secret = new_credential(sbx, sp["id"])
    limited, limited_secret = new_credential(sbx, sp["id"], allowSourceCidrs=["10.0.0.0/8"])
    c1_call(sbx, "DELETE", CREDS.format(service_principal_id=sp["id"]) + "/" + revoked["id"], json={})
    token_for(sbx, revoked["clientId"], revoked_secret, expect=401)
    token_for(sbx, limited["clientId"], limited_secret, expect=401)
    sbx.control("POST", "/settings", json={"client_ip_override": "10.1.2.3"})
    token_for(sbx, limited["clientId"], limited_secret)
    sbx.control("POST", "/settings", json={"client_ip_override": None})
    token_for(sbx, expiring["clientId"], expiring_secret)
    sbx.control("POST", "/clock", json={"advance_seconds": 120})
    try:
        token_for(sbx, expiring["clientId"], expiring_secret, expect=401)
    finally:
        sbx.control("POST", "/clock", json={"advance_seconds": -120})


def test_read_only_scope_gets_403_on_writes(sbx):
    sp = new_sp(sbx)
    read_only = "2GaLs9rReadOnlyAdmin0000002"
    cred, secret = new_credential(sbx, sp["id"], scopedRoles=[read_only])
    headers = {"Authorization": "Bearer " + token_for(sbx, cred["clientId"], secret)["access_token"]}
    c1_call(sbx, "GET", SP, headers)
    body = c1_call(sbx, "POST", SP, headers, expect=403, json={"displayName": "nope"})
    assert body["code"] == 7


def test_unknown_role_and_bad_cidr_and_bad_duration_are_400(sbx):
    sp = new_sp(sbx)
    path = CREDS.format(service_principal_id=sp["id"])
    assert "unknown role" in c1_call(sbx, "POST", path, expect=400, json={"scopedRoles": ["nope"]})["message"]
    assert "CIDR" in c1_call(sbx, "POST", path, expect=400, json={"allowSourceCidrs": ["10.0.0.0/33"]})["message"]
    assert "duration" in c1_call(sbx, "POST", path, expect=400, json={"expires": "90d"})["message"]


@pytest.mark.parametrize("body", [
    {"displayName": "x", "color": "red"},
    {"displayName": 42},
    {"display_name": "snake"},
])
def test_unknown_fields_and_wrong_types_are_400(sbx, body):
    response = c1_call(sbx, "POST", SP, expect=400, json=body)
    assert response["code"] == 3


def test_credential_settings_cannot_change_in_place(sbx):
    sp = new_sp(sbx)
    cred, _secret = new_credential(sbx, sp["id"])
    path = CREDS.format(service_principal_id=sp["id"]) + "/" + cred["id"]
    c1_call(sbx, "PATCH", path, expect=400, json={"credential": {"requireDpop": True}, "updateMask": "requireDpop"})


@pytest.mark.parametrize("mask", ["", "displayName,requireDpop", "colour"])
def test_every_patch_refuses_an_empty_or_foreign_update_mask(sbx, mask):
    sp = new_sp(sbx)
    cred, _secret = new_credential(sbx, sp["id"])
    for path, body in ((SP + "/" + sp["id"], {"servicePrincipal": {"displayName": "x"}}),
                       (CREDS.format(service_principal_id=sp["id"]) + "/" + cred["id"], {"credential": {"displayName": "x"}})):
        refused = c1_call(sbx, "PATCH", path, expect=400, json=dict(body, updateMask=mask))
        assert "updateMask must name fields among displayName" in refused["message"]
    assert c1_call(sbx, "GET", SP + "/" + sp["id"])["servicePrincipal"]["displayName"] == sp["displayName"]


def test_pagination_honours_page_size_and_walks_every_page(sbx):
    headers = admin_headers(sbx)
    for index in range(23):
        new_sp(sbx, "p%02d" % index, headers)
    first = c1_call(sbx, "GET", SP, headers)
    assert len(first["list"]) == 10 and first["nextPageToken"]
    names, token = [], ""
    while True:
        body = c1_call(sbx, "GET", SP, headers, params={"pageSize": 7, "pageToken": token})
        assert len(body["list"]) <= 7
        names += [p["displayName"] for p in body["list"]]
        token = body["nextPageToken"]
        if not token:
            break
    assert len(names) == 24 and len(set(names)) == 24  # 23 + the bootstrap admin


def test_missing_or_expired_token_is_401(sbx):
    assert requests.get(sbx.base + SP, timeout=10).status_code == 401
    sbx.control("POST", "/settings", json={"token_ttl": 1})
    headers = admin_headers(sbx)
    sbx.control("POST", "/clock", json={"advance_seconds": 5})
    try:
        c1_call(sbx, "GET", SP, headers, expect=401)
    finally:
        sbx.control("POST", "/clock", json={"advance_seconds": -5})


def test_expiring_every_token_refuses_it_and_a_new_one_works(sbx):
    headers = admin_headers(sbx)
    c1_call(sbx, "GET", SP, headers)
    assert sbx.control("POST", "/tokens/expire")["expired"] >= 1
    c1_call(sbx, "GET", SP, headers, expect=401)
    c1_call(sbx, "GET", SP, admin_headers(sbx))  # the clock did not move: a new assertion gets a new token


# ---- DPoP ------------------------------------------------------------------------------------

def dpop_credential(sbx):
    sp = new_sp(sbx)
    return new_credential(sbx, sp["id"], requireDpop=True)


def test_dpop_credential_without_proof_is_refused(sbx):
    cred, secret = dpop_credential(sbx)
    response = _post_assertion(sbx, cred["clientId"], assertion(cred["clientId"], secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


def test_dpop_nonce_challenge_then_bound_token(sbx):
    cred, secret = dpop_credential(sbx)
    key = Dpop()
    url = sbx.base + "/auth/v1/token"
    form = {"grant_type": "client_credentials", "client_id": cred["clientId"], "client_secret": secret}
    first = requests.post(url, data=form, headers={"DPoP": key.proof("POST", url)}, timeout=10)
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce" and first.headers["DPoP-Nonce"]
    second = requests.post(url, data=form, timeout=10,
                           headers={"DPoP": key.proof("POST", url, nonce=first.headers["DPoP-Nonce"])})
    assert second.status_code == 200 and second.json()["token_type"] == "DPoP"
    token = second.json()["access_token"]
    api = sbx.base + "/api/v1/auth/introspect"

    def call(proof, scheme="DPoP"):
        return requests.get(api, timeout=10, headers={"Authorization": "%s %s" % (scheme, token), "DPoP": proof})

    good = key.proof("GET", api, token=token, jti="fixed-jti")
    assert call(good).status_code == 200
    assert call(good).status_code == 401  # replayed jti
    assert call(key.proof("GET", api)).status_code == 401  # no ath
    assert call(key.proof("GET", api, token="other")).status_code == 401  # wrong ath
    assert call(Dpop().proof("GET", api, token=token)).status_code == 401  # another key
    assert call(key.proof("POST", api, token=token)).status_code == 401  # wrong htm
    assert call(key.proof("GET", api, token=token), scheme="Bearer").status_code == 401
    assert requests.get(api, headers={"Authorization": "DPoP " + token}, timeout=10).status_code == 401


# ---- workload federation -------------------------------------------------------------------

def test_oidc_token_exchange_against_a_trust(sbx):
    sp = new_sp(sbx, "federated")
    issuer = sbx.base + "/_sandbox/oidc"
    provider = c1_call(sbx, "POST", "/api/v1/workload_federation/providers", json={
        "displayName": "ci", "issuerUrl": issuer, "wellKnownProvider": "WELL_KNOWN_WORKLOAD_PROVIDER_CUSTOM",
        "oidc": {}})["provider"]
    trust = c1_call(sbx, "POST", SP + "/" + sp["id"] + "/trusts", json={
        "providerId": provider["id"], "displayName": "main", "conditionExpression": 'claims.sub == "repo:main"'})["trust"]

    def exchange(sub, aud):
        subject = sbx.control("POST", "/oidc/token", json={"sub": sub, "aud": aud})["token"]
        return requests.post(sbx.base + "/auth/v1/token", timeout=10, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "client_id": trust["clientId"],
            "subject_token": subject, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"})

    ok = exchange("repo:main", trust["clientId"])
    assert ok.status_code == 200
    who = c1_call(sbx, "GET", "/api/v1/auth/introspect", {"Authorization": "Bearer " + ok.json()["access_token"]})
    assert who["principleId"] == sp["id"]
    assert exchange("repo:fork", trust["clientId"]).status_code == 400
    assert exchange("repo:main", "someone-else").status_code == 400


def test_a_new_principal_holds_the_tenants_default_roles(sbx):
    defaults = sbx.store.settings["c1_default_principal_role_ids"]
    sp = new_sp(sbx, "holder")
    assert sp["user"]["roleIds"] == defaults
    listed = c1_call(sbx, "GET", SP)
    conforms("GET", SP, listed)
    assert {p["id"]: p["user"]["roleIds"] for p in listed["list"]}[sp["id"]] == defaults
    sbx.control("POST", "/settings", json={"c1_default_principal_role_ids": [defaults[1]]})
    assert new_sp(sbx, "narrow")["user"]["roleIds"] == [defaults[1]]


def test_a_principals_roles_are_set_by_the_sandbox_control_only(sbx):
    sp = new_sp(sbx, "holder")
    custom = "2GaLs9rSandboxCustom0000005"
    assert sbx.control("POST", "/c1/principals/%s/roles" % sp["id"], json={"roleIds": [custom]})["roleIds"] == [custom]
    got = c1_call(sbx, "GET", SP + "/" + sp["id"])
    conforms("GET", SP + "/{id}", got)
    assert got["servicePrincipal"]["user"]["roleIds"] == [custom]
    for body, status in (({"roleIds": ["nope"]}, 400), ({"roleIds": "x"}, 400)):
        answer = requests.post(sbx.base + "/_sandbox/c1/principals/%s/roles" % sp["id"], json=body, timeout=10)
        assert answer.status_code == status
    assert requests.post(sbx.base + "/_sandbox/c1/principals/nope/roles", json={"roleIds": []},
                         timeout=10).status_code == 404
    # The public API has no way: the principal's update mask takes displayName only.
    refused = c1_call(sbx, "PATCH", SP + "/" + sp["id"], expect=400,
                      json={"servicePrincipal": {"displayName": "x"}, "updateMask": "user.roleIds"})
    assert "updateMask must name fields among displayName" in refused["message"]


def test_update_credential_renames_in_place_and_writes_only_the_display_name(sbx):
    sp = new_sp(sbx)
    cred, secret = new_credential(sbx, sp["id"], displayName="old", allowSourceCidrs=["127.0.0.0/8"])
    path = CREDS.format(service_principal_id=sp["id"]) + "/" + cred["id"]
    renamed = c1_call(sbx, "PATCH", path, json={"credential": {"displayName": "new", "requireDpop": True},
                                                "updateMask": "displayName"})["credential"]
    assert renamed == dict(cred, displayName="new")  # same ID, client ID and settings; requireDpop not in the mask
    assert token_for(sbx, cred["clientId"], secret)["access_token"]  # the same secret still works
    c1_call(sbx, "PATCH", path, expect=400, json={"credential": {"displayName": ""}, "updateMask": "displayName"})
    assert c1_call(sbx, "GET", path)["credential"]["displayName"] == "new"
