"""The `branch_protection` policy section: what protects the branch, as part of the verdict.

A pipeline is only trusted if nobody can push around it. This rule merges every
branch-protection input (classic protection, rulesets, the branch endpoint) into the
branch's effective protection (`gate.branch_protection.effective`) and makes one finding per policy
requirement that is unmet or that gate cannot read:
- `unmet` fails;
- `unknown` (the token could not read a setting, and what was read does not already
  satisfy it) does what `branch_protection.unknown` says: `fail` (default) or `warn`.

The policy states minimums: `required_approving_reviews: 0`, `require_*: false`,
`allow_*: true` or an absent key require nothing. `require_status_checks: []` requires at
least one status check; a list of names requires each of them (gate's own job among them,
so gate cannot be skipped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gate.branch_protection.effective import (
    EffectiveProtection,
    EffectiveSetting,
    Reading,
    Setting,
    Value,
    effective_protection,
    satisfies,
)
from gate.facts import VerdictFacts
from gate.models import (
    Decision,
    Finding,
    FindingKind,
    InputKind,
    InputStatus,
    Severity,
    SourceRef,
    SourceRun,
)
from gate.policy.model import BranchProtection, Policy, StatusChecks
from gate.rules.interface import Assessment, Rule, RuleDecision

DOCS_URL = (
    "https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/"
    "managing-rulesets/about-rulesets"
)
_POLICY_KEY = {
    Setting.REQUIRED_STATUS_CHECKS: "require_status_checks",
    Setting.REQUIRED_STATUS_CHECKS_STRICT: "require_status_checks.strict",
}
_NEEDS_ADMIN_HINT = (
    "read it with a token that has Administration: read (fine-grained) or the `repo` scope "
    "(classic PAT): a workflow's GITHUB_TOKEN cannot read classic protection"
)


def requirements(bp: BranchProtection) -> list[tuple[Setting, Value]]:
    """The policy's minimums as (setting, wanted value) pairs."""
    out: list[tuple[Setting, Value]] = []
    if bp.required_approving_reviews:
        out.append((Setting.REQUIRED_APPROVING_REVIEWS, bp.required_approving_reviews))
    flags = (
        (Setting.DISMISS_STALE_REVIEWS, bp.dismiss_stale_reviews),
        (Setting.REQUIRE_CODE_OWNER_REVIEWS, bp.require_code_owner_reviews),
        (Setting.REQUIRE_LAST_PUSH_APPROVAL, bp.require_last_push_approval),
    )
    out += [(s, True) for s, on in flags if on]
    checks = bp.require_status_checks
    if checks is not None:
        contexts = checks.contexts if isinstance(checks, StatusChecks) else checks
        out.append((Setting.REQUIRED_STATUS_CHECKS, sorted(set(contexts))))
        if isinstance(checks, StatusChecks) and checks.strict:
            out.append((Setting.REQUIRED_STATUS_CHECKS_STRICT, True))
    flags = (
        (Setting.REQUIRE_CONVERSATION_RESOLUTION, bp.require_conversation_resolution),
        (Setting.REQUIRE_LINEAR_HISTORY, bp.require_linear_history),
        (Setting.REQUIRE_SIGNED_COMMITS, bp.require_signed_commits),
    )
    out += [(s, True) for s, on in flags if on]
    if bp.allow_force_pushes is False:
        out.append((Setting.ALLOW_FORCE_PUSHES, False))
    if bp.allow_deletions is False:
        out.append((Setting.ALLOW_DELETIONS, False))
    if bp.enforce_admins:
        out.append((Setting.ENFORCE_ADMINS, True))
    return out


def _readings(runs: Sequence[SourceRun]) -> list[tuple[SourceRun, Reading | None]]:
    out: list[tuple[SourceRun, Reading | None]] = []
    for run in runs:
        if run.kind is not InputKind.BRANCH_PROTECTION or run.status is not InputStatus.OK:
            continue
        reading = run.facts.reading
        out.append((run, reading if isinstance(reading, Reading) else None))
    return out


def _show(setting: Setting, value: Value | None) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return ", ".join(f"`{c}`" for c in value) if value else "none"
    if setting is Setting.REQUIRED_APPROVING_REVIEWS:
        return str(value)
    return "on" if value else "off"


def _show_wanted(setting: Setting, wanted: Value | None) -> str:
    if setting is Setting.REQUIRED_APPROVING_REVIEWS:
        return f"at least {wanted}"
    if wanted == []:
        return "at least one"
    return _show(setting, wanted)


def _missing(e: EffectiveSetting, wanted: Value) -> list[str]:
    have = set(e.value) if isinstance(e.value, list) else set()
    return sorted(set(wanted) - have) if isinstance(wanted, list) else []


def _title(setting: Setting, e: EffectiveSetting, wanted: Value, b: str) -> str:
    """What is wrong, in words (for an unmet requirement)."""
    missing = ", ".join(f"`{c}`" for c in _missing(e, wanted))
    match setting:
        case Setting.REQUIRED_APPROVING_REVIEWS:
            need = f"{e.value} approving review(s)" if e.value else "no approving review"
            return f"Pull requests into {b} need {need}; the policy requires at least {wanted}"
        case Setting.DISMISS_STALE_REVIEWS:
            return f"Stale approvals are not dismissed when new commits are pushed to {b}"
        case Setting.REQUIRE_CODE_OWNER_REVIEWS:
            return f"Code owner review is not required on {b}"
        case Setting.REQUIRE_LAST_PUSH_APPROVAL:
            return f"The last push to a pull request into {b} need not be approved by someone else"
        case Setting.REQUIRED_STATUS_CHECKS if not missing:
            return f"No status check is required on {b}: a pull request can merge with none passing"
        case Setting.REQUIRED_STATUS_CHECKS:
            return (
                f"Status check {missing} is not required on {b}: a pull request can merge while "
                "it fails or never runs, so it can be skipped (if it is gate's own job, gate is "
                "decoration until it is a required check)"
            )
        case Setting.REQUIRED_STATUS_CHECKS_STRICT:
            return f"{b} does not require branches to be up to date before merging"
        case Setting.REQUIRE_CONVERSATION_RESOLUTION:
            return f"Unresolved review conversations do not block merging into {b}"
        case Setting.REQUIRE_LINEAR_HISTORY:
            return f"Linear history is not required on {b}: merge commits can land"
        case Setting.REQUIRE_SIGNED_COMMITS:
            return f"Signed commits are not required on {b}"
        case Setting.ALLOW_FORCE_PUSHES:
            return f"Force pushes to {b} are allowed: history can be rewritten after it was judged"
        case Setting.ALLOW_DELETIONS:
            return f"{b} can be deleted"
        case Setting.ENFORCE_ADMINS:
            return f"Administrators can bypass the protection of {b}"
    return f"{setting.value} is not as the policy requires on {b}"  # pragma: no cover


def _wanted_phrase(setting: Setting, wanted: Value, b: str) -> str:
    """What the policy wants, in words (for an unknown requirement)."""
    phrases = {
        Setting.REQUIRED_APPROVING_REVIEWS: f"pull requests into {b} need {wanted} approval(s)",
        Setting.DISMISS_STALE_REVIEWS: f"stale approvals are dismissed on {b}",
        Setting.REQUIRE_CODE_OWNER_REVIEWS: f"code owner review is required on {b}",
        Setting.REQUIRE_LAST_PUSH_APPROVAL: f"the last push into {b} needs another's approval",
        Setting.REQUIRED_STATUS_CHECKS: (
            f"status checks {_show(setting, wanted)} are required on {b}"
            if wanted
            else f"a status check is required on {b}"
        ),
        Setting.REQUIRED_STATUS_CHECKS_STRICT: f"{b} must be up to date before merging",
        Setting.REQUIRE_CONVERSATION_RESOLUTION: f"conversations must be resolved on {b}",
        Setting.REQUIRE_LINEAR_HISTORY: f"linear history is required on {b}",
        Setting.REQUIRE_SIGNED_COMMITS: f"signed commits are required on {b}",
        Setting.ALLOW_FORCE_PUSHES: f"force pushes to {b} are blocked",
        Setting.ALLOW_DELETIONS: f"deleting {b} is blocked",
        Setting.ENFORCE_ADMINS: f"administrators are bound by the protection of {b}",
    }
    return phrases[setting]


class BranchProtectionRule(Rule):
    """Judges `branch_protection` against the effective protection of the branch."""

    kinds = frozenset({FindingKind.BRANCH_PROTECTION})

    def assess(self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime) -> Assessment:
        """One pass: each reading is validated once and the effective protection computed
        once, for the errors, the findings and the verdict's facts alike."""
        readings = _readings(runs)
        errors = self._check(runs, policy, readings)
        pairs = [(run, r) for run, r in readings if r is not None]
        if not pairs:
            return Assessment(errors)
        bp = policy.branch_protection
        eff = effective_protection([r for _, r in pairs], bp.branch if bp else None)
        findings = [] if bp is None else self._findings(bp, pairs, eff)
        return Assessment(errors, findings, VerdictFacts(branch_protection=eff.summary()))

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        return self._check(runs, policy, _readings(runs))

    def _check(
        self,
        runs: Sequence[SourceRun],
        policy: Policy,
        readings: list[tuple[SourceRun, Reading | None]],
    ) -> list[str]:
        bp = policy.branch_protection
        if bp is None:
            return []
        mine = [r for r in runs if r.kind is InputKind.BRANCH_PROTECTION]
        if not mine:
            return [
                "the policy has a `branch_protection` section but there is no branch-protection "
                "input: pass --github-repo OWNER/REPO --branch BRANCH, or --branch-protection "
                "FILE with a saved API response"
            ]
        if not readings:
            return ["every branch-protection input failed: branch protection cannot be judged"]
        errors = [
            f"{run.path}: has no branch-protection reading in its facts"
            for run, reading in readings
            if reading is None
        ]
        good = [(run, r) for run, r in readings if r is not None]
        branches = {r.branch: run.path for run, r in good if r.branch}
        if bp.branch:
            errors += [
                f"{path}: is about branch `{b}`, but the policy judges `{bp.branch}`"
                for b, path in branches.items()
                if b != bp.branch
            ]
        elif len(branches) > 1:
            listed = ", ".join(f"{p} → `{b}`" for b, p in branches.items())
            errors.append(f"the branch-protection inputs are about different branches: {listed}")
        repos = {r.repo.lower(): (r.repo, run.path) for run, r in good if r.repo}
        if len(repos) > 1:
            listed = ", ".join(f"{p} → {name}" for name, p in repos.values())
            errors.append(
                f"the branch-protection inputs are about different repositories: {listed}"
            )
        return errors

    def effective(self, runs: Sequence[SourceRun], policy: Policy) -> EffectiveProtection | None:
        """The branch's effective protection (for `Verdict` facts), or None without inputs."""
        readings = [r for _, r in _readings(runs) if r is not None]
        if not readings:
            return None
        bp = policy.branch_protection
        return effective_protection(readings, bp.branch if bp else None)

    def facts(self, runs: Sequence[SourceRun], policy: Policy) -> VerdictFacts:
        eff = self.effective(runs, policy)
        return VerdictFacts() if eff is None else VerdictFacts(branch_protection=eff.summary())

    def derive_findings(self, runs: Sequence[SourceRun], policy: Policy) -> list[Finding]:
        bp = policy.branch_protection
        if bp is None:
            return []
        pairs = [(run, r) for run, r in _readings(runs) if r is not None]
        if not pairs:
            return []
        return self._findings(bp, pairs, effective_protection([r for _, r in pairs], bp.branch))

    def _findings(
        self,
        bp: BranchProtection,
        pairs: list[tuple[SourceRun, Reading]],
        eff: EffectiveProtection,
    ) -> list[Finding]:
        b = f"`{eff.branch}`" if eff.branch else "the branch"
        findings: list[Finding] = []
        for setting, wanted in requirements(bp):
            e = eff.settings[setting]
            if satisfies(setting, e.value, wanted):
                continue
            status = "unmet" if e.known else "unknown"
            if status == "unmet":
                title = _title(setting, e, wanted, b)
            else:
                title = f"Cannot tell whether {_wanted_phrase(setting, wanted, b)}"
                if any(u.startswith("classic:") and "403" in u for u in e.unknown):
                    title += f": classic protection is unreadable ({_NEEDS_ADMIN_HINT})"
            endpoints = sorted(
                {r.endpoint for _, r in pairs for s in r.statements if s.setting is setting}
                | {r.endpoint for _, r in pairs if r.endpoint == "ruleset"}
            )
            sources = tuple(
                SourceRef(
                    kind=InputKind.BRANCH_PROTECTION,
                    path=run.path,
                    pointer=next(
                        (s.pointer for s in r.statements if s.setting is setting and s.pointer),
                        "$",
                    ),
                )
                for run, r in pairs
            )
            findings.append(
                Finding(
                    kind=FindingKind.BRANCH_PROTECTION,
                    id=f"branch-protection/{setting.value}",
                    severity=Severity.HIGH,
                    status=status,
                    title=title,
                    url=DOCS_URL,
                    sources=sources,
                    details={
                        "setting": setting.value,
                        "found": e.value if e.known else None,
                        "at_least": None if e.known else e.value,
                        "wanted": wanted,
                        "missing": _missing(e, wanted),
                        "field": "; ".join(e.fields) or None,
                        "unknown": list(e.unknown),
                        "endpoint": endpoints,
                        "repo": eff.repo,
                        "branch": eff.branch,
                        "sources": dict(eff.sources),
                        "notes": list(eff.notes),
                    },
                )
            )
        return findings

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        bp = policy.branch_protection
        setting = Setting(str(finding.details.get("setting")))
        key = f"branch_protection.{_POLICY_KEY.get(setting, setting.value)}"
        wanted = finding.details.get("wanted")
        said = finding.details.get("field") or "nothing read states it"
        if finding.status == "unknown":
            action = bp.unknown if bp else "fail"
            why = "; ".join(finding.details.get("unknown") or []) or "unreadable"
            at_least = finding.details.get("at_least")
            return RuleDecision(
                Decision.FAIL if action == "fail" else Decision.WARN,
                "branch_protection.unknown",
                f"{setting.value} wanted {_show_wanted(setting, wanted)}, what was read says "
                f"{_show(setting, at_least)} ({said}); unknown because {why} → "
                f"branch_protection.unknown: {action}",
            )
        found = finding.details.get("found")
        return RuleDecision(
            Decision.FAIL,
            key,
            f"{setting.value} is {_show(setting, found)}, the policy wants "
            f"{_show_wanted(setting, wanted)} ({said})",
        )
