# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.conductor.principals.plugins.plugin_utils.action import ConductorAction


class ActionModule(ConductorAction):
    module = "personal_client"
    mints_secrets = True
