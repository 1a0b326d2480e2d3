"""What a reviewer sees beside the findings (issue 11): dependencies pip-audit could not
audit, counts after merging, ignored findings by reason, each input path once, and the exact
exceptions entry that accepts a failing finding, which the real loader and engine accept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gate.models import Decision, SourceRef
from gate.report.console import render_console
from gate.report.markdown import render_markdown
from tests.report.builders import decided, image_input, verdict, vuln

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "tests" / "data" / "reports"
NPM = REPORTS / "npm-audit" / "v2-nar-all-severity-levels.json"
PIP = REPORTS / "pip-audit" / "dd-legacy-list-many-vulns.json"


def _gate(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict, str]:  # type: ignore[type-arg]
    out, summary = tmp_path / "v.json", tmp_path / "s.md"
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "check", *args, "--json", str(out), "--summary", str(summary)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    return proc, json.loads(out.read_text()), summary.read_text()


def test_the_suggested_exceptions_entry_accepts_the_finding(tmp_path: Path) -> None:
    proc, doc, md = _gate(tmp_path, "--npm-audit", str(NPM))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("to accept a risk:"))
    entry = lines[at + 1].strip()
    assert entry.startswith("- {id: ") and f"`{entry}`" in md
    first = next(f for f in doc["findings"] if f["decision"] == "fail")
    assert f'id: "{first["id"]}"' in entry
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(f"apiVersion: gate/v1\nexceptions:\n  {entry}\n", encoding="utf-8")
    proc, doc, _ = _gate(tmp_path, "--npm-audit", str(NPM), "--exceptions", str(exceptions))
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 1), proc.stderr
    (again,) = [
        f for f in doc["findings"] if f["id"] == first["id"] and f["package"] == first["package"]
    ]
    assert again["decision"] == "excepted"


def test_pip_audits_skipped_dependencies_are_shown_once_under_their_input(tmp_path: Path) -> None:
    proc, _, md = _gate(tmp_path, "--pip-audit", str(PIP))
    assert "### ⚠️ Not audited (1)" in md
    assert "azure-devops: Dependency not found on PyPI" in md
    out = proc.stdout
    assert out.count(str(PIP)) == 2  # the inputs line, and once above what it could not audit
    assert "not audited (1; pip-audit could not):" in out
    assert "azure-devops: Dependency not found on PyPI" in out


def test_counts_are_after_merging_and_each_input_path_is_shown_once() -> None:
    f = vuln()
    merged = f.model_copy(
        update={
            "sources": (
                *f.sources,
                SourceRef(kind=f.sources[0].kind, path="again.json", pointer="R[0]"),
            )
        }
    )
    a = image_input([f, vuln(pointer="R[1]")]).model_copy(update={"warnings": ("w1", "w2", "w3")})
    b = image_input([f], path="again.json")
    v = verdict([a, b], [decided(merged)])
    md = render_markdown(v)
    assert (
        "| trivy | `trivy.json` | `111111111111` | ✅ ok (3 warnings) | 1 | 2 | Trivy 0.76.0 |"
        in md
    )
    assert "| trivy | `again.json` | `111111111111` | ✅ ok | 1 | 1 | Trivy 0.76.0 |" in md
    notes = md.split("### Notes", 1)[1].split("###", 1)[0]
    assert notes.count("trivy.json") == 1 and all(w in notes for w in ("w1", "w2", "w3"))
    console = render_console(v)
    assert "trivy trivy.json (1 findings)" in console and "trivy again.json (1 findings)" in console
    assert console.count("trivy.json") == 2  # the inputs line and its warnings' heading


def test_ignored_findings_are_counted_with_their_reasons() -> None:
    fs = [vuln(f"CVE-2024-000{i}", pointer=f"R[{i}]") for i in range(3)]
    ds = [
        decided(
            fs[0],
            Decision.IGNORED,
            "vulnerabilities.ignore_unfixed",
            "HIGH, no fix → ignore_unfixed",
        ),
        decided(
            fs[1],
            Decision.IGNORED,
            "vulnerabilities.ignore_unfixed",
            "LOW, no fix → ignore_unfixed",
        ),
        decided(fs[2], Decision.IGNORED, "secrets", "the policy has no secrets section"),
    ]
    v = verdict([image_input(fs)], ds)
    md = render_markdown(v)
    assert "### Ignored (3)" in md
    assert "| 2 | `vulnerabilities.ignore_unfixed` | HIGH, no fix → ignore_unfixed |" in md
    assert "| 1 | `secrets` | the policy has no secrets section |" in md
    console = render_console(v)
    assert (
        "ignored: 2 by vulnerabilities.ignore_unfixed (e.g. HIGH, no fix → ignore_unfixed); 1 by secrets"
        in console
    )


def test_a_hostile_id_in_the_suggested_entry_stays_escaped() -> None:
    from tests.hostile import inject

    evil = vuln("CVE-1\n::error::x\u202e`](https://evil.example)")
    v = verdict([image_input([evil])], [decided(evil)])
    md = render_markdown(v)
    section = md.split("### How to accept a risk", 1)[1].split("###", 1)[0]
    assert "CVE-1" in section
    assert inject.raw_controls(section) == [] and inject.html_problems(section) == []
    assert "\n::error" not in section
    console = render_console(v)
    assert inject.raw_controls(console) == [] and "\n::error" not in console
