#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: personal_client
short_description: Ensure a personal API key of the calling ConductorOne user
version_added: 0.1.0
description:
  - Creates, rotates and deletes personal API keys (personal clients) of the user the connection
    authenticates as, with the credential semantics of M(conductor.principals.sp_credential).
  - The secret is returned only by the run that created the key, and the result is hidden from output.
  - A run that would create or rotate a key with neither O(store) nor C(register) fails before any write, naming
    both ways to keep the new secret (check mode, and a run that makes no key, are not refused).
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.store
  - conductor.principals.store.writes
  - conductor.principals.credential.verify
  - conductor.principals.attributes
options:
  name:
    description: Display name of the key. Required unless O(id) is given.
    type: str
  id:
    description: ID of an existing key.
    type: str
  state:
    description: V(present) or V(absent) (deletes every key of that name).
    type: str
    choices: [present, absent]
    default: present
  expires_days:
    description:
      - Lifetime of a new key in days; V(0) creates a key that never expires. When creating and unset, 90; when
        rotating and unset, the live key's (a key that never expires is rotated into one that never expires).
    type: int
    choices: [0, 30, 60, 90, 180]
  allowed_cidrs:
    description: Source networks allowed to use the key.
    type: list
    elements: str
  scoped_roles:
    description: Roles (IDs or display names) the key is limited to.
    type: list
    elements: str
  rotate_before_days:
    description: Rotate when the key expires within this many days; V(0) never.
    type: int
    default: 0
  force_rotate:
    description: Rotate now.
    type: bool
    default: false
  revoke_previous:
    description: Delete the replaced key after a rotation; V(false) keeps it for an overlap.
    type: bool
    default: true
  replace_on_change:
    description: Replace the key when a setting that cannot change in place differs, instead of failing.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: A personal key for my scripts, valid 30 days from the office network
  conductor.principals.personal_client:
    name: laptop-scripts
    expires_days: 30
    allowed_cidrs: [203.0.113.0/24]
  register: key

- name: The same, kept in an encrypted store file (entry conductor-principals/conductorone/@personal/laptop-scripts)
  conductor.principals.personal_client:
    name: laptop-scripts
    expires_days: 30
    store:
      path: ~/.config/conductor-principals/store.vault
'''

RETURN = r'''
stored:
  description:
    - Where the secret of the credential lives (would live, in check mode) when O(store) is given. Never a secret.
  returned: when O(store) is given and O(state=present)
  type: dict
  contains:
    type: {description: The store type., type: str, sample: vault_file}
    location:
      description: The entry's location (V(vault_file) -- the file and the entry's path after C(#)).
      type: str
      sample: /home/ci/.config/conductor-principals/store.vault#conductor-principals/conductorone/Terraform CI/prod
credential:
  description: The key, with the fields of RV(conductor.principals.sp_credential#module:credential).
  returned: always
  type: dict
client_id:
  description: The key's client ID.
  returned: when a key exists after the task
  type: str
client_secret:
  description: The secret, only when this run created the key.
  returned: when created
  type: str
revoked_ids:
  description: IDs of the keys this run deleted.
  returned: always
  type: list
  elements: str
server_url:
  description: The API base URL.
  returned: always
  type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import (
    argument_spec, credential_options, store_options)
from ansible_collections.conductor.principals.plugins.module_utils.platforms import expiry_choices

MODULE_SPEC = dict(
    argument_spec=argument_spec(expires_days=dict(type="int", choices=[0] + expiry_choices()),
                                **dict(credential_options(), **store_options())),
    required_one_of=[("name", "id")],
)


def main():
    run_module("personal_client", MODULE_SPEC)


if __name__ == "__main__":
    main()
