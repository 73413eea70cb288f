# -*- coding: utf-8 -*-
"""The adapter interface: both platforms implement all of it, and capabilities mean what they say."""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.platforms import ADAPTERS, PlatformAdapter
from ansible_collections.conductor.principals.plugins.module_utils.platforms.orkes import _key, _principal


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_every_adapter_implements_the_whole_interface(platform):
    adapter_class = ADAPTERS[platform]
    assert issubclass(adapter_class, PlatformAdapter)
    assert not inspect.isabstract(adapter_class), adapter_class.__abstractmethods__
    assert adapter_class.capabilities.platform == platform
    adapter_class(client=None)  # instantiable: nothing abstract is left


def test_an_adapter_that_misses_a_call_cannot_be_made():
    class Half(PlatformAdapter):

        def list_principals(self):
            return []

    with pytest.raises(TypeError):
        Half(client=None)  # pylint: disable=abstract-class-instantiated


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_capabilities_agree_with_the_options_each_platform_accepts(platform):
    capabilities = ADAPTERS[platform].capabilities
    assert capabilities.credentials_have_names == ("name" in capabilities.credential_settings)
    assert capabilities.credentials_expire == ("expires_days" in capabilities.credential_settings)
    assert capabilities.credentials_can_pause == ("enabled" in capabilities.credential_settings)


def test_capabilities_of_the_two_platforms():
    c1, orkes = ADAPTERS["conductorone"].capabilities, ADAPTERS["orkes"].capabilities
    assert (c1.credentials_have_names, c1.credentials_expire, c1.credentials_can_pause) == (True, True, False)
    assert (orkes.credentials_have_names, orkes.credentials_expire, orkes.credentials_can_pause) == (False, False, True)


def test_pausing_where_the_platform_cannot_is_bad_input():
    with pytest.raises(ConfigError, match="enabled cannot be set on platform conductorone"):
        ADAPTERS["conductorone"](client=None).set_credential_status("sp", {"id": "c"}, "INACTIVE")


def test_orkes_epoch_milliseconds_become_rfc3339_and_the_authors_are_kept():
    assert _principal({"id": "a", "name": "n", "createTime": 1763812800000, "updateTime": None, "createdBy": "app:x",
                       "updatedBy": "app:y"}) == {
        "id": "a", "name": "n", "created_at": "2025-11-22T12:00:00Z", "updated_at": None, "created_by": "app:x",
        "updated_by": "app:y"}
    assert _key({"id": "k", "createdAt": 1763812800123, "status": "ACTIVE"}, "a")["created_at"] == \
        "2025-11-22T12:00:00Z"


class RolesClient(object):
    """Answers GET /roles (system and custom roles, as the server lists them) and GET /token/userInfo; counts calls."""

    def __init__(self):
        self.calls = []

    def call(self, method, path, what, **kwargs):
        self.calls.append((method, path))
        if (method, path) == ("GET", "/roles"):
            return [{"name": "WORKER", "permissions": []}, {"name": "METADATA_API", "permissions": []},
                    {"name": "deployer", "permissions": [{"name": "WORKFLOW_EXECUTE"}]}]
        if (method, path) == ("GET", "/token/userInfo"):
            return {"id": "app:A1", "name": "ci", "roles": [{"name": "WORKER", "permissions": []}]}
        raise AssertionError("unexpected call %s %s" % (method, path))


def test_orkes_roles_are_checked_against_the_servers_list_read_once():
    client = RolesClient()
    adapter = ADAPTERS["orkes"](client)
    adapter.check_roles(None)
    adapter.check_roles([])
    assert client.calls == []  # no roles named: nothing to read
    adapter.check_roles(["METADATA_API", "deployer"])
    adapter.check_roles(["WORKER"])
    with pytest.raises(ConfigError) as refused:
        adapter.check_roles(["WORKER", "NOPE", "ALSO_NOPE"], "principals: principal 'ci'")
    assert refused.value.message == ("principals: principal 'ci': roles: ALSO_NOPE, NOPE are not roles on this Orkes "
                                     "server; use one of METADATA_API, WORKER, deployer")
    with pytest.raises(ConfigError, match="^roles: worker is not a role on this Orkes server; use one of "):
        adapter.check_roles(["worker"])  # names are exact
    assert client.calls == [("GET", "/roles")]


def test_a_platform_without_a_roles_setting_checks_nothing():
    ADAPTERS["conductorone"](client=None).check_roles(["anything"])


def test_orkes_whoami_is_the_callers_own_user():
    client = RolesClient()
    adapter = ADAPTERS["orkes"](client)
    adapter.client.settings = type("Settings", (), {"client_id": "key-1"})()
    assert adapter.whoami() == {"key_id": "key-1", "user_id": "app:A1", "name": "ci", "roles": ["WORKER"]}
    assert client.calls == [("GET", "/token/userInfo")]


def test_a_listing_read_once_is_read_once_by_threads_that_ask_together():
    """The pool's threads plan at the same time; each asking for the roles must not send its own listing."""
    started, release, calls = threading.Event(), threading.Event(), []

    def read():
        calls.append(1)
        started.set()
        release.wait(5)
        return ["role"]

    adapter = ADAPTERS["conductorone"](client=None)
    with ThreadPoolExecutor(4) as pool:
        answers = [pool.submit(adapter.read_once, "roles", read) for _thread in range(4)]
        started.wait(5)
        release.set()
        assert [answer.result() for answer in answers] == [["role"]] * 4
    assert calls == [1]


class PrincipalsClient(object):
    """Answers a C1 principal's read (holding r-ro) and the roles listing; counts the reads."""

    def __init__(self):
        self.calls = []

    def call(self, method, path, what, **kwargs):
        self.calls.append((method, path))
        return {"servicePrincipal": {"id": path.rsplit("/", 1)[1], "displayName": "ci", "user": {"roleIds": ["r-ro"]}}}

    def paginate(self, path, what, **kwargs):
        self.calls.append(("GET", path))
        return [{"id": "r-ro", "displayName": "Read only"}, {"id": "r-super", "displayName": "Super admin"}]


def test_the_roles_a_c1_principal_holds_are_read_back_once_for_all_its_credentials():
    client = PrincipalsClient()
    adapter = ADAPTERS["conductorone"](client)
    for _credential in range(3):  # three scoped credentials of one principal whose listing lacked its roles
        adapter.check_held_roles(["r-ro"], {"id": "sp1", "name": "ci", "role_ids": None})
    with pytest.raises(ConfigError, match="Super admin"):
        adapter.check_held_roles(["r-super"], {"id": "sp1", "name": "ci", "role_ids": None})
    assert client.calls == [("GET", "/api/v1/service_principals/sp1"), ("GET", "/api/v1/iam/roles")]
