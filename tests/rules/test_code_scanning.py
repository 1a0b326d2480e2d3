"""The `code_scanning` rule: decisions on SARIF results and the required-tools check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gate.engine import evaluate
from gate.ingest import load_report
from gate.models import (
    Decision,
    Finding,
    FindingKind,
    InputKind,
    InputStatus,
    Location,
    Result,
    Severity,
    SourceRef,
    SourceRun,
    Suppression,
    ToolInfo,
)
from gate.policy.model import Policy
from gate.rules import default_rules
from gate.rules.code_scanning import CodeScanningRule, tool_matches

DATA = Path(__file__).resolve().parent.parent / "data" / "sarif"
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
RULE = CodeScanningRule()


def policy(code_scanning: dict[str, Any] | None = None, **extra: Any) -> Policy:
    doc: dict[str, Any] = {"apiVersion": "gate/v1", **extra}
    if code_scanning is not None:
        doc["code_scanning"] = code_scanning
    return Policy.model_validate(doc)


def code(
    severity: Severity = Severity.HIGH,
    *,
    kind: str | None = None,
    suppressions: tuple[Suppression, ...] = (),
    baseline: str | None = None,
    rule_id: str = "js/sql-injection",
) -> Finding:
    return Finding(
        kind=FindingKind.CODE,
        id=rule_id,
        title="Database query built from user-controlled sources",
        severity=severity,
        status=kind,
        suppressions=suppressions,
        baseline_state=baseline,
        location=Location(path="src/db.js", start_line=12),
        tool="CodeQL",
        sources=(SourceRef(kind=InputKind.SARIF, path="x.sarif", pointer="runs[0].results[0]"),),
        details={"severity_source": "rule security-severity", "security_severity": "8.8"},
    )


def sarif_run(path: str, *tools: str, status: InputStatus = InputStatus.OK) -> SourceRun:
    return SourceRun(
        kind=InputKind.SARIF,
        path=path,
        status=status,
        error=None if status is InputStatus.OK else f"{path}: broken",
        tools=tuple(ToolInfo(name=t) for t in tools),
        facts={"sarif_tools": list(tools)},
    )


def test_it_is_one_of_the_engines_rules() -> None:
    assert any(isinstance(r, CodeScanningRule) for r in default_rules())
    assert CodeScanningRule.kinds == frozenset({FindingKind.CODE})


def test_no_section_ignores_code_findings() -> None:
    d = RULE.decide(code(), policy())
    assert (d.decision, d.rule, d.reason) == (
        Decision.IGNORED,
        "code_scanning",
        "the policy has no code_scanning section",
    )


@pytest.mark.parametrize(
    ("severity", "decision", "rule"),
    [
        (Severity.CRITICAL, Decision.FAIL, "code_scanning.fail_on"),
        (Severity.HIGH, Decision.FAIL, "code_scanning.fail_on"),
        (Severity.MEDIUM, Decision.WARN, "code_scanning.warn_on"),
        (Severity.LOW, Decision.PASS, "code_scanning.fail_on"),
        (Severity.UNKNOWN, Decision.WARN, "code_scanning.unknown_severity"),
    ],
)
def test_thresholds(severity: Severity, decision: Decision, rule: str) -> None:
    p = policy({"fail_on": "HIGH", "warn_on": "MEDIUM", "unknown_severity": "warn"})
    d = RULE.decide(code(severity), p)
    assert (d.decision, d.rule) == (decision, rule)
    assert severity.value in d.reason


def test_reason_names_the_location_and_where_the_severity_came_from() -> None:
    d = RULE.decide(code(), policy({"fail_on": "HIGH"}))
    assert d.reason == "HIGH ≥ fail_on HIGH, at src/db.js:12, rule security-severity 8.8"


@pytest.mark.parametrize("kind", ["pass", "open", "informational", "notApplicable", "review"])
def test_results_whose_kind_is_not_fail_do_not_fail(kind: str) -> None:
    d = RULE.decide(code(Severity.CRITICAL, kind=kind), policy({"fail_on": "LOW"}))
    assert d.decision is Decision.PASS and f"`{kind}`" in d.reason
    assert RULE.decide(code(kind="fail"), policy({})).decision is Decision.FAIL


@pytest.mark.parametrize(
    ("sups", "reason"),
    [
        ((Suppression(kind="inSource"),), "(inSource): no justification given"),
        ((Suppression(kind="inSource", justification=" "),), "no justification given"),
        (
            (Suppression(kind="external", status="accepted", justification="test code only"),),
            "(external): test code only",
        ),
    ],
)
def test_accepted_suppressions_except(sups: tuple[Suppression, ...], reason: str) -> None:
    d = RULE.decide(code(suppressions=sups), policy({}))
    assert (d.decision, d.rule) == (Decision.EXCEPTED, "sarif.suppressions")
    assert d.reason.endswith(reason)


@pytest.mark.parametrize(
    "sups",
    [
        (Suppression(kind="inSource", status="underReview"),),
        (Suppression(kind="external", status="rejected"),),
        (Suppression(kind="inSource"), Suppression(kind="external", status="rejected")),
    ],
)
def test_suppressions_under_review_or_rejected_do_not_suppress(
    sups: tuple[Suppression, ...],
) -> None:
    assert RULE.decide(code(suppressions=sups), policy({})).decision is Decision.FAIL


@pytest.mark.parametrize("state", ["unchanged", "updated", "existing"])
def test_only_new_passes_old_results(state: str) -> None:
    d = RULE.decide(code(baseline=state), policy({"only_new": True}))
    assert (d.decision, d.rule) == (Decision.PASS, "code_scanning.only_new")
    assert f"`{state}`" in d.reason
    assert RULE.decide(code(baseline=state), policy({})).decision is Decision.FAIL


@pytest.mark.parametrize(("state", "words"), [("new", "new since"), (None, "no baseline state")])
def test_only_new_still_fails_new_results(state: str | None, words: str) -> None:
    d = RULE.decide(code(baseline=state), policy({"only_new": True}))
    assert d.decision is Decision.FAIL and words in d.reason


def test_absent_results_are_gone_and_never_fail() -> None:
    d = RULE.decide(code(Severity.CRITICAL, baseline="absent"), policy({}))
    assert d.decision is Decision.PASS and "absent" in d.reason


def test_tool_names_match_loosely() -> None:
    assert tool_matches("CodeQL", "CodeQL")
    assert tool_matches("codeql", "CodeQL command-line toolchain")
    assert not tool_matches("CodeQL", "CodeQLX")
    assert not tool_matches("CodeQL", "LGTM.com")


def test_required_tools() -> None:
    p = policy({"require_tools": ["CodeQL"]})
    ok = RULE.check_inputs(
        [sarif_run("a.sarif", "semgrep"), sarif_run("b.sarif", "CodeQL")], p, NOW
    )
    assert ok == []
    (missing,) = RULE.check_inputs([sarif_run("a.sarif", "semgrep", "ESLint")], p, NOW)
    assert "no SARIF run of CodeQL" in missing and "semgrep, ESLint" in missing
    (none,) = RULE.check_inputs([SourceRun(kind=InputKind.TRIVY, path="t.json")], p, NOW)
    assert "no SARIF input was given" in none
    broken = [sarif_run("c.sarif", status=InputStatus.ERROR)]
    (unreadable,) = RULE.check_inputs(broken, p, NOW)
    assert "1 SARIF input(s) could not be read" in unreadable
    assert RULE.check_inputs([], policy({}), NOW) == []
    assert RULE.check_inputs([], policy(), NOW) == []


def test_required_tools_on_real_files_through_the_engine() -> None:
    p = policy({"require_tools": ["CodeQL", "Semgrep"]})
    runs = [load_report(InputKind.SARIF, DATA / "codeql-2.23.5-go-no-results.sarif")]
    v = evaluate(runs, p, NOW)
    assert v.result is Result.ERROR
    assert [e for e in v.errors if "Semgrep" in e] and not [e for e in v.errors if "of CodeQL" in e]
    clean = evaluate(runs, policy({"require_tools": ["CodeQL"]}), NOW)
    assert clean.result is Result.PASS and clean.findings == ()
    no_runs = [load_report(InputKind.SARIF, DATA / "no-runs.sarif")]
    assert evaluate(no_runs, policy({"require_tools": ["CodeQL"]}), NOW).result is Result.ERROR
    # issue 9: `runs: []` examined nothing, an ERROR even without require_tools (was PASS)
    nothing = evaluate(no_runs, policy({}), NOW)
    assert nothing.result is Result.ERROR
    assert any("`runs` is empty" in e for e in nothing.errors)


def test_engine_applies_policy_exceptions_after_the_rule() -> None:
    runs = [
        load_report(InputKind.SARIF, DATA / "codeql-2.19.3-python-codeql-action-minified.sarif")
    ]
    v = evaluate(runs, policy({"fail_on": "HIGH"}), NOW)
    assert v.result is Result.FAIL
    assert [d.decision for d in v.findings] == [Decision.FAIL, Decision.FAIL]
    exc = {"id": "py/sql-injection", "reason": "parameterised upstream", "expires": "2026-12-31"}
    v2 = evaluate(runs, policy({"fail_on": "HIGH", "exceptions": [exc]}), NOW)
    excepted = [d for d in v2.findings if d.decision is Decision.EXCEPTED]
    assert [d.rule for d in excepted] == ["code_scanning.exceptions[0]"] * 2
    assert excepted[0].reason.startswith("excepted until 2026-12-31: parameterised upstream")
    assert v2.exceptions.used[0].matched == 2
    assert v2.result is Result.PASS


def test_suppressed_and_baseline_corpus_files_through_the_engine() -> None:
    runs = [
        load_report(InputKind.SARIF, DATA / "suppressions-mixed-external-insource.sarif"),
        load_report(InputKind.SARIF, DATA / "sarif-sdk-baseline-new-unchanged.sarif"),
    ]
    v = evaluate(runs, policy({"fail_on": "LOW", "only_new": True}), NOW)
    by_rule: dict[str, int] = {}
    for d in v.findings:
        by_rule[d.rule] = by_rule.get(d.rule, 0) + 1
    assert by_rule["sarif.suppressions"] == 3
    assert by_rule["code_scanning.only_new"] == 7  # the unchanged results
    assert v.result is Result.FAIL


def test_suppressions_can_be_ignored_by_policy():
    f = code(suppressions=(Suppression(kind="inSource", justification="false positive"),))
    honored = RULE.decide(f, policy({"fail_on": "HIGH"}))
    ignored = RULE.decide(f, policy({"fail_on": "HIGH", "honor_suppressions": False}))
    assert honored.decision is Decision.EXCEPTED and "false positive" in honored.reason
    assert ignored.decision is Decision.FAIL
