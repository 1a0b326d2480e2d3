"""pip-audit's UNKNOWN rated by another scanner's sighting of the same vulnerability, and
where each merged severity came from (`Finding.severity_origin`)."""

from __future__ import annotations

from gate.merge import merge_findings
from gate.models import Finding, InputKind, Severity
from tests.engine.builders import vuln


def _pip(severity: Severity = Severity.UNKNOWN, origin: str | None = None) -> Finding:
    f = vuln(
        "PYSEC-2018-28",
        aliases=("CVE-2018-18074",),
        severity=severity,
        name="requests",
        version="2.19.0",
        ecosystem="pypi",
        source=InputKind.PIP_AUDIT,
    )
    return f.model_copy(update={"severity_origin": origin})


def _trivy(severity: Severity = Severity.MEDIUM) -> Finding:
    return vuln(
        "CVE-2018-18074",
        severity=severity,
        name="requests",
        version="2.19.0",
        ecosystem="pypi",
        source=InputKind.TRIVY,
    )


def test_trivys_rating_is_borrowed_and_says_so() -> None:
    [merged] = merge_findings([_pip(), _trivy()])
    assert merged.severity is Severity.MEDIUM
    assert merged.severity_origin == "trivy"
    assert {s.kind for s in merged.sources} == {InputKind.PIP_AUDIT, InputKind.TRIVY}


def test_an_osv_rating_keeps_its_origin_when_it_is_the_highest() -> None:
    osv = "osv:GHSA-j8r2-6x86-q33q:CVSS_V3"
    [merged] = merge_findings([_pip(Severity.HIGH, osv), _trivy(Severity.MEDIUM)])
    assert merged.severity is Severity.HIGH
    assert merged.severity_origin == osv


def test_when_every_scanner_rated_it_nothing_is_borrowed() -> None:
    [merged] = merge_findings([_pip(Severity.LOW, None), _trivy(Severity.MEDIUM)])
    assert merged.severity is Severity.MEDIUM
    assert merged.severity_origin is None


def test_nothing_rates_it() -> None:
    [merged] = merge_findings([_pip(), _trivy(Severity.UNKNOWN)])
    assert merged.severity is Severity.UNKNOWN
    assert merged.severity_origin is None
