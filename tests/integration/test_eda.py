# -*- coding: utf-8 -*-
"""The rulebook conductor.principals.rotate_on_expiry run for real by ansible-rulebook (its own venv, .venv-eda,
and Java) against the sandbox: the event source credential_events polls, the rule runs the rotate playbook.

Run by `make eda-test`; `make integration` leaves this file out, as it needs .venv-eda.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from conftest import _collections_path, entries
from eda_runs import EDA_BIN, aged_credential, local_rulebook, polls, rotated
from helpers import c1_secret_works

# Under CI=true a missing ansible-rulebook fails the tests; elsewhere they are skipped, saying what installs it.
pytestmark = pytest.mark.skipif(not os.path.exists(EDA_BIN + "/ansible-rulebook") and os.environ.get("CI") != "true",
                                reason="no ansible-rulebook in %s; `make eda-test` installs it" % EDA_BIN)


@pytest.fixture
def rulebook(tenant, store, tmp_path):
    store.parent.mkdir(exist_ok=True)
    (store.parent / "tmp").mkdir()
    started = []

    def start(**variables):
        run = local_rulebook(tmp_path, store, _collections_path(tmp_path), tenant.sandbox, **variables)
        started.append(run)
        return run
    yield start
    for run in started:
        run.stop()


def test_a_credential_aged_into_its_window_is_rotated_once_keeping_its_settings(tenant, store, rulebook):
    sp_id, old_id = aged_credential(tenant, "Nightly batch", "batch-key", period_days=30, age_days=20)
    old = next(c for c in tenant.sandbox.c1_api("GET", "/api/v1/service_principals/%s/credentials" % sp_id)["list"])
    run = rulebook()
    run.wait_for(lambda: rotated(tenant.sandbox, sp_id, old_id), "rotation of batch-key")
    after = polls(tenant.sandbox)
    run.wait_for(lambda: polls(tenant.sandbox) >= after + 4, "four more polls after the rotation")
    run.stop()

    live = rotated(tenant.sandbox, sp_id, old_id)
    assert len(live) == 1, "rotated more than once: %s" % [c["id"] for c in live]
    new = live[0]
    entry = next(v for k, v in entries(store).items() if k.endswith("/Nightly batch/batch-key"))
    assert entry["credential_id"] == new["id"]
    assert c1_secret_works(tenant.sandbox, entry["client_id"], entry["client_secret"])
    output = run.output
    assert output.count("'new_flags': ['expiring'") + output.count('"new_flags": ["expiring"') == 1, output[-3000:]
    assert output.count("PLAY RECAP") == 1, "the rotate playbook ran more than once"
    for secret in tenant.sandbox.issued() + [entry["client_secret"], tenant.sandbox.c1["client_secret"]]:
        assert secret not in output, "a secret is in the rulebook's output"
    # Its settings kept: the CIDRs, and the 30-day period (not the default), so it is out of the window now.
    assert new["allowSourceCidrs"] == old["allowSourceCidrs"] == ["127.0.0.0/8"]
    period = (_epoch(new["expiresAt"]) - _epoch(new["createdAt"])) / 86400
    assert 29.9 < period < 30.1, "the new credential's period is %.1f days, not the old one's 30" % period


def test_an_outage_gives_one_error_event_and_no_finding_again(tenant, store, rulebook):
    sp_id = tenant.principal("Reports")
    tenant.credential(sp_id, "unused-key", used=False)  # never_used: a finding the rulebook does not act on
    run = rulebook()
    run.wait_for(lambda: "credential" in run.kinds(), "the never_used finding")
    tenant.sandbox.fault("GET", "/api/v1/service_principals", "500", count=3)
    before = polls(tenant.sandbox)
    run.wait_for(lambda: polls(tenant.sandbox) >= before + 6, "three failed polls and three good ones")
    run.stop()

    kinds = run.kinds()
    assert kinds.count("error") == 1, kinds
    assert kinds.count("credential") == 1, "a finding was emitted again after the outage: %s" % kinds
    assert "'message': 'Could not list service principals: the '" in run.output  # the poll's one sentence
    for secret in tenant.sandbox.issued() + [tenant.sandbox.c1["client_secret"]]:
        assert secret not in run.output, "a secret is in the rulebook's output"


def _epoch(stamp):
    return datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def test_bad_args_end_the_rulebook_at_start_with_one_sentence(tenant, store, rulebook):
    run = rulebook(interval=0)
    assert run.process.wait(timeout=120) == 1
    run.stop()
    assert "BadArguments: interval must be 1 second or more, not 0" in run.output
    assert polls(tenant.sandbox) == 0, "a request was sent before the arguments were checked"
    assert tenant.sandbox.c1["client_secret"] not in run.output
