"""`gate check --vex/--ignore-file/--openvex` from the command line, on a real Trivy report:
verdicts cite the document and statement, bad files are one-line errors, hostile strings
are escaped on the console and verbatim in the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "data" / "reports" / "trivy" / "realworld-prometheus-mcp-image.json"
DIGEST = "sha256:4c389e242d23009303f3b01ba2a2adb4c847294e70efa1cfc84f8221146cd497"
NOW = "2025-08-28T12:00:00Z"
HOSTILE = "reachable only from \x1b[31mlocalhost\n::error::owned"


def gate(*args: str, policy: Path | None = None) -> subprocess.CompletedProcess[str]:
    pol = ["--policy", str(policy)] if policy else []
    return subprocess.run(
        [sys.executable, "-m", "gate", "check", "--trivy", str(REPORT), "--now", NOW, *pol, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def unfixed_fail(tmp_path: Path) -> Path:
    """Unfixed findings fail (the report's are all unfixed): exceptions have work to do."""
    p = tmp_path / "gate.yaml"
    p.write_text(
        "apiVersion: gate/v1\nvulnerabilities:\n  fail_on: HIGH\n  ignore_unfixed: false\n"
    )
    return p


def _cyclonedx_vex(tmp_path: Path) -> Path:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "vulnerabilities": [
            {
                "id": "CVE-2025-4802",
                "analysis": {
                    "state": "not_affected",
                    "justification": "code_not_reachable",
                    "detail": HOSTILE,
                },
                "affects": [{"ref": f"pkg:oci/prometheus-mcp-server-security-scan@{DIGEST}"}],
            }
        ],
    }
    p = tmp_path / "vex.cdx.json"
    p.write_text(json.dumps(doc))
    return p


def test_vex_excepts_cites_and_escapes(tmp_path: Path, unfixed_fail: Path) -> None:
    vex = _cyclonedx_vex(tmp_path)
    out = tmp_path / "verdict.json"
    openvex = tmp_path / "gate.openvex.json"
    proc = gate(
        "--vex", str(vex), "--json", str(out), "--openvex", str(openvex), policy=unfixed_fail
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    verdict = json.loads(out.read_text())
    excepted = [f for f in verdict["findings"] if f["id"] == "CVE-2025-4802"]
    assert {f["package"] for f in excepted} == {"libc-bin", "libc6"}
    for f in excepted:
        assert f["decision"] == "excepted"
        assert f["rule"] == f"{vex}: vulnerabilities[0]"
        assert HOSTILE in f["reason"]  # verbatim in the JSON
    (file,) = verdict["policy"]["exception_files"]
    assert (file["kind"], file["format"], file["count"]) == ("vex", "cyclonedx", 1)
    assert "\x1b" not in proc.stdout and "\n::error::owned" not in proc.stdout
    # the OpenVEX out names the image and both packages, with the justification's text
    doc = json.loads(openvex.read_text())
    mine = [s for s in doc["statements"] if s["vulnerability"]["name"] == "CVE-2025-4802"]
    assert len(mine) == 2
    assert {s["products"][0]["@id"] for s in mine} == {
        f"pkg:oci/prometheus-mcp-server-security-scan@{DIGEST}"
    }
    assert all(s["status"] == "not_affected" for s in mine)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1, 2]", "not a VEX document: expected an object at the top level"),
        ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{}]}',
         "statements[0].vulnerability"),
    ],
)  # fmt: skip
def test_bad_vex_is_an_error_naming_file_and_path(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "bad.json"
    p.write_text(body)
    proc = gate("--vex", str(p))
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert str(p) in proc.stderr and message in proc.stderr


def test_ignore_file_under_the_strict_policy(tmp_path: Path) -> None:
    ignore = tmp_path / ".trivyignore"
    ignore.write_text("CVE-2025-4802\n")
    proc = gate("--policy", str(ROOT / "policies" / "strict.yaml"), "--ignore-file", str(ignore))
    assert proc.returncode == 2, proc.stderr
    assert "line 1 (CVE-2025-4802): no expiry (exception_rules.require_expiry)" in proc.stderr


def test_ignore_file_excepts_with_its_origin(tmp_path: Path, unfixed_fail: Path) -> None:
    ignore = tmp_path / ".trivyignore"
    ignore.write_text("# accepted until the base image moves\nCVE-2025-4802 exp:2025-12-31\n")
    out = tmp_path / "verdict.json"
    proc = gate("--ignore-file", str(ignore), "--json", str(out), policy=unfixed_fail)
    assert proc.returncode in (0, 1), proc.stderr
    verdict = json.loads(out.read_text())
    rules = {f["rule"] for f in verdict["findings"] if f["id"] == "CVE-2025-4802"}
    assert rules == {f"{ignore}: line 2"}
    (used,) = verdict["exceptions"]["used"]
    assert used["expires"] == "2025-12-31" and used["matched"] == 2


def test_a_bad_vex_or_ignore_file_fails_before_any_scan(tmp_path: Path) -> None:
    """A bad --vex or --ignore-file is an error at once, not after the scan (this trivy
    takes 30 s; gate's early start may launch it, and then stops it)."""
    from tests.helpers.images import docker_archive

    image = docker_archive(tmp_path / "app.tar")
    trivy = tmp_path / "trivy"
    trivy.write_text("#!/bin/sh\nsleep 30\nexit 1\n")
    trivy.chmod(0o755)
    bad = tmp_path / "bad.json"
    bad.write_text('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{}]}')
    ignore = tmp_path / ".trivyignore.yaml"
    ignore.write_text("vulnerabilities:\n  - id: CVE-1\n    expires: 2027-01-01\n")
    for option, path in (("--vex", bad), ("--ignore-file", ignore)):
        began = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "gate", "check", "--input", str(image.path),
             "--trivy-bin", str(trivy), option, str(path)],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        assert str(path) in proc.stderr
        assert time.monotonic() - began < 20
