# -*- coding: utf-8 -*-
"""The README's tables name every plugin the collection ships: each module, lookup and filter.
(No sandbox needed; it lives here because it reads the checkout, which the unit tests do not see.)"""

from __future__ import annotations

import re

from conftest import REPO


def test_the_readme_names_every_module_lookup_and_filter():
    tables = "\n".join(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("|"))
    named = set(re.findall(r"`(?:conductor\.principals\.)?([a-z_]+)`", tables))
    shipped = [p.stem for kind in ("modules", "lookup") for p in (REPO / "plugins" / kind).glob("*.py")
               if p.name != "__init__.py"]
    shipped += [p.stem for p in (REPO / "plugins" / "filter").glob("*.yml")]
    missing = sorted(set(shipped) - named)
    assert not missing, "README.md's tables leave out: %s" % ", ".join(missing)
