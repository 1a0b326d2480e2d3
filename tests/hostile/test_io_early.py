"""The early trivy start is speculation: whatever the arguments, it starts trivy or it
does not, and never ends gate itself. `--scan-timeout` must be finite and positive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gate.cli import main
from gate.scanners.trivy import early

ROOT = Path(__file__).resolve().parents[2]
BAD_TIMEOUTS = ["inf", "-inf", "nan", "1e400", "-1", "0", "604801", "1e30"]


def test_a_bad_scan_timeout_ends_gate_with_exit_2(tmp_path: Path) -> None:
    """Before: `inf` and `1e400` raised OverflowError in the early path (exit 1, which
    reads as FAIL, with a traceback), `nan` a ValueError, and `-1` was accepted."""
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"not really an image")
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "check", "--input", str(archive)]
        + ["--trivy-bin", "/bin/true", "--scan-timeout", "inf"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "--scan-timeout must be a number of seconds above 0" in proc.stderr


@pytest.mark.parametrize("value", BAD_TIMEOUTS)
def test_a_bad_scan_timeout_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"not really an image")
    args = ["check", "--input", str(archive), "--trivy-bin", "/bin/true", "--scan-timeout", value]
    assert early.start(args) is None  # the speculative path: no scan, no exception
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert "--scan-timeout must be a number of seconds above 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "policy"),
    [
        (["check", "--input", "a\x00b"], None),  # embedded null byte
        (["check", "--input", "x" * 5000], None),  # ENAMETOOLONG
        (["check", "IMAGE"], "trivy: " + "[" * 5000 + "]" * 5000 + "\n"),  # RecursionError
        (["check", "IMAGE"], "trivy: {scanners: [vuln], scanners: [secret]}\n"),
        (["check", "IMAGE", "--policy", "/dev/zero"], None),  # before: read until memory ran out
    ],
)
def test_any_exception_in_the_early_path_means_no_early_scan(
    tmp_path: Path, args: list[str], policy: str | None
) -> None:
    if policy is not None:
        (tmp_path / "p.yaml").write_text(policy)
        args = [*args, "--policy", str(tmp_path / "p.yaml")]
    assert early.start([*args, "--trivy-bin", "/bin/true"]) is None
    assert early.workdir() is None
