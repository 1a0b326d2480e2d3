"""scripts/action/check.sh run directly, with a stand-in `gate` that writes a verdict and
exits with a chosen code: which `result` and `bundle` outputs the action sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.action.actrun import ROOT

CHECK = ROOT / "scripts" / "action" / "check.sh"

STAND_IN = """\
import json, sys
args = sys.argv[1:]
if args[1:2] == ["--help"]:
    print("--sign --attach")
    sys.exit(0)
json.dump(args, open(sys.argv[0] + ".args", "w"))
verdict = args[args.index("--json") + 1]
json.dump({"result": "%(result)s", "subject": {"digest": "sha256:" + "ab" * 32}}, open(verdict, "w"))
if "--bundle" in args:
    open(args[args.index("--bundle") + 1], "w").write("{}")
sys.exit(%(code)d)
"""


def run_check(
    tmp_path: Path, result: str, code: int, sign: bool
) -> tuple[dict[str, str], list[str]]:
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    gate = bindir / "gate"
    gate.write_text(f"#!{sys.executable}\n" + STAND_IN % {"result": result, "code": code})
    gate.chmod(0o755)
    (bindir / "python").symlink_to(sys.executable)
    output = tmp_path / "output"
    env = {
        "PATH": os.environ["PATH"],
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_REPOSITORY": "o/r",
        "GATE_BIN": str(gate),
        "GATE_TRIVY": "",
        "BASE_REF": "",
        "REF_NAME": "main",
        "IN_SIGN": "true" if sign else "false",
        "IN_ATTACH": "false",
        "IN_BRANCH_PROTECTION": "false",
        "IN_SUMMARY": "false",
        **dict.fromkeys(
            (
                "IN_IMAGE",
                "IN_INPUT",
                "IN_POLICY",
                "IN_TRIVY_REPORT",
                "IN_NPM_AUDIT",
                "IN_PIP_AUDIT",
                "IN_SARIF",
                "IN_EXCEPTIONS",
                "IN_BRANCH",
                "IN_TOKEN",
                "IN_SARIF_CATEGORY",
                "IN_TRIVY_SHA256",
            ),
            "",
        ),  # fmt: skip
    }
    (tmp_path / "runner").mkdir()
    subprocess.run(["bash", str(CHECK)], env=env, check=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return outputs, json.loads(Path(str(gate) + ".args").read_text())


@pytest.mark.parametrize(
    ("result", "code", "want"),
    [
        ("FAIL", 3, "FAIL"),  # a FAIL with a worse exit code is still a FAIL
        ("FAIL", 1, "FAIL"),
        ("PASS", 3, "ERROR"),  # a PASS that could not be signed
        ("ERROR", 0, "ERROR"),
        ("PASS", 0, "PASS"),
    ],
)
def test_result_comes_from_the_verdict(tmp_path: Path, result: str, code: int, want: str) -> None:
    outputs, _ = run_check(tmp_path, result, code, sign=True)
    assert outputs["result"] == want
    assert outputs["exit-code"] == str(code)
    assert outputs["digest"] == "sha256:" + "ab" * 32


def test_signing_writes_the_bundle_output(tmp_path: Path) -> None:
    outputs, args = run_check(tmp_path, "PASS", 0, sign=True)
    bundle = str(tmp_path / "runner" / "gate-out" / "gate.sigstore.json")
    assert args[args.index("--bundle") + 1] == bundle
    assert outputs["bundle"] == bundle


def test_no_bundle_without_sign(tmp_path: Path) -> None:
    outputs, args = run_check(tmp_path, "PASS", 0, sign=False)
    assert "--bundle" not in args and "--sign" not in args
    assert outputs["bundle"] == ""
