#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: credential_report
short_description: Report the hygiene of every credential on a platform (expiry, use, overlap, storage)
version_added: 0.2.0
description:
  - Lists every credential (Orkes access key) of every service principal (Orkes application) on one platform,
    one row each, and flags what needs attention, with a count per flag.
  - "Flags: V(expired) (past its expiry); V(expiring) (expires within O(expiring_within_days)); V(unused)
    (not used for O(unused_days) or more; a credential never used counts from its creation); V(never_used)
    (no token was ever obtained with it); V(unheld) (live, but O(store) holds no entry with its ID);
    V(overlapping) (another live credential of the same name, on Orkes
    another key, on the same principal: a rotation whose previous credential is still live)."
  - "ConductorOne workload federation trusts (M(conductor.principals.sp_trust)) are listed too, as rows of
    C(kind=trust) with no expiry, flagged V(broad) (a condition that lets a stranger's token through,
    the safety rule of M(conductor.principals.sp_trust)) and V(disabled)."
  - Orkes access keys record no use, so on Orkes V(unused) and V(never_used) are never set and C(days_unused)
    is null.
  - With O(store), a live credential is flagged V(unheld) when its entry is missing or holds another
    credential ID; an Orkes access key, which has no name, when no entry under its application holds its
    ID. The platform's entries are listed and read once, all together (a C(vault_file) store is decrypted twice,
    whatever the number of credentials); only their credential IDs are looked at. Without O(store), V(unheld) is
    not judged.
  - Ages are measured on the server's clock (the C(Date) of its answers).
  - "Requests: one listing of the principals (every page), one listing of credentials per principal, one
    token; on ConductorOne also one listing of the federation providers and one search of the trusts of every
    principal (SearchTrusts, every page), never one listing of trusts per principal. The module only reads
    the API and never sees a secret."
  - With O(dest), the report is also written to that file as JSON, Markdown or HTML. The HTML page shows
    the counts, a chart of days to expiry (inline SVG) and the table; it needs no script and no network.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
  - conductor.principals.attributes.info_module
  - conductor.principals.store
options:
  expiring_within_days:
    description: A live credential that expires within this many days is flagged V(expiring).
    type: int
    default: 14
  unused_days:
    description:
      - A credential not used for this many days or more is flagged V(unused) (ConductorOne only).
    type: int
    default: 30
  include_personal:
    description:
      - Also report the personal API keys of the calling user (ConductorOne only). Their rows have
        C(personal=true) and no service principal.
    type: bool
    default: false
  dest:
    description:
      - Also write the report to this file (mode O(mode), replaced atomically). Its folder must exist.
      - The file is the report itself, so it is written in check mode too; the task then reports C(changed=true)
        and prints the path it wrote (without C(-v)). Without O(dest) the task only reads, with C(changed=false).
    type: path
  mode:
    description:
      - The file mode of O(dest), as octal text such as V('0644') (quote it in YAML), for a page a web server
        serves. Execute bits and write for group or others are refused.
      - Only with O(dest). When unset, V('0600').
    type: raw
  format:
    description:
      - The format of O(dest). When unset, taken from the suffix of O(dest) (V(.md), V(.html), V(.json)),
        else V(json).
    type: str
    choices: [json, markdown, html]
notes:
  - Schedule it weekly in AWX with the ready playbook C(playbooks/report.yml).
'''

EXAMPLES = r'''
- name: Weekly credential report as an HTML page
  conductor.principals.credential_report:
    dest: /var/reports/credentials.html
  register: report

- name: Fail the job when something expired or is about to
  ansible.builtin.assert:
    that: report.summary.expired == 0 and report.summary.expiring == 0
    fail_msg: "{{ report.credentials | selectattr('flags') | map(attribute='name') | list }}"

- name: Orkes access keys, as Markdown
  conductor.principals.credential_report:
    platform: orkes
    dest: orkes-keys.md
'''

RETURN = r'''
credentials:
  description: One row per credential, never a secret.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(credential), or V(trust) for a workload federation trust (ConductorOne; its RV(credentials[].id)
        and RV(credentials[].client_id) are the trust's client ID).
      type: str
    service_principal:
      description: Name of the service principal (Orkes application); null for a personal API key.
      type: str
    service_principal_id:
      description: Its ID; null for a personal API key.
      type: str
    personal:
      description: Whether this is a personal API key of the caller (O(include_personal)).
      type: bool
    name:
      description: Display name of the credential (null on Orkes, whose keys have none).
      type: str
    id:
      description: Credential ID (Orkes key ID).
      type: str
    client_id:
      description: Client ID (Orkes key ID).
      type: str
    status:
      description: V(ACTIVE), or V(INACTIVE) for a paused Orkes key.
      type: str
    created_at:
      description: Creation time, ISO 8601 UTC.
      type: str
    expires_at:
      description: Expiry time, ISO 8601 UTC; null if it never expires.
      type: str
    expires_in_days:
      description: Whole days left (negative once expired); null if it never expires.
      type: int
    last_used_at:
      description: When a token was last obtained with it; null if never (and always on Orkes).
      type: str
    days_unused:
      description: Whole days since its last use, or since its creation if never used; null on Orkes.
      type: int
    flags:
      description: Any of V(expired), V(expiring), V(unused), V(never_used), V(unheld), V(overlapping); for a
        trust V(broad) and V(disabled).
      type: list
      elements: str
    grants:
      description: Orkes only, how many grants (access values on named resources) the credential's application
        holds.
      type: int
      returned: on Orkes
  sample:
    - service_principal: Terraform CI
      service_principal_id: 2aBcD
      personal: false
      name: prod-terraform
      id: 2xYz
      client_id: clever-fox-12345@example.conductor.one/spc
      status: ACTIVE
      created_at: "2026-08-01T10:00:00Z"
      expires_at: "2026-10-30T10:00:00Z"
      expires_in_days: 6
      last_used_at: "2026-10-23T09:12:40Z"
      days_unused: 1
      flags: [expiring]
summary:
  description: How many credentials carry each flag, C(total), and C(flagged) (with at least one flag).
  returned: always
  type: dict
  sample: {expired: 1, expiring: 2, unused: 3, never_used: 1, unheld: 0, overlapping: 2, broad: 0, disabled: 1, total: 40, flagged: 6}
thresholds:
  description: What the rows were judged against (O(expiring_within_days), O(unused_days), whether a store
    was checked, whether the platform records use).
  returned: always
  type: dict
generated_at:
  description: The server's time the report was judged at, ISO 8601 UTC.
  returned: always
  type: str
principals:
  description: How many service principals (Orkes applications) were listed.
  returned: always
  type: int
permissions:
  description: Orkes only, each application's grants count (access values on named resources), applications
    without credentials included. Markdown and HTML reports show the counts below the table.
  returned: on Orkes
  type: list
  elements: dict
  contains:
    service_principal:
      description: The application's name.
      type: str
    service_principal_id:
      description: The application's ID.
      type: str
    grants:
      description: How many (target, access value) pairs it holds.
      type: int
  sample: [{service_principal: payments-worker, service_principal_id: 5f0c, grants: 3}]
dest:
  description: The absolute path of the report file.
  returned: when O(dest) is given
  type: str
format:
  description: The format written to O(dest).
  returned: when O(dest) is given
  type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import (
    argument_spec, store_argument_spec)

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        expiring_within_days=dict(type="int", default=14),
        unused_days=dict(type="int", default=30),
        include_personal=dict(type="bool", default=False),
        dest=dict(type="path"),
        mode=dict(type="raw"),
        format=dict(type="str", choices=["json", "markdown", "html"]),
        store=store_argument_spec(),
    ),
)


def main():
    run_module("credential_report", MODULE_SPEC)


if __name__ == "__main__":
    main()
