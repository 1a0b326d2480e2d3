"""Policies A and B from issue 2 on real reports: the verdict a careful reader expects.

A: fail_on HIGH, ignore_unfixed true,  unknown_severity warn
B: fail_on HIGH, ignore_unfixed false, unknown_severity fail

Each expectation below was worked out by reading the report: which findings are HIGH or
CRITICAL, whether a fixed version exists, and whether the scanner gives a severity at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "reports"
POLICY_A = "apiVersion: gate/v1\nvulnerabilities: {fail_on: HIGH, ignore_unfixed: true, unknown_severity: warn}\n"
POLICY_B = "apiVersion: gate/v1\nvulnerabilities: {fail_on: HIGH, ignore_unfixed: false, unknown_severity: fail}\n"

EXPECTED = {
    # trivy: (A, B)
    "trivy/dd-all-statuses.json": (0, 0),  # all eight statuses, none HIGH/CRITICAL
    "trivy/dd-kubernetes-cluster.json": (3, 3),  # a `trivy k8s` report: not an image scan
    "trivy/dd-legacy-no-vuln.json": (3, 3),  # the literal `null`
    "trivy/dd-license-scheme.json": (0, 0),  # licenses only
    # one fixable HIGH vulnerability, but also secrets and misconfigurations, which A and B
    # have no section to judge: an ERROR (issue 9: no input is silently unjudged)
    "trivy/dd-misconfigs-and-secrets.json": (3, 3),
    "trivy/realworld-moj-trivy-results.json-is-sarif.json": (3, 3),  # SARIF given as --trivy
    "trivy/realworld-prometheus-mcp-image.json": (0, 1),  # 11 HIGH/CRITICAL, none fixable
    "trivy/trivy-golden-alpine-39-skip.json": (0, 0),  # no Results: a clean scan
    "trivy/trivy-golden-centos-6.json": (0, 0),  # end_of_life and fixed, none HIGH
    "trivy/trivy-golden-fluentd-gems.json": (1, 1),  # fixable CRITICAL and HIGH
    "trivy/trivy-golden-secrets.json": (3, 3),  # secrets, and A/B judge only vulnerabilities
    "trivy/trivy-golden-ubi-7.json": (0, 0),  # will_not_fix, LOW by the vendor (NVD says HIGH)
    "trivy/trivy-legacy-old-format.json": (1, 1),  # legacy top-level array, fixable HIGH
    "trivy/trivy-report-new-minimal.json": (1, 1),
    # npm audit
    "npm-audit/v1-npm6-dd-error-enoaudit.json": (3, 3),  # the error body is not a report
    "npm-audit/v1-npm6-nar-all-severity.json": (1, 1),  # high, patched >=2.3.3
    "npm-audit/v1-npm6-nar-one-vuln.json": (1, 1),
    "npm-audit/v2-arborist-unfixable-semver.json": (0, 0),  # low only
    "npm-audit/v2-nar-all-severity-levels.json": (1, 1),  # critical sapper <0.27.11
    "npm-audit/v2-nar-no-vulns.json": (0, 0),
    "npm-audit/v2-npmcli-json-audit-snapshot.json": (0, 1),  # high, range `*`: no fix
    # pip-audit: no severities, so A warns and B fails on any vulnerability
    "pip-audit/dd-legacy-list-many-vulns.json": (0, 1),
    "pip-audit/dd-new-empty.json": (3, 3),  # no dependency: it examined nothing
    "pip-audit/dd-new-zero-vulns-skip.json": (0, 0),  # the skipped dependency is reported
    "pip-audit/readme-example-legacy-list.json": (0, 1),
    "pip-audit/realworld-vulnflask-unfixed-no-aliases.json": (0, 1),
    "pip-audit/realworld-secureflask-12-vulns.json": (0, 1),
}


def run_gate(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out + out.err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_policies_a_and_b(name, tmp_path, capsys):
    kind = name.split("/")[0]
    for label, text, want in (
        ("A", POLICY_A, EXPECTED[name][0]),
        ("B", POLICY_B, EXPECTED[name][1]),
    ):
        policy = tmp_path / f"{label}.yaml"
        policy.write_text(text)
        code, output = run_gate(
            ["check", f"--{kind}", str(DATA / name), "--policy", str(policy)], capsys
        )
        assert code == want, f"policy {label} on {name}: exit {code}, want {want}\n{output}"
        assert "Traceback" not in output and "internal error" not in output


def test_expectations_cover_every_bundled_report():
    bundled = {str(p.relative_to(DATA)) for p in DATA.glob("*/*.json")}
    assert bundled == set(EXPECTED)
