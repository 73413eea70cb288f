# -*- coding: utf-8 -*-
"""Call one of AWX's credential lookup plugins as AWX does; run by the Python of .venv-awxlookups.

Reads ``{"plugin": NAME, "inputs": {...}, "metadata": {...}}`` as JSON on stdin, loads the entry point
NAME of the group ``awx_plugins.credentials`` (as AWX finds its plugins) and calls its backend with
``backend(**inputs, **metadata)``, the way AWX resolves a credential field linked to that lookup.

Writes JSON on stdout: ``{"value": ...}``, or ``{"error": ..., "test": ...}`` when the backend raised:
``error`` is the exception's text (the last line of the traceback a failed job shows) and ``test``
what AWX's "Test" button answers (``HTTP <status>`` for an HTTP error, else the exception's class name).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points

import requests

GROUP = "awx_plugins.credentials"


def load(name):
    found = [entry for entry in entry_points(group=GROUP) if entry.name == name]
    if not found:
        raise SystemExit("no entry point %s in the group %s: install awx-plugins-core with its extras" % (name, GROUP))
    return found[0].load()


def what_the_test_button_shows(exc):
    if isinstance(exc, requests.exceptions.HTTPError):
        return "HTTP %d" % exc.response.status_code
    return type(exc).__name__


def main():
    request = json.load(sys.stdin)
    plugin = load(request["plugin"])
    try:
        value = plugin.backend(**request["inputs"], **request["metadata"])
    except Exception as exc:  # pylint: disable=broad-except  # reported as AWX reports it
        json.dump({"error": str(exc), "test": what_the_test_button_shows(exc)}, sys.stdout)
        return
    json.dump({"value": value}, sys.stdout)


if __name__ == "__main__":
    main()
