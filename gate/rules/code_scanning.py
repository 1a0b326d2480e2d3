"""The `code_scanning` section: SARIF results (CodeQL, Semgrep, …) against the policy.

Order of judgement for one result:
1. no `code_scanning` section → ignored;
2. SARIF `kind` other than `fail` (pass, open, informational, notApplicable, review)
   → pass: the tool itself does not call it a failure;
3. an accepted suppression (`inSource` or `external`, `status` absent or
   `accepted`, and none `underReview`/`rejected`) → excepted by `sarif.suppressions`;
4. `baselineState: absent` (gone since the baseline) → pass; with `only_new`,
   `unchanged`/`updated` (and the pre-release `existing`) → pass;
5. severity against `fail_on` / `warn_on` / `unknown_severity`.

Policy exceptions are applied afterwards by the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gate.models import Decision, Finding, FindingKind, InputKind, InputStatus, SourceRun
from gate.policy.model import Policy
from gate.rules.interface import Rule, RuleDecision
from gate.rules.severity import judge_thresholds

_NOT_NEW = {"unchanged", "updated", "existing"}


def suppression_reason(finding: Finding) -> str | None:
    """Why the input itself suppresses the result, or None when it is not suppressed.

    SARIF §3.27.23: suppressed when every suppression is accepted (absent status
    means accepted); one under review or rejected leaves it unsuppressed.
    """
    sups = finding.suppressions
    if not sups or any((s.status or "accepted") != "accepted" for s in sups):
        return None
    s = sups[0]
    why = s.justification.strip() if s.justification and s.justification.strip() else None
    return f"suppressed in the SARIF input ({s.kind}): {why or 'no justification given'}"


def tool_matches(required: str, present: str) -> bool:
    """`CodeQL` matches `CodeQL` and `CodeQL command-line toolchain`, case-insensitively."""
    want, have = required.strip().casefold(), present.strip().casefold()
    return have == want or have.startswith(want + " ")


def _detail(finding: Finding) -> str:
    """`at app.py:12, rule security-severity 7.5` / `…, result level error`."""
    parts = []
    loc = finding.location
    if loc and loc.path:
        parts.append(f"at {loc.path}" + (f":{loc.start_line}" if loc.start_line else ""))
    source = finding.details.get("severity_source")
    if isinstance(source, str):
        if source.endswith("security-severity"):
            parts.append(f"{source} {finding.details.get('security_severity')}")
        elif source.endswith("level"):
            parts.append(f"{source} {finding.details.get('level')}")
        else:
            parts.append(source)
    return ", ".join(parts)


class CodeScanningRule(Rule):
    kinds = frozenset({FindingKind.CODE})

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        cs = policy.code_scanning
        if cs is None or not cs.require_tools:
            return []
        sarif = [r for r in runs if r.kind is InputKind.SARIF]
        wanted = ", ".join(cs.require_tools)
        if not sarif:
            return [
                f"code_scanning.require_tools lists {wanted}, but no SARIF input was given "
                "(pass one with --sarif)"
            ]
        usable = [r for r in sarif if r.status is InputStatus.OK]
        present: list[str] = []
        for r in usable:
            names = r.facts.sarif_tools or [t.name for t in r.tools]
            present += [n for n in names if n not in present]
        errors = []
        paths = ", ".join(r.path for r in sarif)
        found = ", ".join(present) or "none"
        for tool in cs.require_tools:
            if not any(tool_matches(tool, p) for p in present):
                unreadable = len(sarif) - len(usable)
                extra = f"; {unreadable} SARIF input(s) could not be read" if unreadable else ""
                errors.append(
                    f"code_scanning.require_tools: no SARIF run of {tool} among the inputs "
                    f"{paths} (tools found: {found}{extra})"
                )
        return errors

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        cs = policy.code_scanning
        if cs is None:
            return RuleDecision(
                Decision.IGNORED, "code_scanning", "the policy has no code_scanning section"
            )
        kind = finding.status or "fail"
        if kind != "fail":
            return RuleDecision(
                Decision.PASS,
                "code_scanning",
                f"SARIF result kind `{kind}`: the tool does not report it as a failure",
            )
        suppressed = suppression_reason(finding) if cs.honor_suppressions else None
        if suppressed:
            return RuleDecision(Decision.EXCEPTED, "sarif.suppressions", suppressed)
        state = finding.baseline_state
        if state == "absent":
            return RuleDecision(
                Decision.PASS,
                "code_scanning",
                "baselineState `absent`: the result is gone since the baseline",
            )
        if cs.only_new and state in _NOT_NEW:
            return RuleDecision(
                Decision.PASS,
                "code_scanning.only_new",
                f"baselineState `{state}`: only new results can fail (only_new)",
            )
        decided = judge_thresholds("code_scanning", cs, finding, detail=_detail(finding))
        if cs.only_new and decided.decision is not Decision.PASS:
            new = "new since the baseline" if state == "new" else "no baseline state"
            decided = decided._replace(reason=f"{decided.reason} ({new})")
        return decided
