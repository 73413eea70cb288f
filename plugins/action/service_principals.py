# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible.utils.display import Display

from ansible_collections.conductor.principals.plugins.module_utils.public_view import scrub
from ansible_collections.conductor.principals.plugins.plugin_utils.action import COLLECTION, ConductorAction

display = Display()
# What is shown of a result that holds secrets (-v): none of these holds one by design.
PUBLIC_KEYS = ("changed", "principals", "credentials", "trusts", "summary", "failed_items", "server_url", "msg")


def secrets_in(result):
    """Every client_secret of the result's ``secrets``."""
    return sorted({value.get("client_secret") for principals in (result.get("secrets") or {}).values()
                   for credentials in principals.values() for value in credentials.values()
                   if isinstance(value, dict) and value.get("client_secret")}, key=len, reverse=True)


class ActionModule(ConductorAction):
    module = "service_principals"
    mints_secrets = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if result.get("secrets") and not result.get("_ansible_no_log"):
            for warning in result.pop("warnings", []):
                display.warning(warning)
            self._show_public(result, (task_vars or {}).get("inventory_hostname"))
            result["_ansible_no_log"] = True
        return result

    def _show_public(self, result, host):
        """The censored result's secret-free part at -v (and the plan with --diff), as for the other modules."""
        if self._task.no_log or getattr(self._play_context, "no_log", False):
            return
        secrets = secrets_in(result)
        label = "[%s] %s.%s" % (host, COLLECTION, self.module)
        public = scrub({k: result[k] for k in PUBLIC_KEYS if k in result}, secrets)
        display.verbose("%s: %s" % (label, json.dumps(public, sort_keys=True, default=str)), caplevel=0)
        if self._task.diff and result.get("diff"):
            display.display("%s, diff without the secrets:\n%s"
                            % (label, json.dumps(scrub(result["diff"], secrets), indent=4, sort_keys=True)))
