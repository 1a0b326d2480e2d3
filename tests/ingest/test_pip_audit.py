"""pip-audit ingest: current and legacy JSON (tests/data/reports/pip-audit) and edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.ingest.pip_audit import PipAuditIngestor
from gate.models import FixState, Severity, SourceRun

DATA = Path(__file__).resolve().parents[1] / "data" / "reports"
PIP = DATA / "pip-audit"
FIX, NONE = FixState.FIXABLE, FixState.NO_FIX


def parse(name: str) -> SourceRun:
    return PipAuditIngestor().parse_file(PIP / name)


def parse_doc(doc: Any) -> SourceRun:
    return PipAuditIngestor().parse(json.dumps(doc).encode(), "crafted-pip.json")


def summary(run: SourceRun) -> list[tuple[Any, ...]]:
    return [
        (
            f.id,
            f.aliases,
            f.package.name if f.package else None,
            f.package.version if f.package else None,
            f.fix_state,
            f.fixed_versions,
        )
        for f in run.findings
    ]


def test_real_report_with_unfixed_and_empty_aliases() -> None:
    run = parse("realworld-vulnflask-unfixed-no-aliases.json")
    assert summary(run) == [
        ("GHSA-vp47-9734-prjw", (), "asteval", "1.0.5", FIX, ("1.0.6",)),  # aliases: []
        ("GHSA-3wwr-3g9f-9gc7", ("CVE-2025-24359",), "asteval", "1.0.5", FIX, ("1.0.6",)),
        ("GHSA-4xh5-x5gv-qwph", ("CVE-2025-8869",), "pip", "25.2", NONE, ()),  # fix_versions: []
        ("GHSA-pq67-6m6q-mj2v", ("CVE-2025-50181",), "urllib3", "1.26.20", FIX, ("2.5.0",)),
    ]
    assert all(f.severity is Severity.UNKNOWN for f in run.findings)
    pip = run.findings[2]
    assert pip.package is not None and pip.package.purl == "pkg:pypi/pip@25.2"
    assert pip.package.ecosystem == "pypi"
    assert pip.url == "https://github.com/advisories/GHSA-4xh5-x5gv-qwph"
    assert pip.title is not None and pip.title.startswith("In the fallback extraction path")
    assert pip.sources[0].pointer == "dependencies[97].vulns[0]"
    assert run.skipped == () and run.warnings == ()
    assert run.facts.as_json()["dependencies"] == 167
    assert run.freshness_source == "file-mtime" and run.tools[0].name == "pip-audit"


def test_legacy_list_with_a_skipped_dependency() -> None:
    run = parse("dd-legacy-list-many-vulns.json")
    assert [(f.id, f.fix_state) for f in run.findings] == [
        ("PYSEC-2021-76", FIX),
        ("PYSEC-2021-439", FIX),
        ("PYSEC-2021-852", NONE),
        ("PYSEC-2019-128", FIX),
        ("PYSEC-2020-260", FIX),
        ("PYSEC-2019-129", FIX),
        ("PYSEC-2020-259", FIX),
    ]
    assert run.findings[1].fixed_versions == ("2.2.25", "3.1.14", "3.2.10")
    assert run.findings[0].url == "https://osv.dev/vulnerability/PYSEC-2021-76"
    assert run.findings[0].sources[0].pointer == "[1].vulns[0]"
    assert run.skipped == (
        "azure-devops: Dependency not found on PyPI and could not be audited: azure-devops (0.17.0)",
    )


def test_readme_legacy_example_aliases() -> None:
    run = parse("readme-example-legacy-list.json")
    assert summary(run) == [
        (
            "PYSEC-2019-179",
            ("CVE-2019-1010083", "GHSA-5wv5-4vpf-pj6m"),
            "flask",
            "0.5",
            FIX,
            ("1.0",),
        ),
        (
            "PYSEC-2018-66",
            ("CVE-2018-1000656", "GHSA-562c-5r94-xh97"),
            "flask",
            "0.5",
            FIX,
            ("0.12.3",),
        ),
    ]


def test_zero_vulns_and_empty_reports() -> None:
    skip = parse("dd-new-zero-vulns-skip.json")
    assert (
        skip.findings == ()
        and len(skip.skipped) == 1
        and skip.skipped[0].startswith("azure-devops: ")
    )
    # issue 9: a report that lists no dependency examined nothing: an ERROR, no longer a
    # PASS with a warning
    with pytest.raises(InputError, match=r"lists no dependency: it examined nothing") as e:
        parse("dd-new-empty.json")
    assert e.value.pointer == "dependencies"


def test_name_normalization_and_fixes_warning() -> None:
    doc = {
        "dependencies": [
            {
                "name": "Flask_SQLAlchemy",
                "version": "2.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.1"]}],
            },
        ],
        "fixes": [
            {"name": "Flask_SQLAlchemy", "old_version": "2.0", "new_version": "2.1"},
            {"name": "other", "version": "1.0", "skip_reason": "no fix available"},
        ],
    }
    run = parse_doc(doc)
    (f,) = run.findings
    assert f.package is not None and f.package.purl == "pkg:pypi/flask-sqlalchemy@2.0"
    assert f.title is None and f.details == {}
    assert any("--fix upgraded 1 packages" in w and "2.0 → 2.1" in w for w in run.warnings)
    assert run.skipped == ("other: fix skipped: no fix available",)


@pytest.mark.parametrize(
    ("doc", "match", "pointer"),
    [
        (
            {"dependencies": [{"name": "x", "version": "1"}]},
            r"x: no vulns and no skip_reason",
            "dependencies[0]",
        ),
        ([{"name": "x", "vulns": []}], r"x: no version and no skip_reason", "[0]"),
        # nothing audited: an empty array, or every dependency skipped
        ([], r"empty JSON array", None),
        ({"dependencies": []}, r"lists no dependency: it examined nothing", "dependencies"),
        # audited and skipped at once (issue 9: its vulns were dropped)
        (
            {
                "dependencies": [
                    {"name": "y", "version": "1", "vulns": []},
                    {"name": "x", "version": "1", "vulns": [{"id": "V"}], "skip_reason": "s"},
                ]
            },
            r"x: has both vulns and a skip_reason",
            "dependencies[1]",
        ),
        (
            {"dependencies": [{"name": "x", "skip_reason": "not on PyPI"}]},
            r"could audit none of the 1 dependencies .*x: not on PyPI",
            "dependencies",
        ),
        (
            {"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]},
            r"Field required",
            "dependencies[0].vulns[0].id",
        ),
        ({"dependencies": {}}, r"valid list", "dependencies"),
        ({"SchemaVersion": 2, "Results": []}, r"Trivy JSON report.*--trivy", None),
        ({"auditReportVersion": 2, "vulnerabilities": {}}, r"npm audit report.*--npm-audit", None),
        ([{"Target": "x"}], r"legacy Trivy JSON report.*--trivy", None),
        ({"version": "2.1.0", "runs": []}, r"SARIF file.*--sarif", None),
        ({"hello": "world"}, r"unknown keys \(hello\)", None),
        (42, r"JSON int", None),
    ],
)
def test_malformed_or_wrong_kind(doc: Any, match: str, pointer: str | None) -> None:
    with pytest.raises(InputError, match=match) as e:
        parse_doc(doc)
    assert e.value.pointer == pointer


@pytest.mark.parametrize("cut", [0.5, -2])
def test_truncated_real_report(cut: float) -> None:
    raw = (PIP / "realworld-vulnflask-unfixed-no-aliases.json").read_bytes()
    with pytest.raises(InputError, match="not valid JSON"):
        PipAuditIngestor().parse(raw[: int(len(raw) * cut) if cut > 0 else int(cut)], "cut.json")
