# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.utils.display import Display

from ansible_collections.conductor.principals.plugins.module_utils.arguments import COLLECTION
from ansible_collections.conductor.principals.plugins.plugin_utils.action import ConductorAction

display = Display()


class ActionModule(ConductorAction):
    module = "credential_report"

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if result.get("dest") and not result.get("failed"):
            # A written report is a change (check mode included: the file is the report itself), and the user
            # is told where it is without -v.
            result["changed"] = True
            display.display("[%s] %s.%s: wrote the %s report to %s" % (
                (task_vars or {}).get("inventory_hostname"), COLLECTION, self.module, result.get("format"),
                result["dest"]))
        return result
