"""The effective-protection merge, on readings built the way the ingest module builds them."""

from __future__ import annotations

import json

import pytest

from gate.branch_protection.effective import (
    Reading,
    Ruleset,
    Setting,
    Value,
    effective_protection,
    ref_matches,
    ruleset_applies,
    satisfies,
    strictest,
)
from gate.branch_protection.ingest import (
    BranchProtectionIngestor,
    forbidden,
    not_protected,
)


def read(data: object) -> Reading:
    run = BranchProtectionIngestor().parse(json.dumps(data).encode(), "saved.json")
    return Reading.model_validate(run.facts.as_json()["reading"])


NON_FF = [{"type": "non_fast_forward", "ruleset_id": 5}]
BRANCH_PROTECTED = {"name": "main", "commit": {"sha": "0"}, "protected": True}


@pytest.mark.parametrize(
    ("pattern", "branch", "hit"),
    [
        ("refs/heads/main", "main", True),
        ("main", "main", True),
        ("refs/heads/release/*", "release/1.0", True),
        ("refs/heads/release/*", "release/1.0/hotfix", False),
        ("refs/heads/release/**", "release/1.0/hotfix", True),
        ("refs/heads/dev*", "dev-1", True),
        ("refs/heads/dev*", "main", False),
        ("refs/heads/v?", "v1", True),
        ("refs/heads/ma.n", "main", False),
        ("~ALL", "anything", True),
    ],
)
def test_ref_patterns(pattern: str, branch: str, hit: bool) -> None:
    assert ref_matches(pattern, branch) is hit


def test_strictest_and_satisfies() -> None:
    assert strictest(Setting.REQUIRED_APPROVING_REVIEWS, [1, 3, 0]) == 3
    assert strictest(Setting.ALLOW_FORCE_PUSHES, [True, False]) is False
    assert strictest(Setting.ALLOW_FORCE_PUSHES, []) is True
    assert strictest(Setting.REQUIRE_LINEAR_HISTORY, [False, True]) is True
    assert strictest(Setting.REQUIRED_STATUS_CHECKS, [["b"], ["a", "b"]]) == ["a", "b"]
    assert satisfies(Setting.REQUIRED_STATUS_CHECKS, ["build", "gate"], ["gate"])
    assert not satisfies(Setting.REQUIRED_STATUS_CHECKS, ["build"], ["gate"])
    assert not satisfies(Setting.REQUIRED_STATUS_CHECKS, [], [])  # [] wants at least one
    assert satisfies(Setting.REQUIRED_APPROVING_REVIEWS, 2, 1)
    assert not satisfies(Setting.ALLOW_DELETIONS, True, False)


@pytest.mark.parametrize(
    ("ruleset", "branch", "applies", "note"),
    [
        (Ruleset(id=1, enforcement="evaluate", include=["~ALL"]), "main", False, "not enforced"),
        (Ruleset(id=1, enforcement="disabled", include=["~ALL"]), "main", False, "not enforced"),
        (
            Ruleset(id=1, enforcement="active", target="tag", include=["~ALL"]),
            "main",
            False,
            "targets `tag`",
        ),
        (
            Ruleset(id=1, enforcement="active", include=["~DEFAULT_BRANCH"]),
            "x",
            True,
            "assumed to be the judged branch",
        ),
        (
            Ruleset(id=1, enforcement="active", include=["~ALL"], exclude=["refs/heads/main"]),
            "main",
            False,
            "exclude `main`",
        ),
        (
            Ruleset(id=1, enforcement="active", include=["refs/heads/main"]),
            None,
            False,
            "no branch to match",
        ),
        (
            Ruleset(
                id=1, enforcement="active", include=["~ALL"], other_conditions=["repository_name"]
            ),
            "main",
            True,
            "cannot be checked offline",
        ),
    ],
)
def test_when_a_ruleset_detail_applies(
    ruleset: Ruleset, branch: str | None, applies: bool, note: str
) -> None:
    ok, notes = ruleset_applies(ruleset, branch)
    assert ok is applies
    assert any(note in n for n in notes), notes


def test_rulesets_fill_in_what_a_403_hides() -> None:
    eff = effective_protection(
        [forbidden("classic", "Resource not accessible by integration"), read(NON_FF)]
    )
    force = eff.settings[Setting.ALLOW_FORCE_PUSHES]
    assert (force.value, force.known) == (False, True)  # known from the rules alone
    linear = eff.settings[Setting.REQUIRE_LINEAR_HISTORY]
    assert (linear.value, linear.known) == (False, False)  # classic could still require it
    assert "403 Resource not accessible by integration" in linear.unknown[0]


WANT_ON: dict[Setting, Value] = {
    Setting.REQUIRED_APPROVING_REVIEWS: 1,
    Setting.REQUIRED_STATUS_CHECKS: ["gate"],
    Setting.ALLOW_FORCE_PUSHES: False,
    Setting.ALLOW_DELETIONS: False,
}


def test_unknown_is_never_on() -> None:
    """Classic unreadable, no rule applies: nothing is met, and nothing is known."""
    eff = effective_protection([forbidden("classic", "Must have admin rights"), read([])])
    for setting in Setting:
        e = eff.settings[setting]
        wanted = WANT_ON.get(setting, True)
        assert not satisfies(setting, e.value, wanted), setting
        assert not e.known, setting


def test_protected_branch_with_classic_off_means_an_unread_ruleset() -> None:
    eff = effective_protection([not_protected(), read(BRANCH_PROTECTED)])
    force = eff.settings[Setting.ALLOW_FORCE_PUSHES]
    assert not force.known
    assert force.unknown == ["branch: `protected: true`, but rulesets protection was not read"]


def test_protected_branch_with_classic_on_takes_unread_rulesets_as_off() -> None:
    classic = read(
        {
            "url": "https://api.github.com/repos/o/r/branches/main/protection",
            "allow_force_pushes": {"enabled": True},
        }
    )
    eff = effective_protection([classic, read(BRANCH_PROTECTED)])
    force = eff.settings[Setting.ALLOW_FORCE_PUSHES]
    assert (force.value, force.known) == (True, True)
    assert "rulesets: not read (taken as off)" in force.fields
    assert any("rulesets were not read" in n for n in eff.notes)


def test_enforce_admins_from_rulesets_needs_their_bypass_actors() -> None:
    rules = read(NON_FF)
    detail = {
        "id": 5,
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~ALL"]}},
        "rules": NON_FF,
        "bypass_actors": [],
    }
    admins = effective_protection([not_protected(), rules]).settings[Setting.ENFORCE_ADMINS]
    assert not admins.known
    assert admins.unknown[0].startswith("rules: the bypass actors of ruleset 5 are not known")
    admins = effective_protection([not_protected(), rules, read(detail)]).settings[
        Setting.ENFORCE_ADMINS
    ]
    assert (admins.value, admins.known) == (True, True)
    with_bypass = {
        **detail,
        "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
    }
    admins = effective_protection([not_protected(), rules, read(with_bypass)]).settings[
        Setting.ENFORCE_ADMINS
    ]
    assert (admins.value, admins.known) == (False, True)
    assert admins.fields[-1] == "ruleset 5 bypass_actors: RepositoryRole 5 (always)"


def test_rules_403_leave_rulesets_unknown() -> None:
    classic = read(
        {
            "url": "https://api.github.com/repos/o/r/branches/main/protection",
            "required_linear_history": {"enabled": False},
        }
    )
    eff = effective_protection([classic, forbidden("rules", "Upgrade to GitHub Pro")])
    linear = eff.settings[Setting.REQUIRE_LINEAR_HISTORY]
    assert not linear.known and "rules: 403 Upgrade to GitHub Pro" in linear.unknown[0]
    assert eff.sources == {"classic": "protected", "rulesets": "unreadable"}
