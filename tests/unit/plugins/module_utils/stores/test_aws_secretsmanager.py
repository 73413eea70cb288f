# -*- coding: utf-8 -*-
"""The aws_secretsmanager store backend against a real moto server (tests/servers.py); no mocks."""

from __future__ import annotations

import json
import sys

import boto3
import pytest

from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError, MissingDependencyError
from ansible_collections.conductor.principals.plugins.module_utils.stores import (
    EntryKey, StoreConflictError, StoreError, store_for)
from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content

KEY = EntryKey("conductorone", "A46-sp", "ci")
SPACED = EntryKey("orkes", "Terraform CI", "deploy")
NAME = "conductor-principals/conductorone/A46-sp/ci"


def content(key, secret="s3cret-one", credential_id="cred-1"):
    credential = {"id": credential_id, "expires_at": "2027-02-01T00:00:00Z"}
    return entry_content(key, credential, "client-" + credential_id, secret, "https://example.test")


@pytest.fixture
def moto(moto_server, monkeypatch):
    """The moto server, emptied, with its made-up AWS keys in the environment (as AWS tools find them)."""
    moto_server.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    return moto_server


def store(moto, **options):
    return store_for(dict({"type": "aws_secretsmanager", "endpoint_url": moto.url}, **options),
                     {"AWS_REGION": moto.region})


def aws(moto):
    return boto3.client("secretsmanager", endpoint_url=moto.url, region_name=moto.region)


def stages(moto, name=NAME):
    return aws(moto).describe_secret(SecretId=name)["VersionIdsToStages"]


def test_write_creates_one_secret_with_json_content_and_tags(moto):
    backend = store(moto)
    assert backend.read(KEY) is None
    version = backend.write(KEY, content(KEY))
    answer = aws(moto).get_secret_value(SecretId=NAME)
    assert json.loads(answer["SecretString"]) == content(KEY)
    assert answer["VersionId"] == version
    tags = {t["Key"]: t["Value"] for t in aws(moto).describe_secret(SecretId=NAME)["Tags"]}
    assert tags == {"managed-by": "conductor.principals", "conductor-principals:platform": "conductorone",
                    "conductor-principals:principal": "A46-sp", "conductor-principals:credential": "ci"}
    assert backend.read(KEY) == (content(KEY), version)
    assert backend.location(KEY) == NAME


def test_rotation_keeps_the_old_secret_as_awsprevious(moto):
    backend = store(moto)
    first = backend.write(KEY, content(KEY))
    second = backend.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=first)
    assert stages(moto) == {first: ["AWSPREVIOUS"], second: ["AWSCURRENT"]}
    assert backend.read(KEY) == (content(KEY, "s3cret-two", "cred-2"), second)
    assert backend.read(KEY, stage="AWSPREVIOUS").content == content(KEY)
    previous = aws(moto).get_secret_value(SecretId=NAME, VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"])["client_secret"] == "s3cret-one"


def test_a_second_create_is_a_conflict_and_writes_nothing(moto):
    backend = store(moto)
    version = backend.write(KEY, content(KEY))
    with pytest.raises(StoreConflictError, match="changed while this task ran"):
        store(moto).write(KEY, content(KEY, "other", "cred-2"))
    assert backend.read(KEY) == (content(KEY), version)
    assert list(stages(moto)) == [version]


def test_a_stale_check_and_set_version_is_detected_not_overwritten(moto):
    one, two = store(moto), store(moto)
    first = one.write(KEY, content(KEY))
    seen_by_two = two.read(KEY).version
    second = one.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=first)
    with pytest.raises(StoreConflictError):
        two.write(KEY, content(KEY, "s3cret-three", "cred-3"), version=seen_by_two)
    assert one.read(KEY) == (content(KEY, "s3cret-two", "cred-2"), second)
    labelled = stages(moto)
    assert labelled[second] == ["AWSCURRENT"] and labelled[first] == ["AWSPREVIOUS"]


def test_a_write_to_a_secret_deleted_meanwhile_is_a_conflict(moto):
    backend = store(moto)
    version = backend.write(KEY, content(KEY))
    aws(moto).delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    with pytest.raises(StoreConflictError):
        backend.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=version)


def test_delete_removes_the_secret_at_once(moto):
    backend = store(moto)
    backend.write(KEY, content(KEY))
    assert backend.delete(KEY) is True
    assert backend.read(KEY) is None
    assert aws(moto).list_secrets()["SecretList"] == []
    assert backend.delete(KEY) is False
    backend.write(KEY, content(KEY))  # the name is free again at once
    assert backend.read(KEY).content == content(KEY)


def test_names_aws_refuses_are_mapped_kept_and_listed(moto):
    backend = store(moto)
    backend.write(KEY, content(KEY))
    backend.write(SPACED, content(SPACED))
    assert backend.location(SPACED) == "conductor-principals/orkes/Terraform+20CI/deploy"
    assert backend.read(SPACED).content["names"] == {"principal": "Terraform CI", "credential": "deploy"}
    odd = EntryKey("orkes", "ops#1 (eu)", "key")  # '#' and '()' are refused in names and tags
    backend.write(odd, content(odd))
    assert backend.location(odd) == "conductor-principals/orkes/ops+231+20+28eu+29/key"
    assert sorted(backend.list()) == sorted([KEY, SPACED, odd])
    assert sorted(backend.list("orkes")) == sorted([SPACED, odd])
    assert backend.list("orkes", "ops#1 (eu)") == [odd] and backend.list("orkes", "nobody") == []


def test_kms_key_id_is_used_for_new_secrets(moto):
    key_id = boto3.client("kms", endpoint_url=moto.url, region_name=moto.region).create_key()["KeyMetadata"]["KeyId"]
    backend = store(moto, kms_key_id=key_id)
    backend.write(KEY, content(KEY))
    assert aws(moto).describe_secret(SecretId=NAME)["KmsKeyId"] == key_id
    assert backend.read(KEY).content == content(KEY)


def test_region_from_the_environment_and_the_option(moto):
    backend = store_for({"type": "aws_secretsmanager", "endpoint_url": moto.url}, {"AWS_DEFAULT_REGION": "us-east-2"})
    assert backend.region == "us-east-2"
    backend.write(KEY, content(KEY))
    assert store(moto).read(KEY) is None  # another region is another store
    assert store(moto, region="us-east-2").read(KEY).content == content(KEY)


def test_a_profile_from_the_aws_config_files(moto, monkeypatch, tmp_path):
    """Credentials and region of a named profile, as every AWS tool reads them."""
    (tmp_path / "config").write_text("[profile automation]\nregion = ap-southeast-2\n")
    (tmp_path / "credentials").write_text("[automation]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                                          % (moto.access_key, moto.secret_key))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    backend = store_for({"type": "aws_secretsmanager", "endpoint_url": moto.url, "profile": "automation"}, {})
    assert backend.region == "ap-southeast-2"
    backend.write(KEY, content(KEY))
    assert boto3.client("secretsmanager", endpoint_url=moto.url, region_name="ap-southeast-2",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key
                        ).describe_secret(SecretId=NAME)["Name"] == NAME


def test_bad_options_are_one_sentence(moto, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(ConfigError, match="needs a region; set store.region"):
        store_for({"type": "aws_secretsmanager"}, {})
    with pytest.raises(ConfigError, match="store.profile 'nosuch' is not in the AWS config"):
        store_for({"type": "aws_secretsmanager", "region": "eu-west-1", "profile": "nosuch"}, {})


def test_an_unreachable_endpoint_fails_with_one_sentence(moto):
    backend = store_for({"type": "aws_secretsmanager", "endpoint_url": "http://127.0.0.1:9", "region": "eu-west-1"})
    with pytest.raises(StoreError, match="could not write the secret %s in eu-west-1 at http://127.0.0.1:9: "
                                         "Secrets Manager could not be reached" % NAME) as caught:
        backend.write(KEY, content(KEY))
    assert moto.secret_key not in str(caught.value) and moto.access_key not in str(caught.value)


def test_without_boto3_only_this_backend_fails_naming_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependencyError, match=r"boto3 is required .*pip install boto3"):
        store_for({"type": "aws_secretsmanager", "region": "eu-west-1"})
    assert store_for({"type": "hashi_vault", "url": "http://127.0.0.1:8200", "token": "t"}).type == "hashi_vault"


def test_an_identity_without_write_permission_fails_with_one_sentence_and_writes_nothing(moto, monkeypatch):
    backend = store(moto)
    version = backend.write(KEY, content(KEY))
    reader = moto.iam_user("reader", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"])
    for name, value in reader.items():
        monkeypatch.setenv(name, value)
    moto.enforce_iam(True)
    try:
        limited = store(moto)
        assert limited.read(KEY).version == version
        with pytest.raises(StoreError) as caught:
            limited.write(KEY, content(KEY, "s3cret-two", "cred-2"), version=version)
    finally:
        moto.enforce_iam(False)
    text = str(caught.value)
    assert text.startswith("The aws_secretsmanager store could not write the secret %s in eu-west-1" % NAME)
    assert "AWS refused the task's credentials or their permissions" in text and "\n" not in text
    assert reader["AWS_SECRET_ACCESS_KEY"] not in text and reader["AWS_ACCESS_KEY_ID"] not in text
    assert store(moto).read(KEY) == (content(KEY), version)


def test_names_aws_refuses_in_tags_are_their_segments_there_or_left_out_and_still_listed(moto):
    backend = store(moto)
    long_name = "x" * 300  # a tag value holds at most 256 characters; its segment is as long
    keys = [EntryKey("conductorone", "Terraform \u202eCI", "ci"), EntryKey("conductorone", long_name, ""),
            EntryKey("orkes", "@personal", "laptop")]
    for key in keys:
        backend.write(key, content(key))
    tags = {t["Key"]: t["Value"] for t in aws(moto).describe_secret(SecretId=backend.path(keys[0]))["Tags"]}
    assert tags["conductor-principals:principal"] == "Terraform+20+E2+80+AECI"
    tags = {t["Key"]: t["Value"] for t in aws(moto).describe_secret(SecretId=backend.path(keys[1]))["Tags"]}
    assert "conductor-principals:principal" not in tags and tags["conductor-principals:credential"] == ""
    assert sorted(backend.list(), key=repr) == sorted(keys, key=repr)
    assert backend.list("conductorone", long_name) == [keys[1]] and backend.list("orkes", "@personal") == [keys[2]]
