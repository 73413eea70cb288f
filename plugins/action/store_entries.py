# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""store_entries: bulk reads and principal-wide removal on a secret store, on the controller.

The provision role reads the entries of every credential it manages in one task (the
secrets of what did not change come from there) and forgets the principals it removes.
Writes of new secrets are not done here: sp_credential does them the moment a secret exists.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.conductor.principals.plugins.module_utils.arguments import check_arguments
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError
from ansible_collections.conductor.principals.plugins.module_utils.stores import SERVICE_PRINCIPAL, EntryKey, store_for
from ansible_collections.conductor.principals.plugins.modules.store_entries import MODULE_SPEC

# What an entry may give back; its bookkeeping (``names``) stays in the store.
ENTRY_FIELDS = ("client_id", "client_secret", "server_url", "platform", "credential_id", "expires_at")


def read_entries(store, keys):
    """{platform: {principal: {credential: entry}}} of the keys that have an entry."""
    found = {}
    for key in keys:
        stored = store.read(EntryKey(key["platform"], key["principal"], key["credential"], SERVICE_PRINCIPAL))
        if stored is not None:
            entry = {field: (stored.content or {}).get(field) for field in ENTRY_FIELDS}
            found.setdefault(key["platform"], {}).setdefault(key["principal"], {})[key["credential"]] = entry
    return found


def remove_principals(store, principals, check_mode):
    """Delete every entry of the given principals; the locations removed (or that would be)."""
    removed = []
    for platform in sorted({p["platform"] for p in principals}):
        names = {p["name"] for p in principals if p["platform"] == platform}
        for key in store.list(platform=platform):
            if key.principal in names and key.owner == SERVICE_PRINCIPAL:  # never the personal API keys
                if check_mode or store.delete(key):
                    removed.append(store.location(key))
    return removed


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        checked = check_arguments("store_entries", MODULE_SPEC, self._task.args)  # as every module's
        if checked.error:
            result.update(failed=True, msg=checked.error)
            return result
        params = checked.params
        if not params.get("store"):
            result.update(failed=True, msg="Give store, the secret store to read or to remove entries from.")
            return result
        try:
            store = store_for(params["store"], dict(os.environ))
            entries = read_entries(store, params["read"])
            removed = remove_principals(store, params["remove_principals"], bool(self._task.check_mode))
        except ConductorError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=bool(removed), entries=entries, removed=removed)
        if entries:
            result["_ansible_no_log"] = True  # the entries are secrets; register still gets them
        return result
