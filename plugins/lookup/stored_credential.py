# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: stored_credential
author:
  - conductor.principals developers (@conductor-principals)
version_added: 0.1.0
short_description: Read a credential's entry from a secret store
description:
  - "Returns the entry that M(conductor.principals.sp_credential) or M(conductor.principals.personal_client) wrote
    to a secret store for one credential: the JSON object C(client_id), C(client_secret), C(server_url),
    C(platform), C(credential_id), C(expires_at) (plus the exact C(names) it was written for)."
  - Works with every store type (V(vault_file), V(hashi_vault), V(aws_secretsmanager)) and the same O(store)
    dictionary the modules take, so a playbook reads back what a task stored.
  - The entry holds a secret. Set C(no_log) on every task that uses it.
  - Runs on the controller; the libraries a store type needs (C(hvac), C(boto3)) must be installed there.
options:
  _terms:
    description:
      - One or more C(<principal>/<credential>) names, for example C(Terraform CI/ci).
      - The text after the last C(/) is the credential name; a principal name may hold C(/) itself.
      - A personal API key of M(conductor.principals.personal_client) is C(@personal/<key name>).
    type: list
    elements: str
    required: true
  platform:
    description: The platform the credential belongs to (the second part of the entry's path).
    type: str
    choices: [conductorone, orkes]
    default: conductorone
  store:
    description:
      - The store to read, as given to the modules' O(store) option (see
        O(conductor.principals.sp_credential#module:store) for every key).
      - V(vault_file) reads E(CONDUCTOR_PRINCIPALS_STORE_PASSWORD), V(hashi_vault) E(VAULT_ADDR) and
        E(VAULT_TOKEN), V(aws_secretsmanager) E(AWS_REGION) and the usual AWS credentials when the
        dictionary does not give them.
    type: dict
    required: true
  missing:
    description:
      - What a name without an entry gives.
      - V(error) fails the lookup naming the store location; V(empty) gives an empty dictionary.
    type: str
    choices: [error, empty]
    default: error
notes:
  - "Store types and the entry's path (C(<prefix>/<platform>/<principal>/<credential>)) are described in the
    collection's README, section Secret stores."
seealso:
  - module: conductor.principals.sp_credential
  - module: conductor.principals.personal_client
'''

EXAMPLES = r'''
- name: Use the stored secret of Terraform CI's credential ci
  ansible.builtin.uri:
    url: https://example.conductor.one/auth/v1/token
    method: POST
    body_format: form-urlencoded
    body:
      grant_type: client_credentials
      client_id: "{{ entry.client_id }}"
      client_secret: "{{ entry.client_secret }}"
  vars:
    entry: "{{ lookup('conductor.principals.stored_credential', 'Terraform CI/ci',
               store={'type': 'hashi_vault', 'url': 'https://vault.example.com:8200'}) }}"
  no_log: true

- name: An Orkes key from AWS Secrets Manager
  ansible.builtin.set_fact:
    orkes_key: "{{ lookup('conductor.principals.stored_credential', 'workflow-runner/ci', platform='orkes',
                   store={'type': 'aws_secretsmanager', 'region': 'eu-west-1'}) }}"
  no_log: true

- name: Several entries from an Ansible Vault file, an empty dictionary for a missing one
  ansible.builtin.set_fact:
    entries: "{{ query('conductor.principals.stored_credential', 'A46-sp/ci', 'A46-sp/deploy', missing='empty',
                       store={'type': 'vault_file', 'path': '~/.config/conductor-principals/store.vault'}) }}"
  no_log: true
'''

RETURN = r'''
_raw:
  description: One entry per name, in the order given.
  type: list
  elements: dict
  contains:
    client_id:
      description: The credential's client ID.
      type: str
    client_secret:
      description: The secret. Keep it out of logs (C(no_log)).
      type: str
    server_url:
      description: The API the credential belongs to.
      type: str
    platform:
      description: V(conductorone) or V(orkes).
      type: str
    credential_id:
      description: The ID of the credential whose secret this is.
      type: str
    expires_at:
      description: When the credential expires (RFC 3339), or null for never.
      type: str
    names:
      description: The exact principal and credential names the entry was written for.
      type: dict
'''

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.lookup import LookupBase

from ansible_collections.conductor.principals.plugins.module_utils.common_args import store_argument_spec
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError
from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for


def split_name(term):
    """``<principal>/<credential>`` into (principal, credential); the credential is after the last '/'."""
    principal, slash, credential = str(term).rpartition("/")
    if not slash or not principal or not credential:
        raise AnsibleLookupError("%r is not <principal>/<credential>; give for example 'Terraform CI/ci'" % term)
    return principal, credential


def store_options(store):
    """The ``store`` dictionary checked and completed as the modules' own option is."""
    if not isinstance(store, dict):
        raise AnsibleLookupError("store must be a dictionary such as {'type': 'hashi_vault', 'url': ...}")
    spec = store_argument_spec()
    result = ArgumentSpecValidator(spec["options"]).validate(store)
    if result.error_messages:
        error = result.errors.errors[0]
        raise AnsibleLookupError("store: %s%s" % ("unsupported key " if isinstance(error, UnsupportedError) else "",
                                                  error))
    return result.validated_parameters


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        platform = self.get_option("platform")
        missing = self.get_option("missing")
        try:
            store = store_for(store_options(self.get_option("store")), dict(os.environ))
            entries = []
            for term in terms:
                key = EntryKey(platform, *split_name(term))
                found = store.read(key)
                if found is None and missing == "error":
                    raise AnsibleLookupError("There is no entry for %r in the %s store at %s; check the name, platform "
                                             "and store, or create it with conductor.principals.sp_credential"
                                             % (term, store.type, store.location(key)))
                entries.append(dict(found.content) if found else {})
        except ConductorError as exc:
            raise AnsibleLookupError(str(exc))
        return entries
