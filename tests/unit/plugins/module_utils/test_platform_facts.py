# -*- coding: utf-8 -*-
"""Platform facts are declared once, in each adapter's CAPABILITIES: the rest reads them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ansible_collections.conductor.principals.plugins.module_utils import platforms
from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import CREDENTIAL_SETTINGS
from ansible_collections.conductor.principals.plugins.modules import personal_client, sp_credential

ROOT = Path(__file__).resolve().parents[4]
# The generic code: no "is this platform X?" test there (config.py and auth/ pick URLs and headers).
GENERIC = ["plugins/module_utils/credential_plan.py", "plugins/module_utils/credentials.py",
           "plugins/module_utils/runner.py", "plugins/module_utils/principals.py",
           "plugins/module_utils/retire.py", "plugins/module_utils/arguments.py", "plugins/filter/provision.py",
           "roles/provision/tasks/main.yml"]
PLATFORM_TEST = re.compile(r"""platform\s*[!=]=\s*['"]?(conductorone|orkes|C1\b|ORKES\b)""")


def test_no_platform_name_tests_outside_the_adapters():
    found = ["%s: %s" % (path, line.strip()) for path in GENERIC
             for line in (ROOT / path).read_text().splitlines() if PLATFORM_TEST.search(line)]
    assert not found


def test_every_adapter_declares_its_capabilities_once():
    for name, adapter in platforms.ADAPTERS.items():
        assert adapter.capabilities.platform == name
        assert platforms.CAPABILITIES[name] is adapter.capabilities
        assert adapter.capabilities.credential_settings <= set(CREDENTIAL_SETTINGS)


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
