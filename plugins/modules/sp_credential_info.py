#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sp_credential_info
short_description: List the client credentials (Orkes access keys) of a service principal
version_added: 0.1.0
description:
  - Lists credentials of one service principal with their expiry. Never returns a secret.
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
    description: Only credentials with this display name.
    type: str
  id:
    description: Only the credential with this ID.
    type: str
'''

EXAMPLES = r'''
- name: Credentials of Terraform CI that expire within 14 days
  conductor.principals.sp_credential_info:
    service_principal: Terraform CI
  register: creds

- name: Show them
  ansible.builtin.debug:
    msg: "{{ creds.credentials | selectattr('expires_in_days', 'le', 14) | map(attribute='name') | list }}"
'''

RETURN = r'''
credentials:
  description:
    - The credentials, with the fields of RV(conductor.principals.sp_credential#module:credential) plus
      C(expires_in_days) (whole days left, negative once expired, null if it never expires) and C(expired).
  returned: always
  type: list
  elements: dict
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec, owner_options

OWNER = owner_options()
MODULE_SPEC = dict(
    argument_spec=argument_spec(name=dict(type="str"), id=dict(type="str"), **OWNER["options"]),
    required_one_of=OWNER["required_one_of"],
    mutually_exclusive=OWNER["mutually_exclusive"],
)


def main():
    run_module("sp_credential_info", MODULE_SPEC)


if __name__ == "__main__":
    main()
