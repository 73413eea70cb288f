# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.actions import done
from ansible_collections.conductor.principals.plugins.module_utils.credential_plan import ACTIONS
from ansible_collections.conductor.principals.plugins.module_utils.federation import plan_provider, plan_trust


def test_every_credential_action_has_its_word():
    assert {action: done(action) for action in ACTIONS} == {
        "create": "created", "rotate": "rotated", "replace": "replaced", "keep": "unchanged",
        "rename": "renamed", "set_status": "updated", "revoke": "revoked", "none": "unchanged"}


def test_the_trust_and_provider_plans_speak_the_same_vocabulary():
    trust = {"name": "gh", "condition": "claims.sub == 'x'", "provider_id": "p1"}
    provider = {"name": "GitHub", "issuer_url": "https://issuer.example"}
    actions = [plan_trust(None, trust, "p1").action, plan_trust(trust, trust, "p1").action,
               plan_trust(trust, dict(trust, condition="claims.sub == 'y'"), "p1").action,
               plan_trust(trust, None, "p1", "absent").action,
               plan_provider(None, provider).action, plan_provider(provider, provider).action,
               plan_provider(provider, None, "absent").action]
    assert actions == ["create", "none", "update", "delete", "create", "none", "delete"]
    assert [done(action) for action in actions] == ["created", "unchanged", "updated", "removed", "created",
                                                    "unchanged", "removed"]


def test_an_action_no_plan_has_is_a_bug():
    with pytest.raises(KeyError):
        done("ensure")
