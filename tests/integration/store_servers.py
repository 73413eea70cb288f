# -*- coding: utf-8 -*-
"""The store backends' servers as the tests read them: a real ``bao server -dev`` (Vault) and a real moto server
(AWS Secrets Manager), both started by tests/servers.py; an entry is read back with the servers' own APIs, not
with the collection's store code."""

from __future__ import annotations

import json
import urllib.error

import boto3

PATH = "conductor-principals/conductorone/Terraform CI/ci"
AWS_NAME = "conductor-principals/conductorone/Terraform+20CI/ci"
READ_ONLY_POLICY = 'path "secret/*" { capabilities = ["read", "list"] }'


class Vault(object):
    """The hashi_vault side: options for the task, and the entry as the server has it."""

    type = "hashi_vault"
    location = "secret/" + PATH

    def __init__(self, bao):
        self.bao = bao
        self.env = {"VAULT_ADDR": bao.url, "VAULT_TOKEN": bao.token}  # the token goes in as users give it

    def options(self, **extra):
        return dict({"type": "hashi_vault"}, **extra)

    def entry(self):
        try:
            return self.bao.api("GET", "secret/data/" + PATH)["data"]["data"]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def previous(self):
        version = self.bao.api("GET", "secret/metadata/" + PATH)["data"]["current_version"] - 1
        return self.bao.api("GET", "secret/data/%s?version=%d" % (PATH, version))["data"]["data"]

    def labels(self):
        """What the entry is tagged with (custom metadata)."""
        return self.bao.api("GET", "secret/metadata/" + PATH)["data"]["custom_metadata"]

    def state(self):
        """Everything a write would change: versions, times, metadata."""
        metadata = self.bao.api("GET", "secret/metadata/" + PATH)["data"]
        return json.dumps(metadata, sort_keys=True)

    def exists(self):
        try:
            self.bao.api("GET", "secret/metadata/" + PATH)
            return True
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
            return False


class Aws(object):
    """The aws_secretsmanager side."""

    type = "aws_secretsmanager"
    location = AWS_NAME

    def __init__(self, moto):
        self.moto = moto
        self.env = moto.env()
        self.client = boto3.client("secretsmanager", endpoint_url=moto.url, region_name=moto.region,
                                   aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)

    def options(self, **extra):
        return dict({"type": "aws_secretsmanager", "endpoint_url": self.moto.url}, **extra)

    def entry(self, stage="AWSCURRENT"):
        try:
            return json.loads(self.client.get_secret_value(SecretId=AWS_NAME, VersionStage=stage)["SecretString"])
        except self.client.exceptions.ResourceNotFoundException:
            return None

    def previous(self):
        return self.entry("AWSPREVIOUS")

    def labels(self):
        return {t["Key"]: t["Value"] for t in self.client.describe_secret(SecretId=AWS_NAME)["Tags"]}

    def stages(self):
        return self.client.describe_secret(SecretId=AWS_NAME)["VersionIdsToStages"]

    def state(self):
        described = self.client.describe_secret(SecretId=AWS_NAME)
        return json.dumps({k: described.get(k) for k in ("VersionIdsToStages", "LastChangedDate", "Tags")},
                          sort_keys=True, default=str)

    def exists(self):
        return bool(self.client.list_secrets()["SecretList"])
