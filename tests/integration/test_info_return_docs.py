# -*- coding: utf-8 -*-
"""service_principal_info returns what its RETURN documents: every key of an Orkes application, its
permissions included, every key of a ConductorOne principal, its roles included, and nothing undocumented."""

from __future__ import annotations

import yaml

from conftest import REPO
from helpers import SP, SP_INFO, run_on_orkes


def for_platform(documented, platform):
    """The documented keys a platform returns (a key ``returned: on <other platform>`` is not among them)."""
    other = {"Orkes": "on ConductorOne", "ConductorOne": "on Orkes"}[platform]
    return {key for key, doc in documented.items() if doc.get("returned") != other}


def documented_keys(module):
    source = (REPO / "plugins" / "modules" / (module + ".py")).read_text()
    text = source.split("RETURN = r'''", 1)[1].split("'''", 1)[0]
    return yaml.safe_load(text)


def test_service_principal_info_returns_the_documented_keys_with_permissions_on_orkes(fresh, playbook):
    grants = [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["READ", "EXECUTE"]}]
    app = {"name": "info-app", "roles": ["WORKER"], "tags": {"team": "ci"}, "permissions": grants}
    found = run_on_orkes(playbook, fresh, [{SP: app}, {SP_INFO: {"name": "info-app"}, "register": "i"}],
                         keep=["i"]).results["i"]["service_principals"]
    assert len(found) == 1
    documented = documented_keys("service_principal_info")["service_principals"]["contains"]
    assert set(found[0]) == for_platform(documented, "Orkes")
    assert found[0]["permissions"] == [{"type": "WORKFLOW_DEF", "id": "payments", "access": ["EXECUTE", "READ"]}]
    assert documented["permissions"]["returned"] == "on Orkes" and documented["permissions"]["elements"] == "dict"


def test_service_principal_info_returns_the_documented_keys_with_the_held_roles_on_conductorone(fresh, playbook):
    found = playbook([{SP: {"name": "info-sp"}}, {SP_INFO: {"name": "info-sp"}, "register": "i"}],
                     keep=["i"]).results["i"]["service_principals"]
    documented = documented_keys("service_principal_info")["service_principals"]["contains"]
    assert len(found) == 1 and set(found[0]) == for_platform(documented, "ConductorOne")
    assert found[0]["role_ids"] == sorted(fresh.control("POST", "/settings", json={})["c1_default_principal_role_ids"])
