# -*- coding: utf-8 -*-
"""The README and the user's guide (docs/): every link and every path they name is true, every
page is in the index, every filter is documented, and the examples marked `<!-- example: NAME -->`
run as written against the sandbox (each run searched for every secret the sandbox issued)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

import yaml

from conftest import REPO, _collections_path
from helpers import BIN, clean_env, orkes, sandbox_env

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


def test_the_orkes_page_playbook_runs_against_the_sandbox(fresh, playbook):
    [play] = yaml.safe_load(example("orkes.md", "orkes-playbook"))
    run = playbook(play["tasks"], connection_vars=False, module_defaults=orkes(fresh))
    assert "failed=0" in run.stdout


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
    for name, file in (("identities", "identities.yml"), ("rotating", "rotating.yml"), ("retiring", "retiring.yml")):
        (tmp_path / file).write_text(example("first-steps.md", name))
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
