"""Every input is judged: an input no policy section judges is an ERROR naming the section.

A user who passes `--sarif codeql.sarif` under a policy without `code_scanning:` expects
the SARIF to count; reading it and marking its findings IGNORED would be a PASS that
judged nothing. Which section judges what:

- npm audit, pip-audit: `vulnerabilities`;
- SARIF: `code_scanning`;
- branch protection (a file or `--github-repo`): `branch_protection`;
- Trivy (saved, or run by gate): one section per class the report examined: packages
  (`os-pkgs`, `lang-pkgs`) → `vulnerabilities`, `secret` → `secrets`, `config` →
  `misconfigurations`.

For Trivy, a class counts as examined when the report has a Result of that class (trivy
writes one for every OS and language-package target it scanned, found or not) or a
finding of it. A class the policy did not ask trivy to scan (`trivy.scanners`) has no
Result, so it needs no section. License results are not judged (gate has no license
policy); the Trivy reader counts them in a warning. A Trivy report that examined no class
gate judges still needs one of the three sections: otherwise nothing could judge it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gate.models import FindingKind, InputKind, InputStatus, SourceRun
from gate.policy.model import Policy
from gate.rules.interface import Rule

_SECTION_OF_KIND = {
    FindingKind.VULNERABILITY.value: "vulnerabilities",
    FindingKind.SECRET.value: "secrets",
    FindingKind.MISCONFIGURATION.value: "misconfigurations",
}
_SECTION_OF_INPUT = {
    InputKind.NPM_AUDIT: "vulnerabilities",
    InputKind.PIP_AUDIT: "vulnerabilities",
    InputKind.SARIF: "code_scanning",
    InputKind.BRANCH_PROTECTION: "branch_protection",
}
_FLAG = {
    InputKind.TRIVY: "the Trivy input",
    InputKind.NPM_AUDIT: "the npm audit input",
    InputKind.PIP_AUDIT: "the pip-audit input",
    InputKind.SARIF: "the SARIF input",
    InputKind.BRANCH_PROTECTION: "the branch-protection input",
}


def _has(policy: Policy, section: str) -> bool:
    return getattr(policy, section) is not None


def _trivy_sections(run: SourceRun) -> list[tuple[str, str]]:
    """(section, the kind that needs it) for each class a Trivy input examined."""
    examined = run.facts.examined
    if examined is None:  # not read by gate's Trivy reader: count the findings
        kinds = {f.kind.value for f in run.findings}
    else:
        kinds = set(examined)
    return [(section, kind) for kind, section in _SECTION_OF_KIND.items() if kind in kinds]


def _what(run: SourceRun, kind: str) -> str:
    n = sum(1 for f in run.findings if f.kind.value == kind)  # only on the error path
    return f"{n} {kind} finding{'s' if n != 1 else ''}" if n else f"its {kind} scan"


class CoverageRule(Rule):
    """No section judges findings; this rule only checks that every input has its judge."""

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        errors: list[str] = []
        for run in runs:
            if run.status is not InputStatus.OK:
                continue  # already an ERROR of its own
            who = f"{run.path} ({_FLAG[run.kind]})"
            if run.kind is InputKind.TRIVY:
                needed = _trivy_sections(run)
                if not needed and not any(_has(policy, s) for s in _SECTION_OF_KIND.values()):
                    errors.append(
                        f"{who} is judged by no policy section: add `vulnerabilities:`, "
                        "`secrets:` or `misconfigurations:` to the policy, or do not pass it"
                    )
                for section, kind in needed:
                    if not _has(policy, section):
                        errors.append(
                            f"{who}: {_what(run, kind)} but the policy has no `{section}:` "
                            "section to judge it: add one, or do not scan for it"
                        )
                continue
            section = _SECTION_OF_INPUT[run.kind]
            if not _has(policy, section):
                errors.append(
                    f"{who} is judged by no policy section: the policy has no `{section}:` "
                    "section; add one, or do not pass the input"
                )
        return errors
