"""The report dispatcher: one reporter per `ReportKind`, each asked where it writes and
what it renders, in a fixed order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.report.annotations import render_annotations
from gate.report.dispatch import reporter_for, write_reports
from gate.report.interface import OutputRequest, ReportKind
from tests.report.builders import code_finding, decided, image_input, sarif_input, verdict, vuln


@pytest.mark.parametrize("kind", list(ReportKind))
def test_every_report_kind_has_a_reporter(kind: ReportKind) -> None:
    reporter = reporter_for(kind)
    assert reporter.what
    assert reporter.target(OutputRequest(), {}) is None  # nothing asked: nothing written


def test_each_requested_output_is_written_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = code_finding()
    v = verdict([image_input(), sarif_input([code])], [decided(vuln()), decided(code)])
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    request = OutputRequest(json_path=tmp_path / "v.json", sarif_output=tmp_path / "g.sarif")
    env = {"GITHUB_STEP_SUMMARY": str(step), "GITHUB_ACTIONS": "true"}
    notes: list[str] = []
    write_reports(v, request, env, notes.append)
    assert json.loads((tmp_path / "v.json").read_text())["result"] == v.result.value
    assert json.loads((tmp_path / "g.sarif").read_text())["version"] == "2.1.0"
    summary = step.read_text()
    assert summary.startswith("earlier step\n") and len(summary) > len("earlier step\n")
    annotations = "".join(line + "\n" for line in render_annotations(v))
    assert annotations.startswith("::error file=src/db.js,")
    assert capsys.readouterr().out == annotations  # on stdout
    assert notes == []


def test_an_explicit_summary_replaces_the_file_and_no_annotations_outside_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "s.md"
    summary.write_text("old\n")
    write_reports(
        verdict([image_input()], [decided(vuln())]), OutputRequest(summary=summary), {}, print
    )
    assert not summary.read_text().startswith("old")
    assert capsys.readouterr().out == ""
