#!/usr/bin/env python3
"""Build the collection's documentation site as docs.ansible.com renders collections, and fail on a warning.

Usage: docs_site.py --dest DIR [--screenshot PNG --page sp_credential_module]

antsibull-docs (`sphinx-init`, then its own build.sh: `antsibull-docs collection` and `sphinx-build -W`)
works on the collection installed on ANSIBLE_COLLECTIONS_PATH (make build's), with the tools of the
Python this script runs in (.venv-docs). Any line of their output that says WARNING or ERROR fails the
build, as sphinx-build -W does for its own.

This machine reaches no documentation host, so Sphinx's intersphinx inventories cannot be downloaded.
The generated docs link to four pages of the Ansible documentation (what every plugin page refers to);
a local inventory holding exactly those labels, with their addresses under docs.ansible.com, stands in
for the downloaded one, so every link still resolves to the real page and no reference goes unchecked.

With --screenshot, headless Chromium (Debian: apt-get install -y chromium) takes a picture of one page.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

COLLECTION = "conductor.principals"
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# (label, page under ANSIBLE_DOCS with its anchor, title): the std:label entries the generated rst refers to.
ANSIBLE_LABELS = [
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values",
     "Return Values"),
    ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    ("ansible_collections.ansible.builtin.uri_module",
     "collections/ansible/builtin/uri_module.html#ansible-collections-ansible-builtin-uri-module",
     "ansible.builtin.uri module"),
]
PROBLEM = re.compile(r"\b(WARNING|ERROR)\b")


def inventory_bytes(labels):
    """A Sphinx inventory (objects.inv, version 2) holding ``labels`` as std:label entries."""
    header = ("# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    lines = "".join("%s std:label -1 %s %s\n" % (name, uri, title) for name, uri, title in labels)
    return header + zlib.compress(lines.encode())


def conf_override(inventory):
    """What conf.py gets at its end: the Ansible inventory read from ``inventory``, nothing downloaded."""
    return ("\n# make docs-site: no documentation host is reachable; the inventory is read from a local file.\n"
            "intersphinx_mapping = {'ansible_devel': (%r, (%r,))}\n" % (ANSIBLE_DOCS, str(inventory)))


def problems(output):
    """The lines of tool output that report a warning or an error."""
    return [line for line in output.splitlines()
            if PROBLEM.search(line) and "warnings treated as errors" not in line]


def run(command, cwd=None):
    tools = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=tools + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    found = problems(output)
    if done.returncode != 0 or found:
        sys.stdout.write(output)
        raise SystemExit("docs-site: %s %s (%d warnings or errors above); fix the documentation it names"
                         % (Path(command[0]).name, "failed" if done.returncode else "warned", len(found)))
    return output


def build(dest):
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    tools = Path(sys.executable).parent
    run([str(tools / "antsibull-docs"), "sphinx-init", "--use-current", "--fail-on-error", "--squash-hierarchy",
         "--no-add-antsibull-docs-version", "--project", COLLECTION, "--title", "%s documentation" % COLLECTION,
         "--html-short-title", COLLECTION, "--dest-dir", str(dest), COLLECTION])
    inventory = dest / "ansible_devel.inv"
    inventory.write_bytes(inventory_bytes(ANSIBLE_LABELS))
    with open(dest / "conf.py", "a") as conf:
        conf.write(conf_override(inventory))
    run(["bash", str(dest / "build.sh")], cwd=dest)
    html = dest / "build" / "html"
    print("docs-site: %d pages in %s, no warning" % (len(list(html.glob("*.html"))), html))
    return html


def screenshot(page, output):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("docs-screenshot needs Chromium: apt-get install -y chromium")
    if not page.is_file():
        raise SystemExit("docs-screenshot: %s was not built" % page)
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-extensions", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    "--force-device-scale-factor=1", "--window-size=1280,1400",
                    "--screenshot=%s" % output, page.as_uri()], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print("wrote %s" % output)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--page", default="sp_credential_module")
    args = parser.parse_args()
    html = build(args.dest.resolve())
    if args.screenshot:
        screenshot(html / ("%s.html" % args.page), args.screenshot.resolve())


if __name__ == "__main__":
    main()
