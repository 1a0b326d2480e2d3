"""The rule interface the engine composes. Rules are pure: no I/O, no clock but `now`.

A rule owns one policy section. The engine asks it two things:
- `assess(runs, policy, now)`: one `Assessment` of the inputs as a whole: errors that make
  the verdict ERROR (e.g. a required SARIF tool is missing), findings derived from input
  facts (e.g. unmet branch protection), facts for the verdict, and notes. By default it is
  made of the hooks `check_inputs`, `derive_findings`, `facts` and `notes`; a rule whose
  hooks share work (branch protection's effective protection) overrides `assess` to do it once;
- `decide(finding, policy)`: the decision for each finding of the kinds it owns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from gate.facts import VerdictFacts
from gate.models import Decision, Finding, FindingKind, InputStatus, SourceRun
from gate.policy.model import Policy


class RuleDecision(NamedTuple):
    decision: Decision
    rule: str
    """The policy key that decided, e.g. `vulnerabilities.fail_on`."""
    reason: str


class Assessment(NamedTuple):
    """What one rule says about the inputs as a whole."""

    errors: Sequence[str] = ()
    """Errors that make the verdict ERROR (each names the input and the problem)."""
    findings: Sequence[Finding] = ()
    """Findings made from facts rather than read from a report."""
    facts: VerdictFacts = VerdictFacts()
    """Facts worth putting in the verdict (e.g. the effective branch protection)."""
    notes: Sequence[str] = ()
    """Things the user should know that do not change the result."""


class Rule:
    """Base class: every hook is a no-op unless a rule overrides it."""

    kinds: frozenset[FindingKind] = frozenset()
    """The finding kinds this rule decides."""

    def assess(self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime) -> Assessment:
        """The rule's one result about the inputs: errors from all of them, findings and
        facts from those that were read (status ok)."""
        usable = [r for r in runs if r.status is InputStatus.OK]
        return Assessment(
            self.check_inputs(runs, policy, now),
            self.derive_findings(usable, policy),
            self.facts(usable, policy),
            self.notes(runs, policy),
        )

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        """Errors that make the verdict ERROR (each names the input and the problem)."""
        return []

    def derive_findings(self, runs: Sequence[SourceRun], policy: Policy) -> list[Finding]:
        """Findings made from facts rather than read from a report."""
        return []

    def facts(self, runs: Sequence[SourceRun], policy: Policy) -> VerdictFacts:
        """Facts worth putting in the verdict (e.g. the effective branch protection)."""
        return VerdictFacts()

    def notes(self, runs: Sequence[SourceRun], policy: Policy) -> list[str]:
        """Things the user should know that do not change the result."""
        return []

    def decide(self, finding: Finding, policy: Policy) -> RuleDecision:
        """The decision for one finding of a kind in `kinds`."""
        raise NotImplementedError(f"{type(self).__name__} does not decide {finding.kind}")
