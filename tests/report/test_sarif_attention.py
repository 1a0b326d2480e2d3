"""What users see in GitHub from gate's SARIF (issue 11): only what needs attention becomes an
alert, one alert per finding, each SARIF input keeps its own run, tool version and category,
and the stand-in location is announced. Every document is checked against the SARIF 2.1.0
schema and GitHub's rules, as in test_sarif_out.py."""

from __future__ import annotations

from pathlib import Path

from gate.engine import evaluate
from gate.facts import Facts
from gate.models import Decision, Location
from gate.policy.model import Policy
from gate.report.sarif import render_sarif
from tests.report.builders import (
    NOW,
    code_finding,
    decided,
    image_input,
    sarif_input,
    schema_errors,
    verdict,
    vuln,
)
from tests.report.test_sarif_out import DATA, POLICY, check_github_rules


def _valid(doc: dict) -> None:  # type: ignore[type-arg]
    assert schema_errors(doc) == []
    check_github_rules(doc)


def test_ten_versions_of_one_package_are_ten_alerts() -> None:
    findings = [vuln(version=f"4.17.{i}", pointer=f"R[{i}]") for i in range(10)]
    v = verdict([image_input(findings)], [decided(f) for f in findings])
    doc, _ = render_sarif(v, root=DATA)
    _valid(doc)
    prints = [
        r["partialFingerprints"]["primaryLocationLineHash"] for r in doc["runs"][0]["results"]
    ]
    assert len(prints) == 10 and len(set(prints)) == 10


def test_findings_alike_in_every_part_still_get_their_own_alert_in_a_stable_order() -> None:
    # the same package and version at the same place, found twice under one rule
    twins = [vuln(pointer="R[0]"), vuln(pointer="R[1]", title="another title")]
    v = verdict([image_input(twins)], [decided(f) for f in twins])
    first, _ = render_sarif(v, root=DATA)
    again, _ = render_sarif(v, root=DATA)
    prints = [r["partialFingerprints"]["gate/v2"] for r in first["runs"][0]["results"]]
    assert len(set(prints)) == 2
    assert prints == [r["partialFingerprints"]["gate/v2"] for r in again["runs"][0]["results"]]


def test_one_package_at_two_paths_in_the_image_is_two_alerts() -> None:
    a = vuln().model_copy(update={"location": Location(path="app/node_modules/lodash")})
    b = vuln(pointer="R[1]").model_copy(
        update={"location": Location(path="lib/node_modules/lodash")}
    )
    v = verdict([image_input([a, b])], [decided(a), decided(b)])
    doc, _ = render_sarif(v, root=DATA)
    prints = {r["partialFingerprints"]["gate/v2"] for r in doc["runs"][0]["results"]}
    assert len(prints) == 2


def test_only_what_needs_attention_is_an_alert_and_all_puts_the_rest_back() -> None:
    decisions = [Decision.FAIL, Decision.WARN, Decision.PASS, Decision.IGNORED]
    findings = [vuln(f"CVE-2024-000{i}", pointer=f"R[{i}]") for i in range(len(decisions))]
    v = verdict(
        [image_input(findings)], [decided(f, d) for f, d in zip(findings, decisions, strict=True)]
    )
    doc, _ = render_sarif(v, root=DATA)
    _valid(doc)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["CVE-2024-0000", "CVE-2024-0001"]
    rules = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert rules == ["CVE-2024-0000", "CVE-2024-0001"]  # no rule without a result
    everything, _ = render_sarif(v, root=DATA, include="all")
    _valid(everything)
    assert len(everything["runs"][0]["results"]) == 4


def test_an_excepted_finding_stays_with_a_suppression_naming_reason_and_expiry() -> None:
    policy = Policy.model_validate(
        {
            **POLICY.model_dump(mode="json", exclude_none=True, by_alias=True),
            "exceptions": [
                {
                    "id": "CVE-2024-0001",
                    "package": "pkg:npm/lodash",
                    "reason": "the template function is never called",
                    "expires": "2027-03-31",
                    "owner": "@web",
                }
            ],
        }
    )
    v = evaluate([image_input([vuln()])], policy, NOW)
    assert v.findings[0].decision is Decision.EXCEPTED
    doc, _ = render_sarif(v, root=DATA)
    _valid(doc)
    (res,) = doc["runs"][0]["results"]
    (sup,) = res["suppressions"]
    assert sup["status"] == "accepted"
    assert "2027-03-31" in sup["justification"]
    assert "the template function is never called" in sup["justification"]


def test_two_codeql_inputs_keep_their_own_runs_versions_and_categories() -> None:
    js = code_finding("js/sql-injection", input_path="js.sarif")
    go = code_finding("go/sql-injection", input_path="go.sarif", path="db.go")
    js_in = sarif_input([js], path="js.sarif")
    go_in = sarif_input([go], path="go.sarif")
    js_in = js_in.model_copy(
        update={
            "facts": js_in.facts.merged(Facts.model_validate({
                "sarif_runs": [{"index": 0, "tool": "CodeQL", "version": "2.20.0",
                                "category": "/language:javascript", "rules": {}}],
            })),
        }
    )  # fmt: skip
    go_in = go_in.model_copy(
        update={
            "facts": go_in.facts.merged(Facts.model_validate({
                "sarif_runs": [{"index": 0, "tool": "CodeQL", "version": "2.21.3",
                                "category": "/language:go", "rules": {}}],
            })),
        }
    )  # fmt: skip
    v = verdict([js_in, go_in], [decided(js), decided(go)])
    doc, _ = render_sarif(v)
    _valid(doc)
    runs = {r["automationDetails"]["id"]: r for r in doc["runs"]}
    assert set(runs) == {"gate/sarif/codeql/language:go/", "gate/sarif/codeql/language:javascript/"}
    go_run = runs["gate/sarif/codeql/language:go/"]
    js_run = runs["gate/sarif/codeql/language:javascript/"]
    assert go_run["tool"]["driver"]["version"] == "2.21.3"
    assert js_run["tool"]["driver"]["version"] == "2.20.0"
    assert [r["ruleId"] for r in go_run["results"]] == ["go/sql-injection"]
    assert [r["ruleId"] for r in js_run["results"]] == ["js/sql-injection"]


def test_two_runs_in_one_sarif_file_stay_two_runs(tmp_path: Path) -> None:
    from gate.ingest import load_report
    from gate.models import InputKind

    run = load_report(InputKind.SARIF, DATA / "codeql-action-valid-2-runs.sarif")
    doc, _ = render_sarif(evaluate([run], POLICY, NOW), include="all", root=tmp_path)
    _valid(doc)
    assert len(doc["runs"]) == len(run.facts.as_json()["sarif_runs"]) == 2


def test_the_stand_in_location_is_announced_and_a_dockerfile_silences_it(tmp_path: Path) -> None:
    f = vuln()
    v = verdict([image_input([f])], [decided(f)])
    doc, notes = render_sarif(v, root=tmp_path)
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": ".gate/image"}
    (note,) = notes
    assert ".gate/image" in note and "--sarif-location" in note and "1 result(s)" in note
    assert note in doc["runs"][0]["properties"]["gate/notes"]
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    doc, notes = render_sarif(v, root=tmp_path)
    assert notes == []
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "Dockerfile"}


def test_the_cli_writes_what_needs_attention_unless_asked_for_all(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    report = DATA.parent / "reports" / "npm-audit" / "v2-nar-all-severity-levels.json"

    def results(*extra: str) -> int:
        out = tmp_path / "gate.sarif"
        proc = subprocess.run(
            [sys.executable, "-m", "gate", "check", "--npm-audit", str(report),
             "--sarif-output", str(out), *extra],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        return sum(len(r["results"]) for r in json.loads(out.read_text())["runs"])

    attention, everything = results(), results("--sarif-include", "all")
    assert 0 < attention < everything
    bad = subprocess.run(
        [sys.executable, "-m", "gate", "check", "--npm-audit", str(report),
         "--sarif-include", "some"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2 and "--sarif-include" in bad.stderr
