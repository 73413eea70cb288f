#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sp_credential
short_description: Ensure a client credential of a service principal (Orkes access key), rotate or revoke it
version_added: 0.1.0
description:
  - Creates, rotates and revokes client credentials of a ConductorOne service principal.
  - The secret exists only in the answer to the create, so RV(client_secret) is returned only by the run
    that created the credential, and the result is hidden from output even without C(no_log) (use
    C(register) to keep it).
  - "A task that would create or rotate a credential with neither O(store) nor C(register) fails before any write,
    naming both ways to keep the new secret: nothing else would hold it, and the previous credential would be
    revoked. Check mode, and a run that makes no credential, are not refused."
  - "Identity: O(id) when given, else the credential's O(name). Several live credentials with one name
    (an overlap after a rotation with O(revoke_previous=false)) count as one: the newest is the current
    one, and the older ones are revoked by the next run with O(revoke_previous=true)."
  - "With O(id), a O(name) other than the credential's renames it in place (ConductorOne's UpdateCredential):
    the same credential and client ID, no new secret; the diff shows the name. With O(store), its entry (the
    same secret) moves to the new name. Orkes Conductor access keys have no name, so they cannot be renamed."
  - Settings the API cannot change in place (O(expires_days), O(allowed_cidrs), O(scoped_roles),
    O(require_dpop)) that differ from the live credential make the task fail naming each difference,
    unless O(replace_on_change=true), which creates a new credential and revokes the old one.
  - "A rotation (or replacement) makes the new credential with the settings the task gives and, for each
    setting it leaves out, the live credential's: a task that names only the credential (O(force_rotate),
    O(rotate_before_days)) keeps its O(allowed_cidrs), O(scoped_roles), O(require_dpop) and its lifetime
    (O(expires_days), the nearest of the offered periods). A new credential with nothing live to follow takes
    the defaults."
  - A create whose answer was lost (a dropped connection) is not retried blindly; the credential it may
    have made is found and revoked, because nobody received its secret, and then a new one is created.
  - With O(store), the new secret is written to the store before the module returns, and before any
    previous credential is revoked (see O(store)).
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.store
  - conductor.principals.store.writes
  - conductor.principals.credential
  - conductor.principals.credential.verify
  - conductor.principals.attributes
options:
  service_principal:
    description: Display name of the service principal that owns the credential.
    type: str
  service_principal_id:
    description: ID of the service principal that owns the credential.
    type: str
  name:
    description:
      - Display name of the credential, for example V(prod-terraform). Required unless O(id) is given.
      - With O(id), a different name renames the credential in place (ConductorOne).
      - Orkes Conductor access keys have no name; there O(name) is allowed only with O(store), and is only the
        name of the store entry (the access key held by that entry is the one managed).
    type: str
  id:
    description: ID of an existing credential.
    type: str
  state:
    description:
      - V(present) makes sure a live credential exists; V(absent) revokes it (every credential of that name).
    type: str
    choices: [present, absent]
    default: present
  expires_days:
    description:
      - Lifetime of a new credential in days. ConductorOne only.
      - When creating and unset, 90 days; when rotating and unset, the live credential's lifetime. When set, a live
        credential with another lifetime is a difference.
    type: int
    choices: [30, 60, 90, 180]
  allowed_cidrs:
    description:
      - Source IPv4/IPv6 networks allowed to use the credential. ConductorOne only.
      - Compared after normalisation (V(10.0.0.5/24) is V(10.0.0.0/24)). An empty list means no limit.
    type: list
    elements: str
  scoped_roles:
    description:
      - Roles the credential is limited to, by role ID or display name. ConductorOne only.
      - An unknown role is an error naming it. An empty list means all of the service principal's roles.
      - "Each must be a role the service principal holds (its C(user.roleIds)): a credential's permissions are
        those of its scoped roles that its principal holds, so a role it lacks would give none. Such a role
        fails the task naming it and the roles the principal holds, and nothing is written. A principal's roles
        are set in the ConductorOne console (no public API sets them); a new principal holds the tenant's
        default roles."
    type: list
    elements: str
  require_dpop:
    description: Bind tokens of the credential to a DPoP key (RFC 9449). ConductorOne only.
    type: bool
  enabled:
    description: Orkes Conductor only. V(false) pauses the access key, V(true) resumes it.
    type: bool
'''

EXAMPLES = r'''
- name: Mint a 90-day credential limited to the CI network and one role
  conductor.principals.sp_credential:
    service_principal: Terraform CI
    name: prod-terraform
    expires_days: 90
    allowed_cidrs: [10.20.0.0/16]
    scoped_roles: [Read-Only Admin]
  register: cred

- name: Without a store, keep the secret yourself the moment it exists (only the creating run has it)
  ansible.builtin.copy:
    content: "{{ cred.client_secret }}"
    dest: /etc/terraform/c1-secret
    mode: "0600"
  no_log: true
  when: cred.client_secret is defined and cred.client_secret

- name: Rotate two weeks before expiry, keeping the old one until the new one is proven
  conductor.principals.sp_credential:
    service_principal: Terraform CI
    name: prod-terraform
    rotate_before_days: 14
    revoke_previous: false
  register: rotated

- name: Mint a credential whose secret goes straight into an encrypted store file, proven before cut-over
  conductor.principals.sp_credential:
    service_principal: Terraform CI
    name: prod-terraform
    rotate_before_days: 14
    verify: true
    store:
      path: /home/ci/.config/conductor-principals/store.vault
      password: "{{ store_password }}"
  register: stored_cred

- name: The same on Orkes Conductor; name is the store entry of the application's access key
  conductor.principals.sp_credential:
    platform: orkes
    service_principal: terraform-ci
    name: prod-terraform
    store:
      type: hashi_vault
      url: https://vault.example.com:8200
      mount_point: secret

- name: Scheduled daily - rotate, and retire the old credential once nothing used it for a day
  conductor.principals.sp_credential:
    service_principal: Terraform CI
    name: prod-terraform
    rotate_before_days: 14
    revoke_previous_after_unused_hours: 24
    max_overlap_days: 7
  register: rotation

- name: Revoke it
  conductor.principals.sp_credential:
    service_principal: Terraform CI
    name: prod-terraform
    state: absent
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
  description: The current credential after the task (predicted in check mode); null after O(state=absent).
  returned: always
  type: dict
  contains:
    id: {description: Credential ID (null in check mode before creation)., type: str}
    name: {description: Display name., type: str}
    client_id: {description: Client ID to authenticate with., type: str, sample: clever-fox-42195@yourcompany.conductor.one/spc}
    service_principal_id: {description: Owner., type: str}
    created_at: {description: Creation time (RFC 3339)., type: str}
    expires_at: {description: Expiry time (RFC 3339)., type: str}
    allowed_cidrs: {description: Allowed source networks., type: list, elements: str}
    scoped_role_ids: {description: Role IDs it is limited to., type: list, elements: str}
    require_dpop: {description: Whether tokens are DPoP-bound., type: bool}
    last_used_at: {description: Last use (RFC 3339)., type: str}
    status: {description: "V(ACTIVE), or on Orkes V(INACTIVE) for a paused key.", type: str}
client_id:
  description: The credential's client ID.
  returned: when a credential exists after the task
  type: str
client_secret:
  description:
    - The secret, only when this run created the credential. Never returned otherwise; it cannot be read back.
  returned: when created
  type: str
revoked_ids:
  description: IDs of the credentials this run revoked (or would revoke in check mode).
  returned: always
  type: list
  elements: str
kept_ids:
  description:
    - IDs of older credentials of the same name (Orkes, of the same application) that stay live, because
      O(revoke_previous=false), or because O(revoke_previous_after_unused_hours) found them still in use;
      revoke them once the new credential is in use, or let a later run do it.
    - Also those whose revoke the API refused after the new credential was made. The new credential stays the
      one to use - its secret is still returned (or stored), the task is C(changed) and warns naming the refusal
      - and a later run revokes the older one, never the newer.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["2v3s1mMGxUwmLkSxXsvl7uKqZxA"]
kept_reasons:
  description: Why each of RV(kept_ids) stays, one sentence per ID (never a secret).
  returned: when O(state=present)
  type: dict
  sample: {"2v3s1mMGxUwmLkSxXsvl7uKqZxA": "last used 2.5 hours ago, within revoke_previous_after_unused_hours 24;
    revoked by a run once unused that long, or from 2026-11-30T10:00:00Z (max_overlap_days 7) even if still used",
           "7yQx0mMGxUwmLkSxXsvl7uKqZxB": "revoking it failed: Could not revoke credential 7yQx0mMGxUwmLkSxXsvl7uKqZxB:
    the API refused it (HTTP 403); a later run revokes it"}
server_url:
  description: The API base URL the credential belongs to.
  returned: always
  type: str
rotated:
  description: Whether a live credential was replaced by a new one.
  returned: when a credential was created
  type: bool
reason:
  description:
    - Why a new credential was created (missing, expired, force_rotate, ...).
    - With O(store), also when the live credential's secret is not in the store, or its entry holds another
      credential.
  returned: when a credential was created
  type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import (
    argument_spec, credential_options, owner_options, store_options)
from ansible_collections.conductor.principals.plugins.module_utils.platforms import expiry_choices

OWNER = owner_options()
MODULE_SPEC = dict(
    argument_spec=argument_spec(
        expires_days=dict(type="int", choices=expiry_choices()),
        require_dpop=dict(type="bool"),
        enabled=dict(type="bool"),
        revoke_previous_after_unused_hours=dict(type="int"),
        max_overlap_days=dict(type="int", default=7),
        **dict(credential_options(), **dict(store_options(), **OWNER["options"]))
    ),
    required_one_of=OWNER["required_one_of"],
    mutually_exclusive=OWNER["mutually_exclusive"],
)


def main():
    run_module("sp_credential", MODULE_SPEC)


if __name__ == "__main__":
    main()
