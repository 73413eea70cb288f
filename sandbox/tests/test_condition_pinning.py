"""What the collection's broad-condition rule calls pinned really refuses a stranger's token.

Each condition of the rule's table (tests/unit/plugins/module_utils/conditions_table.yml, whose verdicts the
collection's unit tests check) is evaluated by the sandbox's real CEL engine (cel-python, as the service's trusts
are): a pinned one accepts the friend's token and refuses every stranger made from it by changing the claims that
name the owner on that platform; a broad one accepts the stranger the table gives.
"""

from pathlib import Path

import pytest
import yaml

from conductor_sandbox import cel

TABLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "tests" / "unit" / "plugins" / "module_utils"
                        / "conditions_table.yml").read_text(encoding="utf-8"))
ROWS = TABLE["conditions"]
PINNED = [row for row in ROWS if row["pinned"]]
BROAD = [row for row in ROWS if not row["pinned"] and row.get("stranger")]

# The interface's identifying claims (the platform sets them: a job cannot choose them); on any other
# type every claim counts, so a stranger differs in all of them.
IDENTIFYING = {
    "github_actions": ("repository", "repository_owner", "repository_id", "repository_owner_id", "sub"),
    "gitlab_ci": ("project_path", "namespace_path", "project_id", "namespace_id", "sub"),
    "hcp_terraform": ("terraform_organization_name", "terraform_organization_id", "sub"),
    "spiffe": ("sub",),
}
WELL_KNOWN = (("https://token.actions.githubusercontent.com", "github_actions"), ("https://gitlab.com", "gitlab_ci"),
              ("https://app.terraform.io", "hcp_terraform"))


def judged(row):
    issuer = str(row.get("issuer") or "").lower().rstrip("/")
    return next((kind for url, kind in WELL_KNOWN if issuer == url or issuer.startswith(url + "/")), row["type"])


def friend(row):
    return dict(TABLE["friends"][judged(row)], **(row.get("friend") or {}))


def strangers(row):
    """Tokens of other owners: the friend's, with the owner of each identifying claim replaced by "evil"
    and by "acme-evil" (an owner whose name starts with the friend's), its IDs by others."""
    base = friend(row)
    names = IDENTIFYING.get(judged(row), tuple(base))
    for owner in ("evil", "acme-evil"):
        made = dict(base)
        for name in names:
            value = str(base[name])
            made[name] = value.replace("acme", owner) if "acme" in value else (
                "666" if value.isdigit() else "%s-%s" % (owner, value))
        yield made


def evaluate(condition, claims):
    matched, error = cel.evaluate(condition, claims)
    return matched and error is None


def label(row):
    return "%s: %s" % (judged(row), row["cel"])


def test_the_table_has_pinned_conditions_and_broad_ones_with_a_stranger():
    assert len(PINNED) >= 20 and len(BROAD) >= 20


@pytest.mark.parametrize("row", PINNED, ids=[label(r) for r in PINNED])
def test_a_pinned_condition_accepts_its_friend_and_refuses_strangers(row):
    assert evaluate(row["cel"], friend(row)), "the friend's token is refused: the row proves nothing"
    for claims in strangers(row):
        assert not evaluate(row["cel"], claims), claims


@pytest.mark.parametrize("row", BROAD, ids=[label(r) for r in BROAD])
def test_a_broad_condition_accepts_a_stranger(row):
    claims = dict(friend(row), **row["stranger"])
    assert claims != friend(row)
    assert evaluate(row["cel"], claims), claims
