"""The OpenVEX round trip with the real trivy, offline: what gate excepts (by a policy
exception, an ignore file or a VEX document) it writes as OpenVEX, and `trivy image --vex`
on the same image suppresses exactly those findings, no more, no fewer."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gate.cli import main
from tests.helpers.registry import OciRegistry
from tests.helpers.trivydb import EXPECTED
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]


def _gate(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    assert isinstance(info.value.code, int)
    return info.value.code


def _trivy_ids(trivy_bin: Path, argv: list[str], extra: list[str], out: Path) -> set[str]:
    """Re-run gate's own trivy command line with `extra` options, and the ids it reports."""
    cmd = [str(trivy_bin), *argv[1:]]
    sep = cmd.index("--")
    cmd[sep:sep] = [*extra, f"--output={out}"]
    cmd = [c for c in cmd if not c.startswith("--output=") or c == f"--output={out}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=os.environ)
    assert proc.returncode in (0, 4), proc.stderr
    report = json.loads(out.read_text())
    return {
        v["VulnerabilityID"]
        for r in report.get("Results") or []
        for v in r.get("Vulnerabilities") or []
    }


def test_trivy_suppresses_exactly_what_gate_excepted(
    registry: OciRegistry, imgs: Images, tmp_path: Path, trivy_bin: Path
) -> None:
    digest = imgs.alpine_oci.manifest_digest
    assert digest is not None
    ref = f"{registry.host}/app:1"
    policy = tmp_path / "gate.yaml"
    policy.write_text(
        "apiVersion: gate/v1\nvulnerabilities:\n  fail_on: HIGH\n"
        "exceptions:\n"
        "  - id: CVE-2099-0001\n    reason: mitigated by the seccomp profile\n"
        "    expires: 2099-01-01\n    owner: '@platform'\n"
    )
    ignore = tmp_path / ".trivyignore"
    ignore.write_text("# accepted\nCVE-2099-0003 exp:2099-01-01\n")
    vex = tmp_path / "vendor.openvex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.test/vex-1",
                "author": "vendor",
                "timestamp": "2026-01-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2099-0004"},
                        "products": [{"@id": f"pkg:oci/app@{digest.replace(':', '%3A')}"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    },
                    {
                        "vulnerability": {"name": "CVE-2099-0005"},
                        "products": [{"@id": "pkg:oci/app@sha256:" + "0" * 64}],
                        "status": "not_affected",
                        "justification": "component_not_present",
                    },
                ],
            }
        )
    )
    verdict_path = tmp_path / "verdict.json"
    out = tmp_path / "gate.openvex.json"
    code = _gate(
        "check", ref, "--policy", str(policy), "--ignore-file", str(ignore),
        "--vex", str(vex), "--json", str(verdict_path), "--openvex", str(out),
    )  # fmt: skip
    verdict = json.loads(verdict_path.read_text())
    assert code in (0, 1), verdict["errors"]
    excepted = {f["id"] for f in verdict["findings"] if f["decision"] == "excepted"}
    assert excepted == {"CVE-2099-0001", "CVE-2099-0003", "CVE-2099-0004"}
    rules = {f["id"]: f["rule"] for f in verdict["findings"] if f["decision"] == "excepted"}
    assert rules["CVE-2099-0004"] == f"{vex}: statements[0]"
    assert rules["CVE-2099-0003"] == f"{ignore}: line 2"
    # the statement about another image matched nothing, and says so
    assert any("statements[1]" in n and "not the image judged" in n for n in verdict["notes"])

    argv = verdict["inputs"][0]["facts"]["scan"]["argv"]
    before = _trivy_ids(trivy_bin, argv, [], tmp_path / "before.json")
    assert before == set(EXPECTED["alpine"])
    after = _trivy_ids(trivy_bin, argv, [f"--vex={out}"], tmp_path / "after.json")
    assert before - after == excepted
