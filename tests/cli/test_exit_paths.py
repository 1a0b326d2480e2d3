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


def test_verbose_shows_the_cause_of_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid policy is one line; `--verbose` adds the traceback with its cause (the
    pydantic error the message was made from), escaped like any message."""
    policy = tmp_path / "gate.yaml"
    policy.write_text('apiVersion: gate/v1\nvulnerabilities: {fail_on: "\\e[31mHUGE"}\n')
    report = tmp_path / "r.json"
    report.write_text("{}")
    args = ["check", "--trivy", str(report), "--policy", str(policy)]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    quiet = capsys.readouterr().err
    assert "Traceback" not in quiet and "fail_on" in quiet
    with pytest.raises(SystemExit) as info:
        main([*args, "--verbose"])
    assert info.value.code == 2
    loud = capsys.readouterr().err
    assert "The above exception was the direct cause of the following exception" in loud
    assert "ValidationError" in loud and "PolicyError" in loud
    assert "\x1b" not in loud
