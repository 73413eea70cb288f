#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: access_token
short_description: Exchange credentials for an access token
version_added: 0.1.0
description:
  - Obtains an access token with the connection options, by every method the collection supports
    (ConductorOne private-key JWT assertion, plain client secret, OIDC token exchange, DPoP; Orkes access keys).
  - Never changes anything; C(changed) is always false and it runs in check mode.
  - The result carries the token, so it is hidden from output even without C(no_log); C(register) it.
  - Pass RV(access_token) to later tasks (for example through C(module_defaults)) to skip one token request per task.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
  - conductor.principals.attributes.info_module
options:
  validate:
    description:
      - Also ask the API who the token belongs to, returned as RV(identity).
      - ConductorOne introspect; on Orkes C(GET /api/token/userInfo), which answers for any valid key whatever
        its roles.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Get a token for the Terraform CI credential
  conductor.principals.access_token:
    client_id: "{{ cred.client_id }}"
    client_secret: "{{ cred.client_secret }}"
    validate: true
  register: token

- name: Call the API with it
  ansible.builtin.uri:
    url: "{{ token.server_url }}/api/v1/auth/introspect"
    headers: "{{ token.headers }}"
  no_log: true
'''

RETURN = r'''
access_token:
  description: The access token.
  returned: success
  type: str
token_type:
  description: V(Bearer), or V(DPoP) for a DPoP-bound token (each call then needs a proof signed with RV(dpop_key)).
  returned: success
  type: str
expires_in:
  description: Lifetime in seconds, when known.
  returned: success
  type: int
expires_at:
  description: Expiry time (ISO 8601, UTC), when known.
  returned: success
  type: str
server_url:
  description: The API base URL.
  returned: success
  type: str
headers:
  description: Headers ready for M(ansible.builtin.uri) (C(Authorization) on ConductorOne, C(X-Authorization) on Orkes).
  returned: success
  type: dict
dpop_key:
  description: The private JWK the DPoP-bound token is tied to.
  returned: for DPoP tokens
  type: dict
identity:
  description:
    - Who the token belongs to. ConductorOne, the API's introspect answer.
    - Orkes, C(key_id), C(user_id) (C(app:<application id>)), C(name) and C(roles) of the key's user.
  returned: when O(validate=true)
  type: dict
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec

MODULE_SPEC = dict(argument_spec=argument_spec(validate=dict(type="bool", default=False)))


def main():
    run_module("access_token", MODULE_SPEC)


if __name__ == "__main__":
    main()
