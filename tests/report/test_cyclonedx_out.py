"""`--cyclonedx`: CycloneDX 1.6 that the library's own strict validator accepts, with the
packages, the vulnerabilities and gate's decision as each one's analysis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "data" / "reports" / "trivy" / "realworld-prometheus-mcp-image.json"
DIGEST = "sha256:4c389e242d23009303f3b01ba2a2adb4c847294e70efa1cfc84f8221146cd497"


def _check(tmp_path: Path, *args: str) -> dict[str, object]:
    policy = tmp_path / "gate.yaml"
    policy.write_text(
        "apiVersion: gate/v1\nvulnerabilities:\n  fail_on: HIGH\n  ignore_unfixed: false\n"
        "exceptions:\n  - id: CVE-2023-2953\n    reason: 'ldap unused <b>here</b>'\n"
        "    expires: 2025-12-31\n    owner: '@team'\n"
    )
    out = tmp_path / "bom.cdx.json"
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "gate", "check", "--trivy", str(REPORT),
         "--now", "2025-08-28T12:00:00Z", "--policy", str(policy), "--cyclonedx", str(out),
         *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # unfixed HIGHs fail
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    data: dict[str, object] = json.loads(text)
    return data


def test_cyclonedx_validates_and_records_the_decisions(tmp_path: Path) -> None:
    vex = tmp_path / "v.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.test/v",
                "author": "vendor",
                "timestamp": "2025-01-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2025-4802"},
                        "products": [
                            {
                                "@id": f"pkg:oci/x@{DIGEST}",
                                "subcomponents": [{"@id": "pkg:deb/debian/libc6"}],
                            }
                        ],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    bom = _check(tmp_path, "--vex", str(vex))
    assert bom["specVersion"] == "1.6"
    meta = bom["metadata"]
    assert isinstance(meta, dict)
    assert meta["component"]["purl"].endswith(DIGEST)
    comps = bom["components"]
    assert isinstance(comps, list)
    assert all(c["purl"].startswith("pkg:deb/debian/") for c in comps)
    vulns = bom["vulnerabilities"]
    assert isinstance(vulns, list)
    by = {(v["id"], v["affects"][0]["ref"].split("@")[0]): v for v in vulns}
    libc6 = by[("CVE-2025-4802", "pkg:deb/debian/libc6")]["analysis"]
    assert (libc6["state"], libc6["justification"]) == ("not_affected", "code_not_reachable")
    libc_bin = by[("CVE-2025-4802", "pkg:deb/debian/libc-bin")]["analysis"]
    assert libc_bin["state"] == "in_triage"  # the statement names libc6 only
    ldap = by[("CVE-2023-2953", "pkg:deb/debian/libldap-2.5-0")]
    assert ldap["analysis"]["state"] == "exploitable"
    assert ldap["analysis"]["response"] == ["will_not_fix"]
    assert "until 2025-12-31, owner @team: ldap unused <b>here</b>" in ldap["analysis"]["detail"]
    assert {"name": "gate:decision", "value": "excepted"} in ldap["properties"]
    assert any(r.get("vector") and r.get("score") for r in ldap["ratings"])
    assert {r["severity"] for r in ldap["ratings"]} == {"high"}
