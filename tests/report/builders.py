"""Builders for reporter tests: real model instances (no fakes), and the SARIF schema validator."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from gate.models import (
    DecidedFinding,
    Decision,
    ExceptionReport,
    Finding,
    FindingKind,
    FixState,
    InputKind,
    InputStatus,
    Location,
    Package,
    PolicyRef,
    Result,
    Severity,
    SourceRef,
    SourceRun,
    Subject,
    ToolInfo,
    Verdict,
)

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
DIGEST = "sha256:" + "ab" * 32


def vuln(
    id: str = "CVE-2024-0001",
    *,
    severity: Severity = Severity.HIGH,
    name: str = "lodash",
    version: str = "4.17.20",
    ecosystem: str = "npm",
    fixed: tuple[str, ...] = ("4.17.21",),
    path: str = "trivy.json",
    kind: InputKind = InputKind.TRIVY,
    title: str | None = "lodash: prototype pollution",
    pointer: str = "Results[0].Vulnerabilities[0]",
    **details: Any,
) -> Finding:
    return Finding(
        kind=FindingKind.VULNERABILITY,
        id=id,
        title=title,
        url=f"https://avd.aquasec.com/nvd/{id.lower()}",
        severity=severity,
        package=Package(name=name, version=version, ecosystem=ecosystem),
        fix_state=FixState.FIXABLE if fixed else FixState.NO_FIX,
        fixed_versions=fixed,
        sources=(SourceRef(kind=kind, path=path, pointer=pointer),),
        details=details,
    )


def code_finding(
    rule_id: str = "js/sql-injection",
    *,
    tool: str = "CodeQL",
    path: str = "src/db.js",
    line: int = 12,
    severity: Severity = Severity.HIGH,
    input_path: str = "codeql.sarif",
    pointer: str = "runs[0].results[0]",
    status: str | None = None,
    message: str = "This query depends on a [user-provided value](1).",
) -> Finding:
    return Finding(
        kind=FindingKind.CODE,
        id=rule_id,
        title="Database query built from user-controlled sources",
        severity=severity,
        status=status,
        location=Location(
            path=path, start_line=line, start_column=5, end_column=9, fingerprints={"p": "1"}
        ),
        tool=tool,
        sources=(SourceRef(kind=InputKind.SARIF, path=input_path, pointer=pointer, tool=tool),),
        details={"message": message, "security_severity": "8.8"},
    )


def image_input(
    findings: Sequence[Finding] = (),
    *,
    path: str = "trivy.json",
    name: str = "ghcr.io/acme/app:1.0",
    digest: str | None = DIGEST,
) -> SourceRun:
    return SourceRun(
        kind=InputKind.TRIVY,
        path=path,
        sha256="1" * 64,
        subject=Subject(name=name, digest=digest, repo_tags=(name,)),
        tools=(ToolInfo(name="Trivy", version="0.76.0"),),
        findings=tuple(findings),
    )


def sarif_input(
    findings: Sequence[Finding] = (),
    *,
    path: str = "codeql.sarif",
    tools: Iterable[str] = ("CodeQL",),
    rules: dict[str, dict[str, Any]] | None = None,
) -> SourceRun:
    names = list(tools)
    kept = {rid: {"id": rid, **rf} for rid, rf in (rules or {}).items()}
    return SourceRun(
        kind=InputKind.SARIF,
        path=path,
        sha256="2" * 64,
        tools=tuple(ToolInfo(name=t, version="2.20.0") for t in names),
        findings=tuple(findings),
        facts={
            "sarif_tools": names,
            "sarif_runs": [
                {"index": i, "tool": t, "version": "2.20.0", "rules": kept}
                for i, t in enumerate(names)
            ],
        },
    )


def broken_input(kind: InputKind = InputKind.NPM_AUDIT, path: str = "npm.json") -> SourceRun:
    return SourceRun(
        kind=kind, path=path, status=InputStatus.ERROR, error=f"{path}: not valid JSON"
    )


def decided(
    f: Finding,
    decision: Decision = Decision.FAIL,
    rule: str = "vulnerabilities.fail_on",
    reason: str | None = None,
) -> DecidedFinding:
    why = reason or f"{f.severity.value} ≥ fail_on HIGH"
    return DecidedFinding(finding=f, decision=decision, rule=rule, reason=why)


def verdict(
    inputs: Sequence[SourceRun],
    findings: Sequence[DecidedFinding],
    *,
    errors: Sequence[str] = (),
    exceptions: ExceptionReport | None = None,
    subject: Subject | None = None,
) -> Verdict:
    if errors:
        result = Result.ERROR
    elif any(d.decision is Decision.FAIL for d in findings):
        result = Result.FAIL
    else:
        result = Result.PASS
    return Verdict(
        result=result,
        policy=PolicyRef(path="gate.yaml", sha256="f" * 64, name="production"),
        evaluated_at=NOW,
        inputs=tuple(inputs),
        findings=tuple(findings),
        exceptions=exceptions or ExceptionReport(),
        errors=tuple(errors),
        subject=subject,
    )


@cache
def sarif_validator() -> Any:
    import jsonschema

    from gate.report.sarif import schema_path

    schema = json.loads(schema_path().read_text())
    return jsonschema.Draft4Validator(schema)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in sarif_validator().iter_errors(doc)
    ]
