#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: federation_provider_info
short_description: List the workload federation providers of ConductorOne
version_added: 0.2.0
description:
  - Lists the providers (trusted OIDC issuers), all of them or those matching O(name) and O(issuer_url).
  - ConductorOne only.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
  - conductor.principals.attributes.info_module
options:
  name:
    description: Only the providers with exactly this display name.
    type: str
  issuer_url:
    description: Only the provider of this issuer (compared normalised).
    type: str
'''

EXAMPLES = r'''
- name: Is GitHub Actions trusted?
  conductor.principals.federation_provider_info:
    issuer_url: https://token.actions.githubusercontent.com
  register: found
'''

RETURN = r'''
providers:
  description: The matching providers, with the fields of RV(conductor.principals.federation_provider#module:provider).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "2bYh1", "name": "GitHub Actions", "issuer_url": "https://token.actions.githubusercontent.com",
            "type": "github_actions", "description": "", "enabled": true, "spiffe_bundle_endpoint_url": null,
            "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"}]
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        name=dict(type="str"),
        issuer_url=dict(type="str"),
    ),
)


def main():
    run_module("federation_provider_info", MODULE_SPEC)


if __name__ == "__main__":
    main()
