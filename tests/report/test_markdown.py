"""The GitHub step summary: readable, complete for every finding kind, under 1 MiB."""

from __future__ import annotations

from pathlib import Path

from gate.engine import evaluate
from gate.ingest import load_report
from gate.models import (
    DecidedFinding,
    Decision,
    ExceptionReport,
    ExceptionUse,
    Finding,
    FindingKind,
    InputKind,
    Location,
    Severity,
    SourceRef,
)
from gate.policy.model import Policy
from gate.report.markdown import MAX_BYTES, cell, code, prose, render_markdown
from tests.report.builders import (
    NOW,
    broken_input,
    code_finding,
    decided,
    image_input,
    sarif_input,
    verdict,
    vuln,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "sarif"


def use(id: str, days_left: int, matched: int = 1, index: int = 0) -> ExceptionUse:
    return ExceptionUse(
        index=index,
        id=id,
        package="pkg:npm/lodash",
        reason="not reachable | server side\nonly",
        expires="2026-12-31",
        owner="@platform",
        matched=matched,
        days_left=days_left,
    )


def test_cells_escape_pipes_newlines_and_html() -> None:
    # a field's own line breaks are shown escaped (\\n in markdown renders as \n)
    assert cell("a | b\nc\r\nd") == "a \\| b\\\\nc\\\\r\\\\nd"
    # gate's messages keep their lines
    assert prose("a | b\nc") == "a \\| b<br>c"
    assert cell("<script>&") == "&lt;script&gt;&amp;"
    assert cell("x" * 400).endswith("…") and len(cell("x" * 400)) == 300
    # a longer fence than any backtick run inside: the span holds the text verbatim
    assert code("a`b|c\nd") == "`` a`b\\|c\\nd ``"


def test_fail_headline_then_failing_findings_with_fix_and_location_then_warnings() -> None:
    v1 = vuln("CVE-2024-0001", title="lodash | prototype\npollution")
    v2 = vuln("CVE-2024-0002", severity=Severity.MEDIUM, name="minimist", fixed=())
    c = code_finding()
    secret = Finding(
        kind=FindingKind.SECRET,
        id="github-pat",
        title="GitHub Personal Access Token",
        severity=Severity.CRITICAL,
        location=Location(path="app/.env", start_line=1),
        sources=(SourceRef(kind=InputKind.TRIVY, path="trivy.json", pointer="Results[1]"),),
    )
    v = verdict(
        [image_input([v1, v2, secret]), sarif_input([c])],
        [
            decided(v1, reason="HIGH ≥ fail_on HIGH, fixed in 4.17.21"),
            decided(secret, rule="secrets.fail_on", reason="CRITICAL ≥ fail_on LOW"),
            decided(c, rule="code_scanning.fail_on"),
            decided(v2, Decision.WARN, "vulnerabilities.warn_on", "MEDIUM ≥ warn_on MEDIUM"),
        ],
        subject=image_input().subject,
    )
    md = render_markdown(v)
    assert md.startswith("## ❌ gate: FAIL: 3 findings fail the policy\n")
    assert "**Findings:** 3 fail · 1 warn · 0 excepted · 0 pass · 0 ignored" in md
    assert "`ghcr.io/acme/app:1.0@sha256:abab" in md and "policy `production`" in md
    fail_at, warn_at = md.index("### ❌ Failing (3)"), md.index("### ⚠️ Warnings (1)")
    assert fail_at < warn_at
    failing = md[fail_at:warn_at]
    assert failing.index("github-pat") < failing.index("CVE-2024-0001")  # CRITICAL first
    assert "lodash \\| prototype\\\\npollution" in failing  # the title's newline, escaped
    assert "`lodash@4.17.20` (npm) | fixed in 4.17.21 |" in failing
    assert "`src/db.js:12`" in failing and "`app/.env:1`" in failing
    assert "[CVE-2024-0001](https://avd.aquasec.com/nvd/cve-2024-0001)" in failing
    assert "no fix released" in md[warn_at:]
    assert "| trivy | 1 | 1 | 1 | 0 | 0 | 2 | 1 | 0 | 0 | 0 |" in md
    assert "| sarif | 0 | 1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 |" in md


def test_error_verdict_lists_the_errors_and_input_status() -> None:
    v = verdict(
        [image_input(), broken_input()],
        [],
        errors=["npm.json: not valid JSON: Expecting value at line 1, column 1"],
    )
    md = render_markdown(v)
    assert md.startswith("## 🛑 gate: ERROR: gate could not judge (1 problem); nothing passes")
    errors = md[md.index("### 🛑 Errors") :]
    assert "- npm.json: not valid JSON" in errors
    assert "| trivy | `trivy.json` | `111111111111` | ✅ ok | 0 | 0 | Trivy 0.76.0 |" in md
    assert "| npm-audit | `npm.json` | - | 🛑 error: npm.json: not valid JSON |" in md
    assert "No findings." in md


def test_pass_with_warnings_headline() -> None:
    f = vuln(severity=Severity.MEDIUM)
    md = render_markdown(verdict([image_input([f])], [decided(f, Decision.WARN)]))
    assert md.startswith("## ✅ gate: PASS: every rule holds, with 1 warning\n")
    assert "### ❌ Failing" not in md


def test_exceptions_used_expiring_expired_unused() -> None:
    report = ExceptionReport(
        used=(use("CVE-2024-0001", 5, index=0),),
        unused=(use("CVE-2023-9999", 90, matched=0, index=1),),
        expired=(use("CVE-2022-1111", -3, matched=0, index=2),),
        expiring=(use("CVE-2024-0001", 5, index=0),),
    )
    md = render_markdown(verdict([image_input()], [], exceptions=report))
    section = md[md.index("### Exceptions") :]
    assert "1 used · 1 unused · 1 expired · 1 expiring soon" in section
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]
    assert rows[0].startswith("| 🛑 expired | `CVE-2022-1111`")
    assert rows[1].startswith(
        "| ✅ used (expiring) | `CVE-2024-0001` | `pkg:npm/lodash` | @platform"
    )
    assert "2026-12-31 (5 days left)" in rows[1]
    assert "not reachable \\| server side<br>only" in rows[1]
    assert rows[2].startswith("| 💤 unused | `CVE-2023-9999`")


def test_code_scanning_section_from_real_sarif() -> None:
    policy = Policy.model_validate({"apiVersion": "gate/v1", "code_scanning": {"fail_on": "HIGH"}})
    runs = [
        load_report(InputKind.SARIF, DATA / "suppressions-mixed-external-insource.sarif"),
        load_report(InputKind.SARIF, DATA / "codeql-2.19.3-python-codeql-action-minified.sarif"),
        load_report(InputKind.SARIF, DATA / "gitleaks-7.sarif"),
    ]
    md = render_markdown(evaluate(runs, policy, NOW))
    section = md[md.index("### Code scanning") : md.index("### Inputs")]
    assert "| CodeQL | 2.19.3 | 2 | 2 | 0 | 0 | 0 | 0 |" in section
    assert "| CodeScanner | - | 5 | 0 | 0 | 3 | 0 | 2 |" in section
    assert "AKIAIOSFODNN7EXAMPLE" not in md


def many(n: int, reason: str) -> list[DecidedFinding]:
    """n findings that repeat 2,000 distinct ones (building 100,000 models takes seconds)."""
    distinct = []
    for i in range(2_000):
        f = vuln(f"CVE-2024-{i:06d}", name=f"p{i}", fixed=())
        decision = Decision.FAIL if i % 2 else Decision.WARN
        distinct.append(decided(f, decision, reason=reason))
    return [distinct[i % len(distinct)] for i in range(n)]


def test_100k_findings_stay_under_the_step_summary_limit() -> None:
    findings = many(100_000, "HIGH ≥ fail_on HIGH")
    md = render_markdown(verdict([image_input()], findings))
    size = len(md.encode())
    assert size <= MAX_BYTES < 1024 * 1024
    assert "… and 49,000 more not shown (at most 1,000 rows are shown)" in md
    assert "… and 49,700 more not shown (at most 300 rows are shown)" in md


def test_the_byte_budget_cuts_long_rows_with_a_note() -> None:
    findings = many(5_000, "why " * 200)
    md = render_markdown(verdict([image_input()], findings), max_bytes=200_000)
    assert len(md.encode()) <= 200_000
    assert "GitHub's 1 MiB step-summary limit" in md
    assert md.count("\n| 🟧 HIGH |") < 1000
