# -*- coding: utf-8 -*-
"""Platform facts are declared once, in each adapter's CAPABILITIES: the rest reads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.conductor.principals.plugins.module_utils import platforms
from ansible_collections.conductor.principals.plugins.module_utils.common_args import CONNECTION_OPTIONS
from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import (
    AUTH_METHODS, CREDENTIAL_SETTINGS, SECRET_EXCHANGES)
from ansible_collections.conductor.principals.plugins.modules import personal_client, sp_credential

ROOT = Path(__file__).resolve().parents[4]
# The adapters and the platform registry (platforms/__init__.py): the only places that may name a platform.
ADAPTERS_DIR = "plugins/module_utils/platforms/"
_NAME = r"""(?:['"](?:conductorone|orkes)['"]|\bC1\b|\bORKES\b)"""
# "platform == 'orkes'", "C1 != where", "where in ('orkes', ...)", "x is ORKES" ...
PLATFORM_TEST = re.compile(r"(?:[!=]=|\bis(?:\s+not)?)\s*%s|%s\s*(?:[!=]=|\bnot\s+in\b|\bin\b)|\bin\s*[([{][^)\]}]*%s"
                           % (_NAME, _NAME, _NAME))
# In the roles' tasks any platform name outside a comment is a platform test or pick (``['conductorone']``).
ROLE_PLATFORM = re.compile(r"\b(?:conductorone|orkes)\b")


def generic_files():
    """Every file of generic logic: plugins/ outside the adapters, and the roles' tasks."""
    python = [p for p in sorted((ROOT / "plugins").rglob("*.py"))
              if not p.relative_to(ROOT).as_posix().startswith(ADAPTERS_DIR)]
    return python + sorted((ROOT / "roles").glob("*/tasks/*.yml"))


def platform_tests(path, text):
    """The lines of ``text`` (a file at ``path``) that test or pick a platform by name."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0] if path.suffix == ".yml" or line.lstrip().startswith("#") else line
        pattern = ROLE_PLATFORM if path.suffix == ".yml" else PLATFORM_TEST
        if pattern.search(code):
            found.append("%s:%d: %s" % (path.relative_to(ROOT), number, line.strip()))
    return found


def test_every_kind_of_generic_file_is_checked():
    checked = [p.relative_to(ROOT).as_posix() for p in generic_files()]
    kinds = {path.split("/")[1] for path in checked}
    assert {"module_utils", "filter", "action", "modules", "plugin_utils", "lookup", "provision", "rotate"} <= kinds
    assert {"plugins/module_utils/config.py", "plugins/module_utils/auth/__init__.py", "plugins/module_utils/report.py",
            "plugins/modules/service_principal.py", "plugins/filter/provision.py",
            "roles/provision/tasks/main.yml"} <= set(checked)
    assert not any(path.startswith(ADAPTERS_DIR) for path in checked)


def test_no_platform_name_tests_outside_the_adapters():
    found = [hit for path in generic_files() for hit in platform_tests(path, path.read_text())]
    assert not found


@pytest.mark.parametrize("line", ['    if platform == "orkes":', "if settings.platform != C1:", "x = ORKES == where",
                                  "if where in ('conductorone', 'other'):", "if where not in [\"orkes\"]:",
                                  "if platform is ORKES:"])
def test_a_platform_test_in_generic_python_is_found(line):
    path = ROOT / "plugins/module_utils/report.py"
    assert platform_tests(path, "a = 1\n" + line + "\n") == ["plugins/module_utils/report.py:2: " + line.strip()]


@pytest.mark.parametrize("line", ['platform=dict(type="str", choices=["conductorone", "orkes"])',
                                  '"""Client credentials (Orkes: access keys)."""', "# where == 'orkes' once",
                                  'def provision_plan(principals, platform="conductorone"):'])
def test_choices_defaults_comments_and_prose_are_not_platform_tests(line):
    assert platform_tests(ROOT / "plugins/module_utils/report.py", line) == []


@pytest.mark.parametrize("line", ["    when: item.platform == 'orkes'",
                                  "    access_token: \"{{ __provision_token['conductorone'] }}\""])
def test_a_platform_name_in_a_roles_tasks_is_found(line):
    path = ROOT / "roles/provision/tasks/main.yml"
    assert len(platform_tests(path, "- name: x\n  # Orkes keys: a comment\n" + line + "\n")) == 1


def test_every_adapter_declares_its_capabilities_once():
    for name, adapter in platforms.ADAPTERS.items():
        assert adapter.capabilities.platform == name
        assert platforms.CAPABILITIES[name] is adapter.capabilities
        assert adapter.capabilities.credential_settings <= set(CREDENTIAL_SETTINGS)
        assert set(adapter.capabilities.auth_methods) <= set(AUTH_METHODS)
        assert adapter.capabilities.secret_exchange in SECRET_EXCHANGES
        assert {option for option, dummy in adapter.capabilities.environment} <= set(CONNECTION_OPTIONS)
        assert adapter.capabilities.server_url_example.endswith(adapter.capabilities.server_url_suffix)


def test_the_modules_expiry_choices_are_the_platforms():
    spec = sp_credential.MODULE_SPEC["argument_spec"]["expires_days"]["choices"]
    assert spec == platforms.expiry_choices() == [30, 60, 90, 180]
    assert personal_client.MODULE_SPEC["argument_spec"]["expires_days"]["choices"] == [0] + spec


def test_the_docs_say_which_platform_has_each_credential_setting():
    options = yaml.safe_load(sp_credential.DOCUMENTATION)["options"]
    for setting in CREDENTIAL_SETTINGS:
        having = platforms.platforms_where(lambda c, s=setting: s in c.credential_settings)
        if setting == "name" or len(having) != 1:
            continue
        text = " ".join(options[setting]["description"]) if isinstance(options[setting]["description"], list) \
            else options[setting]["description"]
        label = platforms.CAPABILITIES[having[0]].label
        assert "%s only" % label in text or "%s Conductor only" % label in text, (setting, text)


# ---- connecting reads the facts too: a third platform needs no change in config.py or auth/ ----
def third_platform(monkeypatch):
    from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import Capabilities
    facts = Capabilities(platform="third", display_name="Third", environment=(("server_url", "THIRD_URL"),),
                         token_header="X-Token", secret_exchange="access_key_token", server_url_suffix="/v2",
                         server_url_example="https://third.example/v2")
    monkeypatch.setitem(platforms.CAPABILITIES, "third", facts)
    return facts


def test_the_server_url_rule_and_its_example_are_the_platforms(monkeypatch):
    from ansible_collections.conductor.principals.plugins.module_utils.config import normalise_server_url
    from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError
    third_platform(monkeypatch)
    assert normalise_server_url("https://t.example/", "third") == "https://t.example/v2"
    assert normalise_server_url("https://t.example/v2", "third") == "https://t.example/v2"
    assert normalise_server_url("https://c1.example/", "conductorone") == "https://c1.example"
    assert normalise_server_url("https://o.example", "orkes") == "https://o.example/api"
    with pytest.raises(ConfigError, match=r"for example https://third.example/v2\.?$"):
        normalise_server_url("ftp://t.example", "third")


def test_the_token_header_and_the_secret_exchange_are_the_platforms(monkeypatch):
    from collections import namedtuple
    from ansible_collections.conductor.principals.plugins.module_utils.auth import Authenticator, token_source_for
    from ansible_collections.conductor.principals.plugins.module_utils.auth._orkes import OrkesKeySource
    third_platform(monkeypatch)
    settings = namedtuple("S", "platform auth_method access_token server_url client_id client_secret")
    source = token_source_for(settings("third", "token", "tok", "https://t.example/v2", None, None))
    authenticator = Authenticator(source)
    authenticator.token = source.fetch(None)[0]
    assert authenticator.token_header() == {"X-Token": "tok"}
    keyed = token_source_for(settings("third", "secret", None, "https://t.example/v2", "key", "s3cret"))
    assert isinstance(keyed, OrkesKeySource)
    c1 = token_source_for(settings("conductorone", "token", "tok", "https://c1.example", None, None))
    assert c1.header == "Authorization"
