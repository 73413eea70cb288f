"""Orkes Conductor: /api/token, applications, roles, tags, access keys and permissions (grants)."""

import secrets
import uuid

from flask import Blueprint, current_app, jsonify, request

from .store import new_id

# The system roles (spec: the documented application, admin-only and user roles); custom roles are made with
# POST /api/roles. Their permissions are not emulated (any valid key may do anything), so system roles list none.
SYSTEM_ROLES = ("WORKER", "METADATA_API", "APPLICATION_CREATOR", "UNRESTRICTED_WORKER", "METADATA_MANAGER",
                "WORKFLOW_MANAGER", "APPLICATION_MANAGER", "PROMPT_MANAGER", "ADMIN", "USER", "USER_READ_ONLY")


# Grants: a subject holds access values on named targets (conductor-python's SubjectRef, TargetRef, AccessType).
SUBJECT_TYPES = ("USER", "ROLE", "GROUP")
# conductor-python's TargetType, then those the Orkes grant-access docs add.
TARGET_TYPES = ("WORKFLOW_DEF", "TASK_DEF", "APPLICATION", "USER", "SECRET", "SECRET_NAME", "TAG", "DOMAIN",
                "INTEGRATION_PROVIDER", "PROMPT", "WORKFLOW_SCHEDULE", "EVENT_HANDLER", "WEBHOOK", "ENV_VARIABLE",
                "SCHEMA")
ACCESS = ("CREATE", "READ", "UPDATE", "DELETE", "EXECUTE")

TAG_TYPE = "METADATA"
# conductor-python re-authenticates only when a 401/403 body's "error" says one of these.
EXPIRED_TOKEN, INVALID_TOKEN = "EXPIRED_TOKEN", "INVALID_TOKEN"


class OrkesError(Exception):
    def __init__(self, status, message, error=None):
        super().__init__(message)
        self.status, self.message, self.error = status, message, error

    def body(self):
        body = {"status": self.status, "message": self.message}
        if self.error:
            body["error"] = self.error
        return body


class Orkes(object):
    def __init__(self, store):
        self.store = store

    @property
    def data(self):
        return self.store.data["orkes"]

    def now_ms(self):
        return int(self.store.now() * 1000)

    def add_app(self, name, creator="sandbox"):
        now = self.now_ms()
        app = {"id": str(uuid.uuid4()), "name": name, "createdBy": creator, "createTime": now,
               "updatedBy": creator, "updateTime": now}
        self.data["apps"][app["id"]] = app
        self.data["roles"][app["id"]] = []
        self.data["tags"][app["id"]] = []
        return app

    def add_key(self, app_id):
        secret = secrets.token_urlsafe(32)
        key = {"id": new_id(20), "createdAt": self.now_ms(), "status": "ACTIVE", "applicationId": app_id,
               "secret": secret}
        self.data["keys"][key["id"]] = key
        self.store.remember(secret)
        return key

    @property
    def grants(self):
        """{"<subject type>:<subject id>": [{"target": {"type", "id"}, "access": [...]}]}"""
        return self.data.setdefault("grants", {})

    @property
    def custom_roles(self):
        """{name: [permission names]} of the roles made with POST /api/roles."""
        return self.data.setdefault("custom_roles", {})

    def role_names(self):
        return list(SYSTEM_ROLES) + sorted(self.custom_roles)

    def role_view(self, name):
        return {"name": name, "permissions": [{"name": p} for p in self.custom_roles.get(name, [])]}

    def user_view(self, user_id):
        """The user app:<id> as GET /api/users/{id} answers: its roles with their permissions."""
        app = self.app_user_or_404(user_id)
        return {"id": user_id, "name": app["name"], "applicationUser": True,
                "roles": [self.role_view(r) for r in self.data["roles"][app["id"]]]}

    def app_user_or_404(self, user_id):
        """The application behind the user app:<id> (the only users emulated)."""
        app_id = user_id[4:] if user_id.startswith("app:") else None
        if app_id not in self.data["apps"]:
            raise OrkesError(404, "User %s not found" % user_id)
        return self.data["apps"][app_id]

    def check_subject(self, subject):
        if subject["type"] == "USER":
            self.app_user_or_404(subject["id"])
        elif subject["type"] == "ROLE" and subject["id"] not in self.role_names():
            raise OrkesError(404, "Role %s not found" % subject["id"])
        elif subject["type"] == "GROUP":
            raise OrkesError(404, "Group %s not found" % subject["id"])

    def change_grants(self, subject, target, access, add):
        held = self.grants.setdefault("%s:%s" % (subject["type"], subject["id"]), [])
        entry = next((g for g in held if g["target"] == target), None)
        if entry is None:
            if not add:
                return
            entry = {"target": dict(target), "access": []}
            held.append(entry)
        if add:
            entry["access"] = [a for a in ACCESS if a in entry["access"] or a in access]
        else:
            entry["access"] = [a for a in entry["access"] if a not in access]
        held[:] = [g for g in held if g["access"]]

    def drop_grants_of_app(self, app_id):
        """A deleted application's user holds nothing, and nobody holds anything on it."""
        self.grants.pop("USER:app:" + app_id, None)
        for held in self.grants.values():
            held[:] = [g for g in held if g["target"] not in ({"type": "APPLICATION", "id": app_id},
                                                               {"type": "USER", "id": "app:" + app_id})]

    def app_or_404(self, app_id):
        app = self.data["apps"].get(app_id)
        if app is None:
            raise OrkesError(404, "Application %s not found" % app_id)
        return app

    def caller(self):
        token = request.headers.get("X-Authorization")
        claims = current_app.config["signer"].verify(token) if token else None
        if not claims:
            raise OrkesError(401, "Token is missing or invalid; send it in X-Authorization", INVALID_TOKEN)
        if claims.get("exp", 0) <= self.store.now():
            raise OrkesError(401, "Token has expired", EXPIRED_TOKEN)
        key = self.data["keys"].get(claims.get("keyId"))
        if key is None or key["status"] != "ACTIVE":
            raise OrkesError(401, "The access key of this token is paused or deleted", INVALID_TOKEN)
        return claims

    def token(self):
        body = request.get_json(silent=True) or {}
        with self.store.lock:
            key = self.data["keys"].get(body.get("keyId"))
            if key is None or not secrets.compare_digest(key["secret"], str(body.get("keySecret") or "")):
                raise OrkesError(401, "Invalid keyId or keySecret")
            if key["status"] != "ACTIVE":
                raise OrkesError(401, "The access key is INACTIVE")
            now = self.store.now()
            token = current_app.config["signer"].sign({
                "sub": "app:" + key["applicationId"], "keyId": key["id"], "iat": int(now),
                "exp": int(now + self.store.settings["token_ttl"])})
            self.store.remember(token)
        return jsonify({"token": token})


def key_view(key):
    return {"id": key["id"], "createdAt": key["createdAt"], "status": key["status"]}


def register(app, store):
    bp = Blueprint('orkes', __name__)
    service = Orkes(store)
    app.config["orkes"] = service

    @bp.errorhandler(OrkesError)
    def orkes_error(exc):
        return jsonify(exc.body()), exc.status

    def app_name(body):
        """The only field an application body may carry."""
        if set(body) - {"name"} or not isinstance(body.get("name"), str) or not body["name"]:
            raise OrkesError(400, "The body must be {\"name\": ...} and nothing else (got %s)"
                             % ", ".join(sorted(body)))
        return body["name"]

    def json_body(kind):
        body = request.get_json(silent=True)
        if not isinstance(body, kind):
            raise OrkesError(400, "The request body must be a JSON %s" % ("object" if kind is dict else "array"))
        return body

    @bp.post("/api/token")
    def token():
        return service.token()

    @bp.get("/api/applications")
    def list_apps():
        with store.lock:
            service.caller()
            return jsonify(list(service.data["apps"].values()))

    @bp.post("/api/applications")
    def create_app():
        with store.lock:
            claims = service.caller()
            created = service.add_app(app_name(json_body(dict)), claims["sub"])
            store.save()
            return jsonify(created)

    @bp.get("/api/applications/<app_id>")
    def get_app(app_id):
        with store.lock:
            service.caller()
            return jsonify(service.app_or_404(app_id))

    @bp.put("/api/applications/<app_id>")
    def rename_app(app_id):
        with store.lock:
            claims = service.caller()
            name = app_name(json_body(dict))
            found = service.app_or_404(app_id)
            found.update(name=name, updatedBy=claims["sub"], updateTime=service.now_ms())
            store.save()
            return jsonify(found)

    @bp.delete("/api/applications/<app_id>")
    def delete_app(app_id):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            del service.data["apps"][app_id]
            service.data["roles"].pop(app_id, None)
            service.data["tags"].pop(app_id, None)
            service.drop_grants_of_app(app_id)
            for key_id in [k for k, v in service.data["keys"].items() if v["applicationId"] == app_id]:
                del service.data["keys"][key_id]
            store.save()
            return "", 200

    @bp.post("/api/applications/<app_id>/roles/<role>")
    @bp.delete("/api/applications/<app_id>/roles/<role>")
    def app_role(app_id, role):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            if role not in service.role_names():
                raise OrkesError(400, "Unknown role %s; valid roles: %s" % (role, ", ".join(service.role_names())))
            roles = service.data["roles"][app_id]
            if request.method == "POST" and role not in roles:
                roles.append(role)
            if request.method == "DELETE" and role in roles:
                roles.remove(role)
            store.save()
            return "", 200

    @bp.get("/api/users/<user_id>")
    def get_user(user_id):
        with store.lock:
            service.caller()
            return jsonify(service.user_view(user_id))

    @bp.get("/api/token/userInfo")
    def user_info():
        """The caller's own user, for any valid token whatever its roles."""
        with store.lock:
            return jsonify(service.user_view(service.caller()["sub"]))

    # ---- roles: system and custom (conductor-python's RoleResourceApi) ----------------------
    def role_request(name=None):
        """A CreateOrUpdateRoleRequest {name, permissions: [str]}; on PUT the name is the path's."""
        body = json_body(dict)
        if set(body) - {"name", "permissions"}:
            raise OrkesError(400, "Unknown fields: %s" % ", ".join(sorted(set(body) - {"name", "permissions"})))
        name = body.get("name") if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise OrkesError(400, "name must be a non-empty string")
        permissions = body.get("permissions")
        if not isinstance(permissions, list) or not all(isinstance(p, str) and p for p in permissions):
            raise OrkesError(400, "permissions must be a list of permission names")
        return name, list(dict.fromkeys(permissions))

    def custom_role_or_error(name):
        if name in SYSTEM_ROLES:
            raise OrkesError(400, "Role %s is a system role; it cannot be changed" % name)
        if name not in service.custom_roles:
            raise OrkesError(404, "Role %s not found" % name)

    @bp.get("/api/roles")
    def list_roles():
        with store.lock:
            service.caller()
            return jsonify([service.role_view(r) for r in service.role_names()])

    @bp.get("/api/roles/system")
    def system_roles():
        """A map name -> role, as conductor-python's list_system_roles describes it (dict(str, Role))."""
        with store.lock:
            service.caller()
            return jsonify({r: service.role_view(r) for r in SYSTEM_ROLES})

    @bp.get("/api/roles/custom")
    def custom_roles():
        with store.lock:
            service.caller()
            return jsonify([service.role_view(r) for r in sorted(service.custom_roles)])

    @bp.post("/api/roles")
    def create_role():
        with store.lock:
            service.caller()
            name, permissions = role_request()
            if name in service.role_names():
                raise OrkesError(409, "Role %s already exists" % name)
            service.custom_roles[name] = permissions
            store.save()
            return jsonify(service.role_view(name))

    @bp.get("/api/roles/<name>")
    def get_role(name):
        with store.lock:
            service.caller()
            if name not in service.role_names():
                raise OrkesError(404, "Role %s not found" % name)
            return jsonify(service.role_view(name))

    @bp.put("/api/roles/<name>")
    def update_role(name):
        with store.lock:
            service.caller()
            custom_role_or_error(name)
            dummy, permissions = role_request(name)
            service.custom_roles[name] = permissions
            store.save()
            return jsonify(service.role_view(name))

    @bp.delete("/api/roles/<name>")
    def delete_role(name):
        """A deleted custom role is no longer held by any application, nor does it hold grants."""
        with store.lock:
            service.caller()
            custom_role_or_error(name)
            del service.custom_roles[name]
            for held in service.data["roles"].values():
                held[:] = [r for r in held if r != name]
            service.grants.pop("ROLE:" + name, None)
            store.save()
            return "", 200

    def ref(body, field, types):
        value = body.get(field)
        if not isinstance(value, dict) or set(value) - {"type", "id"} or not isinstance(value.get("id"), str) \
                or not value.get("id"):
            raise OrkesError(400, "%s must be {\"type\": ..., \"id\": ...}" % field)
        if value.get("type") not in types:
            raise OrkesError(400, "Unknown %s type %s; valid types: %s" % (field, value.get("type"), ", ".join(types)))
        return {"type": value["type"], "id": value["id"]}

    def authorization_request():
        body = json_body(dict)
        if set(body) - {"subject", "target", "access"}:
            raise OrkesError(400, "Unknown fields: %s" % ", ".join(sorted(set(body) - {"subject", "target", "access"})))
        subject, target = ref(body, "subject", SUBJECT_TYPES), ref(body, "target", TARGET_TYPES)
        access = body.get("access")
        if not isinstance(access, list) or not access:
            raise OrkesError(400, "access must be a non-empty list of %s" % ", ".join(ACCESS))
        unknown = sorted(set(str(a) for a in access) - set(ACCESS))
        if unknown:
            raise OrkesError(400, "Unknown access %s; valid access: %s" % (", ".join(unknown), ", ".join(ACCESS)))
        return subject, target, access

    @bp.post("/api/auth/authorization")
    @bp.delete("/api/auth/authorization")
    def authorization():
        with store.lock:
            service.caller()
            subject, target, access = authorization_request()
            service.check_subject(subject)
            service.change_grants(subject, target, access, add=request.method == "POST")
            store.save()
            return jsonify({})

    @bp.get("/api/auth/authorization/<target_type>/<path:target_id>")
    def target_permissions(target_type, target_id):
        with store.lock:
            service.caller()
            if target_type not in TARGET_TYPES:
                raise OrkesError(400, "Unknown target type %s; valid types: %s" % (target_type, ", ".join(TARGET_TYPES)))
            holders = {}
            for subject, held in service.grants.items():
                subject_type, subject_id = subject.split(":", 1)
                for grant in held:
                    if grant["target"] == {"type": target_type, "id": target_id}:
                        for access in grant["access"]:
                            holders.setdefault(access, []).append({"type": subject_type, "id": subject_id})
            return jsonify(holders)

    @bp.get("/api/users/<user_id>/permissions")
    def user_permissions(user_id):
        with store.lock:
            service.caller()
            service.app_user_or_404(user_id)
            return jsonify({"grantedAccess": [
                {"target": dict(g["target"]), "access": list(g["access"])}
                for g in service.grants.get("USER:" + user_id, [])]})

    @bp.get("/api/applications/<app_id>/tags")
    def get_tags(app_id):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            return jsonify([{"key": t["key"], "type": TAG_TYPE, "value": t.get("value")}
                            for t in service.data["tags"][app_id]])

    @bp.put("/api/applications/<app_id>/tags")
    @bp.delete("/api/applications/<app_id>/tags")
    def change_tags(app_id):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            body = json_body(list)
            for tag in body:
                # conductor-python's TagObject sends "type"; application tags are METADATA tags.
                if not isinstance(tag, dict) or set(tag) - {"key", "type", "value"} or not tag.get("key") \
                        or tag.get("type", TAG_TYPE) != TAG_TYPE:
                    raise OrkesError(400, "Tags are [{\"key\": ..., \"value\": ...}] with an optional "
                                          "\"type\": \"METADATA\"")
            tags = service.data["tags"][app_id]
            for tag in body:
                if request.method == "PUT":
                    tags[:] = [t for t in tags if t["key"] != tag["key"]] + [
                        {"key": tag["key"], "type": TAG_TYPE, "value": tag.get("value")}]
                else:
                    tags[:] = [t for t in tags if not (t["key"] == tag["key"] and t["value"] == tag.get("value"))]
            store.save()
            return "", 200

    @bp.get("/api/applications/<app_id>/accessKeys")
    def list_keys(app_id):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            return jsonify([key_view(k) for k in service.data["keys"].values() if k["applicationId"] == app_id])

    @bp.post("/api/applications/<app_id>/accessKeys")
    def create_key(app_id):
        with store.lock:
            service.caller()
            service.app_or_404(app_id)
            key = service.add_key(app_id)
            store.save()
            return jsonify({"id": key["id"], "secret": key["secret"]})

    def key_or_404(app_id, key_id):
        key = service.data["keys"].get(key_id)
        if key is None or key["applicationId"] != app_id:
            raise OrkesError(404, "Access key %s not found" % key_id)
        return key

    @bp.post("/api/applications/<app_id>/accessKeys/<key_id>/status")
    def toggle_key(app_id, key_id):
        with store.lock:
            service.caller()
            key = key_or_404(app_id, key_id)
            key["status"] = "INACTIVE" if key["status"] == "ACTIVE" else "ACTIVE"
            store.save()
            return jsonify(key_view(key))

    @bp.delete("/api/applications/<app_id>/accessKeys/<key_id>")
    def delete_key(app_id, key_id):
        with store.lock:
            service.caller()
            key_or_404(app_id, key_id)
            del service.data["keys"][key_id]
            store.save()
            return "", 200

    app.register_blueprint(bp)
    return service


def bootstrap(store, service):
    with store.lock:
        admin = service.add_app("sandbox-admin")
        service.data["roles"][admin["id"]].append("ADMIN")
        key = service.add_key(admin["id"])
        return {"key_id": key["id"], "key_secret": key["secret"], "application_id": admin["id"]}
