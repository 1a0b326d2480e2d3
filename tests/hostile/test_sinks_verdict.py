"""Every payload at once in every printed field: defused at each sink, verbatim in the verdict.

A real Trivy report (`trivy-report-new-minimal.json`) gets one vulnerability per payload,
that payload in its id, package, versions, title and URL; a real SARIF file
(`codeql-action-valid-2-runs.sarif`, its rules made HIGH so they fail and are annotated)
gets one result per payload, in its message, file path and rule. Then the console,
stderr, annotations, step summary and SARIF must be clean, and the JSON verdict must hold
each hostile string exactly as the report had it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.hostile import inject

TRIVY = inject.DATA / "reports" / "trivy" / "trivy-report-new-minimal.json"
SARIF = inject.DATA / "sarif" / "codeql-action-valid-2-runs.sarif"


def _hostile_trivy(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    doc = json.loads(TRIVY.read_text())
    template = doc["Results"][0]["Vulnerabilities"][0]
    vulns = []
    for i, p in enumerate(inject.PAYLOADS):
        v = copy.deepcopy(template)
        v.update(
            VulnerabilityID=f"CVE-2020-{i:04d}{p}",
            PkgName=f"pkg{i}{p}",
            InstalledVersion=f"1.{i}{p}",
            FixedVersion=f"2.{i}{p}",
            Title=f"title {i} {p}",
            PrimaryURL=f"https://avd.aquasec.com/nvd/{i}{p}",
        )
        vulns.append(v)
    doc["Results"][0]["Vulnerabilities"] = vulns
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path, vulns


def _hostile_sarif(tmp_path: Path) -> tuple[Path, list[str]]:
    doc = json.loads(SARIF.read_text())
    run = doc["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    rule["properties"]["security-severity"] = "8.0"
    template = run["results"][0]
    rules, results, messages = [], [], []
    for i, p in enumerate(inject.PAYLOADS):
        r = copy.deepcopy(rule)
        r["id"] = f"js/rule-{i}{p}"
        r["shortDescription"]["text"] = f"short {i} {p}"
        r["helpUri"] = f"https://codeql.github.com/{i}{p}"
        r["help"] = {"text": f"help {i}\n{p}", "markdown": f"# help {i}\n{p}"}
        rules.append(r)
        res = copy.deepcopy(template)
        res["ruleId"], res["ruleIndex"] = r["id"], i
        res["message"]["text"] = f"message {i} {p}"
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = f"src/{i}{p}.js"
        res["partialFingerprints"]["primaryLocationLineHash"] = f"{i}{p}"
        results.append(res)
        messages.append(res["message"]["text"])
    run["tool"]["driver"]["rules"], run["results"] = rules, results
    path = tmp_path / "hostile.sarif"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path, messages


@pytest.mark.parametrize("actions", [False, True], ids=["terminal", "github-actions"])
def test_every_payload_in_every_field_at_once(actions, run_gate, hostile_policy, tmp_path) -> None:
    trivy, vulns = _hostile_trivy(tmp_path)
    sarif, messages = _hostile_sarif(tmp_path)
    run = run_gate(
        ["--trivy", str(trivy), "--sarif", str(sarif), "--policy", str(hostile_policy)],
        actions=actions,
    )
    assert run.code == 1, run.out + run.err  # HIGH, fixable: FAIL, as without the payloads
    for name, stream in (("stdout", run.out), ("stderr", run.err)):
        assert inject.raw_controls(stream) == [], f"{name}: {stream!r}"
        assert inject.foreign_commands(stream, actions=actions) == [], stream
    if actions:  # gate's own annotations still work: one per failing SARIF result in a file
        annotations = [c for c in inject.workflow_commands(run.out) if c.name == "error"]
        # (a path holding `://` is a URL, not a repository file: not annotated)
        assert len(annotations) == sum("://" not in p for p in inject.PAYLOADS)
        assert all("title=gate%3A HIGH" in c.line for c in annotations)
    assert run.summary is not None and run.sarif is not None and run.sarif_text is not None
    assert inject.raw_controls(run.summary) == []
    assert inject.html_problems(run.summary) == []
    assert inject.raw_controls(run.sarif_text) == []
    assert inject.sarif_problems(run.sarif) == []
    # GitHub renders the links it may: the safe PrimaryURLs, never one with a payload in it
    assert "](https://avd.aquasec.com/nvd/0)" not in run.summary

    # the JSON verdict: every hostile string verbatim
    assert run.verdict is not None
    findings = {f["id"]: f for f in run.verdict["findings"]}
    for v in vulns:
        f = findings[v["VulnerabilityID"]]
        assert f["package"] == v["PkgName"]
        assert f["version"] == v["InstalledVersion"]
        assert f["title"] == v["Title"]
        assert v["FixedVersion"].strip() in f["fixed_versions"][0]
    strings = set(inject.verdict_strings(run.verdict))
    for m in messages:
        assert any(m in s for s in strings), m


def test_the_json_verdict_on_stdout_is_verbatim_and_runs_no_command(
    hostile_policy, tmp_path, capsys, monkeypatch
) -> None:
    """`--json -` prints the verdict with every string verbatim, and yet a `##[` in one
    (which the runner would execute anywhere in a line) is JSON-escaped: `##\\u005b`."""
    from gate.cli import main

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    trivy, vulns = _hostile_trivy(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["check", "--trivy", str(trivy), "--policy", str(hostile_policy), "--json", "-"])
    assert info.value.code == 1
    out = capsys.readouterr().out
    assert inject.foreign_commands(out, actions=True) == []
    verdict, _ = json.JSONDecoder().raw_decode(out)
    titles = {f["title"] for f in verdict["findings"]}
    assert titles == {v["Title"] for v in vulns}
