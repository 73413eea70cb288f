#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sp_trust
short_description: Ensure a workload federation trust of a service principal (a secretless identity)
version_added: 0.2.0
description:
  - A trust lets a workload (a CI job, a pod) exchange the OIDC token its platform issues for an access token
    of the service principal (RFC 8693), when the token comes from the trust's O(provider) and matches its
    condition. No secret exists to store, rotate or leak. The workload then sets C(CONDUCTORONE_CLIENT_ID)
    to RV(client_id), C(CONDUCTORONE_SERVER_URL) to RV(server_url) and C(CONDUCTORONE_OIDC_TOKEN) to its token
    (see O(ignore:oidc_token) of every module, or M(conductor.principals.access_token)).
  - Identity is the service principal and the trust's O(name), or O(trust_client_id) when given (then O(name)
    renames it).
  - The condition is a CEL expression over C(claims), given raw as O(condition) or built from one of the
    structured forms O(github), O(gitlab) or O(kubernetes) (each says exactly what it builds); the result is
    returned as RV(trust.condition).
  - "Safety: a condition that lets a stranger's token through is refused in one sentence naming the risk, before
    anything is written, unless O(allow_broad_condition=true). A condition I(pins) an identifying claim when it
    compares C(claims.x) or C(claims['x']) with C(==) to a non-empty string literal, or with C(startsWith) to a
    literal that fixes the owner in full: one holding a C(/) after a non-empty owner (V(acme/), V(repo:acme/),
    V(project_path:acme/)), or for HCP Terraform's C(sub) one starting C(organization:<name>:). V(repo:acme)
    pins nothing: C(repo:acme-evil/x) starts with it. A condition is broad unless every top-level C(||) branch
    pins one through its C(&&) terms; C(has()), C(!=), C(in), C(matches), a comparison with another claim and
    anything under C(!) or C(?:) pin nothing, and so does what the rule cannot read as CEL."
  - "Identifying claims, by the provider's type; a well-known issuer (GitHub's, C(https://gitlab.com),
    C(https://app.terraform.io)) is judged by its own type even on a V(custom) provider. V(github_actions):
    C(repository), C(repository_owner), C(repository_id), C(repository_owner_id), C(sub); V(gitlab_ci):
    C(project_path), C(namespace_path), C(project_id), C(namespace_id), C(sub); V(hcp_terraform) (one issuer
    for every organisation): C(terraform_organization_name), C(terraform_organization_id), C(sub); V(spiffe):
    C(sub); any other type: every claim (the literal V(true), or a condition that pins nothing, is broad).
    M(conductor.principals.credential_report) flags V(broad) by the same rule. A condition over 1,024 bytes is
    refused."
  - O(tests) samples are evaluated by the server (test-cel) before anything is written, in check mode too; a
    sample whose result differs from its C(expect) fails the task and nothing is written.
  - O(name), O(description), the condition, O(allowed_cidrs), O(scoped_roles), O(passthrough_claims) and
    O(enabled) change in place with one PATCH naming only what differs (the client ID stays). They are
    compared normalised (CIDRs canonical, roles as a set of IDs, claims as a set).
  - The provider cannot change on a live trust; a difference fails naming it, unless
    O(replace_on_change=true) (a new trust with a new client ID; the old one is deleted after).
  - ConductorOne only.
author:
  - conductor.principals developers (@conductor-principals)
extends_documentation_fragment:
  - conductor.principals.connection
  - conductor.principals.attributes
options:
  service_principal:
    description: Display name of the service principal that owns the trust.
    type: str
  service_principal_id:
    description: ID of the service principal that owns the trust.
    type: str
  name:
    description: Display name of the trust; with the principal, its identity. Required unless O(trust_client_id) is given.
    type: str
  trust_client_id:
    description:
      - The trust's client ID (C(...@<tenant>/wfe)) or its short name before the C(@).
      - Not C(client_id), which every module of the collection takes for the connection.
    type: str
  provider:
    description:
      - The provider whose tokens the trust accepts, by issuer URL, provider name or provider ID (see
        M(conductor.principals.federation_provider)). Required to create a trust.
    type: str
  condition:
    description:
      - A CEL expression over C(claims) that must be true for a token to match, for example
        C(claims.repository == "acme/infra" && claims.ref == "refs/heads/main").
      - Exactly one of O(condition), O(github), O(gitlab), O(kubernetes) is needed to create a trust.
    type: str
  github:
    description:
      - "GitHub Actions tokens. Builds, joined with C(&&): C(claims.repository == \"<repository>\");
        C(claims.ref == \"<ref>\") (a O(github.ref) without C(refs/) is a branch: V(main) becomes
        C(refs/heads/main)); C(claims.environment == \"<environment>\"); C(claims.event_name == \"<event_name>\");
        C(claims.workflow_ref == \"<workflow_ref>\"), each only when given."
    type: dict
    suboptions:
      repository:
        description: C(owner/name) of the repository (the token's C(repository) claim).
        type: str
        required: true
      ref:
        description: The branch (V(main)) or full ref (V(refs/tags/v1)) (the C(ref) claim).
        type: str
      environment:
        description: The deployment environment of the job (the C(environment) claim).
        type: str
      event_name:
        description: The event that started the workflow, for example V(push) (the C(event_name) claim).
        type: str
      workflow_ref:
        description: C(owner/repo/.github/workflows/<file>@<ref>) (the C(workflow_ref) claim).
        type: str
  gitlab:
    description:
      - "GitLab CI ID tokens. Builds, joined with C(&&): C(claims.project_path == \"<project_path>\");
        C(claims.ref == \"<ref>\") (GitLab's C(ref) is the bare branch or tag name);
        C(claims.ref_protected == \"true\") or C(\"false\") (GitLab puts a string); C(claims.environment ==
        \"<environment>\"), each only when given."
    type: dict
    suboptions:
      project_path:
        description: C(group/project) (the token's C(project_path) claim).
        type: str
        required: true
      ref:
        description: Branch or tag name (the C(ref) claim).
        type: str
      ref_protected:
        description: Whether the ref must be protected (the C(ref_protected) claim).
        type: bool
      environment:
        description: The deployment environment (the C(environment) claim).
        type: str
  kubernetes:
    description:
      - "Kubernetes service account tokens. Builds C(claims.sub == \"system:serviceaccount:<namespace>:<service_account>\")."
    type: dict
    suboptions:
      namespace:
        description: The service account's namespace.
        type: str
        required: true
      service_account:
        description: The service account's name.
        type: str
        required: true
  allowed_cidrs:
    description: Source IPv4/IPv6 networks the token exchange may come from. An empty list means no limit.
    type: list
    elements: str
  scoped_roles:
    description:
      - Roles the issued tokens are limited to, by role ID or display name. An empty list means all.
      - "Each must be a role the service principal holds (its C(user.roleIds)): a role it lacks would give the
        tokens no permission, so it fails the task naming it and the roles the principal holds, and nothing is
        written. A principal's roles are set in the ConductorOne console (no public API sets them)."
    type: list
    elements: str
  passthrough_claims:
    description: Names of string claims of the workload's token copied into the issued token (its C(c1wfc) claim).
    type: list
    elements: str
  description:
    description: What the trust matches.
    type: str
  enabled:
    description:
      - V(false) disables the trust; its token exchanges are refused.
      - C1 creates a trust enabled, so a new trust with V(false) is created and disabled in the same task; if the
        disable fails, the new trust is deleted again and the task fails saying its create was undone. It is never
        left live.
    type: bool
  tests:
    description:
      - Samples of claims and whether the condition must match them, checked by the server (test-cel) before
        anything is written, in check mode too. A mismatch fails the task naming the sample's index.
    type: list
    elements: dict
    suboptions:
      claims:
        description: The claims of a sample token.
        type: dict
        required: true
      expect:
        description: Whether the condition must accept them.
        type: bool
        required: true
  test_token:
    description:
      - A real token that must be accepted. Once the trust exists (after the write, or in check mode when
        nothing would change), it is run through the server's TestToken, which returns RV(token_test); a token
        that does not match fails the task naming the failing steps.
    type: str
  test_token_source_ip:
    description:
      - The source address O(test_token) is tested from (TestToken's C(sourceIp)), an IPv4 or IPv6 address,
        optionally with a prefix, so that O(allowed_cidrs) is tested too; a token from outside them fails the task
        naming the C(Source IP check) step.
      - Unset, the server tests the address the request comes from. Needs O(test_token).
    type: str
  allow_broad_condition:
    description: Accept a condition that lets a stranger's token through (see the safety rule above).
    type: bool
    default: false
  replace_on_change:
    description: When the provider differs, make a new trust (a new client ID) and delete the old one.
    type: bool
    default: false
  state:
    description: V(present) makes sure it exists; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: The deploy job of acme/infra's main branch acts as the Deploy principal
  conductor.principals.sp_trust:
    service_principal: Deploy
    name: infra-main
    provider: https://token.actions.githubusercontent.com
    github:
      repository: acme/infra
      ref: main
    tests:
      - claims: {repository: acme/infra, ref: refs/heads/main}
        expect: true
      - claims: {repository: acme/infra, ref: refs/heads/feature}
        expect: false
  register: trust

- name: What the workflow sets
  ansible.builtin.debug:
    msg: "CONDUCTORONE_CLIENT_ID={{ trust.client_id }} CONDUCTORONE_SERVER_URL={{ trust.server_url }}"

- name: A raw CEL condition, checked with a real token
  conductor.principals.sp_trust:
    service_principal: Deploy
    name: gitlab-prod
    provider: GitLab
    condition: claims.project_path == "acme/infra" && claims.environment == "production"
    test_token: "{{ lookup('ansible.builtin.env', 'CI_JOB_JWT') }}"

- name: A trust limited to the runners' network, its token tested as if it came from there
  conductor.principals.sp_trust:
    service_principal: Deploy
    name: infra-runners
    provider: https://token.actions.githubusercontent.com
    github:
      repository: acme/infra
    allowed_cidrs: [10.20.0.0/16]
    test_token: "{{ lookup('ansible.builtin.env', 'ACTIONS_ID_TOKEN') }}"
    test_token_source_ip: 10.20.1.7

- name: Stop the exchange without deleting the trust
  conductor.principals.sp_trust:
    service_principal: Deploy
    name: infra-main
    enabled: false
'''

RETURN = r'''
trust:
  description: The trust after the task (predicted in check mode). Not returned for O(state=absent).
  returned: when O(state=present)
  type: dict
  contains:
    client_id:
      description: The client ID a workload exchanges its token with (null in check mode before creation).
      type: str
      sample: clever-fox-42195@acme.conductor.one/wfe
    name:
      description: Display name.
      type: str
    description:
      description: What it matches.
      type: str
    service_principal_id:
      description: The principal the issued tokens belong to.
      type: str
    provider_id:
      description: The provider whose tokens it accepts.
      type: str
    condition:
      description: The CEL condition (built from O(github), O(gitlab) or O(kubernetes) when given).
      type: str
      sample: claims.repository == "acme/infra" && claims.ref == "refs/heads/main"
    allowed_cidrs:
      description: Allowed source networks (empty is no limit).
      type: list
      elements: str
    scoped_role_ids:
      description: Role IDs the tokens are limited to (empty is all).
      type: list
      elements: str
    passthrough_claims:
      description: Claims copied into the issued token.
      type: list
      elements: str
    enabled:
      description: Whether its token exchanges are accepted.
      type: bool
    created_at:
      description: When it was created (RFC 3339).
      type: str
    updated_at:
      description: When it last changed (RFC 3339).
      type: str
client_id:
  description: The trust's client ID, what the workload sets as C(CONDUCTORONE_CLIENT_ID).
  returned: when O(state=present)
  type: str
server_url:
  description: The API the workload sets as C(CONDUCTORONE_SERVER_URL).
  returned: when O(state=present)
  type: str
token_test:
  description: The server's TestToken verdict on O(test_token), step by step. Never holds the token.
  returned: when O(test_token) is given and was checked
  type: dict
  contains:
    matched:
      description: Whether every step passed.
      type: bool
    steps:
      description: Each validation step, in the server's order.
      type: list
      elements: dict
      contains:
        name:
          description: The step, for example C(CEL evaluation).
          type: str
        passed:
          description: Whether it passed.
          type: bool
        skipped:
          description: Whether it did not apply (a CIDR check without an allowlist).
          type: bool
        message:
          description: The server's detail.
          type: str
'''

from ansible_collections.conductor.principals.plugins.module_utils.ansible_module import run_module
from ansible_collections.conductor.principals.plugins.module_utils.common_args import argument_spec, trust_options

MODULE_SPEC = dict(
    argument_spec=argument_spec(
        service_principal=dict(type="str"),
        service_principal_id=dict(type="str"),
        trust_client_id=dict(type="str"),
        test_token=dict(type="str", no_log=True),
        test_token_source_ip=dict(type="str", no_log=False),  # an address, not a secret
        **trust_options()
    ),
    required_one_of=[("service_principal", "service_principal_id")],
    mutually_exclusive=[("service_principal", "service_principal_id"),
                        ("condition", "github", "gitlab", "kubernetes")],
)


def main():
    run_module("sp_trust", MODULE_SPEC)


if __name__ == "__main__":
    main()
