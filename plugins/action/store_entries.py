# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""store_entries: bulk reads and principal-wide removal on a secret store, on the controller.

The provision role reads the entries of every credential it manages in one task (the
secrets of what did not change come from there). ``remove_principals`` forgets the entries of
principals that are gone, judged by ID as prune judges them (tenant.entry_gone): an entry whose
credential still lives (its principal renamed in place, or not removed at all) is kept.
Writes of new secrets are not done here: sp_credential does them the moment a secret exists.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.conductor.principals.plugins.module_utils.arguments import check_arguments
from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient
from ansible_collections.conductor.principals.plugins.module_utils.common_args import CONNECTION_OPTIONS
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConductorError, ConfigError
from ansible_collections.conductor.principals.plugins.module_utils.platforms import adapter_for
from ansible_collections.conductor.principals.plugins.module_utils.stores import SERVICE_PRINCIPAL, EntryKey, store_for
from ansible_collections.conductor.principals.plugins.module_utils.tenant import entry_gone, entry_lookups
from ansible_collections.conductor.principals.plugins.modules.store_entries import MODULE_SPEC

# What an entry may give back; its bookkeeping (``names``) stays in the store.
ENTRY_FIELDS = ("client_id", "client_secret", "server_url", "platform", "credential_id", "expires_at",
                "service_principal_id")


def read_entries(store, keys):
    """{platform: {principal: {credential: entry}}} of the keys that have an entry, read all together (one
    ``read_many``: a vault_file store decrypted once, whatever the number of keys); an entry that cannot be read
    fails the task with its error."""
    wanted = [EntryKey(key["platform"], key["principal"], key["credential"], SERVICE_PRINCIPAL) for key in keys]
    read, errors = store.read_many(wanted)
    if errors:
        raise next(iter(errors.values()))
    found = {}
    for key in wanted:
        stored = read.get(key)
        if stored is not None:
            entry = {field: (stored.content or {}).get(field) for field in ENTRY_FIELDS}
            found.setdefault(key.platform, {}).setdefault(key.principal, {})[key.credential] = entry
    return found


def remove_principals(store, principals, check_mode, adapter):
    """Delete the entries of the given principals whose credential is live nowhere (judged by the IDs the
    entries hold, through ``adapter``); (the locations removed or that would be, the locations kept)."""
    platform = adapter.capabilities.platform
    names = {p["name"] for p in principals}
    keys = [key for key in store.list(platform=platform)
            if key.principal in names and key.owner == SERVICE_PRINCIPAL]  # never the personal API keys
    if not keys:
        return [], []
    found, errors = store.read_many(keys)
    if errors:
        raise next(iter(errors.values()))
    entries = {key: (found.get(key).content or {}) if found.get(key) else {} for key in keys}
    listed = adapter.list_principals()
    live = {}
    need = entry_lookups(keys, listed, entries, live)
    while need:
        live.update((owner, {c["id"] for c in adapter.list_credentials(owner)}) for owner in need)
        need = entry_lookups(keys, listed, entries, live)
    by_id = {p["id"]: p for p in listed}
    removed, kept = [], []
    for key in keys:
        if not entry_gone(entries[key], by_id, live):
            kept.append(store.location(key))
        elif check_mode or store.delete(key):
            removed.append(store.location(key))
    return removed, kept


def _adapter(params, environ):
    """The platform's adapter, connected with the task's connection options (one platform per task)."""
    other = sorted({p["platform"] for p in params["remove_principals"]} - {params["platform"]})
    if other:
        raise ConfigError("remove_principals names platform %s, but this task connects to %s; give one task per "
                          "platform" % (", ".join(other), params["platform"]))
    options = {name: params.get(name) for name in CONNECTION_OPTIONS}
    return adapter_for(ApiClient(resolve_settings(options, environ)))


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
            if params["writable"]:
                store.check_writable()
            entries = read_entries(store, params["read"])
            removed, kept = [], []
            if params["remove_principals"]:
                removed, kept = remove_principals(store, params["remove_principals"], bool(self._task.check_mode),
                                                  _adapter(params, dict(os.environ)))
        except ConductorError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=bool(removed), entries=entries, removed=removed, kept=kept)
        if kept:
            result["warnings"] = ["kept %d entries whose credential is still live (their principal was renamed or "
                                  "is not gone): %s" % (len(kept), ", ".join(kept))]
        if entries:
            result["_ansible_no_log"] = True  # the entries are secrets; register still gets them
        return result
