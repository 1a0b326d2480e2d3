"""npm audit ingest: npm 6 and npm 7+ reports (tests/data/reports/npm-audit) and edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.ingest.npm_audit import NpmAuditIngestor, fixes_from_range
from gate.models import FixState, Severity, SourceRun

DATA = Path(__file__).resolve().parents[1] / "data" / "reports"
NPM = DATA / "npm-audit"

H, C, M, L = Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM, Severity.LOW
FIX, NONE = FixState.FIXABLE, FixState.NO_FIX


def parse(name: str) -> SourceRun:
    return NpmAuditIngestor().parse_file(NPM / name)


def parse_doc(doc: Any) -> SourceRun:
    return NpmAuditIngestor().parse(json.dumps(doc).encode(), "crafted-npm.json")


SEVERITIES = ("info", "low", "moderate", "high", "critical")


def v2(**vulns: dict[str, Any]) -> dict[str, Any]:
    # what npm writes beside the entries: one count per vulnerable package, and the
    # number of dependencies it audited
    counts = dict.fromkeys(SEVERITIES, 0)
    for e in vulns.values():
        sev = e.get("severity")
        counts[sev if sev in counts else "info"] += 1
    return {
        "auditReportVersion": 2,
        "vulnerabilities": vulns,
        "metadata": {
            "vulnerabilities": {**counts, "total": len(vulns)},
            "dependencies": {"prod": 3, "total": 3},
        },
    }


def entry(*via: Any, fix: Any = True, **kw: Any) -> dict[str, Any]:
    return {
        "severity": "high",
        "via": list(via),
        "range": "*",
        "nodes": [],
        "fixAvailable": fix,
        **kw,
    }


def test_npm7_all_severity_levels() -> None:
    run = parse("v2-nar-all-severity-levels.json")
    got = [
        (
            f.id,
            f.package.name if f.package else None,
            f.severity,
            f.fix_state,
            f.fixed_versions,
            f.fix_in_tree,
        )
        for f in run.findings
    ]
    # read from the file: 10 packages carry advisories; the 6 others only name a dependency
    assert got == [
        ("npm-755", "handlebars", C, FIX, (">4.0.13", ">=4.1.2"), True),
        ("npm-1164", "handlebars", H, FIX, (">=3.0.8", ">=4.3.0"), True),
        ("npm-1300", "handlebars", M, FIX, (">=4.4.5",), True),  # moderate → MEDIUM
        ("npm-1316", "handlebars", H, FIX, (">=3.0.8", ">=4.5.2"), True),
        ("npm-1324", "handlebars", H, FIX, (">=3.0.8", ">=4.5.3"), True),
        ("npm-1325", "handlebars", H, FIX, (">=3.0.8", ">=4.5.3"), True),
        ("npm-782", "lodash", H, FIX, (">=4.17.11",), True),
        ("npm-1065", "lodash", H, FIX, (">=4.17.12",), True),
        ("npm-1012", "set-value", H, FIX, (">=2.0.1", ">=3.0.1"), True),
        ("npm-1013", "mixin-deep", H, FIX, (">=1.3.2", ">=2.0.1"), True),
        ("npm-1084", "mem", L, FIX, (">=4.0.0",), True),
        ("npm-1168", "subtext", H, NONE, (), False),  # range >=0.0.0: no fixed release
        ("npm-1478", "subtext", H, NONE, (), False),
        ("npm-1479", "subtext", H, NONE, (), False),
        ("npm-1179", "minimist", L, FIX, (">=0.2.1", ">=1.2.3"), True),
        ("npm-1490", "kind-of", L, FIX, (">=6.0.3",), True),
        # an upstream fix exists, but npm cannot apply it in this tree: two facts
        ("npm-1494", "sapper", C, FIX, (">=0.27.11",), False),
        ("npm-1504", "node-weakauras-parser", M, FIX, (">=1.0.5", ">=2.0.2", ">=3.0.1"), False),
    ]
    mem = run.findings[10]
    assert mem.details["fix_available"] == {
        "name": "nyc",
        "version": "15.0.0",
        "isSemVerMajor": True,
    }
    assert mem.details["nodes"] == ["node_modules/nyc/node_modules/mem"]
    assert mem.package is not None and mem.package.version is None
    assert mem.package.purl == "pkg:npm/mem"
    assert run.findings[8].sources[0].pointer == 'vulnerabilities["set-value"].via[0]'
    assert run.freshness_source == "file-mtime" and run.created_at is None


def test_npm10_shape_with_unfixable_range() -> None:
    (f,) = parse("v2-npmcli-json-audit-snapshot.json").findings
    assert (f.id, f.severity, f.fix_state, f.fix_in_tree) == ("npm-100", H, NONE, False)
    assert f.details["is_direct"] is True and f.details["cwe"] == ["cwe-0"]


def test_via_names_are_not_findings() -> None:
    (f,) = parse("v2-arborist-unfixable-semver.json").findings  # mkdirp only names minimist
    assert (f.id, f.package.name if f.package else None) == ("npm-1179", "minimist")
    assert f.details["fix_available"]["isSemVerMajor"] is False


def test_ghsa_id_from_url_and_info_severity() -> None:
    adv = {
        "source": 1096480,
        "name": "lodash",
        "dependency": "lodash",
        "title": "Command Injection in lodash",
        "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
        "severity": "info",
        "cwe": ["CWE-77"],
        "cvss": {"score": 7.2, "vectorString": "CVSS:3.1/AV:N"},
        "range": "<4.17.21",
    }
    run = parse_doc(
        v2(lodash=entry(adv, fix={"name": "lodash", "version": "4.17.21", "isSemVerMajor": False}))
    )
    (f,) = run.findings
    assert (f.id, f.aliases, f.severity) == ("GHSA-35jh-r3h4-6jhm", ("npm-1096480",), L)
    assert (f.fix_state, f.fixed_versions, f.fix_in_tree) == (FIX, (">=4.17.21",), True)
    assert f.details["cvss_score"] == 7.2


def test_npm6_report() -> None:
    run = parse("v1-npm6-nar-all-severity.json")
    got = [
        (
            f.id,
            f.aliases,
            f.package.name if f.package else None,
            f.package.version if f.package else None,
            f.severity,
            f.fix_state,
            f.fixed_versions,
        )
        for f in run.findings
    ]
    assert got == [
        # advisory 157 lists version 1.1.7 twice (dev and prod paths): one finding
        ("npm-157", ("CVE-2017-16028",), "randomatic", "1.1.7", L, FIX, (">=3.0.0",)),
        ("npm-525", ("CVE-2017-16112",), "tough-cookie", "2.3.2", H, FIX, (">=2.3.3",)),
        (
            "npm-534",
            ("CVE-2017-16137",),
            "debug",
            "2.6.0",
            L,
            FIX,
            (">= 2.6.9 < 3.0.0 || >= 3.1.0",),
        ),
        (
            "npm-534",
            ("CVE-2017-16137",),
            "debug",
            "2.6.8",
            L,
            FIX,
            (">= 2.6.9 < 3.0.0 || >= 3.1.0",),
        ),
        ("npm-550", (), "ws", "3.1.0", H, NONE, ()),  # patched_versions "< 0.0.0": no patch
    ]
    assert run.findings[0].details["path_count"] == 3
    assert run.findings[0].package is not None
    assert run.findings[0].package.purl == "pkg:npm/randomatic@1.1.7"
    assert run.findings[3].sources[0].pointer == 'advisories["534"].findings[1]'


def test_npm6_advisory_without_findings() -> None:
    (f,) = parse("v1-npm6-nar-one-vuln.json").findings
    assert (f.id, f.severity, f.fix_state, f.fixed_versions) == ("npm-525", H, FIX, (">=2.3.3",))
    assert f.package is not None and f.package.version is None


def test_clean_reports() -> None:
    assert parse("v2-nar-no-vulns.json").findings == ()
    clean = {"vulnerabilities": {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0}}
    doc = {
        "actions": [],
        "advisories": {},
        "muted": [],
        "metadata": {**clean, "dependencies": 4, "totalDependencies": 4},
    }
    assert parse_doc(doc).findings == ()


@pytest.mark.parametrize(
    ("vulnerable", "state", "fixed"),
    [
        ("<4.17.21", FIX, (">=4.17.21",)),
        ("<=2.6.8 || >=3.0.0 <=3.0.1", FIX, (">2.6.8", ">3.0.1")),
        ("0.4.1 - 0.5.1", FIX, (">0.5.1",)),
        ("=1.0.5", FIX, (">1.0.5",)),
        ("*", NONE, ()),
        (">=0", NONE, ()),
        (">=2.0.0", NONE, ()),
        ("<1.2.3 || >=2.0.0", FIX, (">=1.2.3",)),
        ("^1.2.3", FixState.UNKNOWN, ()),
        ("", FixState.UNKNOWN, ()),
        (None, FixState.UNKNOWN, ()),
    ],
)
def test_fixes_from_range(vulnerable: str | None, state: FixState, fixed: tuple[str, ...]) -> None:
    assert fixes_from_range(vulnerable) == (state, fixed)


def test_npm_error_body() -> None:
    with pytest.raises(
        InputError, match=r"npm audit failed \(ENOAUDIT\) and wrote no report: Your configured"
    ):
        parse("v1-npm6-dd-error-enoaudit.json")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"auditReportVersion": 3, "vulnerabilities": {}}, r"unsupported auditReportVersion 3"),
        ({"auditReportVersion": 2}, r"Field required"),
        (
            v2(mkdirp=entry("minimist"), minimist=entry("mkdirp")),
            r"vulnerable packages are listed but no advisory",
        ),
        # a cut report: an empty one without npm's own counts, a `via` to a missing entry
        (
            {"actions": [], "advisories": {}, "muted": [], "metadata": {}},
            r"no vulnerability counts",
        ),
        ({"auditReportVersion": 2, "vulnerabilities": {}}, r"no vulnerability counts"),
        (v2(mkdirp=entry("minimist")), r"via names 'minimist', which has no entry"),
        (
            {
                "auditReportVersion": 2,
                "vulnerabilities": {},
                "metadata": {
                    "vulnerabilities": {"high": 2, "total": 2},
                    "dependencies": {"total": 9},
                },
            },
            r"metadata counts vulnerabilities but none are listed",
        ),
        ({"advisories": {"1": {"id": 1, "title": "x"}}}, r"without module_name"),
        (v2(x=entry({"title": "no id", "severity": "high"})), r"without url or source"),
        ({"SchemaVersion": 2, "Results": []}, r"Trivy JSON report.*--trivy"),
        ({"dependencies": [], "fixes": []}, r"pip-audit.*--pip-audit"),
        ([{"Target": "x"}], r"legacy Trivy"),
        ({"version": "2.1.0", "runs": []}, r"SARIF file.*--sarif"),
    ],
)
def test_malformed_or_wrong_kind(doc: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_doc(doc)


def test_wrong_field_type_names_the_json_path() -> None:
    with pytest.raises(InputError) as e:
        parse_doc(v2(x=entry(fix=[1])))
    assert e.value.pointer is not None and e.value.pointer.startswith(
        "vulnerabilities.x.fixAvailable"
    )


@pytest.mark.parametrize("cut", [0.3, 0.9, -2])
def test_truncated_real_report(cut: float) -> None:
    raw = (NPM / "v2-nar-all-severity-levels.json").read_bytes()
    with pytest.raises(InputError, match="not valid JSON"):
        NpmAuditIngestor().parse(raw[: int(len(raw) * cut) if cut > 0 else int(cut)], "cut.json")
