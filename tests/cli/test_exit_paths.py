"""How `gate check` ends: the verdict's exit code whatever happens to stdout, and an
in-process caller left as it was found."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from gate.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("body", "code"), [("{", 3), ("null", 3)])
def test_closed_stdout_keeps_the_verdicts_exit_code(tmp_path: Path, body: str, code: int) -> None:
    """`gate check … | head -0`: the console table cannot be written, and click would make
    that exit 1 (FAIL); the verdict's own code must stand."""
    report = tmp_path / "r.json"
    report.write_text(body)
    with subprocess.Popen(
        [sys.executable, "-m", "gate", "check", "--trivy", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # nobody reads: the first write gets EPIPE
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == code, err
    assert "Traceback" not in err


def test_in_process_main_gives_the_collector_back(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text("{")
    assert gc.isenabled()
    with pytest.raises(SystemExit) as info:
        main(["check", "--trivy", str(report)])
    assert info.value.code == 3
    assert gc.isenabled()
