"""The rule interface the engine composes. Rules are pure: no I/O, no clock but `now`.

A rule owns one policy section. It may
- check the inputs as a whole (`check_inputs`: e.g. a required SARIF tool is missing),
  returning error messages that make the verdict ERROR;
- derive findings from input facts (`derive_findings`: e.g. unmet branch protection);
- decide each finding of the kinds it owns (`decide`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from gate.models import Decision, Finding, FindingKind, SourceRun
from gate.policy.model import Policy


class RuleDecision(NamedTuple):
    decision: Decision
    rule: str
    """The policy key that decided, e.g. `vulnerabilities.fail_on`."""
    reason: str


class Rule:
    """Base class: every hook is a no-op unless a rule overrides it."""

    kinds: frozenset[FindingKind] = frozenset()
    """The finding kinds this rule decides."""

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        """Errors that make the verdict ERROR (each names the input and the problem)."""
        return []

    def derive_findings(self, runs: Sequence[SourceRun], policy: Policy) -> list[Finding]:
        """Findings made from facts rather than read from a report."""
        return []

    def facts(self, runs: Sequence[SourceRun], policy: Policy) -> dict[str, Any]:
        """Facts worth putting in the verdict (e.g. the effective branch protection)."""
        return {}

    def notes(self, runs: Sequence[SourceRun], policy: Policy) -> list[str]:
        """Things the user should know that do not change the result."""
        return []

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        """The decision for one finding of a kind in `kinds`."""
        raise NotImplementedError(f"{type(self).__name__} does not decide {finding.kind}")
