"""Workflow-command annotations: only repository files, escaped as @actions/core escapes."""

from __future__ import annotations

from pathlib import Path

from gate.engine import evaluate
from gate.ingest import load_report
from gate.models import Decision, Finding, FindingKind, InputKind, Location, Severity, SourceRef
from gate.policy.model import Policy
from gate.report.annotations import escape_data, escape_property, render_annotations
from tests.report.builders import (
    NOW,
    code_finding,
    decided,
    image_input,
    sarif_input,
    verdict,
    vuln,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "sarif"


def test_escaping_follows_actions_core() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_failing_and_warning_code_findings_become_error_and_warning_lines() -> None:
    fail = code_finding(line=12)
    warn = code_finding("js/xss", path="web/a,b:c.js", line=3, severity=Severity.MEDIUM)
    v = verdict(
        [sarif_input([fail, warn])],
        [
            decided(fail, rule="code_scanning.fail_on", reason="HIGH ≥ fail_on HIGH"),
            decided(warn, Decision.WARN, "code_scanning.warn_on", "MEDIUM ≥ warn_on MEDIUM\n50%"),
        ],
    )
    lines = render_annotations(v, workspace="")
    assert lines == [
        "::error file=src/db.js,line=12,col=5,endColumn=9,"
        "title=gate%3A HIGH CodeQL js/sql-injection::"
        "Database query built from user-controlled sources%0A"
        "gate fails the policy: HIGH ≥ fail_on HIGH",
        "::warning file=web/a%2Cb%3Ac.js,line=3,col=5,endColumn=9,"
        "title=gate%3A MEDIUM CodeQL js/xss::"
        "Database query built from user-controlled sources%0A"
        "gate warns: MEDIUM ≥ warn_on MEDIUM%0A50%25",
    ]


def test_passing_excepted_and_image_findings_are_not_annotated() -> None:
    in_image = vuln()
    in_image = in_image.model_copy(update={"location": Location(path="usr/lib/node_modules/x")})
    ok = code_finding("js/ok")
    gone = code_finding("js/gone")
    v = verdict(
        [image_input([in_image]), sarif_input([ok, gone])],
        [decided(in_image), decided(ok, Decision.PASS), decided(gone, Decision.EXCEPTED)],
    )
    assert render_annotations(v, workspace="") == []


def test_repository_scan_findings_with_a_file_are_annotated() -> None:
    misconfig = Finding(
        kind=FindingKind.MISCONFIGURATION,
        id="DS002",
        title="Image user should not be 'root'",
        severity=Severity.HIGH,
        location=Location(path="Dockerfile", start_line=1, end_line=1),
        sources=(SourceRef(kind=InputKind.TRIVY, path="fs.json", pointer="Results[0]"),),
    )
    fs_scan = image_input([misconfig], path="fs.json").model_copy(update={"subject": None})
    v = verdict([fs_scan], [decided(misconfig, rule="misconfigurations.fail_on")])
    (line,) = render_annotations(v, workspace="")
    assert line.startswith("::error file=Dockerfile,line=1,endLine=1,title=gate%3A HIGH DS002::")


def test_absolute_paths_are_made_relative_to_the_workspace_or_skipped() -> None:
    inside = code_finding(path="/home/runner/work/app/src/x.py")
    outside = code_finding(path="/tmp/build/y.py", pointer="runs[0].results[1]")
    v = verdict([sarif_input([inside, outside])], [decided(inside), decided(outside)])
    (line,) = render_annotations(v, workspace="/home/runner/work/app")
    assert line.startswith("::error file=src/x.py,line=12,")
    assert render_annotations(v, workspace="") == []


def test_at_most_limit_lines_then_a_notice(monkeypatch) -> None:
    findings = [
        code_finding(f"r/{i}", line=i + 1, pointer=f"runs[0].results[{i}]") for i in range(60)
    ]
    v = verdict([sarif_input(findings)], [decided(f) for f in findings])
    lines = render_annotations(v, limit=50, workspace="")
    assert len(lines) == 51 and all(x.startswith("::error ") for x in lines[:50])
    assert lines[50] == (
        "::notice::gate: 10 more failing or warning findings with a file location were not "
        "annotated (limit 50); see the step summary"
    )
    monkeypatch.setenv("GITHUB_WORKSPACE", "/nowhere")
    assert len(render_annotations(v)) == 51  # relative paths need no workspace


def test_real_sarif_through_the_engine() -> None:
    policy = Policy.model_validate({"apiVersion": "gate/v1", "code_scanning": {"fail_on": "HIGH"}})
    run = load_report(InputKind.SARIF, DATA / "codeql-2.19.3-python-codeql-action-minified.sarif")
    lines = render_annotations(evaluate([run], policy, NOW), workspace="")
    assert [x.split("::")[1].split(",")[0] for x in lines] == [
        "error file=server/routes.py",
        "error file=server/routes.py",
    ]
    assert all(",title=gate%3A HIGH CodeQL py/sql-injection::" in x for x in lines)
