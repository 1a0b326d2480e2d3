"""Every real report gives a `SourceRun` or a clear `InputError`, never a traceback.

Two sweeps: the copies under tests/data/reports (always run, with their provenance
checked) and the whole shared corpus beside the checkout (skipped, saying why, when absent).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.ingest import ingestor_for, load_report
from gate.models import InputKind, InputStatus

DATA = Path(__file__).resolve().parents[1] / "data" / "reports"
KINDS = {
    "trivy": InputKind.TRIVY,
    "npm-audit": InputKind.NPM_AUDIT,
    "pip-audit": InputKind.PIP_AUDIT,
}

# Files that must be rejected, and why (everything else must parse).
REJECTED = {
    "trivy/dd-kubernetes-cluster.json": "k8s cluster report is not supported",
    "trivy/dd-legacy-no-vuln.json": "literal `null`",
    "trivy/realworld-moj-trivy-results.json-is-sarif.json": "--sarif",
    "trivy/realworld-trivy-sarif-demo-0.15-debug.sarif": "--sarif",
    "trivy/realworld-trivy-sarif-demo-template.sarif": "--sarif",
    "trivy/trivy.sarif": "--sarif",
    "npm-audit/v1-npm6-dd-error-enoaudit.json": "npm audit failed (ENOAUDIT)",
    # issue 9: a report that lists no dependency examined nothing
    "pip-audit/dd-new-empty.json": "it examined nothing",
    "pip-audit/dd-legacy-list-empty.json": "empty JSON array",
}


def _sweep(root: Path, kind_dir: str, *, strict: bool) -> tuple[int, int]:
    ok = rejected = 0
    for path in sorted((root / kind_dir).iterdir()):
        rel = f"{kind_dir}/{path.name}"
        try:
            run = ingestor_for(KINDS[kind_dir]).parse_file(path)
        except InputError as e:
            text = e.diagnostics()
            assert str(path) in text and "Traceback" not in text
            if strict or rel in REJECTED:
                assert rel in REJECTED, f"{rel} was rejected: {text}"
                assert REJECTED[rel] in text, text
            rejected += 1
            continue
        assert rel not in REJECTED, f"{rel} should have been rejected"
        assert (
            run.status is InputStatus.OK
            and run.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        )
        assert run.freshness is not None and run.freshness_source in ("report", "file-mtime")
        for f in run.findings:
            assert f.id and f.sources and f.sources[0].path == str(path)
        ok += 1
    return ok, rejected


@pytest.mark.parametrize("kind_dir", sorted(KINDS))
def test_bundled_reports(kind_dir: str) -> None:
    ok, rejected = _sweep(DATA, kind_dir, strict=True)
    assert ok >= 5


def test_bundled_reports_provenance() -> None:
    with (DATA / "PROVENANCE.tsv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    listed = {row["local_path"]: row for row in rows}
    on_disk = {f"{p.parent.name}/{p.name}" for d in KINDS for p in (DATA / d).iterdir()}
    assert on_disk == set(listed)
    for rel, row in listed.items():
        digest = hashlib.sha256((DATA / rel).read_bytes()).hexdigest()
        assert f"sha256 {digest[:16]}]" in row["notes"], rel
        assert row["repo"] and len(row["commit"]) == 40


@pytest.mark.parametrize("kind_dir", sorted(KINDS))
def test_whole_corpus(corpus_dir: Path, kind_dir: str) -> None:
    ok, rejected = _sweep(corpus_dir, kind_dir, strict=False)
    assert ok > rejected


def test_load_report_turns_errors_into_error_runs() -> None:
    run = load_report(InputKind.TRIVY, DATA / "trivy" / "dd-kubernetes-cluster.json")
    assert run.status is InputStatus.ERROR and run.findings == ()
    assert run.error is not None and "scan each image" in run.error
    assert run.sha256 is not None


@pytest.mark.parametrize("kind", list(InputKind))
def test_deeply_nested_json_is_an_input_error(kind: InputKind, tmp_path: Path) -> None:
    """Nesting past Python's recursion limit is a bad input, not an internal error."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000)
    with pytest.raises(InputError, match="nested too deeply"):
        ingestor_for(kind).parse_file(path)
