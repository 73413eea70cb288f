# -*- coding: utf-8 -*-
"""The README and the user's guide (docs/): every link and every path they name is true, every
page is in the index, every filter is documented, and the examples run as written against the sandbox
(each run searched for every secret the sandbox issued).

How a guide page marks its examples (docs/guide/README.md says the same for writers). Markers are HTML
comments on the lines right above a fence (invisible on the rendered page):

- A ```yaml block that is a playbook (a list of plays, each with `hosts`; a rulebook is not) runs as written:
  `ansible-playbook -i localhost, page-N.yml`, twice, in a fresh tenant, in the environment the first
  steps give (`eval "$(make -s sandbox-env)"`, CONDUCTOR_PRINCIPALS_STORE_PASSWORD). Every run must
  succeed. `<!-- idempotent -->` above it: its second run must report changed=0.
- `<!-- file: NAME -->` above a ```yaml block: a file the page's playbooks read (a vars file, an
  inventory), written as NAME in the directory they run from.
- `<!-- setup -->` above a ```bash block: run in that directory before the page's playbooks; the
  variables it exports, they see (a test token from the sandbox, say).
- `<!-- fragment -->` above a ```yaml block: shown, not run (task snippets, results, another tool's
  YAML, a playbook for hosts the sandbox does not give).
Any other ```yaml block fails the test, so that every block is run or is consciously not.
`<!-- example: NAME -->` names a block other tests here take by name; it can stand beside these."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, STORE_PASSWORD, _collections_path, record
from helpers import BIN, clean_env, sandbox_env

PAGES = [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A path in backticks that starts with a top-level directory of the repository.
PATH = re.compile(r"`((?:playbooks|plugins|roles|docs|scripts|tools|awx|tests|sandbox|execution-environment|meta|"
                  r"bench|changelogs|extensions)/[^`\s]*)`")


def _slug(heading):
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page):
    return {_slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def test_every_link_and_path_the_guide_names_is_true():
    broken = []
    for page in PAGES:
        text = page.read_text()
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            where, dummy, anchor = target.partition("#")
            resolved = (page.parent / where).resolve() if where else page
            if not resolved.exists():
                broken.append("%s: %s" % (page.relative_to(REPO), target))
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append("%s: %s (no such heading)" % (page.relative_to(REPO), target))
        for path in PATH.findall(text):
            if any(mark in path for mark in "<*{"):
                continue
            if not (REPO / path.rstrip("/")).exists():
                broken.append("%s: `%s`" % (page.relative_to(REPO), path))
    assert broken == []


def test_every_guide_page_starts_with_a_title_and_is_in_the_index():
    index = (REPO / "docs/guide/README.md").read_text()
    for page in (REPO / "docs/guide").glob("*.md"):
        assert page.read_text().startswith("# "), page.name
        if page.name != "README.md":
            assert "(%s)" % page.name in index, page.name


def test_the_readme_stays_short_and_names_the_test_command():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) < 150 and "`make test`" in text and "docs/guide/README.md" in text


def test_ansible_doc_shows_no_undocumented_filter(tmp_path_factory):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()))
    done = subprocess.run([str(BIN / "ansible-doc"), "-t", "filter", "-l", "conductor.principals"], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    listed = sorted(line.split()[0] for line in done.stdout.splitlines() if line.strip())
    exported = sorted("conductor.principals." + path.stem for path in (REPO / "plugins" / "filter").glob("*.yml"))
    assert listed == exported and "UNDOCUMENTED" not in done.stdout, done.stdout


def example(page, name):
    text = (REPO / "docs/guide" / page).read_text()
    after = text[text.index("<!-- example: %s " % name):]
    return re.search(r"```\w*\n(.*?)```", after, re.S).group(1)


# ---- every fenced block of the guide, with the markers above it -----------------------------------
GUIDE = REPO / "docs/guide"
FENCE = re.compile(r"((?:^[ \t]*<!--[^\n]*-->\n)*)^([ \t]*)```(\w*)\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)


def blocks(page):
    """(line, language, text, markers) of each fenced block of a page; markers: {"file": NAME, "setup",
    "fragment", "idempotent"} read from the comment lines right above the fence."""
    text = page.read_text()
    for found in FENCE.finditer(text):
        comments, indent, language, body = found.groups()
        markers = {word: True for word in ("setup", "fragment", "idempotent")
                   if re.search(r"\b%s\b" % word, comments)}
        named = re.search(r"\bfile: *(\S+?) *-->", comments)
        if named:
            markers["file"] = named.group(1)
        body = "\n".join(line[len(indent):] for line in body.splitlines()) + "\n"
        yield text.count("\n", 0, found.start(2)) + 1, language, body, markers


def write_files(page, directory):
    """Write the blocks of a page marked <!-- file: NAME --> into directory, each as NAME."""
    for block in blocks(GUIDE / page):
        body, markers = block[2:]
        if markers.get("file"):
            (directory / markers["file"]).write_text(body)


def is_playbook(data):
    """A list of plays, each with hosts (an EDA rulebook's rulesets have hosts too, and rules: not a play)."""
    return isinstance(data, list) and bool(data) and all(
        isinstance(play, dict) and "hosts" in play and "rules" not in play for play in data)


def _parsed(body):
    try:
        return yaml.safe_load(body)
    except yaml.YAMLError:
        return None  # the test of every block names it


def playbooks(page):
    """(line, text, markers) of each playbook of a page that runs (not marked a fragment)."""
    return [(line, body, markers) for line, language, body, markers in blocks(page)
            if language == "yaml" and not markers.get("fragment") and is_playbook(_parsed(body))]


def test_every_yaml_block_of_the_guide_is_a_playbook_a_file_or_a_fragment():
    unclear = []
    for page in sorted(GUIDE.glob("*.md")):
        for line, language, body, markers in blocks(page):
            if language != "yaml":
                continue
            where = "%s:%d" % (page.name, line)
            try:
                data = yaml.safe_load(body)
            except yaml.YAMLError as exc:
                unclear.append("%s: not YAML (%s)" % (where, str(exc).splitlines()[0]))
                continue
            kinds = [kind for kind in ("file", "fragment") if markers.get(kind)]
            if is_playbook(data) and "file" in kinds:
                unclear.append("%s: a playbook marked as a file" % where)
            elif not is_playbook(data) and len(kinds) != 1:
                unclear.append("%s: neither a playbook nor marked <!-- file: NAME --> or <!-- fragment -->" % where
                               if not kinds else "%s: marked both a file and a fragment" % where)
            if markers.get("idempotent") and not is_playbook(data):
                unclear.append("%s: marked idempotent, but not a playbook" % where)
    assert unclear == []


def test_guide_markers_are_read_from_the_comment_lines_right_above_a_fence(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- example: a -->\n<!-- file: vars.yml -->\n```yaml\nx: 1\n```\n\n"
                    "<!-- idempotent -->\n\n```yaml\n- hosts: localhost\n```\n\n"
                    "- a list item:\n\n  <!-- fragment -->\n  ```yaml\n  - name: t\n  ```\n")
    assert list(blocks(page)) == [(3, "yaml", "x: 1\n", {"file": "vars.yml"}),
                                  (9, "yaml", "- hosts: localhost\n", {}),  # a blank line parts it from its marker
                                  (16, "yaml", "- name: t\n", {"fragment": True})]  # indented in a list


def _page_environment(sandbox, directory, collections):
    """A new user's shell after the first steps: the sandbox's connection and the store password."""
    (directory / "shell").mkdir()
    env = clean_env(**sandbox_env(sandbox, directory / "shell"))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOG_PATH=str(directory / "ansible.log"), CONDUCTOR_PRINCIPALS_STORE_PASSWORD=STORE_PASSWORD)
    return env


def _scanned(sandbox, done, env, given):
    """The run's stdout, stderr and log, checked for every secret and token the sandbox issued."""
    log = Path(env["ANSIBLE_LOG_PATH"])
    output = done.stdout + done.stderr + (log.read_text() if log.exists() else "")
    issued = sandbox.issued() + [STORE_PASSWORD] + [v for v in given if len(v) >= 12]
    leaked = [value[:12] + "..." for value in issued if value in output]
    record("leak_runs_checked")
    record("leak_values_checked", len(issued))
    record("leaks", len(leaked))
    assert not leaked, "secrets or tokens leaked into the output: %s" % leaked


PAGES_WITH_PLAYBOOKS = [page.name for page in sorted(GUIDE.glob("*.md")) if playbooks(page)]


@pytest.mark.parametrize("page", PAGES_WITH_PLAYBOOKS)
def test_the_guide_page_playbooks_run_as_written_twice(page, fresh, tmp_path, tmp_path_factory):
    env = _page_environment(fresh, tmp_path, _collections_path(tmp_path_factory.getbasetemp()))
    given = []
    write_files(page, tmp_path)
    for line, language, body, markers in blocks(GUIDE / page):
        if language == "bash" and markers.get("setup"):
            done = _bash(body + "\nenv -0", env, tmp_path)
            assert done.returncode == 0, "%s:%d: %s" % (page, line, done.stderr[-2000:])
            exported = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
            for name in re.findall(r"^export (\w+)=", body, re.M):
                assert exported.get(name) not in (None, "", "null"), "%s:%d: %s is empty" % (page, line, name)
                env[name] = exported[name]
                given.append(exported[name])  # a token it made is looked for in every run, too
    for number, (line, body, markers) in enumerate(playbooks(GUIDE / page)):
        path = tmp_path / ("%s-%d.yml" % (page[:-3], number))
        path.write_text(body)
        for attempt in ("first", "second"):
            done = subprocess.run([str(BIN / "ansible-playbook"), "-vvv", "-i", "localhost,", path.name],
                                  env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600,
                                  check=False)
            _scanned(fresh, done, env, given)
            where = "%s:%d, %s run" % (page, line, attempt)
            assert done.returncode == 0, "%s exited %d:\n%s" % (where, done.returncode, done.stdout[-3000:])
            changed = [int(n) for n in re.findall(r"^\S+\s+:.*?changed=(\d+)", done.stdout, re.M)]
            if attempt == "second" and markers.get("idempotent"):
                assert changed and not any(changed), "%s: changed=%s, the page says a rerun changes nothing" % (
                    where, changed)


def _bash(script, env, cwd):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=str(cwd), capture_output=True,
                          text=True, timeout=600, check=False)
    return done


def test_the_first_steps_cycle_and_vault_view_run_as_written(fresh, tmp_path, tmp_path_factory):
    (tmp_path / "shell").mkdir()
    env = clean_env(**sandbox_env(fresh, tmp_path / "shell"))
    collections = _collections_path(tmp_path_factory.getbasetemp())
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               CONDUCTOR_PRINCIPALS_STORE_PASSWORD="guide correct horse")
    write_files("first-steps.md", tmp_path)
    helper = os.path.join(collections, "ansible_collections/conductor/principals/scripts/store-password")
    cycle = example("first-steps.md", "cycle").strip().splitlines()
    provision = _bash("\n".join(cycle[:2]), env, tmp_path)
    assert provision.returncode == 0, provision.stdout[-3000:]
    assert "conductorone: 1 created" in provision.stdout and "orkes: 1 created" in provision.stdout
    view = example("first-steps.md", "vault-view").replace(
        "~/.ansible/collections/ansible_collections/conductor/principals/scripts/store-password", shlex.quote(helper))
    shown = _bash(view, dict(env), tmp_path)
    assert shown.returncode == 0, shown.stderr  # no terminal, no prompt
    assert "conductor-principals/conductorone/Terraform CI/prod-terraform" in shown.stdout
    rest = _bash("\n".join([cycle[0]] + cycle[2:]), env, tmp_path)
    assert rest.returncode == 0, rest.stdout[-3000:]
    assert "conductorone: 0 created, 1 rotated, 1 revoked" in rest.stdout
    # decommission: each principal removed with its one live credential
    assert "conductorone: 0 created, 0 rotated, 1 revoked, 1 removed" in rest.stdout
    assert "orkes: 0 created, 0 rotated, 1 revoked, 1 removed" in rest.stdout
    output = provision.stdout + provision.stderr + rest.stdout + rest.stderr
    assert not [v[:12] for v in fresh.issued() if v in output], "a secret leaked"


def test_the_report_command_runs_as_written(fresh, tmp_path, tmp_path_factory):
    (tmp_path / "shell").mkdir()
    env = clean_env(**sandbox_env(fresh, tmp_path / "shell"))
    env.update(ANSIBLE_COLLECTIONS_PATH=_collections_path(tmp_path_factory.getbasetemp()), ANSIBLE_NOCOLOR="1")
    dest = tmp_path / "credentials.html"
    command = example("report.md", "report-command").replace("/srv/reports/credentials.html", str(dest))
    done = _bash(command, env, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert oct(dest.stat().st_mode & 0o777) == "0o644" and "Most urgent first" in dest.read_text()
    assert not [v[:12] for v in fresh.issued() if v in done.stdout + done.stderr]
