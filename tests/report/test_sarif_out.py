"""gate's SARIF output: schema-valid, within GitHub's limits, stable across builds."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from gate.engine import evaluate
from gate.ingest import load_report
from gate.models import Decision, InputKind, Severity
from gate.policy.model import Policy
from gate.report import sarif_limits as limits
from gate.report.sarif import render_sarif, schema_path, write_sarif
from tests.report.builders import (
    DIGEST,
    NOW,
    broken_input,
    code_finding,
    decided,
    image_input,
    sarif_input,
    schema_errors,
    verdict,
    vuln,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "sarif"
SARIF_FILES = sorted(
    p.name
    for p in DATA.glob("*.sarif")
    if p.name
    not in {
        "codeql-action-invalid-results-not-array.sarif",
        "sarif-2.0.0-prerelease-REJECT.sarif",
        "no-runs.sarif",  # examined nothing: an ERROR (issue 9)
    }
)
POLICY = Policy.model_validate(
    {
        "apiVersion": "gate/v1",
        "vulnerabilities": {"fail_on": "HIGH", "warn_on": "MEDIUM"},
        "code_scanning": {"fail_on": "HIGH", "warn_on": "MEDIUM"},
    }
)


def check_github_rules(doc: dict[str, Any]) -> None:
    """What GitHub requires beyond the schema (docs: SARIF support for code scanning)."""
    assert doc["version"] == "2.1.0" and doc["$schema"]
    assert 1 <= len(doc["runs"]) <= limits.MAX_RUNS
    categories = [r["automationDetails"]["id"] for r in doc["runs"]]
    assert len(set(categories)) == len(categories), "one category per run"
    for run in doc["runs"]:
        assert run["tool"]["driver"]["name"]
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) <= limits.MAX_RULES_PER_RUN
        assert len(run["results"]) <= limits.MAX_RESULTS_PER_RUN
        for rule in rules:
            assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
            assert len(rule["shortDescription"]["text"]) <= 1024
            assert len(rule["fullDescription"]["text"]) <= 1024
            assert len(rule.get("name", "")) <= 255
            assert rule["help"]["text"] and rule["help"]["markdown"]
            assert "security" in rule["properties"]["tags"]
            assert len(rule["properties"]["tags"]) <= limits.MAX_TAGS_PER_RULE
            if "security-severity" in rule["properties"]:
                assert 0 < float(rule["properties"]["security-severity"]) <= 10
        for res in run["results"]:
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
            assert res["message"]["text"]
            assert 1 <= len(res["locations"]) <= limits.MAX_LOCATIONS_PER_RESULT
            assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_the_bundled_schema_is_the_official_errata01_draft4() -> None:
    import jsonschema

    raw = schema_path().read_bytes()
    assert hashlib.sha256(raw).hexdigest().startswith("c3b4bb2d60938974")
    schema = json.loads(raw)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)


def test_the_validator_rejects_what_github_would() -> None:
    doc, _ = render_sarif(verdict([image_input()], [decided(vuln())]))
    assert schema_errors(doc) == []
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"] = "x"
    assert len(schema_errors(doc)) == 2


@pytest.mark.parametrize("name", SARIF_FILES)
def test_every_sarif_input_comes_out_valid_under_its_own_tool(name: str) -> None:
    run = load_report(InputKind.SARIF, DATA / name)
    v = evaluate([run], POLICY, NOW)
    doc, notes = render_sarif(v, root=DATA, include="all")
    assert schema_errors(doc) == []
    check_github_rules(doc)
    tools = run.facts.as_json()["sarif_tools"]
    runs = doc["runs"] if tools else []
    # each run of the input keeps its own run, tool and version
    originals = run.facts.as_json()["sarif_runs"]
    assert sorted(r["tool"]["driver"]["name"] for r in runs) == sorted(o["tool"] for o in originals)
    assert sorted(r["tool"]["driver"].get("version") or "" for r in runs) == sorted(
        o["version"] or "" for o in originals
    )
    assert sum(len(r["results"]) for r in doc["runs"]) == len(run.findings)
    written = {(r["tool"]["driver"]["name"], res["ruleId"]) for r in runs for res in r["results"]}
    assert written == {(f.tool, f.id) for f in run.findings}
    for r in runs:
        assert r["automationDetails"]["id"].startswith("gate/sarif/")
        assert r["tool"]["extensions"][0]["name"] == "gate"


def test_code_results_keep_fingerprints_and_unlink_related_locations() -> None:
    f = code_finding()
    v = verdict([sarif_input([f])], [decided(f, rule="code_scanning.fail_on")])
    doc, _ = render_sarif(v)
    (res,) = doc["runs"][0]["results"]
    assert res["partialFingerprints"] == {"p": "1"}
    assert res["message"]["text"].startswith("gate fails the policy: HIGH ≥ fail_on HIGH.")
    assert "depends on a user-provided value." in res["message"]["text"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc == {
        "artifactLocation": {"uri": "src/db.js"},
        "region": {"startLine": 12, "startColumn": 5, "endColumn": 9},
    }
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["properties"]["security-severity"] == "8.8"


def test_trivy_findings_go_under_gate_with_a_stable_location(tmp_path: Path) -> None:
    run = load_report(InputKind.TRIVY, DATA / "trivy-golden-alpine-310.json")
    assert run.status.value == "ok"
    v = evaluate([run], POLICY, NOW)
    doc, _ = render_sarif(v, root=tmp_path)
    assert schema_errors(doc) == []
    check_github_rules(doc)
    (out,) = doc["runs"]
    driver = out["tool"]["driver"]
    assert driver["name"] == "gate" and driver["version"] and driver["informationUri"]
    assert out["automationDetails"]["id"] == (
        "gate/trivy/testdata/fixtures/images/alpine-310.tar.gz/"
    )
    assert out["properties"]["imageID"] == run.subject.image_id  # type: ignore[union-attr]
    assert out["properties"]["repoTags"] == ["ghcr.io/aquasecurity/trivy-test-images:alpine-310"]
    rule = next(r for r in driver["rules"] if r["id"] == "CVE-2019-1549")
    assert rule["properties"]["tags"] == ["security", "vulnerability", "alpine"]
    assert float(rule["properties"]["security-severity"]) == 5.3  # its CVSS agrees with MEDIUM
    assert (
        "**Fix:** Upgrade libcrypto1.1 to 1.1.1d-r0; libssl1.1 to 1.1.1d-r0."
        in (rule["help"]["markdown"])
    )
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in out["results"]
    }
    assert uris == {".gate/image"}
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.10\n")
    doc2, _ = render_sarif(v, root=tmp_path)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in doc2["runs"][0]["results"]
    }
    assert uris == {"Dockerfile"}
    assert {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in doc2["runs"][0]["results"]
    } == {1}


def test_image_messages_and_run_properties_name_the_image_and_digest() -> None:
    f = vuln()
    v = verdict([image_input([f])], [decided(f)])
    doc, _ = render_sarif(v, root=DATA)
    run = doc["runs"][0]
    assert run["automationDetails"]["id"] == "gate/trivy/ghcr.io/acme/app/"
    assert run["properties"]["imageDigest"] == DIGEST
    (res,) = run["results"]
    assert res["message"]["text"] == (
        "CVE-2024-0001 in lodash@4.17.20 (npm) fails the policy: HIGH ≥ fail_on HIGH. "
        f"Image: ghcr.io/acme/app:1.0@{DIGEST}."
    )
    assert res["level"] == "error"


def fingerprint(version: str, digest: str, tag: str, name: str = "lodash") -> dict[str, str]:
    f = vuln(version=version, name=name)
    v = verdict([image_input([f], name=f"ghcr.io/acme/app:{tag}", digest=digest)], [decided(f)])
    doc, _ = render_sarif(v, root=DATA)
    return doc["runs"][0]["results"][0]["partialFingerprints"]  # type: ignore[no-any-return]


def test_fingerprints_survive_new_builds_but_not_other_findings() -> None:
    a = fingerprint("4.17.20", DIGEST, "1.0")
    assert fingerprint("4.17.20", "sha256:" + "cd" * 32, "2.0") == a  # the same finding
    assert set(a) == {"gate/v2", "primaryLocationLineHash"}
    assert a["primaryLocationLineHash"] == a["gate/v2"][:16] + ":1"
    assert fingerprint("4.17.20", DIGEST, "1.0", name="underscore") != a
    assert fingerprint("4.17.19", DIGEST, "1.0") != a  # another version: another finding


def test_excepted_results_are_suppressed_with_the_reason() -> None:
    exc = {
        "id": "CVE-2024-0001",
        "reason": "not reachable",
        "expires": "2026-12-31",
        "owner": "@team",
    }
    policy = POLICY.model_copy(
        update={
            "exceptions": [
                Policy.model_validate({"apiVersion": "gate/v1", "exceptions": [exc]}).exceptions[0]
            ]
        }
    )
    f = vuln()
    v = evaluate([image_input([f])], policy, NOW)
    assert v.findings[0].decision is Decision.EXCEPTED
    doc, _ = render_sarif(v, root=DATA)
    (res,) = doc["runs"][0]["results"]
    (sup,) = res["suppressions"]
    assert sup["kind"] == "external" and sup["status"] == "accepted"
    assert sup["justification"].startswith("excepted until 2026-12-31 by @team: not reachable")
    assert "excepted until 2026-12-31 by @team: not reachable" in res["message"]["text"]
    assert res["level"] == "note"
    insource = load_report(InputKind.SARIF, DATA / "suppressions-mixed-external-insource.sarif")
    doc2, _ = render_sarif(evaluate([insource], POLICY, NOW), root=DATA)
    kinds = sorted(s["kind"] for r in doc2["runs"][0]["results"] for s in r.get("suppressions", []))
    assert kinds == ["external", "external", "inSource"]


@pytest.mark.parametrize(
    ("decision", "level", "words"),
    [
        (Decision.FAIL, "error", "fails the policy"),
        (Decision.WARN, "warning", "warns"),
        (Decision.PASS, "note", "passes the policy"),
        (Decision.IGNORED, "note", "ignored by the policy"),
    ],
)
def test_levels_and_messages_follow_the_decision(
    decision: Decision, level: str, words: str
) -> None:
    f = vuln()
    v = verdict([image_input([f])], [decided(f, decision)])
    doc, _ = render_sarif(v, root=DATA, include="all")
    (res,) = doc["runs"][0]["results"]
    assert res["level"] == level and words in res["message"]["text"]
    attention, _ = render_sarif(v, root=DATA)  # the default: only what needs attention
    kept = decision in (Decision.FAIL, Decision.WARN)
    assert len(attention["runs"][0]["results"]) == kept
    assert res["properties"] == {
        "gate/decision": decision.value,
        "gate/rule": "vulnerabilities.fail_on",
    }
    assert "suppressions" not in res


def test_non_failure_kinds_stay_that_kind() -> None:
    f = code_finding(status="notApplicable")
    doc, _ = render_sarif(verdict([sarif_input([f])], [decided(f, Decision.PASS)]), include="all")
    (res,) = doc["runs"][0]["results"]
    assert (res["kind"], res["level"]) == ("notApplicable", "none")
    assert schema_errors(doc) == []


def test_output_is_deterministic(tmp_path: Path) -> None:
    findings = [
        vuln(f"CVE-2024-{i:04d}", name=f"p{i % 7}", severity=list(Severity)[i % 5])
        for i in range(60)
    ]
    codes = [code_finding(f"r/{i}", line=i + 1, pointer=f"runs[0].results[{i}]") for i in range(20)]
    inputs = [image_input(findings), sarif_input(codes)]
    ds = [
        decided(f, [Decision.FAIL, Decision.PASS, Decision.WARN][i % 3])
        for i, f in enumerate(findings + codes)
    ]
    write_sarif(verdict(inputs, ds), tmp_path / "a.sarif", root=DATA)
    random.Random(7).shuffle(ds)
    write_sarif(verdict(inputs[::-1], ds), tmp_path / "b.sarif", root=DATA)
    assert (tmp_path / "a.sarif").read_bytes() == (tmp_path / "b.sarif").read_bytes()
    assert b'"endTimeUtc":"2026-11-26T12:00:00Z"' in (tmp_path / "a.sarif").read_bytes()


def test_category_and_location_overrides() -> None:
    f, c = vuln(), code_finding()
    v = verdict([image_input([f]), sarif_input([c])], [decided(f), decided(c)])
    doc, _ = render_sarif(v, category="/nightly/", location="deploy/Containerfile", root=DATA)
    cats = sorted(r["automationDetails"]["id"] for r in doc["runs"])
    assert cats == ["nightly/sarif/codeql/codeql.sarif/", "nightly/trivy/ghcr.io/acme/app/"]
    trivy = next(r for r in doc["runs"] if r["tool"]["driver"]["name"] == "gate")
    loc = trivy["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "deploy/Containerfile"}


def test_clean_inputs_get_an_empty_run_and_unreadable_inputs_none() -> None:
    v = verdict([image_input(), broken_input()], [], errors=["npm.json: not valid JSON"])
    doc, _ = render_sarif(v, root=DATA)
    (run,) = doc["runs"]
    assert run["results"] == [] and run["automationDetails"]["id"] == "gate/trivy/ghcr.io/acme/app/"
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is True
    assert {"level": "error", "message": {"text": "npm.json: not valid JSON"}} in inv[
        "toolExecutionNotifications"
    ]
    assert run["properties"]["gate/result"] == "ERROR"
    assert schema_errors(doc) == []
    empty, _ = render_sarif(verdict([], []), root=DATA)
    assert [r["automationDetails"]["id"] for r in empty["runs"]] == ["gate/verdict/"]
    assert schema_errors(empty) == []


def test_rule_texts_are_cut_to_githubs_lengths() -> None:
    facts = {
        "r/long": {
            "short": "s" * 2000,
            "full": "f" * 1500,
            "name": "n" * 300,
            "tags": [f"t{i}" for i in range(30)],
            "level": "error",
        }
    }
    f = code_finding("r/long")
    doc, notes = render_sarif(verdict([sarif_input([f], rules=facts)], [decided(f)]))
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert len(rule["shortDescription"]["text"]) == 1024 and rule["shortDescription"][
        "text"
    ].endswith("…")
    assert len(rule["name"]) == 255 and len(rule["properties"]["tags"]) == 20
    assert rule["properties"]["tags"][:3] == ["security", "t0", "t1"]
    assert any("tags of 1 rule(s) cut" in n for n in notes)
    assert any("descriptions of 1 rule(s) cut" in n for n in notes)
    assert doc["runs"][0]["properties"]["gate/notes"] == notes
    check_github_rules(doc)


def sampled(doc: dict[str, Any], n: int = 200) -> dict[str, Any]:
    """The document with at most n rules and results per run: the schema's `uniqueItems` on
    `rules` makes jsonschema's check quadratic (25,000 rules take many minutes)."""
    out = []
    for r in doc["runs"]:
        driver = {**r["tool"]["driver"], "rules": r["tool"]["driver"]["rules"][:n]}
        out.append({**r, "tool": {**r["tool"], "driver": driver}, "results": r["results"][:n]})
    return {**doc, "runs": out}


def big_verdict(n_vulns: int, n_tools: int, failing_every: int) -> Any:
    tools = [f"tool{i:02d}" for i in range(n_tools)]
    findings = []
    for i in range(n_vulns):
        f = vuln(
            f"CVE-2024-{i:05d}",
            name=f"pkg{i % 500}",
            severity=list(Severity)[i % 4],
            pointer=f"R[{i}]",
        )
        findings.append(decided(f, Decision.FAIL if i % failing_every == 0 else Decision.PASS))
    inputs = [image_input([d.finding for d in findings])]
    for i, t in enumerate(tools):
        c = code_finding(f"{t}/rule", tool=t, input_path=f"{t}.sarif")
        inputs.append(sarif_input([c], path=f"{t}.sarif", tools=[t]))
        # the first three tools fail; the others pass
        findings.append(decided(c, Decision.FAIL if i < 3 else Decision.PASS))
    return verdict(inputs, findings)


def test_limits_cut_runs_and_results_keeping_failing_ones_first() -> None:
    v = big_verdict(30_000, 25, failing_every=150)
    doc, notes = render_sarif(v, root=DATA, include="all", location="Dockerfile")
    runs = doc["runs"]
    assert len(runs) == limits.MAX_RUNS
    names = {r["tool"]["driver"]["name"] for r in runs}
    assert {"gate", "tool00", "tool01", "tool02"} <= names
    trivy = next(r for r in runs if r["tool"]["driver"]["name"] == "gate")
    results = trivy["results"]
    assert len(results) == limits.MAX_RESULTS_PER_RUN
    fails = [r for r in results if r["properties"]["gate/decision"] == "fail"]
    assert len(fails) == 200 and results[:200] == fails  # every failing one, first
    assert any("dropped 6 run(s)" in n and "LIMIT EXCEEDED" not in n for n in notes)
    assert any("kept the 25,000 highest-priority of 30,000 results" in n for n in notes)
    for run in runs:
        assert (
            run["properties"]["gate/notes"][: len(notes)]
            == notes[: len(run["properties"]["gate/notes"])]
        )
        texts = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
        assert notes[0] in texts
    check_github_rules(doc)
    assert schema_errors(sampled(doc)) == []


def test_failing_results_beyond_a_limit_are_announced_loudly() -> None:
    v = big_verdict(25_010, 0, failing_every=1)
    _, notes = render_sarif(v, root=DATA, location="Dockerfile")
    (note,) = notes
    assert note.startswith("LIMIT EXCEEDED") and "10 FAILING results are NOT in the SARIF" in note


def test_the_gzip_limit_drops_lowest_priority_results() -> None:
    rng = random.Random(1)
    findings = []
    for i in range(3_000):
        noise = base64.b64encode(rng.randbytes(3_750)).decode()  # 5,000 incompressible chars
        f = vuln(f"CVE-2024-{i:05d}", name=f"pkg{i}", pointer=f"R[{i}]")
        findings.append(decided(f, Decision.FAIL if i < 50 else Decision.PASS, reason=noise))
    v = verdict([image_input([d.finding for d in findings])], findings)
    doc, notes = render_sarif(v, root=DATA, include="all", location="Dockerfile")
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(gzip.compress(data, compresslevel=6)) <= limits.MAX_GZIP_BYTES
    (note,) = notes
    assert "over GitHub's 10 MB limit; dropped the" in note and "LIMIT EXCEEDED" not in note
    results = doc["runs"][0]["results"]
    assert 1_500 < len(results) < 3_000
    assert sum(r["properties"]["gate/decision"] == "fail" for r in results) == 50
    assert doc["runs"][0]["properties"]["gate/notes"] == notes


def test_write_sarif_writes_the_rendered_document(tmp_path: Path) -> None:
    f = vuln()
    v = verdict([image_input([f])], [decided(f)])
    out = tmp_path / "gate.sarif"
    assert write_sarif(v, out, root=DATA, location="Dockerfile") == []
    assert json.loads(out.read_text()) == render_sarif(v, root=DATA, location="Dockerfile")[0]
    assert not (tmp_path / "gate.sarif.tmp").exists()
    with pytest.raises(OSError):
        write_sarif(v, tmp_path / "missing-dir" / "x.sarif")


def test_a_merged_multi_source_verdict_is_valid() -> None:
    runs = [load_report(InputKind.TRIVY, DATA / "trivy-golden-alpine-310.json")]
    runs += [load_report(InputKind.SARIF, DATA / n) for n in SARIF_FILES]
    runs.append(load_report(InputKind.SARIF, DATA / "sarif-2.0.0-prerelease-REJECT.sarif"))
    v = evaluate(runs, POLICY, NOW)
    doc, _ = render_sarif(v, root=DATA, include="all")
    assert schema_errors(doc) == []
    check_github_rules(doc)
    assert "gate" in {r["tool"]["driver"]["name"] for r in doc["runs"]}
    assert sum(len(r["results"]) for r in doc["runs"]) == len(v.findings)
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(doc)


def _kind_of(path: Path) -> InputKind | None:
    if path.suffix == ".sarif" or path.name.endswith("-is-sarif.json"):
        return InputKind.SARIF
    return {
        "trivy": InputKind.TRIVY,
        "npm-audit": InputKind.NPM_AUDIT,
        "pip-audit": InputKind.PIP_AUDIT,
    }.get(path.parent.name)


def test_every_corpus_report_gives_valid_sarif(corpus_dir: Path) -> None:
    """Corpus-wide sweep: each report alone, then all of them in one verdict."""
    import importlib.util

    present = {
        kind
        for kind, module in (
            (InputKind.SARIF, "gate.ingest.sarif"),
            (InputKind.TRIVY, "gate.ingest.trivy"),
            (InputKind.NPM_AUDIT, "gate.ingest.npm_audit"),
            (InputKind.PIP_AUDIT, "gate.ingest.pip_audit"),
        )
        if importlib.util.find_spec(module) is not None
    }
    runs = []
    for path in sorted(corpus_dir.glob("*/*")):
        kind = _kind_of(path)
        if kind is None or kind not in present or not path.is_file():
            continue
        run = load_report(kind, path)
        runs.append(run)
        v = evaluate([run], POLICY, NOW)
        doc, _ = render_sarif(v, root=corpus_dir, include="all")
        assert schema_errors(sampled(doc)) == [], path
        check_github_rules(doc)
        assert sum(len(r["results"]) for r in doc["runs"]) == len(v.findings), path
    ok = [r for r in runs if r.status.value == "ok"]
    assert {InputKind.SARIF, InputKind.TRIVY} <= {r.kind for r in ok}
    merged = evaluate(ok, POLICY, NOW)
    doc, notes = render_sarif(merged, root=corpus_dir, include="all")
    assert schema_errors(sampled(doc)) == []
    check_github_rules(doc)
    written = sum(len(r["results"]) for r in doc["runs"])
    assert written == len(merged.findings) or notes
