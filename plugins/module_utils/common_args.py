# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every module shares (documented in doc_fragments/connection.py).

Environment fallbacks are applied by config.resolve_settings, not here, because the
variable to read depends on the platform.
"""

from __future__ import annotations

from .platforms import DEFAULT_PLATFORM, PLATFORMS


def connection_argument_spec():
    return dict(
        platform=dict(type="str", choices=list(PLATFORMS), default=DEFAULT_PLATFORM),
        server_url=dict(type="str"),
        client_id=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        access_token=dict(type="str", no_log=True),
        oidc_token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=5),
    )


CONNECTION_OPTIONS = frozenset(connection_argument_spec())


def argument_spec(**own_options):
    """A module's full argument spec: its own options plus the connection options."""
    spec = connection_argument_spec()
    overlap = set(spec) & set(own_options)
    if overlap:
        raise ValueError("module options shadow connection options: %s" % ", ".join(sorted(overlap)))
    spec.update(own_options)
    return spec


def owner_options():
    """The service principal that owns credentials: by name or by ID, exactly one."""
    return dict(
        options=dict(service_principal=dict(type="str"), service_principal_id=dict(type="str")),
        required_one_of=[("service_principal", "service_principal_id")],
        mutually_exclusive=[("service_principal", "service_principal_id")],
    )


def credential_options():
    """What sp_credential and personal_client share: identity, limits and rotation."""
    return dict(
        name=dict(type="str"),
        id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        allowed_cidrs=dict(type="list", elements="str"),
        scoped_roles=dict(type="list", elements="str"),
        rotate_before_days=dict(type="int", default=0),
        force_rotate=dict(type="bool", default=False),
        revoke_previous=dict(type="bool", default=True),
        replace_on_change=dict(type="bool", default=False),
    )


def connection_options(params):
    """The connection options out of a module's parameters, for resolve_settings."""
    return {name: params.get(name) for name in CONNECTION_OPTIONS}


def store_argument_spec():
    """The ``store`` option (documented once in doc_fragments/store.py); suboptions of every backend."""
    return dict(
        type="dict",
        options=dict(
            type=dict(type="str", choices=["vault_file", "hashi_vault", "aws_secretsmanager"], default="vault_file"),
            prefix=dict(type="str", default="conductor-principals"),
            # vault_file
            path=dict(type="path"),
            password=dict(type="str", no_log=True),
            vault_id=dict(type="str", no_log=False),
            lock_timeout=dict(type="int", default=60),
            # hashi_vault
            url=dict(type="str"),
            token=dict(type="str", no_log=True),
            role_id=dict(type="str", no_log=False),
            secret_id=dict(type="str", no_log=True),
            mount_point=dict(type="str", default="secret"),
            namespace=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            # aws_secretsmanager
            region=dict(type="str"),
            endpoint_url=dict(type="str"),
            kms_key_id=dict(type="str", no_log=False),
            profile=dict(type="str"),
        ),
    )


def store_options():
    """What sp_credential and personal_client add for a secret store and the proof of a new secret."""
    return dict(
        store=store_argument_spec(),
        verify=dict(type="bool", default=False),
    )


#: The ways a trust's condition is given: CEL itself, or one of the forms it is built from.
CONDITION_FORMS = ("condition", "github", "gitlab", "kubernetes")
#: The kinds of workload federation provider ConductorOne knows (its ``type``).
PROVIDER_TYPES = ("github_actions", "gitlab_ci", "hcp_terraform", "aws_iam_outbound", "spiffe", "custom")


def provider_options():
    """One federation provider's own options (federation_provider, and each entry of the role's
    ``provision_federation_providers``); its ``id`` is the module's."""
    return dict(
        issuer_url=dict(type="str"),
        name=dict(type="str"),
        description=dict(type="str"),
        type=dict(type="str", choices=list(PROVIDER_TYPES)),
        enabled=dict(type="bool"),
        spiffe_bundle_endpoint_url=dict(type="str"),
        replace_on_change=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def trust_options():
    """One trust's own options (sp_trust, and each entry of a principal's ``trusts`` in service_principals)."""
    return dict(
        name=dict(type="str"),
        provider=dict(type="str"),
        condition=dict(type="str"),
        github=dict(type="dict", options=dict(
            repository=dict(type="str", required=True),
            ref=dict(type="str"),
            environment=dict(type="str"),
            event_name=dict(type="str"),
            workflow_ref=dict(type="str"),
        )),
        gitlab=dict(type="dict", options=dict(
            project_path=dict(type="str", required=True),
            ref=dict(type="str"),
            ref_protected=dict(type="bool"),
            environment=dict(type="str"),
        )),
        kubernetes=dict(type="dict", options=dict(
            namespace=dict(type="str", required=True),
            service_account=dict(type="str", required=True),
        )),
        allowed_cidrs=dict(type="list", elements="str"),
        scoped_roles=dict(type="list", elements="str"),
        passthrough_claims=dict(type="list", elements="str", no_log=False),
        description=dict(type="str"),
        enabled=dict(type="bool"),
        tests=dict(type="list", elements="dict", options=dict(
            claims=dict(type="dict", required=True),
            expect=dict(type="bool", required=True),
        )),
        allow_broad_condition=dict(type="bool", default=False),
        replace_on_change=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
