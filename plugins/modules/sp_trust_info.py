#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sp_trust_info
short_description: List the workload federation trusts of service principals
version_added: 0.2.0
description:
  - Lists the trusts of one service principal, or of every principal when neither O(service_principal) nor
    O(service_principal_id) is given; O(name) keeps those of that name.
  - "Requests: with a principal, its lookup and one listing of its trusts; without one, one search of the
    trusts of every principal (SearchTrusts, C(POST /api/v1/search/workload_federation_trusts), every page),
    never one listing per principal."
  - ConductorOne only.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
  - conductor.principals.attributes.info_module
options:
  service_principal:
    description: Display name of the service principal.
    type: str
  service_principal_id:
    description: ID of the service principal.
    type: str
  name:
    description: Only the trusts with exactly this display name.
    type: str
'''

EXAMPLES = r'''
- name: Trusts of the Deploy principal
  conductor.principals.sp_trust_info:
    service_principal: Deploy
  register: found

- name: Their client IDs
  ansible.builtin.debug:
    msg: "{{ found.trusts | map(attribute='client_id') | list }}"

- name: Every trust of the tenant, whichever its principal (one search)
  conductor.principals.sp_trust_info: {}
  register: every

- name: The principals that trust the provider 2bYh1
  ansible.builtin.debug:
    msg: "{{ every.trusts | selectattr('provider_id', 'equalto', '2bYh1')
             | map(attribute='service_principal_id') | unique | list }}"
'''

RETURN = r'''
trusts:
  description:
    - The matching trusts, with the fields of RV(conductor.principals.sp_trust#module:trust).
    - Without a principal, the trusts of every principal; C(service_principal_id) says whose each one is.
  returned: always
  type: list
  elements: dict
  sample: [{"client_id": "clever-fox-42195@acme.conductor.one/wfe", "name": "infra-main", "description": "",
            "service_principal_id": "2aTuH4", "provider_id": "2bYh1",
            "condition": "claims.repository == \"acme/infra\"", "allowed_cidrs": [], "scoped_role_ids": [],
            "passthrough_claims": [], "enabled": true, "created_at": "2026-11-22T10:00:00Z",
            "updated_at": "2026-11-22T10:00:00Z"}]
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        service_principal=dict(type="str"),
        service_principal_id=dict(type="str"),
        name=dict(type="str"),
    ),
    mutually_exclusive=[("service_principal", "service_principal_id")],
)


def main():
    run_module("sp_trust_info", MODULE_SPEC)


if __name__ == "__main__":
    main()
