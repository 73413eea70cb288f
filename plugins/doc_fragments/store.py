# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  store:
    description:
      - "The secret store: where a credential's secret lives. An entry lives at
        C(<prefix>/<platform>/<principal name>/<credential name>) and holds the JSON object
        C(client_id), C(client_secret), C(server_url), C(platform), C(credential_id), C(expires_at) (plus the
        exact C(names) it was written for). Names are used as they are where the backend allows them; C(/),
        C(+) and any character a backend refuses become C(+XX), one per UTF-8 byte in upper-case hex
        (C(Terraform CI) is C(Terraform+20CI) as an AWS secret name). Two names that map to one path are
        an error, never an overwrite. A name a backend refuses in its own fields (V(hashi_vault) custom
        metadata, V(aws_secretsmanager) tags) is its path segment there, or left out."
      - A write is done when the new secret is the entry's current value. V(hashi_vault) writes the data, then
        the custom metadata; when Vault refuses the metadata (no C(update) on C(metadata/)), the task keeps
        the new credential and warns.
      - Read an entry back with the lookup C(conductor.principals.stored_credential), or for V(vault_file) with
        C(ansible-vault view).
    type: dict
    suboptions:
      type:
        description:
          - V(vault_file) is an Ansible Vault encrypted file on the host that runs the task (no server).
          - V(hashi_vault) is a HashiCorp Vault or OpenBao KV version 2 secrets engine.
          - V(aws_secretsmanager) is AWS Secrets Manager.
        type: str
        choices: [vault_file, hashi_vault, aws_secretsmanager]
        default: vault_file
      prefix:
        description: The first part of every entry's path.
        type: str
        default: conductor-principals
      path:
        description:
          - V(vault_file) only. Path of the encrypted store file; created (mode 0600) by the first write.
          - A store file that group or others can read is refused (C(chmod 600)).
          - A file in the older layout (entries keyed by principal name, then credential name, with no platform
            level) is read as ConductorOne entries and rewritten in the current layout by the next write.
          - Writes hold an exclusive lock on the sibling file C(<path>.lock) and replace the file atomically,
            so runs that share the file on one host at the same time lose nothing.
          - A symbolic link is resolved once, when the task starts; the real file is read, locked and replaced,
            never the link. A store directory that others may write to is refused.
        type: path
      lock_timeout:
        description:
          - V(vault_file) only. Seconds a write waits for the lock another run holds before it fails.
        type: int
        default: 60
      password:
        description:
          - V(vault_file) only. The Ansible Vault password of the store file.
          - If not set, the environment variable E(CONDUCTOR_PRINCIPALS_STORE_PASSWORD) is used.
        type: str
      vault_id:
        description: V(vault_file) only. The Ansible Vault ID to label the file with (its C(1.2) header).
        type: str
      url:
        description:
          - V(hashi_vault) only. Address of the Vault or OpenBao server.
          - If not set, the environment variable E(VAULT_ADDR) is used.
          - Redirects are never followed (the token would go along); a plain C(http://) address makes the task warn.
        type: str
      token:
        description:
          - V(hashi_vault) only. A Vault token.
          - If not set (and no O(store.role_id) is given), E(VAULT_TOKEN) is used.
        type: str
      role_id:
        description: V(hashi_vault) only. AppRole role ID, used with O(store.secret_id) instead of a token.
        type: str
      secret_id:
        description: V(hashi_vault) only. AppRole secret ID.
        type: str
      mount_point:
        description: V(hashi_vault) only. Mount point of the KV version 2 secrets engine.
        type: str
        default: secret
      namespace:
        description: V(hashi_vault) only. Vault Enterprise or OpenBao namespace.
        type: str
      validate_certs:
        description:
          - V(hashi_vault) only. Verify the server's TLS certificate.
          - V(false) makes the task warn; give O(store.ca_path) instead.
        type: bool
        default: true
      ca_path:
        description:
          - V(hashi_vault) only. PEM CA bundle that signed the server's certificate.
          - If not set, E(VAULT_CACERT) is used (the AWX secret store credential type injects it).
        type: path
      region:
        description:
          - V(aws_secretsmanager) only. AWS region.
          - If not set, E(AWS_REGION) or E(AWS_DEFAULT_REGION) is used.
        type: str
      endpoint_url:
        description: V(aws_secretsmanager) only. Another endpoint, for example a VPC endpoint or a local test server.
        type: str
      kms_key_id:
        description: V(aws_secretsmanager) only. KMS key to encrypt new secrets with (else the account's default key).
        type: str
      profile:
        description:
          - V(aws_secretsmanager) only. AWS profile; credentials are otherwise found the way every AWS tool finds them.
        type: str
'''

    # For the modules that create credentials (sp_credential, personal_client): how they use the store
    # (their verify option is documented by conductor.principals.credential.verify).
    WRITES = r'''
options: {}
notes:
  - "Personal API keys (M(conductor.principals.personal_client)) are stored under the principal name C(@personal):
    C(<prefix>/conductorone/@personal/<key name>). Give each user their own O(store.prefix) or store when
    several users share one."
  - The module writes the secret of a credential it creates to O(store) before it returns; if that write
    fails, it revokes the new credential, leaves the previous one live and fails naming the store's error.
  - With O(store), V(present) means "present, and its secret is in the store". A live credential whose entry
    is missing, or whose entry holds another credential ID, is rotated. O(state=absent) also removes the
    entry. A rerun with everything in place writes nothing to the API or the store.
'''
