#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: store_entries
short_description: Read entries of a secret store, or remove the entries of service principals that are gone
version_added: 0.1.0
description:
  - The store side of the C(conductor.principals.provision) role. M(conductor.principals.sp_credential) writes each
    new secret to its O(store) and removes the entry of a credential it revokes; this module reads entries back in
    bulk (one task for a whole run) and removes the entries of service principals that are gone.
  - O(store) is required. O(remove_principals) also connects to the API (the connection options, one platform per
    task) - an entry is removed only once the credential it holds is live nowhere, judged by the IDs the entry
    holds (as O(conductor.principals.service_principals#module:prune) judges them), never by the principal's name.
    An entry whose credential still lives (its principal was renamed in place, or is not gone) is kept, named in
    RV(kept) and a warning.
  - Runs on the controller through its action plugin, whatever the play's connection; the store is the controller's
    (a V(vault_file) is a file on the controller).
  - The result carries secrets when O(read) finds entries, so it is hidden from output even without C(no_log);
    C(register) it.
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.store
author:
  - conductor.principals developers (@conductor-principals)
options:
  read:
    description: Entries to read. An entry that does not exist is left out of RV(entries).
    type: list
    elements: dict
    default: []
    suboptions:
      platform:
        description: The platform of the service principal.
        type: str
        choices: [conductorone, orkes]
        required: true
      principal:
        description: The service principal's name.
        type: str
        required: true
      credential:
        description: The credential's name.
        type: str
        required: true
  writable:
    description:
      - Also check, before anything else, that the store can be written, as M(conductor.principals.service_principals)
        does before its first API write (C(vault_file) its directory, a new file there, its lock and its password);
        nothing is written. The provision role checks this before it writes a federation provider.
    type: bool
    default: false
  remove_principals:
    description:
      - Service principals whose entries are removed from the store once their credentials are live nowhere.
      - Each on the task's O(platform).
    type: list
    elements: dict
    default: []
    suboptions:
      platform:
        description: The platform of the service principal.
        type: str
        choices: [conductorone, orkes]
        required: true
      name:
        description: The service principal's name.
        type: str
        required: true
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: In check mode nothing is removed; RV(removed) names what would be.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details: Entries hold secrets; no diff is shown.
  platform:
    platforms: all
    support: full
    description: Target OS/families that can be operated against.
    details: Runs on the controller, whatever the play's connection.
  action_group:
    description: Use C(group/conductor.principals.all) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - conductor.principals.all
'''

EXAMPLES = r'''
- name: Read two entries back
  conductor.principals.store_entries:
    store:
      path: /home/ci/.config/conductor-principals/store.vault
    read:
      - {platform: conductorone, principal: Terraform CI, credential: ci}
      - {platform: orkes, principal: Terraform CI, credential: ci}
  register: held

- name: Forget the secrets of a decommissioned principal (those whose credential is live nowhere)
  conductor.principals.store_entries:
    platform: conductorone
    store:
      path: /home/ci/.config/conductor-principals/store.vault
    remove_principals:
      - {platform: conductorone, name: Terraform CI}
'''

RETURN = r'''
entries:
  description:
    - The entries found, by platform, then principal name, then credential name; each is the entry's JSON object
      (C(client_id), C(client_secret), C(server_url), C(platform), C(credential_id), C(expires_at),
      C(service_principal_id)).
  returned: always
  type: dict
  sample: {conductorone: {Terraform CI: {ci: {client_id: ci@example.conductor.one/spc, client_secret: "<secret>"}}}}
removed:
  description: The locations of the entries removed (would be removed, in check mode). Never a secret.
  returned: always
  type: list
  elements: str
kept:
  description: The locations of the entries of O(remove_principals) kept because their credential is still live.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec, store_argument_spec

KEY = dict(platform=dict(type="str", choices=["conductorone", "orkes"], required=True),
           principal=dict(type="str", required=True), credential=dict(type="str", required=True))
PRINCIPAL = dict(platform=dict(type="str", choices=["conductorone", "orkes"], required=True),
                 name=dict(type="str", required=True))
MODULE_SPEC = dict(
    argument_spec=argument_spec(
        read=dict(type="list", elements="dict", options=KEY, default=[]),
        writable=dict(type="bool", default=False),
        remove_principals=dict(type="list", elements="dict", options=PRINCIPAL, default=[]),
        store=store_argument_spec(),
    ),
    supports_check_mode=True,
)


def main():
    # The action plugin does the work on the controller; reaching this means it was bypassed.
    module = AnsibleModule(**MODULE_SPEC)
    module.fail_json(msg="conductor.principals.store_entries runs through its action plugin on the controller; "
                         "call it by that name in a play, not as a standalone module")


if __name__ == "__main__":
    main()
