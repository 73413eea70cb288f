#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: service_principal
short_description: Ensure a service principal (Orkes application) exists or not
version_added: 0.1.0
description:
  - Creates, renames and deletes a ConductorOne service principal, or an Orkes Conductor application.
  - Identity is O(id) when given (then O(name) renames it), else the exact O(name). Several principals
    with one name is an error that lists their IDs.
  - On ConductorOne, deleting a service principal also deletes every credential it has (the API's own rule).
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
options:
  name:
    description:
      - Display name of the service principal (Orkes application name).
      - Required unless O(id) is given.
    type: str
    aliases: [display_name]
  id:
    description:
      - ID of an existing service principal. With O(name), renames it.
    type: str
  state:
    description:
      - V(present) makes sure it exists; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  roles:
    description:
      - Orkes Conductor only. The exact set of roles of the application, for example V(WORKER) or V(METADATA_API)
        (the role Orkes documents for CI/CD applications).
      - Any role the server lists at C(GET /api/roles), system or custom. The list is read once per task and every
        role is checked against it before any write; an unknown role fails the task with one sentence naming the
        roles the server knows, and nothing is changed.
      - Roles not listed are removed. Leave unset to not manage roles.
    type: list
    elements: str
  tags:
    description:
      - Orkes Conductor only. The exact set of tags of the application.
      - Leave unset to not manage tags.
    type: dict
  permissions:
    description:
      - Orkes Conductor only. The exact set of grants of the application on named resources, for example
        V(EXECUTE) on one workflow and V(READ) on one task definition (least privilege beyond its O(roles)).
      - Compared as a set of (O(permissions[].type), O(permissions[].id), access value), so order and grouping
        never matter; grants not listed are removed, and V([]) removes them all. Leave unset to not manage grants.
      - Each target costs at most one call to add and one to remove access values; a rerun writes nothing.
      - On ConductorOne the option is refused.
    type: list
    elements: dict
    suboptions:
      type:
        description:
          - The type of the target. The types of conductor-python's C(TargetType), then those the Orkes
            grant-access documentation adds (V(INTEGRATION_PROVIDER) to V(SCHEMA)).
        type: str
        required: true
        choices: [WORKFLOW_DEF, TASK_DEF, APPLICATION, USER, SECRET, SECRET_NAME, TAG, DOMAIN, INTEGRATION_PROVIDER,
                  PROMPT, WORKFLOW_SCHEDULE, EVENT_HANDLER, WEBHOOK, ENV_VARIABLE, SCHEMA]
      id:
        description:
          - The name of the target, for example the workflow's name.
        type: str
        required: true
      access:
        description:
          - The access values the application holds on the target.
        type: list
        elements: str
        required: true
        choices: [CREATE, READ, UPDATE, EXECUTE, DELETE]
'''

EXAMPLES = r'''
- name: Create the Terraform CI service principal
  conductor.principals.service_principal:
    name: Terraform CI
  register: terraform_ci

- name: Rename it
  conductor.principals.service_principal:
    id: "{{ terraform_ci.service_principal.id }}"
    name: Terraform CI (prod)

- name: Retire it, with every credential it has
  conductor.principals.service_principal:
    name: Terraform CI (prod)
    state: absent

- name: An Orkes worker that may run one workflow and read one task definition
  conductor.principals.service_principal:
    platform: orkes
    name: payments-worker
    roles: [WORKER]
    permissions:
      - {type: WORKFLOW_DEF, id: payments, access: [EXECUTE]}
      - {type: TASK_DEF, id: charge_card, access: [READ]}

- name: A CI/CD application with the documented METADATA_API role and a custom role made on the server
  conductor.principals.service_principal:
    platform: orkes
    name: deploy-pipeline
    roles: [METADATA_API, payments-deployer]
    permissions:
      - {type: WORKFLOW_SCHEDULE, id: nightly-payments, access: [READ, UPDATE]}

- name: Connection options once for many tasks
  module_defaults:
    group/conductor.principals.all:
      client_id: "{{ c1_client_id }}"
      client_secret: "{{ c1_client_secret }}"
  block:
    - name: Ensure two principals
      conductor.principals.service_principal:
        name: "{{ item }}"
      loop: [deploy-bot, backup-bot]
'''

RETURN = r'''
service_principal:
  description: The service principal after the task (predicted in check mode). Not returned for O(state=absent).
  returned: when O(state=present)
  type: dict
  contains:
    id:
      description: Its ID (null in check mode before creation).
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
        - Orkes only, the application's grants, one entry per target sorted by type and id, access values sorted.
        - In diff mode, the diff's before and after show the grants removed and added.
      type: list
      elements: dict
      returned: on Orkes
      sample: [{type: WORKFLOW_DEF, id: payments, access: [EXECUTE]}]
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec
from ansible_collections.conductor.principals.plugins.module_utils.permissions import entry_options
from ansible_collections.conductor.principals.plugins.module_utils.platforms import permission_choices

PERMISSION_TARGET_TYPES = permission_choices()[0]
PERMISSION_ACCESS = permission_choices()[1]

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        name=dict(type="str", aliases=["display_name"]),
        id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        roles=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        permissions=dict(type="list", elements="dict",
                         options=entry_options(PERMISSION_TARGET_TYPES, PERMISSION_ACCESS)),
    ),
    required_one_of=[("name", "id")],
)


def main():
    run_module("service_principal", MODULE_SPEC)


if __name__ == "__main__":
    main()
