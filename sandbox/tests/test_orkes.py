"""Orkes: /api/token, X-Authorization, applications, roles, tags, access keys."""

import requests


def orkes_token(sbx, key_id, secret, expect=200):
    response = requests.post(sbx.base + "/api/token", json={"keyId": key_id, "keySecret": secret}, timeout=10)
    assert response.status_code == expect, response.text
    return response.json().get("token")


def call(sbx, method, path, token, expect=200, **kwargs):
    response = requests.request(method, sbx.base + "/api" + path, headers={"X-Authorization": token},
                                timeout=10, **kwargs)
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


def admin(sbx):
    return orkes_token(sbx, sbx.orkes_admin["key_id"], sbx.orkes_admin["key_secret"])


def test_applications_roles_tags_and_keys(sbx):
    token = admin(sbx)
    app = call(sbx, "POST", "/applications", token, json={"name": "worker"})
    assert set(app) == {"id", "name", "createdBy", "createTime", "updatedBy", "updateTime"}
    call(sbx, "PUT", "/applications/" + app["id"], token, json={"name": "worker-2"})
    assert call(sbx, "GET", "/applications/" + app["id"], token)["name"] == "worker-2"
    call(sbx, "POST", "/applications/%s/roles/WORKER" % app["id"], token)
    assert [r["name"] for r in call(sbx, "GET", "/users/app:" + app["id"], token)["roles"]] == ["WORKER"]
    call(sbx, "POST", "/applications/%s/roles/GOD" % app["id"], token, expect=400)
    call(sbx, "PUT", "/applications/%s/tags" % app["id"], token, json=[{"key": "team", "value": "ci"}])
    call(sbx, "DELETE", "/applications/%s/tags" % app["id"], token, json=[{"key": "team", "value": "ci"}])
    assert call(sbx, "GET", "/applications/%s/tags" % app["id"], token) == []
    key = call(sbx, "POST", "/applications/%s/accessKeys" % app["id"], token)
    assert set(key) == {"id", "secret"}
    listed = call(sbx, "GET", "/applications/%s/accessKeys" % app["id"], token)
    assert listed == [{"id": key["id"], "createdAt": listed[0]["createdAt"], "status": "ACTIVE"}]
    key_token = orkes_token(sbx, key["id"], key["secret"])
    assert call(sbx, "GET", "/applications", key_token)
    paused = call(sbx, "POST", "/applications/%s/accessKeys/%s/status" % (app["id"], key["id"]), token)
    assert paused["status"] == "INACTIVE"
    orkes_token(sbx, key["id"], key["secret"], expect=401)  # a paused key gets no token
    call(sbx, "GET", "/applications", key_token, expect=401)  # and its tokens stop working
    call(sbx, "DELETE", "/applications/" + app["id"], token)
    orkes_token(sbx, key["id"], key["secret"], expect=401)  # keys die with the application


def test_x_authorization_is_required(sbx):
    token = admin(sbx)
    assert requests.get(sbx.base + "/api/applications", timeout=10).status_code == 401
    response = requests.get(sbx.base + "/api/applications", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert response.status_code == 401
    orkes_token(sbx, sbx.orkes_admin["key_id"], "wrong", expect=401)


def test_unknown_fields_are_refused(sbx):
    call(sbx, "POST", "/applications", admin(sbx), expect=400, json={"name": "x", "owner": "me"})


def grant_body(app_id, target_type="WORKFLOW_DEF", target_id="payments", access=("EXECUTE",)):
    return {"subject": {"type": "USER", "id": "app:" + app_id}, "target": {"type": target_type, "id": target_id},
            "access": list(access)}


def test_permissions_are_stored_per_subject_and_refused_when_unknown(sbx):
    token = admin(sbx)
    one = call(sbx, "POST", "/applications", token, json={"name": "one"})
    two = call(sbx, "POST", "/applications", token, json={"name": "two"})
    call(sbx, "POST", "/auth/authorization", token, json=grant_body(one["id"], access=["READ", "EXECUTE"]))
    call(sbx, "POST", "/auth/authorization", token, json=grant_body(two["id"], "TASK_DEF", "charge", ["READ"]))
    assert call(sbx, "GET", "/users/app:%s/permissions" % one["id"], token) == {
        "grantedAccess": [{"target": {"type": "WORKFLOW_DEF", "id": "payments"}, "access": ["READ", "EXECUTE"]}]}
    assert call(sbx, "GET", "/users/app:%s/permissions" % two["id"], token)["grantedAccess"] == [
        {"target": {"type": "TASK_DEF", "id": "charge"}, "access": ["READ"]}]
    assert call(sbx, "GET", "/auth/authorization/WORKFLOW_DEF/payments", token) == {
        "READ": [{"type": "USER", "id": "app:" + one["id"]}], "EXECUTE": [{"type": "USER", "id": "app:" + one["id"]}]}

    for bad, status in ((grant_body(one["id"], target_type="WORKFLOW"), 400),
                        (grant_body(one["id"], access=["RUN"]), 400),
                        (grant_body(one["id"], access=[]), 400),
                        (dict(grant_body(one["id"]), extra=1), 400),
                        (grant_body("no-such-app"), 404)):
        for method in ("POST", "DELETE"):
            call(sbx, method, "/auth/authorization", token, expect=status, json=bad)
    call(sbx, "GET", "/users/app:no-such-app/permissions", token, expect=404)
    call(sbx, "GET", "/auth/authorization/WORKFLOW/payments", token, expect=400)

    call(sbx, "DELETE", "/auth/authorization", token, json=grant_body(one["id"], access=["READ"]))
    call(sbx, "DELETE", "/auth/authorization", token, json=grant_body(one["id"], "TAG", "never-granted", ["READ"]))
    assert call(sbx, "GET", "/users/app:%s/permissions" % one["id"], token)["grantedAccess"] == [
        {"target": {"type": "WORKFLOW_DEF", "id": "payments"}, "access": ["EXECUTE"]}]
    call(sbx, "DELETE", "/auth/authorization", token, json=grant_body(one["id"], access=["EXECUTE"]))
    assert call(sbx, "GET", "/users/app:%s/permissions" % one["id"], token) == {"grantedAccess": []}


def test_deleting_an_application_drops_its_grants(sbx):
    token = admin(sbx)
    app = call(sbx, "POST", "/applications", token, json={"name": "short-lived"})
    call(sbx, "POST", "/auth/authorization", token, json=grant_body(app["id"]))
    call(sbx, "DELETE", "/applications/" + app["id"], token)
    assert call(sbx, "GET", "/auth/authorization/WORKFLOW_DEF/payments", token) == {}
    call(sbx, "GET", "/users/app:%s/permissions" % app["id"], token, expect=404)


def test_roles_system_and_custom_and_the_refusals(sbx):
    token = admin(sbx)
    listed = call(sbx, "GET", "/roles", token)
    assert {"name": "METADATA_API", "permissions": []} in listed and "deployer" not in [r["name"] for r in listed]
    call(sbx, "POST", "/roles", token, expect=400, json={"name": "deployer"})  # permissions are required
    call(sbx, "POST", "/roles", token, expect=400, json={"name": "deployer", "permissions": [], "owner": "me"})
    call(sbx, "POST", "/roles", token, json={"name": "deployer", "permissions": ["WORKFLOW_READ"]})
    call(sbx, "POST", "/roles", token, expect=409, json={"name": "deployer", "permissions": []})
    custom = call(sbx, "GET", "/roles/custom", token)
    assert custom == [{"name": "deployer", "permissions": [{"name": "WORKFLOW_READ"}]}]
    assert "deployer" in [r["name"] for r in call(sbx, "GET", "/roles", token)]
    assert "deployer" not in call(sbx, "GET", "/roles/system", token)
    call(sbx, "PUT", "/roles/WORKER", token, expect=400, json={"permissions": []})  # system roles are fixed
    call(sbx, "GET", "/roles/nobody", token, expect=404)
    app = call(sbx, "POST", "/applications", token, json={"name": "holder"})
    call(sbx, "POST", "/applications/%s/roles/deployer" % app["id"], token)
    call(sbx, "POST", "/auth/authorization", token, json={
        "subject": {"type": "ROLE", "id": "deployer"}, "target": {"type": "PROMPT", "id": "p"}, "access": ["READ"]})
    assert call(sbx, "GET", "/auth/authorization/PROMPT/p", token) == {"READ": [{"type": "ROLE", "id": "deployer"}]}
    call(sbx, "DELETE", "/roles/deployer", token)
    assert call(sbx, "GET", "/users/app:" + app["id"], token)["roles"] == []
    assert call(sbx, "GET", "/auth/authorization/PROMPT/p", token) == {}
    assert requests.get(sbx.base + "/api/roles", timeout=10).status_code == 401


def test_user_info_is_the_callers_user(sbx):
    token = admin(sbx)
    me = call(sbx, "GET", "/token/userInfo", token)
    assert me["id"] == "app:" + sbx.orkes_admin["application_id"] and [r["name"] for r in me["roles"]] == ["ADMIN"]
    assert requests.get(sbx.base + "/api/token/userInfo", timeout=10).status_code == 401
