# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""conductor.principals.credential_events: an Event-Driven Ansible source of credential findings.

Every ``interval`` seconds it runs credential_report's own judgement (one rule for every flag, the same
client and requests as the module) and puts one event per finding on the queue; the HTTP calls run in a
thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

try:
    from ansible_collections.conductor.principals.plugins.module_utils import runner
except ImportError:  # loaded by path (ansible-rulebook runs a source file): import it from the collections root
    sys.path.insert(0, str(Path(__file__).resolve().parents[7]))
    from ansible_collections.conductor.principals.plugins.module_utils import runner

# pylint: disable=wrong-import-position
from ansible_collections.conductor.principals.plugins.module_utils.arguments import check_arguments
from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient
from ansible_collections.conductor.principals.plugins.module_utils.common_args import (
    argument_spec, connection_options, store_argument_spec)
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, redact
from ansible_collections.conductor.principals.plugins.module_utils.platforms import adapter_for
from ansible_collections.conductor.principals.plugins.module_utils.report import validate_report_params
from ansible_collections.conductor.principals.plugins.module_utils.stores import store_for

DOCUMENTATION = r'''
---
short_description: Credential findings (expiring, expired, unused, unheld, broad) of one platform, as events
description:
  - Polls one platform every O(interval) seconds with the judgement of M(conductor.principals.credential_report)
    (the same flags, the same requests) and emits one event per finding.
  - "Event: C({conductor_principals: {kind, platform, service_principal, service_principal_id, name, id, client_id,
    expires_at, expires_in_days, last_used_at, flags, new_flags, cleared_flags}}), C(kind) V(credential) or
    V(trust); C(flags) every current flag, C(new_flags) those that appeared since the last poll, C(cleared_flags)
    those that went. Never a secret or a token."
  - A failed poll (server unreachable, 429, 5xx) emits no finding; one C({conductor_principals: {kind: error,
    message}}) per outage, then polling goes on.
  - The connection options are those of the modules, with the same environment variables
    (C(CONDUCTORONE_CLIENT_ID), C(CONDUCTORONE_CLIENT_SECRET), C(ORKES_SERVER_URL), ...).
  - Bad arguments stop the source at start with one sentence.
options:
  platform:
    description: The platform, as the modules' O(platform).
    type: str
    default: conductorone
  server_url:
    description: The API's base URL; as the modules' option, with the same environment variable.
    type: str
  client_id:
    description: The client ID; as the modules' option, with the same environment variable.
    type: str
  client_secret:
    description: The client secret; as the modules' option, with the same environment variable.
    type: str
  access_token:
    description: A ready access token; as the modules' option.
    type: str
  oidc_token:
    description: An OIDC token to exchange (ConductorOne workload federation); as the modules' option.
    type: str
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: A PEM CA bundle to verify the server with.
    type: path
  timeout:
    description: Seconds per request.
    type: float
    default: 30
  retries:
    description: Retries of a request refused with 429 or 5xx.
    type: int
    default: 5
  interval:
    description: Seconds between polls.
    type: int
    default: 300
  expiring_within_days:
    description: A live credential that expires within this many days is flagged V(expiring).
    type: int
    default: 14
  unused_days:
    description: A credential not used for this many days or more is flagged V(unused) (ConductorOne only).
    type: int
    default: 30
  store:
    description:
      - The store that holds the secrets, as M(conductor.principals.credential_report)'s O(store); with it, a live
        credential whose entry is missing or holds another credential ID is flagged V(unheld).
    type: dict
  include_trusts:
    description: Also emit the findings of ConductorOne workload federation trusts (V(broad), V(disabled)).
    type: bool
    default: true
  emit:
    description:
      - V(changes) emits a finding once when it appears, and again only after it cleared and came back.
      - V(all) emits every flagged credential on every poll.
    type: str
    choices: [changes, all]
    default: changes
  state_file:
    description:
      - A file that keeps the last poll's findings (IDs and flags, never a secret; mode 0600), so a restarted
        activation does not emit again what it already emitted. Its folder must exist.
    type: path
'''

EXAMPLES = r'''
- name: Rotate a credential as it enters its rotation window
  hosts: all
  sources:
    - conductor.principals.credential_events:
        interval: 300
        expiring_within_days: 14
        state_file: /var/lib/eda/credential_events.json
  rules:
    - name: Expiring or expired
      condition: event.conductor_principals.new_flags contains "expiring"
      action:
        run_playbook:
          name: conductor.principals.rotate
'''

NAME = "credential_events"
EVENT_KEY = "conductor_principals"
EVENT_FIELDS = ("kind", "platform", "service_principal", "service_principal_id", "name", "id", "client_id",
                "expires_at", "expires_in_days", "last_used_at")
SOURCE_SPEC = dict(argument_spec=argument_spec(
    interval=dict(type="int", default=300),
    expiring_within_days=dict(type="int", default=14),
    unused_days=dict(type="int", default=30),
    store=store_argument_spec(),
    include_trusts=dict(type="bool", default=True),
    emit=dict(type="str", choices=["changes", "all"], default="changes"),
    state_file=dict(type="path"),
))
REPORT_OPTIONS = ("expiring_within_days", "unused_days", "store")
STATE_VERSION = 1

logger = logging.getLogger(__name__)


class BadArguments(ValueError):
    """The source's arguments, refused at start in one sentence."""


def check_source_args(args, environ):
    """The validated parameters and the client, or BadArguments: before any request."""
    checked = check_arguments(NAME, SOURCE_SPEC, dict(args or {}))
    if checked.error:
        raise BadArguments(checked.error)
    params = checked.params
    if params["interval"] < 1:
        raise BadArguments("interval must be 1 second or more, not %s" % params["interval"])
    state_file = params.get("state_file")
    if state_file and not os.path.isdir(os.path.dirname(os.path.abspath(state_file))):
        raise BadArguments("state_file: the folder %s does not exist; create it first"
                           % os.path.dirname(os.path.abspath(state_file)))
    try:
        client = ApiClient(resolve_settings(connection_options(params), environ))
        validate_report_params(adapter_for(client), params)
        store_for(params.get("store"), environ)  # a store that cannot be used is bad input now, not at each poll
    except ConductorError as exc:
        raise BadArguments(str(exc)) from None
    return params, client


def read_state(path):
    """{finding key: [flags]} of the last poll written to ``path`` ({} when there is none yet)."""
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            state = json.load(stream)
        findings = state["findings"]
        if state.get("version") != STATE_VERSION or not isinstance(findings, dict):
            raise ValueError("unknown version")
    except (OSError, ValueError, KeyError, TypeError):
        raise BadArguments("state_file %s is not a state file of %s; remove it (the next poll emits every "
                           "finding once more)" % (path, NAME)) from None
    return {key: list(flags) for key, flags in findings.items()}


def write_state(path, findings):
    """The findings to ``path`` atomically, mode 0600 (IDs and flags only)."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".credential-events-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump({"version": STATE_VERSION, "findings": findings}, stream, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def finding_key(row):
    return "%s:%s" % (row.get("kind") or "credential", row.get("id"))


def event_of(row, platform, new_flags, cleared_flags):
    """One finding as an event: the contract's fields only (allow-listed: nothing else of a row can leak)."""
    body = {field: row.get(field) for field in EVENT_FIELDS}
    body.update(kind=row.get("kind") or "credential", platform=platform, flags=list(row["flags"]),
                new_flags=new_flags, cleared_flags=cleared_flags)
    return {EVENT_KEY: body}


class Poller(object):
    """The findings of each poll turned into events; ``report()`` returns credential_report's result."""

    def __init__(self, report, emit="changes", include_trusts=True, state_file=None, secrets=()):
        self.report = report
        self.emit_all = emit == "all"
        self.include_trusts = include_trusts
        self.state_file = state_file
        self.secrets = [s for s in secrets if s]
        self.findings = read_state(state_file)
        self.in_outage = False

    def poll(self):
        """The events of one poll (blocking: run it in a thread)."""
        result = self.report()
        if result.get("failed"):
            return self._failed(result.get("msg") or "the poll failed")
        if self.in_outage:
            logger.info("%s: the server answers again", NAME)
        self.in_outage = False
        for warning in result.get("warnings") or ():
            logger.warning("%s: %s", NAME, redact(warning, self.secrets))
        events, findings = [], {}
        for row in result["credentials"]:
            if row.get("kind") == "trust" and not self.include_trusts:
                continue
            key = finding_key(row)
            before = self.findings.get(key, [])
            new = [flag for flag in row["flags"] if flag not in before]
            cleared = [flag for flag in before if flag not in row["flags"]]
            if row["flags"]:
                findings[key] = list(row["flags"])
            if new or (self.emit_all and row["flags"]):
                events.append(event_of(row, result["platform"], new, cleared))
        if findings != self.findings and self.state_file:
            write_state(self.state_file, findings)
        self.findings = findings
        return events

    def _failed(self, message):
        """One error event per outage; the findings stay as they were, so nothing is emitted twice after it."""
        message = redact(message, self.secrets)
        if self.in_outage:
            logger.info("%s: the poll failed again: %s", NAME, message)
            return []
        self.in_outage = True
        logger.warning("%s: the poll failed: %s", NAME, message)
        return [{EVENT_KEY: {"kind": "error", "message": message}}]


def poller_for(args, environ=None):
    """The Poller of the source's arguments (BadArguments when they are wrong) and the interval."""
    environ = os.environ if environ is None else environ
    params, client = check_source_args(args, environ)
    report_params = dict(connection_options(params), **{k: params.get(k) for k in REPORT_OPTIONS})
    settings = client.settings

    def report():
        return runner.run("credential_report", report_params, environ=environ, client=client)

    poller = Poller(report, params["emit"], params["include_trusts"], params.get("state_file"),
                    secrets=(settings.client_secret, settings.access_token, settings.oidc_token))
    return poller, params["interval"]


async def main(queue, args):
    """Poll every ``interval`` seconds and put each event on ``queue``."""
    poller, interval = poller_for(args)
    loop = asyncio.get_running_loop()
    while True:
        for event in await loop.run_in_executor(None, poller.poll):
            await queue.put(event)
        await asyncio.sleep(interval)


if __name__ == "__main__":
    # One poll printed, for a look by hand: python credential_events.py (the connection from the environment).

    class MockQueue(asyncio.Queue):
        async def put(self, item):
            print(json.dumps(item))

    async def _once():
        poller, dummy = poller_for({"interval": 1})
        for event in await asyncio.get_running_loop().run_in_executor(None, poller.poll):
            await MockQueue().put(event)

    asyncio.run(_once())
