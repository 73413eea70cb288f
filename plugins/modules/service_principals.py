#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: service_principals
short_description: Ensure many service principals (Orkes applications), their credentials and trusts in one task
version_added: 0.2.0
description:
  - Plans a whole list of principals at once (which to create, update, keep or remove, and for each credential
    whether to create, rotate, replace, revoke or keep it), then applies the plan with at most O(parallelism) API
    requests in flight.
  - Each credential gets every guarantee of M(conductor.principals.sp_credential) - a new secret is in O(store)
    before what it replaces is revoked and before the module returns, O(verify) proves it, and a create whose
    answer was lost is found and revoked before trying again.
  - Credentials are created in waves of 4 x O(parallelism) (into a V(vault_file) store, at least an eighth of the
    entries it holds, so rewriting its file costs a constant per credential however large it grows); the new
    secrets of a wave are written to the store in one batch (a V(vault_file) store writes its file once per wave)
    before any of them is proven or anything it replaces is revoked, so no new secret waits in memory longer than
    one wave.
  - One item's failure does not stop the others. A failed credential is undone (the new credential revoked, the
    previous one kept), and the task fails at the end naming each failed item in RV(failed_items) and in its message.
  - A refused revoke of the previous credential, once the new one is made and held, is no failure - the new
    credential stays, the previous one is in the row's C(kept_ids), the task warns, and a later run revokes it.
  - A rerun with nothing to change writes nothing to the API or the store; it costs one listing of the
    principals (one request per page of 100), one listing of credentials per principal, and one token.
  - A rate limit (HTTP 429) seen by one worker slows every worker down (its C(Retry-After) is honoured by all).
  - O(verify), O(rotate_before_days), O(force_rotate), O(revoke_previous), O(revoke_previous_after_unused_hours),
    O(max_overlap_days) and O(replace_on_change) mean for each credential what they mean in
    M(conductor.principals.sp_credential); here each is a default that a credential entry may override (an entry
    that sets its own keeps it). A trust entry's C(replace_on_change) is its own.
  - The new secrets are returned only with O(return_secrets=true), in RV(secrets); the result is then hidden from
    output (use C(register) to keep it).
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.store
  - conductor.principals.credential
  - conductor.principals.credential.verify
  - conductor.principals.attributes
options:
  principals:
    description:
      - The principals to manage, in the shape of the P(conductor.principals.provision#role) role's
        C(provision_principals) - each entry is a dict with C(name) (required), C(platform) (default the task's
        O(platform); one task talks to one platform), C(state) (V(present), or V(absent) to remove the principal,
        its credentials and trusts, and its store entries), C(roles), C(tags) and C(permissions) (Orkes
        applications only), C(credentials) and C(trusts) (ConductorOne only).
      - Each entry of C(credentials) is a dict with C(name) (required, the store entry's name), C(state), and the
        M(conductor.principals.sp_credential) options C(expires_days), C(allowed_cidrs), C(scoped_roles),
        C(require_dpop), C(enabled), C(replace_on_change), C(rotate_before_days), C(force_rotate),
        C(revoke_previous), C(revoke_previous_after_unused_hours), C(max_overlap_days) and C(verify); an entry
        that leaves out one of the last seven takes the task's option of that name. A credential rotated (or
        replaced) keeps the live credential's settings the entry leaves out (as with
        M(conductor.principals.sp_credential)); an entry that names only C(ci), with O(force_rotate=true), rotates C(ci) with its
        CIDRs, scoped roles, DPoP binding and lifetime, and touches nothing else of the principal.
      - Each entry of C(trusts) is a dict with the M(conductor.principals.sp_trust) options of the trust
        (C(name) required, C(provider), C(condition) or C(github), C(gitlab), C(kubernetes), C(allowed_cidrs),
        C(scoped_roles), C(passthrough_claims), C(description), C(enabled), C(tests), C(allow_broad_condition),
        C(replace_on_change), C(state)).
      - The whole list is checked before any request; a mistake fails the task with one sentence naming the
        principal (and credential or trust) to fix, and nothing is written.
      - An empty list fails the task (a list given under another name arrives empty) unless O(allow_empty=true).
      - C(scoped_roles) of a credential or trust must be roles its principal holds (as in
        M(conductor.principals.sp_credential)), read from the listing of principals (a principal this task
        creates holds the tenant's default roles, as the API answers them); an item scoped to a role its principal
        lacks fails naming it and the held roles, before anything of that item is written.
    type: list
    elements: dict
    required: true
  parallelism:
    description:
      - At most this many API requests in flight at once (from 1 to 64), on as many worker threads, each with its
        own HTTP session. A wave of credential creates is 4 times this many.
    type: int
    default: 8
  prune:
    description:
      - Also remove what the store records as managed and the list no longer names - the principals that have
        entries in O(store) but are not listed are removed with their entries, and the credentials of a listed
        principal that have an entry but are not listed are revoked and their entries removed.
      - Nothing else in the tenant is touched - the store is the record of what this collection manages.
      - Prune acts on the IDs the entries hold, never on names - it removes a principal only if an entry records
        its ID (or holds the ID of a credential it owns), revokes a credential only by the ID an entry holds, and
        forgets an entry only once its credential is live nowhere. A principal made again by hand under a pruned
        name and a credential made by hand with a pruned entry's name are never touched; a managed principal
        renamed in place is still the managed one (kept when listed under its new name, removed with its
        entries when not).
      - Needs O(store). Bounded by O(max_removals).
    type: bool
    default: false
  max_removals:
    description:
      - With O(prune), at most this many principals may be removed; a plan that would remove more fails before any
        write, naming how many it would remove. Principals listed with C(state=absent) do not count.
      - Default 10% of the principals the store records on the task's platform, at least 1. V(0) lets prune
        revoke unlisted credentials of listed principals but remove no principal.
    type: int
  allow_empty:
    description:
      - Accept an empty O(principals) list. Without it an empty list fails the task, since a list given under
        another name (or a variable that is not set) arrives empty and the task would succeed doing nothing,
        or with O(prune) remove what the store records (within O(max_removals)).
    type: bool
    default: false
  return_secrets:
    description:
      - Return the secret of each present credential in RV(secrets) - a new one from its create, any other from
        its store entry. The result is then hidden from output, and from C(-v) and C(--diff).
      - Credentials need O(store) or O(return_secrets=true). Without a store the new secrets are only in the result,
        which holds them until the task ends; keep them at once (as with M(conductor.principals.sp_credential)
        without a store). A task with O(return_secrets=true), no O(store) and no C(register) that would make a
        new secret fails before any write, naming both ways to keep it (check mode, and a run that makes no
        secret, are not refused).
    type: bool
    default: false
notes:
  - "In check mode nothing is written: RV(principals), RV(credentials) and RV(trusts) say what would be done, and
    C(--diff) shows the plan (each principal, credential, trust and store entry before and after)."
  - Use one task per platform; a principal entry whose C(platform) is another than the task's is refused.
  - "With O(store), the store is opened, locked and decrypted before the first API write: a C(vault_file) in a
    directory that does not exist, a wrong password or a lock another run holds longer than its C(lock_timeout)
    fails the task with one sentence, and nothing is written."
seealso:
  - module: conductor.principals.sp_credential
  - module: conductor.principals.service_principal
  - module: conductor.principals.sp_trust
'''

EXAMPLES = r'''
- name: A whole tenant's machine identities, every secret straight into an encrypted store file
  conductor.principals.service_principals:
    parallelism: 8
    rotate_before_days: 14
    verify: true
    store:
      path: /home/ci/.config/conductor-principals/store.vault
      password: "{{ store_password }}"
    principals:
      - name: Terraform CI
        credentials:
          - name: prod-terraform
            expires_days: 90
            scoped_roles: [Read-Only Admin]
          - name: staging-terraform
      - name: Backup Job
        credentials:
          - name: nightly
  register: tenant

- name: Show what was done
  ansible.builtin.debug:
    var: tenant.summary

- name: Remove what the list dropped (only what the store records as managed)
  conductor.principals.service_principals:
    prune: true
    store:
      path: /home/ci/.config/conductor-principals/store.vault
      password: "{{ store_password }}"
    principals: "{{ machine_identities }}"

- name: Orkes applications with roles and one access key each; the secrets are needed right away
  conductor.principals.service_principals:
    platform: orkes
    return_secrets: true
    store:
      type: hashi_vault
      url: https://vault.example.com:8200
    principals:
      - name: billing-worker
        roles: [WORKER]
        credentials:
          - name: default
  register: orkes_tenant
  no_log: true
'''

RETURN = r'''
principals:
  description: Each principal of the plan, with what was done (would be done, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    platform: {description: The platform., type: str, sample: conductorone}
    name: {description: Display name., type: str, sample: Terraform CI}
    id: {description: "ID (null in check mode before it is made, and for a failed duplicate).", type: str}
    action:
      description: "V(created), V(updated) (roles, tags or permissions), V(unchanged), V(removed) or V(failed)."
      type: str
      sample: created
    revoked_credentials:
      description:
        - The credentials a removed principal took with it (would take, in check mode), as the API listed them
          just before, whether or not a store held their secrets.
      returned: when the principal is removed
      type: list
      elements: dict
      contains:
        id: {description: The credential's ID., type: str}
        name: {description: "Its name (null for an Orkes access key, which has none).", type: str}
        client_id: {description: Its client ID., type: str}
credentials:
  description: Each credential item that was done (a failed one is in RV(failed_items) instead). Never a secret.
  returned: always
  type: list
  elements: dict
  contains:
    platform: {description: The platform., type: str}
    principal: {description: The owning principal's name., type: str}
    name: {description: The credential's (store entry's) name., type: str}
    id: {description: The current credential's ID (null in check mode before creation and after a revoke)., type: str}
    client_id: {description: Its client ID., type: str}
    expires_at: {description: Its expiry (RFC 3339)., type: str}
    action:
      description:
        - V(created) (there was none), V(rotated) (for its age, O(force_rotate), or its secret was not in the store),
          V(replaced) (changed settings, with C(replace_on_change)), V(revoked) (C(state=absent) or O(prune)),
          V(updated) (an Orkes key paused or resumed) or V(unchanged).
      type: str
      sample: rotated
    reason: {description: Why a new credential was made., type: str, returned: when one was made}
    revoked_ids: {description: IDs this item revoked (older ones of that name included)., type: list, elements: str}
    kept_ids:
      description:
        - IDs of older credentials of that name that stay live (as M(conductor.principals.sp_credential)'s
          C(kept_ids)), among them any whose revoke the API refused after the new one was made - the item is then
          done, its new secret stored or returned, the task warns, and a later run revokes the older one.
      type: list
      elements: str
    kept_reasons: {description: "Why each of C(kept_ids) stays, one sentence per ID.", type: dict}
    stored: {description: "The store entry's location (null for a revoked credential).", type: str}
trusts:
  description: Each trust item that was done.
  returned: always
  type: list
  elements: dict
  contains:
    platform: {description: The platform., type: str}
    principal: {description: The owning principal's name., type: str}
    name: {description: The trust's name., type: str}
    client_id: {description: The trust's client ID (what a workload exchanges its token for)., type: str}
    action:
      description:
        - V(created), V(updated), V(replaced) (its provider changed, with C(replace_on_change), so a new client
          ID), V(removed) or V(unchanged).
      type: str
summary:
  description: Counts per action of principals, credentials and trusts, and of store entries removed and failed items.
  returned: always
  type: dict
  sample: {"principals": {"created": 30}, "credentials": {"created": 40}, "trusts": {}, "entries_removed": 0,
           "failed": 0, "store_batches": 5}
failed_items:
  description:
    - Each failed item - C(platform), C(principal), C(credential) or C(trust) when the item is one, and C(msg) (what
      went wrong and what was undone). Empty when every item was done; the task fails when it is not.
    - (Named so because C(failed) is the task's own true or false.)
  returned: always
  type: list
  elements: dict
secrets:
  description:
    - "The secret of each present credential, as C({platform: {principal: {credential: {client_id, client_secret,
      server_url}}}}). Hidden from output."
  returned: when O(return_secrets=true)
  type: dict
server_url:
  description: The API base URL.
  returned: always
  type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec, store_options

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        principals=dict(type="list", elements="dict", required=True),
        rotate_before_days=dict(type="int", default=0),
        force_rotate=dict(type="bool", default=False),
        revoke_previous=dict(type="bool", default=True),
        revoke_previous_after_unused_hours=dict(type="int"),
        max_overlap_days=dict(type="int", default=7),
        replace_on_change=dict(type="bool", default=False),
        parallelism=dict(type="int", default=8),
        prune=dict(type="bool", default=False),
        max_removals=dict(type="int"),
        allow_empty=dict(type="bool", default=False),
        return_secrets=dict(type="bool", default=False),
        **store_options()
    ),
)


def main():
    run_module("service_principals", MODULE_SPEC)


if __name__ == "__main__":
    main()
