"""Reports that examined nothing or contradict themselves (issue 9): each is an ERROR (exit 3)
naming the file and the JSON path, through `gate check`. Every case is a small edit of a
real report that gate reads cleanly (`tests/data/`), so only the edit can cause the ERROR.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
POLICY = """apiVersion: gate/v1
vulnerabilities: {fail_on: HIGH}
secrets: {fail_on: LOW}
misconfigurations: {fail_on: HIGH}
code_scanning: {fail_on: HIGH}
"""
NPM7 = "reports/npm-audit/v2-nar-all-severity-levels.json"
NPM6 = "reports/npm-audit/v1-npm6-nar-all-severity.json"
PIP = "reports/pip-audit/realworld-secureflask-12-vulns.json"
SARIF = "sarif/suppressions-mixed-external-insource.sarif"
TRIVY = "reports/trivy/trivy-golden-fluentd-gems.json"


def _set(*path: str | int, value: Any) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for p in path[:-1]:
            doc = doc[p]
        doc[path[-1]] = value

    return edit


def _drop(*path: str | int) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for p in path[:-1]:
            doc = doc[p]
        del doc[path[-1]]

    return edit


def _both(*edits: Callable[[Any], None]) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for e in edits:
            e(doc)

    return edit


def _first_vulnerable_dependency(doc: Any) -> None:
    dep = next(d for d in doc["dependencies"] if d.get("vulns"))
    dep["skip_reason"] = "Dependency not found on PyPI and could not be audited"


def _suppress_with(value: Any) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        doc["runs"][0]["results"][3]["suppressions"] = [value]

    return edit


CASES: list[tuple[str, str, str, Callable[[Any], None], str, str]] = [
    # (id, kind, source, edit, pointer, message)
    ("sarif-no-runs", "sarif", SARIF, _set("runs", value=[]), "runs", "examined nothing"),
    (
        "sarif-suppression-without-kind",
        "sarif",
        SARIF,
        _suppress_with({}),
        "runs[0].results[3].suppressions[0].kind",
        "no `kind`",
    ),
    (
        "sarif-suppression-unknown-kind",
        "sarif",
        SARIF,
        _suppress_with({"kind": "byGate"}),
        "runs[0].results[3].suppressions[0].kind",
        "kind 'byGate'",
    ),
    (
        "pip-no-dependencies",
        "pip-audit",
        PIP,
        _set("dependencies", value=[]),
        "dependencies",
        "examined nothing",
    ),
    (
        "pip-vulns-and-skip-reason",
        "pip-audit",
        PIP,
        _first_vulnerable_dependency,
        "dependencies[",
        "both vulns and a skip_reason",
    ),
    (
        "npm7-count-as-string",
        "npm-audit",
        NPM7,
        _set("metadata", "vulnerabilities", "critical", value="1"),
        "metadata.vulnerabilities.critical",
        "integer",
    ),
    (
        "npm7-negative-count",
        "npm-audit",
        NPM7,
        _set("metadata", "vulnerabilities", "high", value=-3),
        "metadata.vulnerabilities.high",
        "greater than or equal to 0",
    ),
    (
        "npm7-total-not-the-sum",
        "npm-audit",
        NPM7,
        _set("metadata", "vulnerabilities", "total", value=2),
        "metadata.vulnerabilities.total",
        "not the sum",
    ),
    (
        "npm7-counts-disagree-with-entries",
        "npm-audit",
        NPM7,
        _both(
            _set("metadata", "vulnerabilities", "low", value=40),
            _set("metadata", "vulnerabilities", "total", value=56),
        ),
        "metadata.vulnerabilities",
        "contradicts itself",
    ),
    (
        "npm7-no-dependency-audited",
        "npm-audit",
        NPM7,
        _set("metadata", "dependencies", "total", value=0),
        "metadata.dependencies",
        "examined nothing",
    ),
    (
        "npm7-no-dependency-count",
        "npm-audit",
        NPM7,
        _drop("metadata", "dependencies"),
        "metadata.dependencies",
        "no count of audited dependencies",
    ),
    (
        "npm6-count-as-float",
        "npm-audit",
        NPM6,
        _set("metadata", "vulnerabilities", "high", value=1.5),
        "metadata.vulnerabilities.high",
        "integer",
    ),
    (
        "npm6-advisories-but-zero-counts",
        "npm-audit",
        NPM6,
        _set(
            "metadata",
            "vulnerabilities",
            value={"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0},
        ),
        "metadata.vulnerabilities",
        "contradicts itself",
    ),
    (
        "npm6-no-dependency-audited",
        "npm-audit",
        NPM6,
        _set("metadata", "totalDependencies", value=0),
        "metadata.totalDependencies",
        "examined nothing",
    ),
    (
        "trivy-no-artifact-no-results",
        "trivy",
        TRIVY,
        _both(_set("Results", value=[]), _drop("ArtifactName"), _drop("Metadata")),
        "",
        "names no artifact and holds no Results",
    ),
]


@pytest.mark.parametrize(
    ("kind", "source", "edit", "pointer", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_empty_or_contradictory_report_is_an_error(
    kind, source, edit, pointer, message, tmp_path, capsys
):
    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY)
    clean = tmp_path / f"clean-{Path(source).name}"
    clean.write_bytes((DATA / source).read_bytes())
    args = ["check", "--policy", str(policy), "--json", str(tmp_path / "v.json")]
    with pytest.raises(SystemExit) as info:
        main([*args, f"--{kind}", str(clean)])
    assert info.value.code in (0, 1), "the unedited report must be read cleanly"
    doc = json.loads((DATA / source).read_bytes())
    edit(doc)
    bad = tmp_path / f"edited-{Path(source).name}"
    bad.write_text(json.dumps(doc, indent=2))
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main([*args, f"--{kind}", str(bad)])
    out = capsys.readouterr()
    assert info.value.code == 3, out.out + out.err
    verdict = json.loads((tmp_path / "v.json").read_text())
    (inp,) = verdict["inputs"]
    error = inp["error"] or ""
    assert inp["status"] == "error" and error.startswith(f"{bad}: {pointer}"), error
    assert message in error, error
    assert str(bad) in out.out + out.err and "Traceback" not in out.out + out.err
