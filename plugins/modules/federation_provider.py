#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: federation_provider
short_description: Ensure a workload federation provider (a trusted OIDC issuer) of ConductorOne
version_added: 0.2.0
description:
  - A provider is an issuer whose OIDC tokens ConductorOne accepts for workload federation, for example
    GitHub Actions (V(https://token.actions.githubusercontent.com)) or a GitLab instance. Trusts of service
    principals (M(conductor.principals.sp_trust)) reference it and say which of its tokens match.
  - ConductorOne keeps one provider per issuer, so the provider's identity is its O(issuer_url), compared
    normalised (lowercase scheme and host, no trailing slash); or O(id) when given.
  - O(issuer_url) and O(type) cannot change on a live provider; a difference fails naming it, unless
    O(replace_on_change=true).
  - O(state=absent) while trusts use the provider fails naming those trusts (principal and trust name), and
    removes nothing.
  - ConductorOne only.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
options:
  issuer_url:
    description:
      - The issuer (the C(iss) claim of its tokens), V(https://...) for OIDC or V(spiffe://<trust domain>) for
        SPIFFE. Required to create a provider.
      - C(http://) is refused in one sentence before anything is sent (the API takes only C(https://) issuers),
        except for a loopback host (V(localhost), V(127.0.0.1), V(::1)).
    type: str
  id:
    description: ID of an existing provider.
    type: str
  name:
    description:
      - Display name. When creating and unset, the issuer URL.
      - With neither O(issuer_url) nor O(id), the provider of this name is the one managed.
    type: str
  description:
    description: What the provider is for.
    type: str
  type:
    description:
      - The kind of issuer (the API's C(WELL_KNOWN_WORKLOAD_PROVIDER_*)). It decides which claims the safety rule
        of M(conductor.principals.sp_trust) requires a trust's condition to pin.
      - Unset, a well-known issuer gives its own type (V(https://token.actions.githubusercontent.com) and its
        enterprise form V(github_actions), V(https://gitlab.com) V(gitlab_ci), V(https://app.terraform.io)
        V(hcp_terraform)) and any other issuer V(custom); with neither O(issuer_url) nor O(type), the type is
        left as it is.
      - The trusts of a well-known issuer are judged by the issuer's own type even when this says V(custom).
    type: str
    choices: [github_actions, gitlab_ci, hcp_terraform, aws_iam_outbound, spiffe, custom]
  enabled:
    description:
      - V(false) disables the provider; a disabled provider's tokens are all refused.
      - C1 creates a provider enabled, so a new provider with V(false) is created and disabled in the same task; if
        the disable fails, the new provider is deleted again and the task fails saying its create was undone. It is
        never left live.
    type: bool
  spiffe_bundle_endpoint_url:
    description: O(type=spiffe) only. The HTTPS URL of the trust domain's JWKS.
    type: str
  replace_on_change:
    description:
      - Replace the provider (delete and create) when O(issuer_url) or O(type) differs. Refused while trusts
        use it.
    type: bool
    default: false
  state:
    description: V(present) makes sure it exists; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: Trust GitHub Actions' OIDC tokens
  conductor.principals.federation_provider:
    issuer_url: https://token.actions.githubusercontent.com
    type: github_actions
    name: GitHub Actions

- name: A self-managed GitLab
  conductor.principals.federation_provider:
    issuer_url: https://gitlab.example.com
    type: gitlab_ci

- name: Remove a provider (fails while trusts use it)
  conductor.principals.federation_provider:
    issuer_url: https://gitlab.example.com
    state: absent
'''

RETURN = r'''
provider:
  description: The provider after the task (predicted in check mode). Not returned for O(state=absent).
  returned: when O(state=present)
  type: dict
  contains:
    id:
      description: Its ID (null in check mode before creation).
      type: str
    name:
      description: Display name.
      type: str
    issuer_url:
      description: The normalised issuer URL.
      type: str
      sample: https://token.actions.githubusercontent.com
    type:
      description: The kind of issuer.
      type: str
      sample: github_actions
    description:
      description: What it is for.
      type: str
    enabled:
      description: Whether its tokens are accepted.
      type: bool
    spiffe_bundle_endpoint_url:
      description: The JWKS URL of a SPIFFE provider.
      type: str
    created_at:
      description: When it was created (RFC 3339).
      type: str
    updated_at:
      description: When it last changed (RFC 3339).
      type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec, provider_options

MODULE_SPEC = dict(
    argument_spec=argument_spec(id=dict(type="str"), **provider_options()),
    required_one_of=[("issuer_url", "id", "name")],
)


def main():
    run_module("federation_provider", MODULE_SPEC)


if __name__ == "__main__":
    main()
