# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Secrets Manager through boto3: one secret per entry.

The secret's name is ``<prefix>/<platform>/<principal>/<credential>`` (characters AWS refuses
mapped by the rule in base.py), its value the JSON object of ``base.entry_content``, its tags
name the platform, principal and credential and say it is managed by conductor.principals (a
name AWS refuses in a tag is its segment there, or no tag when that is too long: ``list`` reads
the names from the secret names).

A rotation puts a new version and moves ``AWSCURRENT`` to it; Secrets Manager then labels the
version it replaced ``AWSPREVIOUS``, so the old secret stays readable during an overlap.

Check-and-set: ``read`` returns the ``VersionId`` labelled ``AWSCURRENT``. ``write`` puts the
new value as a version labelled only ``CONDUCTOR_PENDING`` (its ``ClientRequestToken`` is the
new VersionId, so a resent request cannot make a second version), then moves ``AWSCURRENT``
with ``RemoveFromVersionId`` set to the version read: Secrets Manager refuses that move when
``AWSCURRENT`` is no longer there, so a write made since is never overwritten. Retries are
botocore's (standard mode), not a loop of ours.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid

from ..deps import require_optional
from ..errors import ConfigError
from .base import SecretStore, StoreConflictError, StoredEntry, StoreError, check_names, names_of

MANAGED_BY = "conductor.principals"
TAG_MANAGED_BY = "managed-by"
TAG_PLATFORM = "conductor-principals:platform"
TAG_PRINCIPAL = "conductor-principals:principal"
TAG_CREDENTIAL = "conductor-principals:credential"
TAG_OWNER = "conductor-principals:owner"
PENDING_STAGE = "CONDUCTOR_PENDING"
CURRENT_STAGE = "AWSCURRENT"
# Characters AWS allows in a tag value besides letters, numbers and spaces.
_TAG_PUNCTUATION = set("_.:/=+-@")
_DENIED = ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
           "ExpiredTokenException", "InvalidClientTokenId", "IncompleteSignature")


def _tag_fits(value):
    """What AWS takes as a tag value: letters, numbers, spaces and _.:/=+-@, at most 256 characters."""
    return len(value) <= 256 and all(ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LNZ" for ch in value)


class Store(SecretStore):
    type = "aws_secretsmanager"
    # AWS secret names allow letters, digits and /_+=.@- ; '/' separates and '+' escapes (base.py).
    allowed = r"A-Za-z0-9/_+=.@-"

    def __init__(self, options, environ=None):
        super().__init__(options, environ)
        boto3 = require_optional("boto3", "store type aws_secretsmanager")
        from botocore.config import Config
        from botocore import exceptions as botocore_exceptions

        self._errors = botocore_exceptions
        self.endpoint_url = options.get("endpoint_url") or None
        self.kms_key_id = options.get("kms_key_id") or None
        profile = options.get("profile") or None
        try:
            session = boto3.session.Session(profile_name=profile)
        except botocore_exceptions.ProfileNotFound:
            raise ConfigError("store.profile %r is not in the AWS config or credentials file; give a profile that "
                              "is there, or none to use the usual AWS credentials" % profile)
        self.region = (options.get("region") or self.environ.get("AWS_REGION")
                       or self.environ.get("AWS_DEFAULT_REGION") or session.region_name)
        if not self.region:
            raise ConfigError("store type aws_secretsmanager needs a region; set store.region or the environment "
                              "variable AWS_REGION (or AWS_DEFAULT_REGION)")
        self._session = session
        self.client = session.client(
            "secretsmanager", region_name=self.region, endpoint_url=self.endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=30,
                          user_agent_extra="conductor.principals"))

    def location(self, key):
        return self.path(key)

    # ---- plumbing -----------------------------------------------------------------------
    def _where(self, key):
        where = "the secret %s in %s" % (self.location(key), self.region) if key else "secrets in %s" % self.region
        return where + (" at %s" % self.endpoint_url if self.endpoint_url else "")

    def _secrets(self):
        try:
            credentials = self._session.get_credentials()
        except Exception:  # pylint: disable=broad-except
            return []
        frozen = credentials.get_frozen_credentials() if credentials else None
        return [v for v in ((frozen.access_key, frozen.secret_key, frozen.token) if frozen else ()) if v]

    def _failure(self, exc, action, key, operation=None):
        """The StoreError for ``exc``: what failed, where, and what to fix; never a key."""
        status = code = api_message = None
        if isinstance(exc, self._errors.ClientError):
            error = exc.response.get("Error") or {}
            code, text = error.get("Code"), error.get("Message") or ""
            status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            # An error body botocore could not parse (XML from a proxy or emulator): its code and message.
            found = re.search(r"<Code>([^<]*)</Code>.*?<Message>([^<]*)</Message>", text, re.S)
            if found:
                code, text = found.groups()
            api_message = "%s: %s" % (code, " ".join(text.split()))
            for secret in self._secrets():
                api_message = api_message.replace(secret, "<redacted>")
        if code in _DENIED or status == 403:
            fix = ("AWS refused the task's credentials or their permissions; use valid AWS credentials allowed %s "
                   "on it" % ", ".join("secretsmanager:" + name for name in (operation or "*").split()))
        elif code and code.startswith("KMS") or code in ("EncryptionFailure", "DecryptionFailure"):
            fix = "the KMS key could not be used; give a key the task's AWS identity may use as store.kms_key_id"
        elif isinstance(exc, self._errors.NoCredentialsError):
            fix = ("no AWS credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, store.profile, "
                   "or run where an instance or task role applies")
        elif isinstance(exc, (self._errors.EndpointConnectionError, self._errors.ConnectTimeoutError)):
            fix = "Secrets Manager could not be reached; check store.endpoint_url and store.region"
        elif isinstance(exc, self._errors.SSLError):
            fix = "the endpoint's TLS certificate could not be verified; set AWS_CA_BUNDLE to the CA that signed it"
        elif code:
            fix = "see the message from AWS"
        else:
            fix = "%s; check the store options" % type(exc).__name__
        return StoreError("The aws_secretsmanager store could not %s %s: %s" % (action, self._where(key), fix),
                          status=status, api_message=api_message)

    @staticmethod
    def _code(exc):
        return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")

    def _tags(self, key):
        """Tags that describe the entry; a name AWS refuses in a tag is its segment there, or no tag."""
        values = [(TAG_MANAGED_BY, MANAGED_BY), (TAG_PLATFORM, self.field_value(key.platform, _tag_fits)),
                  (TAG_PRINCIPAL, self.field_value(key.principal, _tag_fits)),
                  (TAG_CREDENTIAL, self.field_value(key.credential, _tag_fits)),
                  (TAG_OWNER, names_of(key).get("owner"))]
        return [{"Key": name, "Value": value} for name, value in values if value is not None]

    def _conflict(self, key):
        return StoreConflictError(
            "The aws_secretsmanager store entry %s (%s) changed while this task ran (another run wrote it); "
            "nothing was written, run the task again" % (self.location(key), self.endpoint_url or self.region))

    # ---- the four calls -----------------------------------------------------------------
    def read(self, key, stage=CURRENT_STAGE):
        """The entry (``stage`` AWSCURRENT, or AWSPREVIOUS for the one before a rotation), or None."""
        try:
            answer = self.client.get_secret_value(SecretId=self.path(key), VersionStage=stage)
        except self._errors.ClientError as exc:
            if self._code(exc) == "ResourceNotFoundException":
                return None
            raise self._failure(exc, "read", key, "GetSecretValue")
        except self._errors.BotoCoreError as exc:
            raise self._failure(exc, "read", key, "GetSecretValue")
        try:
            content = json.loads(answer.get("SecretString") or "")
        except ValueError:
            raise StoreError("The aws_secretsmanager secret %s holds no JSON object, so conductor.principals did not "
                             "write it; give another store.prefix or delete it" % self._where(key))
        found = StoredEntry(content, answer["VersionId"])
        if stage == CURRENT_STAGE:
            check_names(self, key, found)
        return found

    def write(self, key, content, version=None):
        name = self.path(key)
        body = json.dumps(content, sort_keys=True)
        token = str(uuid.uuid4())  # the new VersionId; botocore's retries resend it, so no second version
        try:
            if version is None:
                request = dict(Name=name, ClientRequestToken=token, SecretString=body, Tags=self._tags(key),
                               Description="Credential %r of %r on %s, managed by %s"
                               % (key.credential, key.principal, key.platform, MANAGED_BY))
                if self.kms_key_id:
                    request["KmsKeyId"] = self.kms_key_id
                try:
                    return self.client.create_secret(**request)["VersionId"]
                except self._errors.ClientError as exc:
                    if self._code(exc) == "ResourceExistsException":
                        raise self._conflict(key)
                    raise
            try:
                self.client.put_secret_value(SecretId=name, ClientRequestToken=token, SecretString=body,
                                             VersionStages=[PENDING_STAGE])
                # The check-and-set: refused unless AWSCURRENT is still on the version read.
                self.client.update_secret_version_stage(SecretId=name, VersionStage=CURRENT_STAGE,
                                                        MoveToVersionId=token, RemoveFromVersionId=version)
            except self._errors.ClientError as exc:
                if self._code(exc) in ("ResourceNotFoundException", "InvalidParameterException"):
                    raise self._conflict(key)
                raise
        except StoreError:
            raise
        except (self._errors.ClientError, self._errors.BotoCoreError) as exc:
            raise self._failure(exc, "write", key, "CreateSecret PutSecretValue UpdateSecretVersionStage")
        try:  # tidy only: the label would move with the next write anyway
            self.client.update_secret_version_stage(SecretId=name, VersionStage=PENDING_STAGE,
                                                    RemoveFromVersionId=token)
        except (self._errors.ClientError, self._errors.BotoCoreError):
            pass
        return token

    def delete(self, key):
        """Remove the secret with every version at once (no recovery window); True when there was one."""
        try:
            if self.read(key) is None:  # read also refuses an entry of other names (check_names)
                return False
            self.client.delete_secret(SecretId=self.path(key), ForceDeleteWithoutRecovery=True)
        except self._errors.ClientError as exc:
            if self._code(exc) == "ResourceNotFoundException":
                return False
            raise self._failure(exc, "delete", key, "DeleteSecret")
        except self._errors.BotoCoreError as exc:
            raise self._failure(exc, "delete", key, "DeleteSecret")
        return True

    def list(self, platform=None, principal=None):
        start = "%s/%s/" % (self.prefix, self.segment(platform)) if platform else self.prefix + "/"
        starts = [start + folder + "/" for folder in self.principal_folders(principal)] \
            if platform and principal is not None else [start]
        keys = []
        try:
            for start in starts:
                keys += self._listed(start, principal)
        except (self._errors.ClientError, self._errors.BotoCoreError) as exc:
            raise self._failure(exc, "list", None, "ListSecrets")
        return keys

    def _listed(self, start, principal):
        """The entries whose secret names start with ``start``; their names are read from the secret names."""
        keys = []
        pages = self.client.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [start]}, {"Key": "tag-key", "Values": [TAG_MANAGED_BY]}])
        for page in pages:
            for secret in page.get("SecretList") or []:
                if not secret["Name"].startswith(start):
                    continue  # the name filter matches words anywhere in the name, not only the start
                segments = secret["Name"][len(self.prefix) + 1:].split("/")
                key = self.key_of(*segments) if len(segments) == 3 else None
                if key is not None and (principal is None or key.principal == principal):
                    keys.append(key)
        return keys
