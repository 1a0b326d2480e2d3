"""Every recorded response, alone and in classic + ruleset pairs: what a careful reader expects.

The policy asks for what most teams ask for: 1 approving review, at least one required
status check, no force pushes, linear history. Each expectation below was written by
reading the file, not by running gate:
- `+` the requirement is met, `x` unmet (known), `?` unknown (a source could not be read,
  and what was read does not already meet it), in the order
  reviews, status checks, force pushes, linear history;
- the verdict, with `branch_protection.unknown: fail` (the default).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gate.branch_protection.effective import Setting
from gate.branch_protection.rule import BranchProtectionRule
from gate.engine import evaluate
from gate.ingest import load_report
from gate.models import Decision, InputKind, InputStatus, Result, SourceRun
from gate.policy.model import Policy

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
ORDER = (
    Setting.REQUIRED_APPROVING_REVIEWS,
    Setting.REQUIRED_STATUS_CHECKS,
    Setting.ALLOW_FORCE_PUSHES,
    Setting.REQUIRE_LINEAR_HISTORY,
)
SYMBOL = {"unmet": "x", "unknown": "?"}


def policy(unknown: str = "fail", **extra: object) -> Policy:
    section = {
        "required_approving_reviews": 1,
        "require_status_checks": [],
        "allow_force_pushes": False,
        "require_linear_history": True,
        "unknown": unknown,
        **extra,
    }
    return Policy.model_validate({"apiVersion": "gate/v1", "branch_protection": section})


def runs_of(data: Path, *names: str) -> list[SourceRun]:
    return [load_report(InputKind.BRANCH_PROTECTION, data / n) for n in names]


def marks(runs: list[SourceRun], pol: Policy) -> str:
    found = {
        f.details["setting"]: SYMBOL[str(f.status)]
        for f in BranchProtectionRule().derive_findings(runs, pol)
    }
    return "".join(found.get(s.value, "+") for s in ORDER)


# file → (marks, verdict); marks None: the file is not a usable input (ERROR).
SINGLE: dict[str, tuple[str | None, Result]] = {
    # documented example: 2 reviews, travis-ci required, linear history, but force pushes ON
    "docs-example-branch-protection.json": ("++x+", Result.FAIL),
    "docs-example-branch-protection.yaml": (None, Result.ERROR),  # YAML, not an API response
    # 404 "Branch not protected" (three eras of the body): nothing protects it
    "octokit-404-branch-not-protected.json": ("xxxx", Result.FAIL),
    "pygithub-404-old-docs-url.json": ("xxxx", Result.FAIL),
    "realworld-2026-404-with-status-string.json": ("xxxx", Result.FAIL),
    # a recorded HTTP exchange (4 requests), not a response body
    "octokit-fixture-branch-protection-scenario.json": (None, Result.ERROR),
    # 1 review, foo/bar required, force pushes off, but required_linear_history false
    "octokit-put-response-full-restrictions.json": ("+++x", Result.FAIL),
    # 1 review, build (3.10) strict, no force pushes, linear history: all met
    "pygithub-2023-org-fork-protection.json": ("++++", Result.PASS),
    # only the required_status_checks sub-resource: checks known, the rest unknown
    "pygithub-required-status-checks-subresource.json": ("?+??", Result.FAIL),
    # reviews present without a count; no required_status_checks (= none required);
    # no allow_force_pushes / required_linear_history keys at all (hand-edited, old API)
    "pygithub-restrictions-dismissal-users.json": ("?x??", Result.FAIL),
    # 1 review, verify/publish-guard/sop strict, linear, no force pushes: all met
    "realworld-2026-personal-repo-protection.json": ("++++", Result.PASS),
    # 1 review, 4 strict checks, no force pushes, linear history OFF
    "realworld-2026-trustsignal-protection.json": ("+++x", Result.FAIL),
    # the branch endpoint: protected, 4 contexts required; nothing else readable from it
    "realworld-2026-trustsignal-branch.json": ("?+??", Result.FAIL),
    # the branch endpoint: protected false, so no classic protection and no rules
    "realworld-2026-elysia-branch-unprotected.json": ("xxxx", Result.FAIL),
    # 403 from classic protection (a GitHub App token): every classic setting unknown
    "realworld-2026-elysia-403-classic.json": ("????", Result.FAIL),
    # rules that apply: commit message / author email patterns only
    "docs-example-repository-rule-items.json": ("xxxx", Result.FAIL),
    "docs-example-repository-rule-items.yaml": (None, Result.ERROR),
    # rules that apply: creation + update only
    "go-github-list-rules-for-branch.json": ("xxxx", Result.FAIL),
    # ruleset detail on ~DEFAULT_BRANCH: deletion, non_fast_forward, PR with 0 approvals
    "realworld-2026-ruleset-detail.json": ("xx+x", Result.FAIL),
    # documented ruleset detail: only a commit_author_email_pattern rule
    "docs-example-repository-ruleset.json": ("xxxx", Result.FAIL),
    "docs-example-repository-ruleset.yaml": (None, Result.ERROR),
    # rulesets lists carry no rules: rejected with a message saying what to save
    "docs-example-repository-ruleset-items.json": (None, Result.ERROR),
    "realworld-2026-rulesets-list.json": (None, Result.ERROR),
}


def test_every_data_file_has_an_expectation(gh_data: Path) -> None:
    files = {p.name for p in gh_data.iterdir() if p.suffix in (".json", ".yaml")}
    assert files == set(SINGLE)


@pytest.mark.parametrize(("name", "expected"), SINGLE.items(), ids=list(SINGLE))
def test_single_response(gh_data: Path, name: str, expected: tuple[str | None, Result]) -> None:
    want_marks, want_result = expected
    runs = runs_of(gh_data, name)
    verdict = evaluate(runs, policy(), NOW)
    assert verdict.result is want_result, verdict.errors
    if want_marks is None:
        assert runs[0].error and name in runs[0].error
        return
    assert marks(runs, policy()) == want_marks
    fails = {d.finding.id for d in verdict.findings if d.decision is Decision.FAIL}
    marked = zip(ORDER, want_marks, strict=True)
    assert fails == {f"branch-protection/{s.value}" for s, m in marked if m != "+"}


@pytest.mark.parametrize(
    "name",
    [n for n, (m, _) in SINGLE.items() if m and "x" not in m and "?" in m],
)
def test_unknown_warn_passes_with_warnings(gh_data: Path, name: str) -> None:
    """`unknown: warn`: settings the token cannot read warn; nothing known is unmet → PASS."""
    verdict = evaluate(runs_of(gh_data, name), policy(unknown="warn"), NOW)
    assert verdict.result is Result.PASS
    warned = [d for d in verdict.findings if d.decision is Decision.WARN]
    assert warned and all(d.rule == "branch_protection.unknown" for d in warned)


CLASSIC = [
    "docs-example-branch-protection.json",
    "octokit-404-branch-not-protected.json",
    "octokit-put-response-full-restrictions.json",
    "pygithub-2023-org-fork-protection.json",
    "pygithub-404-old-docs-url.json",
    "pygithub-required-status-checks-subresource.json",
    "pygithub-restrictions-dismissal-users.json",
    "realworld-2026-404-with-status-string.json",
    "realworld-2026-personal-repo-protection.json",
    "realworld-2026-elysia-403-classic.json",
    "realworld-2026-trustsignal-protection.json",
]
RULESETS = [
    "docs-example-repository-rule-items.json",
    "go-github-list-rules-for-branch.json",
    "realworld-2026-ruleset-detail.json",
    "docs-example-repository-ruleset.json",
]
# Per classic file: marks with each ruleset file (same order as RULESETS), and whether the
# pair is about two different repositories (both name one, and they differ) → ERROR.
# Rulesets can only add protection: the first two and the documented detail add nothing
# judged here; the real 2026 detail blocks force pushes (non_fast_forward) for every branch
# (~DEFAULT_BRANCH is assumed to be the judged one) and requires 0 approvals.
PAIRS: dict[str, tuple[tuple[str, str, str, str], bool]] = {
    "docs-example-branch-protection.json": (("++x+", "++x+", "++++", "++x+"), True),
    "octokit-404-branch-not-protected.json": (("xxxx", "xxxx", "xx+x", "xxxx"), False),
    "octokit-put-response-full-restrictions.json": (("+++x", "+++x", "+++x", "+++x"), True),
    "pygithub-2023-org-fork-protection.json": (("++++", "++++", "++++", "++++"), True),
    "pygithub-404-old-docs-url.json": (("xxxx", "xxxx", "xx+x", "xxxx"), False),
    "pygithub-required-status-checks-subresource.json": (
        ("?+??", "?+??", "?++?", "?+??"),
        True,
    ),
    "pygithub-restrictions-dismissal-users.json": (("?x??", "?x??", "?x+?", "?x??"), True),
    "realworld-2026-404-with-status-string.json": (("xxxx", "xxxx", "xx+x", "xxxx"), False),
    "realworld-2026-personal-repo-protection.json": (("++++", "++++", "++++", "++++"), True),
    "realworld-2026-elysia-403-classic.json": (("????", "????", "??+?", "????"), False),
    "realworld-2026-trustsignal-protection.json": (("+++x", "+++x", "+++x", "+++x"), True),
}


def test_pairs_cover_every_classic_file() -> None:
    assert list(PAIRS) == CLASSIC


@pytest.mark.parametrize(
    ("classic", "index"),
    [(c, i) for c in CLASSIC for i in range(len(RULESETS))],
    ids=[f"{c}+{r}" for c in CLASSIC for r in RULESETS],
)
def test_classic_plus_ruleset(gh_data: Path, classic: str, index: int) -> None:
    want, other_repo = PAIRS[classic]
    runs = runs_of(gh_data, classic, RULESETS[index])
    assert marks(runs, policy()) == want[index]
    verdict = evaluate(runs, policy(), NOW)
    if other_repo:
        assert verdict.result is Result.ERROR
        assert any("about different repositories" in e for e in verdict.errors)
    else:
        expected = Result.PASS if want[index] == "++++" else Result.FAIL
        assert verdict.result is expected, verdict.errors


def test_the_real_2026_pair_a_ruleset_protects_an_unprotected_branch(gh_data: Path) -> None:
    """The 404 and the detail come from the same repository: classic off, ruleset on."""
    runs = runs_of(
        gh_data, "realworld-2026-404-with-status-string.json", "realworld-2026-ruleset-detail.json"
    )
    eff = BranchProtectionRule().effective(runs, policy())
    assert eff is not None
    assert eff.sources == {"classic": "unprotected", "rulesets": "protected"}
    force = eff.settings[Setting.ALLOW_FORCE_PUSHES]
    assert (force.value, force.known) == (False, True)
    assert "ruleset 15625854: non_fast_forward" in force.fields
    assert eff.settings[Setting.ALLOW_DELETIONS].value is False
    assert eff.settings[Setting.REQUIRE_CODE_OWNER_REVIEWS].value is True
    assert eff.settings[Setting.ENFORCE_ADMINS].value is True  # bypass_actors: []
    assert any("~DEFAULT_BRANCH` assumed" in n for n in eff.notes)


def test_real_branch_plus_classic_of_the_same_repository(gh_data: Path) -> None:
    runs = runs_of(
        gh_data,
        "realworld-2026-trustsignal-branch.json",
        "realworld-2026-trustsignal-protection.json",
    )
    assert marks(runs, policy()) == "+++x"
    verdict = evaluate(runs, policy(branch="master"), NOW)
    assert verdict.result is Result.FAIL
    [failed] = [d for d in verdict.findings if d.decision is Decision.FAIL]
    assert failed.finding.id == "branch-protection/require_linear_history"
    assert "classic: required_linear_history.enabled = false" in failed.reason


def test_the_branch_endpoint_settles_what_a_403_hides(gh_data: Path) -> None:
    """A GitHub App token: classic protection 403, but the branch says `protected: false`."""
    runs = runs_of(
        gh_data,
        "realworld-2026-elysia-403-classic.json",
        "realworld-2026-elysia-branch-unprotected.json",
    )
    assert marks(runs, policy()) == "xxxx"
    assert evaluate(runs, policy(), NOW).result is Result.FAIL


def test_the_policy_branch_must_match_the_inputs(gh_data: Path) -> None:
    runs = runs_of(gh_data, "realworld-2026-personal-repo-protection.json")
    verdict = evaluate(runs, policy(branch="release"), NOW)
    assert verdict.result is Result.ERROR
    assert any(
        "is about branch `main`, but the policy judges `release`" in e for e in verdict.errors
    )


def test_ruleset_detail_with_the_policy_branch(gh_data: Path) -> None:
    """The documented detail includes refs/heads/main and has a Team bypass actor."""
    runs = runs_of(gh_data, "docs-example-repository-ruleset.json")
    for branch, applied in (("main", True), ("dev-1", False), ("feature", False)):
        eff = BranchProtectionRule().effective(runs, policy(branch=branch))
        assert eff is not None
        assert (eff.sources["rulesets"] == "protected") is applied, branch
    eff = BranchProtectionRule().effective(runs, policy(branch="main", enforce_admins=True))
    assert eff is not None
    admins = eff.settings[Setting.ENFORCE_ADMINS]
    assert (admins.value, admins.known) == (False, True)
    assert "ruleset 42 bypass_actors: Team 234 (always)" in admins.fields


@pytest.mark.parametrize("classic", CLASSIC)
@pytest.mark.parametrize("index", range(len(RULESETS)))
def test_one_assessment_says_what_the_hooks_say(gh_data: Path, classic: str, index: int) -> None:
    """The engine asks the rule once (`assess`: the effective protection computed once); its
    answer is exactly what the separate hooks give."""
    runs = runs_of(gh_data, classic, RULESETS[index])
    pol, rule = policy(), BranchProtectionRule()
    a = rule.assess(runs, pol, NOW)
    usable = [r for r in runs if r.status is InputStatus.OK]
    assert list(a.errors) == rule.check_inputs(runs, pol, NOW)
    assert list(a.findings) == rule.derive_findings(usable, pol)
    assert a.facts == rule.facts(usable, pol)
    assert list(a.notes) == rule.notes(runs, pol) == []
