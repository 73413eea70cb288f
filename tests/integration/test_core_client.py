# -*- coding: utf-8 -*-
"""The shared core (module_utils) end to end against the sandbox, in-process."""

from __future__ import annotations

from ansible_collections.conductor.principals.plugins.module_utils.client import ApiClient
from ansible_collections.conductor.principals.plugins.module_utils.config import resolve_settings
from ansible_collections.conductor.principals.plugins.module_utils.platforms import adapter_for


def test_token_create_list_across_pages_and_revoke(fresh):
    # The v1 secret must go through the assertion; pages of 10 at most make the client walk pages.
    fresh.settings(refuse_plain_client_secret=True, max_page_size=10)
    try:
        client = ApiClient(resolve_settings({"server_url": fresh.c1["server_url"], "client_id": fresh.c1["client_id"],
                                             "client_secret": fresh.c1["client_secret"]}, {}))
        adapter = adapter_for(client)
        made = [adapter.create_principal({"name": "core-%02d" % i}) for i in range(23)]
        listed = [p for p in adapter.list_principals() if p["name"].startswith("core-")]
        assert sorted(p["id"] for p in listed) == sorted(p["id"] for p in made)
        credential, secret = adapter.create_credential(made[0]["id"], {"name": "c", "expires_days": 30})
        assert secret.startswith("secret-token:")
        adapter.revoke_credential(made[0]["id"], credential)
        assert adapter.list_credentials(made[0]["id"]) == []
        assert client.auth.fetches == 1  # one token for the whole conversation
    finally:
        fresh.settings(refuse_plain_client_secret=False, max_page_size=100)
    counters = fresh.counters()
    assert counters["token_requests"] == 1
    assert counters["by_route"]["GET /api/v1/service_principals"] >= 3  # 24 principals, pages of 100 asked
