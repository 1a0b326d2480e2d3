"""SARIF 2.1.0 ingest: real producer files (tests/data/sarif) and one crafted file per edge case."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.ingest import load_report
from gate.ingest.sarif import NO_RULE_ID, UNKNOWN_TOOL, SarifIngestor
from gate.models import FindingKind, InputKind, InputStatus, Severity, SourceRun

DATA = Path(__file__).resolve().parent.parent / "data" / "sarif"

VALID = [
    "codeql-2.12.6-javascript-vulnerable-node.sarif",
    "codeql-2.19.3-python-codeql-action-minified.sarif",
    "codeql-2.2.5-java-old.sarif",
    "codeql-2.2.5-javascript-rules-in-extensions.sarif",
    "codeql-2.23.5-go-no-results.sarif",
    "codeql-action-empty.sarif",
    "codeql-action-valid-2-runs.sarif",
    "dependency-check-6.1.sarif",
    "gitleaks-7.sarif",
    "grype-0.34.7-secsev.sarif",
    "sarif-sdk-baseline-new-unchanged.sarif",
    "sarif-sdk-ghas-cwe-sample-secsev.sarif",
    "sarif-spec-appendix-k-baseline-existing.sarif",
    "shiftleft-taint-baselinestate-new.sarif",
    "suppressions-mixed-external-insource.sarif",
    "trivy.sarif",
    "realworld-trivy-sarif-demo-template.sarif",
    "realworld-trivy-sarif-demo-0.15-debug.sarif",
]


def parse_file(name: str) -> SourceRun:
    path = DATA / name
    return SarifIngestor().parse(path.read_bytes(), str(path))


def parse_doc(doc: Any, path: str = "crafted.sarif") -> SourceRun:
    return SarifIngestor().parse(json.dumps(doc).encode(), path)


def log(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": list(runs)}


def run(results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None, **kw: Any):
    driver: dict[str, Any] = {"name": kw.pop("name", "Scanner"), "rules": rules or []}
    return {"tool": {"driver": driver}, "results": results, **kw}


def result(rule_id: str = "R1", **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"ruleId": rule_id, "message": {"text": "something is wrong"}}
    out["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/app.py"},
                "region": {"startLine": 3},
            }
        }
    ]
    return out | kw


def one(doc: Any):
    (finding,) = parse_doc(doc).findings
    return finding


@pytest.mark.parametrize("name", VALID)
def test_every_real_file_parses_into_code_findings(name: str) -> None:
    raw = (DATA / name).read_bytes()
    r = SarifIngestor().parse(raw, name)
    data = json.loads(raw)
    expected = sum(len(x["results"]) for x in data["runs"])
    assert r.kind is InputKind.SARIF and r.status is InputStatus.OK
    assert r.sha256 == hashlib.sha256(raw).hexdigest()
    assert len(r.findings) == expected
    assert r.facts.as_json()["sarif_tools"] == list(dict.fromkeys(t.name for t in r.tools))
    for f in r.findings:
        assert f.kind is FindingKind.CODE
        assert f.id and f.title
        assert f.tool in r.facts.as_json()["sarif_tools"]
        (src,) = f.sources
        assert src.kind is InputKind.SARIF and src.path == name and src.tool == f.tool
        assert src.pointer.startswith("runs[") and ".results[" in src.pointer
    pointers = [f.sources[0].pointer for f in r.findings]
    assert len(set(pointers)) == len(pointers)


def test_codeql_security_severity_strings_map_as_github_does() -> None:
    r = parse_file("codeql-2.12.6-javascript-vulnerable-node.sarif")
    assert r.tools[0].name == "CodeQL" and r.tools[0].version == "2.12.6"
    by_id = {f.id: f for f in r.findings}
    xss = by_id["js/xss"]  # security-severity "6.1"
    assert xss.severity is Severity.MEDIUM
    assert xss.details["security_severity"] == "6.1"
    assert xss.details["severity_source"] == "rule security-severity"
    assert xss.location is not None and xss.location.path and xss.location.start_line
    assert "primaryLocationLineHash" in xss.location.fingerprints
    assert xss.details["precision"] == "high"
    assert xss.details["level"] == "error"  # recorded even when security-severity decides


def test_rules_only_in_extensions_found_by_tool_component_index() -> None:
    r = parse_file("codeql-2.19.3-python-codeql-action-minified.sarif")
    (sqli, _) = r.findings
    assert sqli.id == "py/sql-injection"
    assert sqli.title == "SQL query built from user-controlled sources"
    assert sqli.severity is Severity.HIGH  # "8.8" on the extension's rule
    assert sqli.url is None or sqli.url.startswith("http")
    rules = r.facts.as_json()["sarif_runs"][0]["rules"]
    assert set(rules) == {f.id for f in r.findings}  # only rules that results use
    assert rules["py/sql-injection"]["security_severity"] == "8.8"


def test_rules_in_extensions_with_a_driver_rule_index_fall_back_to_the_id() -> None:
    # CodeQL 2.2.5: ruleIndex points into an empty driver.rules; the rule is in an extension.
    r = parse_file("codeql-2.2.5-javascript-rules-in-extensions.sarif")
    f = r.findings[0]
    assert f.id == "js/incomplete-sanitization"
    assert f.title == "Incomplete string escaping or encoding"
    assert f.details["severity_source"] == "default level"  # CodeQL 2.2.5 wrote no level


def test_old_codeql_without_security_severity_uses_the_rule_level() -> None:
    r = parse_file("codeql-2.2.5-java-old.sarif")
    assert {f.severity for f in r.findings} == {Severity.HIGH}
    assert {f.details["level"] for f in r.findings} == {"error"}


def test_clean_scans_are_valid_and_empty() -> None:
    go = parse_file("codeql-2.23.5-go-no-results.sarif")
    assert go.findings == () and go.tools[0].name == "CodeQL"
    assert go.facts.as_json()["sarif_runs"][0]["rules"] == {}
    empty = parse_file("codeql-action-empty.sarif")
    assert empty.findings == () and empty.facts.as_json()["sarif_tools"] == ["LGTM.com"]
    # issue 9: `runs: []` examined nothing: an ERROR (it was a clean scan with a warning)
    with pytest.raises(InputError, match=r"`runs` is empty: no analyzer ran") as e:
        parse_file("no-runs.sarif")
    assert e.value.pointer == "runs"


def test_two_runs_two_tools_in_one_file() -> None:
    r = parse_file("codeql-action-valid-2-runs.sarif")
    assert [t.name for t in r.tools] == ["LGTM.com", "CodeQL command-line toolchain"]
    assert {f.sources[0].pointer.split(".")[0] for f in r.findings} == {"runs[0]", "runs[1]"}


def test_results_referencing_absent_rules_still_work() -> None:
    r = parse_file("dependency-check-6.1.sarif")
    f = r.findings[0]
    assert f.id == "Disallow calling helperMissing and blockHelperMissing directly"
    assert f.severity is Severity.HIGH and f.details["level"] == "error"
    assert f.location is not None
    assert f.location.path == (
        "/src/.venv/lib/python3.9/site-packages/tastypie_swagger/static/tastypie_swagger/js/lib/"
        "handlebars-1.0.0.js"
    )


def test_gitleaks_without_rule_id_and_no_secret_is_copied() -> None:
    raw = (DATA / "gitleaks-7.sarif").read_bytes()
    r = SarifIngestor().parse(raw, "gitleaks.sarif")
    assert {f.id for f in r.findings} == {"AWS Access Key", "Asymmetric Private Key"}
    assert {f.details.get("rule_id_source") for f in r.findings} == {"message"}
    dumped = r.model_dump_json()
    assert "AKIAIOSFODNN7EXAMPLE" in raw.decode()
    assert "AKIAIOSFODNN7EXAMPLE" not in dumped and "raw_source_code_extract" not in dumped


def test_grype_advisory_ids_become_aliases() -> None:
    r = parse_file("grype-0.34.7-secsev.sarif")
    f = r.findings[0]
    assert f.id == "CVE-2008-0732-geronimo-j2ee-management_1.1_spec"
    assert f.aliases == ("CVE-2008-0732",)


def test_baseline_states_and_suppressions_are_kept() -> None:
    r = parse_file("sarif-sdk-baseline-new-unchanged.sarif")
    assert {f.baseline_state for f in r.findings} == {"new", "unchanged"}
    k = parse_file("sarif-spec-appendix-k-baseline-existing.sarif").findings[0]
    assert k.baseline_state == "existing" and k.status == "fail"
    assert [(s.kind, s.status) for s in k.suppressions] == [("external", None)]
    # uriBaseId SRCROOT = " src/" relative to PROJECTROOT (an absolute file: URI)
    assert k.location is not None and k.location.path == "src/collections/list.h"
    mixed = parse_file("suppressions-mixed-external-insource.sarif")
    assert [len(f.suppressions) for f in mixed.findings] == [1, 1, 1, 0, 0]
    assert mixed.findings[0].location is not None
    assert mixed.findings[0].location.path == "C:/code/file1.c"


def test_trivy_template_sarif_uses_trivy_severity_not_the_blanket_error_level() -> None:
    r = parse_file("realworld-trivy-sarif-demo-template.sarif")
    f = r.findings[0]
    assert f.id == "[MEDIUM] CVE-2019-1549" and f.aliases == ("CVE-2019-1549",)
    assert f.severity is Severity.MEDIUM and f.details["severity_source"] == "trivy severity"
    old = parse_file("realworld-trivy-sarif-demo-0.15-debug.sarif")
    assert old.findings[0].id == "CVE-2018-14618/curl"
    assert old.findings[0].aliases == ("CVE-2018-14618",)
    assert old.findings[0].severity is Severity.CRITICAL


def test_a_trivy_json_report_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="a Trivy JSON report, not SARIF: pass it with --trivy"):
        parse_file("trivy-golden-alpine-310.json")


@pytest.mark.parametrize(
    ("name", "pointer", "message"),
    [
        ("codeql-action-invalid-results-not-array.sarif", "runs[0].results", "must be an array"),
        ("sarif-2.0.0-prerelease-REJECT.sarif", "version", "'2.0.0' (a pre-release"),
    ],
)
def test_malformed_real_files_name_the_file_and_path(name: str, pointer: str, message: str) -> None:
    with pytest.raises(InputError) as e:
        parse_file(name)
    assert e.value.pointer == pointer and message in e.value.message
    assert str(DATA / name) in e.value.diagnostics()
    broken = load_report(InputKind.SARIF, DATA / name)
    assert broken.status is InputStatus.ERROR and pointer in (broken.error or "")
    assert broken.sha256 == hashlib.sha256((DATA / name).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("doc", "pointer", "message"),
    [
        ([], None, "a JSON array, not a SARIF log"),
        ("x", None, "not a SARIF log object"),
        ({"auditReportVersion": 2, "vulnerabilities": {}}, None, "--npm-audit"),
        ({"dependencies": [], "fixes": []}, None, "--pip-audit"),
        ({"runs": []}, "version", "no `version`"),
        ({"version": "2.1.0-rtm.5", "runs": []}, "version", "pre-release"),
        ({"version": "2.1.0"}, "runs", "no `runs` array"),
        ({"version": "2.1.0", "runs": None}, "runs", "`runs` is null"),
        ({"version": "2.1.0", "runs": {}}, "runs", "must be an array"),
        ({"version": "2.1.0", "runs": [1]}, "runs[0]", "must be an object"),
        (log({"tool": {"driver": {"name": "x"}}}), "runs[0].results", "did not complete"),
        (log({"tool": {"driver": {"name": "x"}}, "results": None}), "runs[0].results", "no `res"),
        (log({"results": []}), "runs[0].tool", "Field required"),
        (log(run([result(locations={"a": 1})])), "runs[0].results[0].locations", "valid list"),
        (log(run([result(ruleIndex="x")])), "runs[0].results[0].ruleIndex", "integer"),
        # issue 9: a suppression `{}` without its required kind suppressed the result
        (log(run([result(suppressions=[{}])])), "runs[0].results[0].suppressions[0].kind", "no"),
        (
            log(run([result(), result(suppressions=[{"kind": "inSource", "status": "ok"}])])),
            "runs[0].results[1].suppressions[0].status",
            "status 'ok'",
        ),
        ({"version": "2.1.0", "runs": []}, "runs", "examined nothing"),
        # found by fuzzing: an int `tags` crashed the reader (TypeError)
        (
            log(run([result()], rules=[{"id": "R1", "properties": {"tags": 3}}])),
            "runs[0].tool.driver.rules[0].properties",
            "`tags` must be an array",
        ),
    ],
)
def test_malformed_sarif_is_an_input_error(doc: Any, pointer: str | None, message: str) -> None:
    with pytest.raises(InputError) as e:
        parse_doc(doc)
    assert e.value.pointer == pointer
    assert message in e.value.message
    assert e.value.path == "crafted.sarif"


def test_not_json_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        SarifIngestor().parse(b'{"version": "2.1.0", "runs": [', "cut.sarif")


def test_a_failed_tool_run_is_an_error() -> None:
    inv = {
        "executionSuccessful": False,
        "toolExecutionNotifications": [{"level": "error", "message": {"text": "out of memory"}}],
    }
    with pytest.raises(InputError) as e:
        parse_doc(log(run([], invocations=[{"executionSuccessful": True}, inv])))
    assert e.value.pointer == "runs[0].invocations[1].executionSuccessful"
    assert "out of memory" in e.value.message


@pytest.mark.parametrize("name", [None, "", "  "])
def test_a_nameless_driver_is_unknown_tool_with_a_warning(name: str | None) -> None:
    r = parse_doc(log(run([result()], name=name)))
    assert r.facts.as_json()["sarif_tools"] == [UNKNOWN_TOOL]
    assert r.findings[0].tool == UNKNOWN_TOOL
    assert "runs[0].tool.driver.name" in r.warnings[0]


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (9.9, Severity.CRITICAL),
        ("9.0", Severity.CRITICAL),
        ("8.9", Severity.HIGH),
        (7, Severity.HIGH),
        ("4.0", Severity.MEDIUM),
        ("3.9", Severity.LOW),
        ("0.1", Severity.LOW),
        ("HIGH", Severity.HIGH),
        ("critical", Severity.CRITICAL),
    ],
)
def test_security_severity_forms(value: object, severity: Severity) -> None:
    rules = [{"id": "R1", "properties": {"security-severity": value}}]
    f = one(log(run([result()], rules)))
    assert f.severity is severity
    assert f.details["security_severity"] == str(value)


@pytest.mark.parametrize("value", ["0.0", 0, "11", -1, "n/a", True, "UNKNOWN", "nan"])
def test_unusable_security_severity_falls_back_to_the_level(value: object) -> None:
    rules = [{"id": "R1", "properties": {"security-severity": value}}]
    f = one(log(run([result(level="note")], rules)))
    assert f.severity is Severity.LOW and f.details["severity_source"] == "result level"


def test_result_security_severity_wins_over_the_rule() -> None:
    rules = [{"id": "R1", "properties": {"security-severity": "2.0"}}]
    f = one(log(run([result(properties={"security-severity": "9.5"})], rules)))
    assert f.severity is Severity.CRITICAL
    assert f.details["severity_source"] == "result security-severity"


@pytest.mark.parametrize(
    ("res_level", "rule_level", "severity", "source"),
    [
        ("error", None, Severity.HIGH, "result level"),
        ("warning", "error", Severity.MEDIUM, "result level"),
        ("note", None, Severity.LOW, "result level"),
        ("none", None, Severity.LOW, "result level"),
        (None, "error", Severity.HIGH, "rule level"),
        (None, "note", Severity.LOW, "rule level"),
        (None, None, Severity.MEDIUM, "default level"),
        ("severe", None, Severity.UNKNOWN, "result level"),
    ],
)
def test_level_fallbacks(
    res_level: str | None, rule_level: str | None, severity: Severity, source: str
) -> None:
    rule: dict[str, Any] = {"id": "R1"}
    if rule_level:
        rule["defaultConfiguration"] = {"level": rule_level}
    res = result(level=res_level) if res_level else result()
    f = one(log(run([res], [rule])))
    assert f.severity is severity and f.details["severity_source"] == source


def test_rule_lookup_by_index_by_reference_and_by_id() -> None:
    rules = [{"id": "A", "shortDescription": {"text": "rule A"}}, {"id": "B"}]
    ext = {"name": "pack", "rules": [{"id": "C", "shortDescription": {"text": "rule C"}}]}
    doc = log(
        {
            "tool": {"driver": {"name": "T", "rules": rules}, "extensions": [ext]},
            "results": [
                {"ruleIndex": 0, "message": {"text": "m"}},
                {"rule": {"id": "C", "index": 0, "toolComponent": {"index": 0}}, "message": {}},
                {"rule": {"index": 0, "toolComponent": {"name": "pack"}}, "message": {}},
                {"ruleId": "C", "message": {"text": "by id"}},
                {"ruleIndex": 7, "message": {"text": "dangling"}},
                {"ruleId": "A/child/leaf", "message": {"text": "hierarchical"}},
            ],
        }
    )
    r = parse_doc(doc)
    assert [(f.id, f.title) for f in r.findings] == [
        ("A", "rule A"),
        ("C", "rule C"),
        ("C", "rule C"),
        ("C", "rule C"),
        (NO_RULE_ID, "dangling"),
        ("A/child/leaf", "rule A"),
    ]
    assert "1 result(s) name no rule" in r.warnings[0]


def test_message_strings_and_arguments() -> None:
    rules = [{"id": "R1", "messageStrings": {"default": {"text": "{0} flows to {1} ({2})"}}}]
    res = result(message={"id": "default", "arguments": ["input", "sink", 3]})
    f = one(log(run([res], rules)))
    assert f.details["message"] == "input flows to sink (3)"
    assert f.title == "input flows to sink (3)"


def test_locations_resolve_uri_bases_artifacts_and_working_directory() -> None:
    def loc(**art: Any) -> list[dict[str, Any]]:
        region = {"startLine": 4, "endLine": 5, "startColumn": 2, "endColumn": 9}
        return [{"physicalLocation": {"artifactLocation": art, "region": region}}]

    doc = log(
        run(
            [
                result(locations=loc(uri="file:///work/repo/src/a%20b.py")),
                result(locations=loc(uri="lib/x.js", uriBaseId="SRC")),
                result(locations=loc(index=0)),
                result(locations=loc(uri="./pkg/y.go", uriBaseId="%SRCROOT%")),
                result(locations=loc(uri="C:\\code\\w.c")),
                result(locations=[{"logicalLocations": [{"name": "f"}]}]),
            ],
            invocations=[
                {"executionSuccessful": True, "workingDirectory": {"uri": "file:///work/repo/"}}
            ],
            originalUriBaseIds={
                "ROOT": {"uri": "file:///work/repo/"},
                "SRC": {"uri": "web", "uriBaseId": "ROOT"},
            },
            artifacts=[{"location": {"uri": "gen/z.ts", "uriBaseId": "SRC"}}],
        )
    )
    r = parse_doc(doc)
    paths = [f.location.path if f.location else None for f in r.findings]
    assert paths == ["src/a b.py", "web/lib/x.js", "web/gen/z.ts", "pkg/y.go", "C:/code/w.c", None]
    first = r.findings[0].location
    assert first is not None
    assert (first.start_line, first.end_line, first.start_column, first.end_column) == (4, 5, 2, 9)


def test_fingerprints_kinds_and_timestamps() -> None:
    res = result(
        kind="pass",
        partialFingerprints={"primaryLocationLineHash": "abc:1"},
        fingerprints={"matchBasedId/v1": "xyz"},
    )
    inv = {"executionSuccessful": True, "endTimeUtc": "2026-03-01T10:00:00.123456789Z"}
    r = parse_doc(log(run([res], invocations=[inv], automationDetails={"id": "cat/1"})))
    f = r.findings[0]
    assert f.status == "pass"
    assert f.location is not None
    assert f.location.fingerprints == {"primaryLocationLineHash": "abc:1", "matchBasedId/v1": "xyz"}
    assert f.details["category"] == "cat/1"
    assert r.freshness_source == "report" and r.created_at is not None
    assert r.created_at.isoformat() == "2026-03-01T10:00:00.123456+00:00"


def test_file_mtime_is_the_freshness_without_report_time(tmp_path: Path) -> None:
    p = tmp_path / "x.sarif"
    p.write_text(json.dumps(log(run([]))))
    r = SarifIngestor().parse_file(p)
    assert r.freshness_source == "file-mtime" and r.freshness is not None
