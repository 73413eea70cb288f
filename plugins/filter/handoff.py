# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hand-off: a stored or just-created credential as the environment the tools read.

ConductorOne's Terraform provider and ``cone`` read ``CONDUCTORONE_CLIENT_ID``,
``CONDUCTORONE_CLIENT_SECRET`` (and ``CONDUCTORONE_SERVER_URL``); the Orkes SDKs and workers
``CONDUCTOR_SERVER_URL``, ``CONDUCTOR_AUTH_KEY``, ``CONDUCTOR_AUTH_SECRET``. The names are the
ones the modules themselves read (``config.ENV_FALLBACKS``), so the two can never drift apart.
"""

from __future__ import annotations

import shlex

from ansible.errors import AnsibleFilterError

from ansible_collections.conductor.principals.plugins.module_utils.config import ENV_FALLBACKS
from ansible_collections.conductor.principals.plugins.module_utils.platforms import DEFAULT_PLATFORM

FIELDS = ("server_url", "client_id", "client_secret")
FORMATS = ("dict", "shell")


def tool_environment(credential, platform=None, format="dict"):  # pylint: disable=redefined-builtin
    """``{variable: value}`` for a credential (``client_id``, ``client_secret``, ``server_url``).

    ``credential`` is a fact of the provision role, a ``sp_credential`` result that created one,
    or a store entry (``stored_credential`` lookup, ``store_entries``), which names its platform.
    ``platform`` is for a credential that does not (default ``conductorone``). ``format='shell'``
    gives ``export NAME='value'`` lines to source from a task's ``stdin`` instead of a dict.
    Errors name what is missing, never a value.
    """
    if not isinstance(credential, dict):
        raise AnsibleFilterError("tool_environment takes a credential (a dict with client_id and client_secret), "
                                 "not %s." % type(credential).__name__)
    where = credential.get("platform") or platform or DEFAULT_PLATFORM
    if platform and credential.get("platform") and platform != credential["platform"]:
        raise AnsibleFilterError("tool_environment: the credential is of platform %s, not %s; remove platform."
                                 % (credential["platform"], platform))
    if where not in ENV_FALLBACKS:
        raise AnsibleFilterError("tool_environment: platform must be one of %s, not %r."
                                 % (", ".join(sorted(ENV_FALLBACKS)), where))
    if format not in FORMATS:
        raise AnsibleFilterError("tool_environment: format must be one of %s, not %r." % (", ".join(FORMATS), format))
    missing = [name for name in ("client_id", "client_secret") if not credential.get(name)]
    if missing:
        raise AnsibleFilterError(
            "tool_environment: the credential has no %s (a credential's secret is only in the result that created "
            "it and in the store); pass a fact of the provision role or a store entry." % " or ".join(missing))
    names = ENV_FALLBACKS[where]
    environment = {names[field]: str(credential[field]) for field in FIELDS if credential.get(field)}
    if format == "shell":
        return "".join("export %s=%s\n" % (name, shlex.quote(value)) for name, value in sorted(environment.items()))
    return environment


class FilterModule(object):
    def filters(self):
        return {"tool_environment": tool_environment}
