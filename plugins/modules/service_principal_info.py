#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: service_principal_info
short_description: List service principals (Orkes applications)
version_added: 0.1.0
description:
  - Lists service principals, all of them or those matching O(name) and O(id). Reads every page.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
  - conductor.principals.attributes.info_module
options:
  name:
    description: Only the principals with exactly this display name.
    type: str
    aliases: [display_name]
  id:
    description: Only the principal with this ID.
    type: str
'''

EXAMPLES = r'''
- name: Find the Terraform CI principal
  conductor.principals.service_principal_info:
    name: Terraform CI
  register: found

- name: Show its ID
  ansible.builtin.debug:
    msg: "{{ found.service_principals | map(attribute='id') | list }}"
'''

RETURN = r'''
service_principals:
  description: The matching service principals, with the fields of RV(conductor.principals.service_principal#module:service_principal).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "2aTuH4RHSzHsrQYkdRwxqcE3d1Q", "name": "Terraform CI", "created_at": "2026-11-22T10:00:00Z",
            "updated_at": "2026-11-22T10:00:00Z"}]
  contains:
    id:
      description: Its ID.
      type: str
      sample: 2aTuH4RHSzHsrQYkdRwxqcE3d1Q
    name:
      description: Display name.
      type: str
      sample: Terraform CI
    created_at:
      description: When it was created (RFC 3339).
      type: str
    updated_at:
      description: When it last changed (RFC 3339).
      type: str
    role_ids:
      description:
        - ConductorOne only, the IDs of the roles the principal holds (its C(user.roleIds)), which the
          O(conductor.principals.sp_credential#module:scoped_roles) of its credentials and trusts must be among.
          Set in the ConductorOne console (no public API sets them); a new principal holds the tenant's default roles.
      type: list
      elements: str
      returned: on ConductorOne
    created_by:
      description: Orkes only, the user that created the application (C(app:<id>) for an application's key).
      type: str
      returned: on Orkes
      sample: app:8c6f0a4e-2b0e-4c1e-9c1e-3f1b6a2d7e11
    updated_by:
      description: Orkes only, the user that last changed the application record (its name).
      type: str
      returned: on Orkes
    roles:
      description: Orkes only, the application's roles.
      type: list
      elements: str
      returned: on Orkes
    tags:
      description: Orkes only, the application's tags.
      type: dict
      returned: on Orkes
    permissions:
      description:
        - Orkes only, the application's grants, one entry per target sorted by type and id, access values sorted
          (the form of the O(conductor.principals.service_principal#module:permissions) option).
      type: list
      elements: dict
      returned: on Orkes
      sample: [{type: WORKFLOW_DEF, id: payments, access: [EXECUTE]}]
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        name=dict(type="str", aliases=["display_name"]),
        id=dict(type="str"),
    ),
)


def main():
    run_module("service_principal_info", MODULE_SPEC)


if __name__ == "__main__":
    main()
