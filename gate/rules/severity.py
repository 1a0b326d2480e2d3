"""Severity-threshold rules: vulnerabilities (with fix states), secrets and misconfigurations."""

from __future__ import annotations

from typing import Any

from gate.models import Decision, Finding, FindingKind, InputKind, Severity, fix_phrase
from gate.policy.model import Action, Policy, Threshold, Thresholds, Vulnerabilities
from gate.rules.interface import Rule, RuleDecision

_STRICTNESS = {Decision.FAIL: 0, Decision.WARN: 1, Decision.PASS: 2, Decision.IGNORED: 3}
_ACTION_DECISION = {
    Action.FAIL: Decision.FAIL,
    Action.WARN: Decision.WARN,
    Action.IGNORE: Decision.IGNORED,
}


def judge_thresholds(
    section: str, t: Thresholds, finding: Finding, *, detail: str = ""
) -> RuleDecision:
    """Apply fail_on / warn_on / unknown_severity to one finding's severity."""
    sev = finding.severity
    suffix = f", {detail}" if detail else ""
    if sev is Severity.UNKNOWN:
        decision = _ACTION_DECISION[t.unknown_severity]
        return RuleDecision(
            decision,
            f"{section}.unknown_severity",
            f"severity UNKNOWN → unknown_severity: {t.unknown_severity}{suffix}",
        )
    if t.fail_on.reached_by(sev):
        return RuleDecision(
            Decision.FAIL, f"{section}.fail_on", f"{sev} ≥ fail_on {t.fail_on}{suffix}"
        )
    if t.warn_on.reached_by(sev):
        return RuleDecision(
            Decision.WARN, f"{section}.warn_on", f"{sev} ≥ warn_on {t.warn_on}{suffix}"
        )
    below = t.warn_on if t.warn_on is not Threshold.NONE else t.fail_on
    return RuleDecision(Decision.PASS, f"{section}.fail_on", f"{sev} is below {below}{suffix}")


def _effective(v: Vulnerabilities, source: InputKind | None) -> tuple[Thresholds, bool, str]:
    """The thresholds for one source after `vulnerabilities.sources` overrides."""
    # StrEnum members hash and compare as their value, so they look up the str-keyed dict
    if source is None or source not in v.sources:
        return v, v.ignore_unfixed, "vulnerabilities"
    o = v.sources[source]  # type: ignore[index]
    merged = Thresholds(
        fail_on=o.fail_on if o.fail_on is not None else v.fail_on,
        warn_on=o.warn_on if o.warn_on is not None else v.warn_on,
        unknown_severity=o.unknown_severity
        if o.unknown_severity is not None
        else v.unknown_severity,
    )
    unfixed = o.ignore_unfixed if o.ignore_unfixed is not None else v.ignore_unfixed
    return merged, unfixed, f"vulnerabilities.sources.{source}"


class VulnerabilityRule(Rule):
    kinds = frozenset({FindingKind.VULNERABILITY})

    def __init__(self) -> None:
        # A decision depends only on the policy section and on the finding's severity, fix
        # state, fixed versions, not_affected and source kinds: a large image repeats those
        # few combinations thousands of times, so each is decided once per section.
        self._memo: tuple[Vulnerabilities | None, dict[tuple[Any, ...], RuleDecision]] = (
            None,
            {},
        )

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        v = policy.vulnerabilities
        if v is None:
            return RuleDecision(
                Decision.IGNORED, "vulnerabilities", "the policy has no vulnerabilities section"
            )
        section, memo = self._memo
        if section is not v:  # policies are frozen: the same object decides the same way
            memo = {}
            self._memo = (v, memo)
        fd = finding.__dict__  # a frozen model's fields: plain dict reads on this hot path
        sources = fd["sources"]
        # enum members by id(): an Enum's __hash__ is a Python-level call in 3.11
        key = (
            id(fd["severity"]),
            id(fd["fix_state"]),
            fd["fixed_versions"],
            fd["not_affected"],
            id(sources[0].kind) if len(sources) == 1 else tuple(id(s.kind) for s in sources),
        )
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._decide(v, finding)
        return found

    def _decide(self, v: Vulnerabilities, finding: Finding) -> RuleDecision:
        if finding.not_affected:
            return RuleDecision(
                Decision.IGNORED,
                "not_affected",
                "a vendor or VEX statement says the product is not affected",
            )
        if len(finding.sources) == 1:
            return self._judge(v, finding, finding.sources[0].kind)
        # A finding merged from several scanners is judged by the strictest source's rules.
        kinds = sorted({s.kind for s in finding.sources})
        sources: list[InputKind | None] = [*kinds] if kinds else [None]
        judged = [self._judge(v, finding, src) for src in sources]
        return min(judged, key=lambda d: _STRICTNESS[d.decision])

    def _judge(
        self, v: Vulnerabilities, finding: Finding, source: InputKind | None
    ) -> RuleDecision:
        thresholds, ignore_unfixed, section = _effective(v, source)
        fix = fix_phrase(finding)
        if ignore_unfixed and finding.fix_state in v.unfixed_states:
            return RuleDecision(
                Decision.IGNORED,
                f"{section}.ignore_unfixed",
                f"{finding.severity}, {fix} (fix state {finding.fix_state}) → ignore_unfixed",
            )
        return judge_thresholds(section, thresholds, finding, detail=fix)


class SecretRule(Rule):
    kinds = frozenset({FindingKind.SECRET})

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        if policy.secrets is None:
            return RuleDecision(Decision.IGNORED, "secrets", "the policy has no secrets section")
        return judge_thresholds("secrets", policy.secrets, finding, detail="secret found")


class MisconfigurationRule(Rule):
    kinds = frozenset({FindingKind.MISCONFIGURATION})

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        if policy.misconfigurations is None:
            return RuleDecision(
                Decision.IGNORED, "misconfigurations", "the policy has no misconfigurations section"
            )
        return judge_thresholds("misconfigurations", policy.misconfigurations, finding)
