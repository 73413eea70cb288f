"""The sandbox clock reaches what clients see: the Date of every answer and a credential's lastUsedAt."""

import copy
import threading
from email.utils import parsedate_to_datetime

import requests

from conductor_sandbox import c1, orkes
from conductor_sandbox.app import create_app
from conductor_sandbox.server import Server
from conductor_sandbox.store import Store, rfc3339

DAY = 86400


def test_answers_are_dated_and_use_is_recorded_on_the_sandbox_clock():
    store = Store()
    app = create_app(store)
    http = Server("127.0.0.1", 0, app)
    base = "http://127.0.0.1:%d" % http.port
    admin = c1.bootstrap(store, app.config["c1"], "127.0.0.1:%d" % http.port)
    orkes.bootstrap(store, app.config["orkes"])
    app.config["baseline"] = copy.deepcopy(store.data)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        requests.post(base + "/_sandbox/clock", json={"advance_seconds": 3 * DAY}, timeout=10).raise_for_status()
        before = int(store.now())
        answer = requests.post(base + "/auth/v1/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": admin["client_id"], "client_secret": admin["client_secret"]})
        after = store.now()
        assert answer.status_code == 200
        dated = parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert before <= dated <= after  # the sandbox's clock, three days ahead of this machine's
        (credential,) = [c for c in store.data["c1"]["credentials"].values() if c["clientId"] == admin["client_id"]]
        assert rfc3339(before) <= credential["lastUsedAt"] <= rfc3339(after)
    finally:
        http.shutdown()
