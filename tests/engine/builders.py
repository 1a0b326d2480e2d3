"""Small builders for engine tests: real model instances, no fakes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gate.models import (
    Finding,
    FindingKind,
    FixState,
    InputKind,
    Package,
    Severity,
    SourceRef,
    SourceRun,
)
from gate.policy.model import Policy

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def vuln(
    id: str = "CVE-2024-0001",
    *,
    severity: Severity = Severity.HIGH,
    fix: FixState = FixState.FIXABLE,
    fixed: tuple[str, ...] = ("1.2.3",),
    name: str = "lodash",
    version: str | None = "4.17.20",
    ecosystem: str = "npm",
    aliases: tuple[str, ...] = (),
    source: InputKind = InputKind.TRIVY,
    not_affected: bool = False,
    kind: FindingKind = FindingKind.VULNERABILITY,
) -> Finding:
    return Finding(
        kind=kind,
        id=id,
        aliases=aliases,
        severity=severity,
        fix_state=fix,
        fixed_versions=fixed if fix is FixState.FIXABLE else (),
        package=Package(name=name, version=version, ecosystem=ecosystem),
        not_affected=not_affected,
        sources=(SourceRef(kind=source, path=f"{source.value}.json", pointer="x"),),
    )


def run(kind: InputKind = InputKind.TRIVY, *findings: Finding, **kw: Any) -> SourceRun:
    kw.setdefault("freshness", NOW - dt.timedelta(hours=1))
    return SourceRun(kind=kind, path=f"{kind.value}.json", sha256="0" * 64, findings=findings, **kw)


def policy(**sections: Any) -> Policy:
    return Policy.model_validate({"apiVersion": "gate/v1", **sections})


POLICY_A = {
    "vulnerabilities": {"fail_on": "HIGH", "ignore_unfixed": True, "unknown_severity": "warn"}
}
POLICY_B = {
    "vulnerabilities": {"fail_on": "HIGH", "ignore_unfixed": False, "unknown_severity": "fail"}
}
