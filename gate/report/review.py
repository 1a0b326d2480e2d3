"""What a reviewer needs beside the findings tables, for the step summary and the console:
what could not be audited, counts after merging, why findings were ignored, and the exact
exceptions entry that accepts a failing finding's risk.

Pure functions of the verdict. Strings from inputs come back as they are: each sink
escapes them (`gate.report.markdown`, `gate.report.console`), except `exception_entry`,
which returns YAML whose every value is already escaped and quoted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from gate.common.sanitize import text
from gate.models import DecidedFinding, Decision, Finding, FindingKind, Verdict

ACCEPT_DAYS = 30
"""How far ahead the suggested entry expires: an accepted risk is reviewed again soon."""


def not_audited(verdict: Verdict) -> list[tuple[str, tuple[str, ...]]]:
    """(input path, `name: reason` of each dependency it could not audit), once per input."""
    return [(i.path, i.skipped) for i in verdict.inputs if i.skipped]


def merged_counts(verdict: Verdict) -> dict[tuple[str, str], int]:
    """(input kind, path) → how many of the verdict's findings (after merging) it reported."""
    counts: Counter[tuple[str, str]] = Counter()
    for d in verdict.findings:
        for key in {(s.kind.value, s.path) for s in d.finding.sources}:
            counts[key] += 1
    return dict(counts)


def ignored_by_reason(verdict: Verdict) -> list[tuple[str, str, int]]:
    """(policy rule, the first such finding's reason, count) of the ignored findings, by the
    rule that ignored them (a reason's details differ per finding), most frequent first."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for d in verdict.findings:
        if d.decision is Decision.IGNORED:
            counts[d.rule] += 1
            example.setdefault(d.rule, d.reason)
    return [(rule, example[rule], n) for rule, n in counts.most_common()]


def _scope(f: Finding) -> str | None:
    """The package as an exception's purl scope (with its version), when the finding has one."""
    pkg = f.package
    if pkg is None or not pkg.purl:
        return None
    return pkg.purl.split("#", 1)[0].split("?", 1)[0]


def _yaml(value: str) -> str:
    return json.dumps(text(value), ensure_ascii=False)  # a JSON string is a YAML scalar


def exception_entry(d: DecidedFinding, today: dt.date) -> str:
    """The entry that accepts this finding's risk, as one line of an exceptions file's
    `exceptions:` list (a YAML flow mapping: one line fits a table cell and a log line)."""
    f = d.finding
    parts = [f"id: {_yaml(f.id)}"]
    scope = _scope(f)
    if scope is not None:
        parts.append(f"package: {_yaml(scope)}")
    parts += [
        'reason: "<why this risk is accepted>"',
        'owner: "<who answers for it>"',
        f"expires: {(today + dt.timedelta(days=ACCEPT_DAYS)).isoformat()}",
    ]
    return "- {" + ", ".join(parts) + "}"


def to_accept(verdict: Verdict, limit: int = 3) -> list[DecidedFinding]:
    """The failing findings an exception could accept, first ones first (at most `limit`)."""
    out = []
    for d in verdict.findings:
        if d.decision is Decision.FAIL and d.finding.kind is not FindingKind.BRANCH_PROTECTION:
            out.append(d)
            if len(out) == limit:
                break
    return out
