"""The official clients against the sandbox: conductor-python (Orkes) and conductorone-sdk (C1).

These run the vendors' own request building, token handling and response parsing, so a difference
between the sandbox and the real services shows up here as a failing call. Versions are pinned in
sandbox/requirements-test.txt; sandbox/README.md keeps the table of what passes.
"""

import time
import uuid

import pytest
import requests
from joserfc import jws, jwt
from joserfc.registry import HeaderParameter
from jsonschema import Draft202012Validator

from conductor_sandbox import validation
from conftest import ASSERTION_TYPE, Dpop, admin_headers, c1_call, key_of_secret

from conductor.client.configuration.configuration import Configuration
from conductor.client.configuration.settings.authentication_settings import AuthenticationSettings
from conductor.client.http.models.create_or_update_application_request import CreateOrUpdateApplicationRequest
from conductor.client.http.models.create_or_update_role_request import CreateOrUpdateRoleRequest
from conductor.client.http.models.subject_ref import SubjectRef
from conductor.client.http.models.target_ref import TargetRef, TargetType
from conductor.client.http.rest import ApiException
from conductor.client.orkes.models.access_type import AccessType
from conductor.client.orkes.models.metadata_tag import MetadataTag
from conductor.client.orkes.orkes_authorization_client import OrkesAuthorizationClient
from sdk import SDK
from sdk.models import shared
from sdk.tokensource import Token

CUSTOM_ROLE = "2GaLs9rSandboxCustom0000005"
# What go-jose writes when a signer has a nonce source: {"alg": "EdDSA", "nonce": "..."} protected.
NONCE_HEADER = jws.JWSRegistry(header_registry={"nonce": HeaderParameter("Nonce", "str")}, algorithms=["EdDSA"])


# ---- Orkes: conductor-python -------------------------------------------------------------------

def orkes_client(sbx, key_id, key_secret):
    settings = AuthenticationSettings(key_id=key_id, key_secret=key_secret)
    return OrkesAuthorizationClient(Configuration(server_api_url=sbx.base + "/api",
                                                  authentication_settings=settings))


def token_requests(sbx):
    return sbx.control("GET", "/counters")["by_route"].get("POST /api/token", 0)


def test_conductor_python_applications_roles_tags_and_access_keys(sbx):
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    app = admin.create_application(CreateOrUpdateApplicationRequest(name="official-worker"))
    assert app.name == "official-worker" and app.id
    renamed = admin.update_application(CreateOrUpdateApplicationRequest(name="official-worker-2"), app.id)
    assert renamed.name == "official-worker-2"
    assert admin.get_application(app.id).name == "official-worker-2"
    assert app.id in [a.id for a in admin.list_applications()]

    admin.add_role_to_application_user(app.id, "WORKER")
    admin.add_role_to_application_user(app.id, "METADATA_MANAGER")
    admin.remove_role_from_application_user(app.id, "METADATA_MANAGER")
    assert [r.name for r in admin.get_user("app:" + app.id).roles] == ["WORKER"]

    admin.set_application_tags([MetadataTag("team", "ci"), MetadataTag("env", "dev")], app.id)
    tags = admin.get_application_tags(app.id)
    assert sorted((t.key, t.type, t.value) for t in tags) == [("env", "METADATA", "dev"), ("team", "METADATA", "ci")]
    admin.delete_application_tags([MetadataTag("env", "dev")], app.id)
    assert [(t.key, t.value) for t in admin.get_application_tags(app.id)] == [("team", "ci")]

    created = admin.create_access_key(app.id)
    assert created.id and created.secret
    listed = admin.get_access_keys(app.id)
    assert [(k.id, k.status) for k in listed] == [(created.id, "ACTIVE")]
    worker = orkes_client(sbx, created.id, created.secret)  # the new key obtains its own token
    assert worker.get_application(app.id).id == app.id
    toggled = admin.toggle_access_key_status(app.id, created.id)
    assert toggled.status == "INACTIVE"
    assert admin.toggle_access_key_status(app.id, created.id).status == "ACTIVE"
    admin.delete_access_key(app.id, created.id)
    assert admin.get_access_keys(app.id) == []
    admin.delete_application(app.id)
    assert app.id not in [a.id for a in admin.list_applications()]


def granted(client, user_id):
    return sorted((p.target.type, p.target.id, tuple(sorted(p.access)))
                  for p in client.get_granted_permissions_for_user(user_id))


def test_conductor_python_grants_lists_and_removes_permissions(sbx):
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    app = admin.create_application(CreateOrUpdateApplicationRequest(name="granted-worker"))
    user = SubjectRef("USER", "app:" + app.id)
    payments, charge = TargetRef(TargetType.WORKFLOW_DEF, "payments"), TargetRef(TargetType.TASK_DEF, "charge_card")
    admin.grant_permissions(user, payments, [AccessType.EXECUTE, AccessType.READ])
    admin.grant_permissions(user, charge, [AccessType.READ])
    admin.grant_permissions(user, payments, [AccessType.READ])  # granting again changes nothing
    assert granted(admin, "app:" + app.id) == [("TASK_DEF", "charge_card", ("READ",)),
                                                ("WORKFLOW_DEF", "payments", ("EXECUTE", "READ"))]
    holders = admin.get_permissions(payments)
    assert {k: [(s.type, s.id) for s in v] for k, v in holders.items()} == {
        "READ": [("USER", "app:" + app.id)], "EXECUTE": [("USER", "app:" + app.id)]}

    admin.remove_permissions(user, payments, [AccessType.READ])
    admin.remove_permissions(user, charge, [AccessType.READ])
    assert granted(admin, "app:" + app.id) == [("WORKFLOW_DEF", "payments", ("EXECUTE",))]

    with pytest.raises(ApiException) as refused:
        admin.grant_permissions(SubjectRef("USER", "app:no-such-app"), payments, [AccessType.READ])
    assert refused.value.status == 404
    with pytest.raises(ApiException) as refused:
        admin.get_granted_permissions_for_user("app:no-such-app")
    assert refused.value.status == 404

    admin.delete_application(app.id)  # its grants go with it
    assert admin.get_permissions(payments) == {}


def test_conductor_python_role_resource_api_lists_system_and_custom_roles(sbx):
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    system = admin.list_system_roles()
    assert {"WORKER", "METADATA_API", "APPLICATION_CREATOR", "ADMIN", "USER_READ_ONLY"} <= set(system)
    assert admin.list_custom_roles() == []

    admin.create_role(CreateOrUpdateRoleRequest(name="deployer", permissions=["WORKFLOW_READ"]))
    assert [r.name for r in admin.list_custom_roles()] == ["deployer"]
    every = {r.name: r for r in admin.list_all_roles()}
    assert set(system) | {"deployer"} == set(every)
    assert [p.name for p in every["deployer"].permissions] == ["WORKFLOW_READ"]
    admin.update_role("deployer", CreateOrUpdateRoleRequest(name="deployer",
                                                            permissions=["WORKFLOW_READ", "WORKFLOW_EXECUTE"]))
    assert admin.get_role("deployer")["permissions"] == [{"name": "WORKFLOW_READ"}, {"name": "WORKFLOW_EXECUTE"}]
    with pytest.raises(ApiException) as refused:
        admin.create_role(CreateOrUpdateRoleRequest(name="METADATA_API", permissions=[]))
    assert refused.value.status == 409

    app = admin.create_application(CreateOrUpdateApplicationRequest(name="custom-role-holder"))
    admin.add_role_to_application_user(app.id, "deployer")  # a custom role is assigned as a system one is
    admin.add_role_to_application_user(app.id, "METADATA_API")
    assert sorted(r.name for r in admin.get_user("app:" + app.id).roles) == ["METADATA_API", "deployer"]
    with pytest.raises(ApiException) as refused:
        admin.add_role_to_application_user(app.id, "NO_SUCH_ROLE")
    assert refused.value.status == 400

    admin.delete_role("deployer")  # no application holds a deleted role
    assert [r.name for r in admin.get_user("app:" + app.id).roles] == ["METADATA_API"]
    assert admin.list_custom_roles() == []
    with pytest.raises(ApiException) as refused:
        admin.delete_role("ADMIN")
    assert refused.value.status == 400


def test_conductor_python_user_info_answers_for_the_callers_own_key(sbx):
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    app = admin.create_application(CreateOrUpdateApplicationRequest(name="no-roles"))
    key = admin.create_access_key(app.id)
    caller = orkes_client(sbx, key.id, key.secret).get_user_info_from_token()
    assert caller["id"] == "app:" + app.id and caller["roles"] == []  # whatever its roles
    assert admin.get_user_info_from_token()["id"] == "app:" + sbx.orkes_admin["application_id"]


@pytest.mark.parametrize("target_type", ["INTEGRATION_PROVIDER", "PROMPT", "WORKFLOW_SCHEDULE", "EVENT_HANDLER",
                                         "WEBHOOK", "ENV_VARIABLE", "SCHEMA"])
def test_conductor_python_grants_on_the_documented_target_types(sbx, target_type):
    """The generated AuthorizationResourceApi and UserResourceApi carry these types; conductor-python's
    TargetRef model refuses every type outside its TargetType enum, so the request body is a plain dict."""
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    app = admin.create_application(CreateOrUpdateApplicationRequest(name="typed-" + target_type.lower()))
    body = {"subject": {"type": "USER", "id": "app:" + app.id}, "target": {"type": target_type, "id": "thing"},
            "access": ["READ", "UPDATE"]}
    admin.authorizationResourceApi.grant_permissions(body)
    held = admin.userResourceApi.get_granted_permissions("app:" + app.id)["grantedAccess"]
    assert held == [{"target": {"type": target_type, "id": "thing"}, "access": ["READ", "UPDATE"]}]
    holders = admin.authorizationResourceApi.get_permissions(target_type, "thing")
    assert holders == {"READ": [{"type": "USER", "id": "app:" + app.id}],
                       "UPDATE": [{"type": "USER", "id": "app:" + app.id}]}
    admin.authorizationResourceApi.remove_permissions(dict(body, access=["UPDATE"]))
    assert admin.userResourceApi.get_granted_permissions("app:" + app.id)["grantedAccess"][0]["access"] == ["READ"]
    with pytest.raises(ApiException) as refused:
        admin.authorizationResourceApi.grant_permissions(dict(body, target={"type": "NOT_A_TYPE", "id": "x"}))
    assert refused.value.status == 400


def test_conductor_python_reauthenticates_after_the_sandbox_expires_its_token(sbx):
    sbx.control("POST", "/settings", json={"token_ttl": 60})
    client = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    client.list_applications()
    first_token = client.api_client.configuration.AUTH_TOKEN
    before = token_requests(sbx)
    sbx.control("POST", "/clock", json={"advance_seconds": 61})
    try:
        # The sandbox answers 401 EXPIRED_TOKEN; the client fetches a new token and repeats the call.
        assert any(a.name == "sandbox-admin" for a in client.list_applications())
        assert token_requests(sbx) == before + 1
        assert client.api_client.configuration.AUTH_TOKEN != first_token
        client.list_applications()  # and the new token keeps working
        assert token_requests(sbx) == before + 1
    finally:
        sbx.control("POST", "/clock", json={"advance_seconds": -61})


@pytest.mark.parametrize("token, error", [("not-a-jwt", "INVALID_TOKEN"), (None, "INVALID_TOKEN")])
def test_orkes_refusals_carry_the_error_the_official_client_checks(sbx, token, error):
    headers = {"X-Authorization": token} if token else {}
    response = requests.get(sbx.base + "/api/applications", headers=headers, timeout=10)
    assert response.status_code == 401 and response.json()["error"] == error


def test_orkes_expired_token_says_expired_token(sbx):
    sbx.control("POST", "/settings", json={"token_ttl": 60})
    token = requests.post(sbx.base + "/api/token", timeout=10, json={
        "keyId": sbx.orkes_admin["key_id"], "keySecret": sbx.orkes_admin["key_secret"]}).json()["token"]
    sbx.control("POST", "/clock", json={"advance_seconds": 61})
    try:
        response = requests.get(sbx.base + "/api/applications", headers={"X-Authorization": token}, timeout=10)
        assert response.status_code == 401 and response.json()["error"] == "EXPIRED_TOKEN"
    finally:
        sbx.control("POST", "/clock", json={"advance_seconds": -61})


def test_orkes_tags_refuse_other_types_and_fields(sbx):
    admin = orkes_client(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])
    app_id = sbx.orkes_admin["application_id"]
    for bad in ([{"key": "a", "type": "RATE_LIMIT", "value": "1"}], [{"key": "a", "value": "1", "owner": "x"}]):
        response = requests.put(sbx.base + "/api/applications/%s/tags" % app_id, json=bad, timeout=10,
                                headers={"X-Authorization": admin.api_client.configuration.AUTH_TOKEN})
        assert response.status_code == 400, bad


@pytest.mark.parametrize("method, path", [("GET", "/api/no-such-thing"), ("PATCH", "/api/applications")])
def test_unknown_orkes_routes_answer_in_the_orkes_shape(sbx, method, path):
    response = requests.request(method, sbx.base + path, timeout=10)
    assert response.status_code in (404, 405)
    assert response.json()["status"] == response.status_code and "code" not in response.json()
    c1 = requests.get(sbx.base + "/api/v1/no-such-thing", timeout=10)
    assert c1.status_code == 404 and c1.json()["code"] == 5


# ---- C1: conductorone-sdk and raw assertions ---------------------------------------------------------

def sdk_for(sbx, client_id, secret):
    """The SDK's own token source (private-key JWT, nonce as a claim), then the SDK on that token."""
    session = requests.Session()
    try:
        token = Token(session, sbx.base, client_id, secret).get_token()
    finally:
        session.close()
    assert token
    return SDK(security=shared.Security(bearer_auth=token, oauth=token), server_url=sbx.base)


def test_conductorone_sdk_introspect_roles_and_personal_clients(sbx):
    sbx.control("POST", "/settings", json={"page_size": 2})
    admin = sdk_for(sbx, sbx.admin["client_id"], sbx.admin["client_secret"])
    me = admin.auth.introspect().introspect_response
    assert me.principle_id == sbx.admin["service_principal_id"]

    seen, page_token, pages = [], None, 0
    while True:
        request = {"page_size": 2, "page_token": page_token} if page_token else {"page_size": 2}
        listing = admin.roles.list(request=request).list_roles_response
        seen += [role.id for role in listing.list]
        pages += 1
        page_token = listing.next_page_token
        if not page_token:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 5 and CUSTOM_ROLE in seen
    role = admin.roles.get(request={"role_id": CUSTOM_ROLE}).get_roles_response.role
    updated = admin.roles.update(request={"role_id": CUSTOM_ROLE, "update_role_request": {
        "role": {"display_name": "Renamed by the SDK"}, "update_mask": "displayName"}}).update_roles_response.role
    assert (role.display_name, updated.display_name) == ("Sandbox Custom Role", "Renamed by the SDK")

    created = admin.personal_client.create(request={"display_name": "sdk-client", "expires": "3600s"})
    body = created.personal_client_service_create_response
    client_id, secret = body.personal_client.client_id, body.client_secret
    assert client_id.endswith("/pcc") and secret.startswith("secret-token:conductorone.com:v1:")
    listed = admin.personal_client.list().personal_client_service_list_response.list
    assert [c.id for c in listed] == [body.personal_client.id]
    got = admin.personal_client.get(request={"id": body.personal_client.id}).personal_client_service_get_response
    assert got.personal_client.display_name == "sdk-client"
    admin.personal_client.update(request={"id": body.personal_client.id, "personal_client_service_update_request": {
        "personal_client": {"display_name": "sdk-renamed"}, "update_mask": "displayName"}})
    got = admin.personal_client.get(request={"id": body.personal_client.id}).personal_client_service_get_response
    assert got.personal_client.display_name == "sdk-renamed"

    # A token from the new personal client's secret, through the SDK's own token source.
    mine = sdk_for(sbx, client_id, secret)
    assert mine.auth.introspect().introspect_response.principle_id == sbx.admin["service_principal_id"]
    admin.personal_client.delete(request={"id": body.personal_client.id})
    assert admin.personal_client.list().personal_client_service_list_response.list == []
    with pytest.raises(Exception, match="401"):
        Token(requests.Session(), sbx.base, client_id, secret).get_token()


def test_updating_a_builtin_role_is_refused(sbx):
    headers = admin_headers(sbx)
    c1_call(sbx, "POST", "/api/v1/iam/roles/2GaLs9rSuperAdmin0000000001", headers, expect=400,
            json={"role": {"displayName": "x"}, "updateMask": "displayName"})
    c1_call(sbx, "POST", "/api/v1/iam/roles/" + CUSTOM_ROLE, headers, expect=400,
            json={"role": {"name": "x"}, "updateMask": "name"})
    c1_call(sbx, "POST", "/api/v1/iam/roles/nope", headers, expect=404,
            json={"role": {"displayName": "x"}, "updateMask": "displayName"})
    body = c1_call(sbx, "POST", "/api/v1/iam/roles/" + CUSTOM_ROLE, headers,
                   json={"role": {"permissions": ["app:read"]}, "updateMask": "permissions"})
    errors = list(Draft202012Validator(validation.response_schema("POST", "/api/v1/iam/roles/{role_id}"))
                  .iter_errors(body))
    assert not errors and body["role"]["permissions"] == ["app:read"]


def signed_assertion(client_id, secret, nonce_in_header, nonce):
    """Signed as the official clients do: the Go SDK (cone, Terraform) puts the nonce in the protected
    header, the Python SDK in a claim."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": "127.0.0.1", "iat": now, "nbf": now - 120,
              "exp": now + 120}
    header = {"alg": "EdDSA"}
    if nonce_in_header:
        header["nonce"] = nonce
    else:
        claims["nonce"] = nonce
    return jwt.encode(header, claims, key_of_secret(secret), algorithms=["EdDSA"], registry=NONCE_HEADER)


def post_assertion(sbx, client_id, signed, dpop=None, dpop_nonce=None):
    url = sbx.base + "/auth/v1/token"
    headers = {"DPoP": dpop.proof("POST", url, nonce=dpop_nonce)} if dpop else {}
    return requests.post(url, headers=headers, timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed})


@pytest.mark.parametrize("nonce_in_header", [True, False], ids=["nonce-in-header", "nonce-as-claim"])
def test_assertions_signed_both_ways_get_tokens_and_replays_are_refused(sbx, nonce_in_header):
    client_id, secret = sbx.admin["client_id"], sbx.admin["client_secret"]
    nonce = uuid.uuid4().hex
    signed = signed_assertion(client_id, secret, nonce_in_header, nonce)
    first = post_assertion(sbx, client_id, signed)
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]
    assert c1_call(sbx, "GET", "/api/v1/auth/introspect", {"Authorization": "Bearer " + token})["principleId"]
    replay = post_assertion(sbx, client_id, signed)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"
    again = post_assertion(sbx, client_id, signed_assertion(client_id, secret, nonce_in_header, nonce))
    assert again.status_code == 401 and "already used" in again.json()["error_description"]


@pytest.mark.parametrize("nonce_in_header", [True, False], ids=["nonce-in-header", "nonce-as-claim"])
def test_assertions_signed_both_ways_with_dpop(sbx, nonce_in_header):
    headers = admin_headers(sbx)
    sp = c1_call(sbx, "POST", "/api/v1/service_principals", headers, json={"displayName": "dpop"})
    created = c1_call(sbx, "POST", "/api/v1/service_principals/%s/credentials" % sp["servicePrincipal"]["id"],
                      headers, json={"displayName": "d", "expires": "3600s", "requireDpop": True})
    client_id, secret = created["credential"]["clientId"], created["clientSecret"]
    dpop = Dpop()
    challenge = post_assertion(sbx, client_id, signed_assertion(client_id, secret, nonce_in_header,
                                                                uuid.uuid4().hex), dpop)
    assert challenge.status_code == 400 and challenge.json()["error"] == "use_dpop_nonce"
    answer = post_assertion(sbx, client_id, signed_assertion(client_id, secret, nonce_in_header, uuid.uuid4().hex),
                            dpop, challenge.headers["DPoP-Nonce"])
    assert answer.status_code == 200 and answer.json()["token_type"] == "DPoP", answer.text
    token = answer.json()["access_token"]
    url = sbx.base + "/api/v1/auth/introspect"
    response = requests.get(url, timeout=10, headers={"Authorization": "DPoP " + token,
                                                      "DPoP": dpop.proof("GET", url, token=token)})
    assert response.status_code == 200
    plain = post_assertion(sbx, client_id, signed_assertion(client_id, secret, nonce_in_header, uuid.uuid4().hex))
    assert plain.status_code == 400 and plain.json()["error"] == "invalid_dpop_proof"
