# -*- coding: utf-8 -*-
"""docs/ARCHITECTURE.md matches the code: every path it names exists, and no part of plugins/ is left out.
(No sandbox needed; it lives here because it reads the checkout, which the unit tests do not see.)"""

from __future__ import annotations

import re

from conftest import REPO

MAP = REPO / "docs" / "ARCHITECTURE.md"
# A backticked token that is a path: it has a slash, or ends in a file suffix.
PATH = re.compile(r"`([A-Za-z0-9_.][A-Za-z0-9_./-]*(?:/|\.py|\.yml|\.md|\.sh))`")


def named_paths():
    return sorted(set(PATH.findall(MAP.read_text())))


def test_the_map_names_paths():
    assert len(named_paths()) > 40


def test_every_path_the_map_names_exists():
    missing = [path for path in named_paths() if not (REPO / path).exists()]
    assert not missing, "docs/ARCHITECTURE.md names paths that do not exist: %s" % ", ".join(missing)


def test_every_part_of_plugins_is_on_the_map():
    named = set(named_paths())
    parts = [p for p in (REPO / "plugins").iterdir() if p.is_dir() and not p.name.startswith("__")]
    parts += [p for p in (REPO / "plugins" / "module_utils").iterdir()
              if p.is_dir() and not p.name.startswith("__")]
    parts += [p for p in (REPO / "plugins" / "module_utils").glob("*.py") if p.name != "__init__.py"]
    parts += list((REPO / "roles").iterdir())
    unnamed = [str(p.relative_to(REPO)) for p in parts
               if str(p.relative_to(REPO)) + ("/" if p.is_dir() else "") not in named]
    assert not unnamed, "docs/ARCHITECTURE.md leaves out: %s" % ", ".join(sorted(unnamed))
