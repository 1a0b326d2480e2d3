"""Hostile paths for gate's inputs and outputs: FIFOs, devices, huge and sparse files,
symlinks, missing directories, a SIGTERM in the middle of a write.

Inputs must be regular files under `--max-input-bytes`, opened without blocking; outputs
are written atomically (a temporary file in the same directory, fsync, rename).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gate.cli import main

ROOT = Path(__file__).resolve().parents[2]
TRIVY = ROOT / "tests" / "data" / "reports" / "trivy" / "dd-all-statuses.json"
REPORT_FLAGS = ["--trivy", "--npm-audit", "--pip-audit", "--sarif", "--branch-protection"]


def gate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`gate check …` in-process, as of a day after the report was made."""
    with pytest.raises(SystemExit) as info:
        main([*args, "--now", "2024-01-16T00:00:00Z"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


@pytest.fixture
def report() -> Path:
    assert TRIVY.is_file()
    return TRIVY


# -- inputs --------------------------------------------------------------------------


@pytest.mark.parametrize("flag", REPORT_FLAGS)
def test_a_fifo_input_is_an_error_not_a_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    began = time.perf_counter()
    code, out, _ = gate(capsys, "check", flag, str(fifo))
    assert code == 3
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in out
    assert time.perf_counter() - began < 5


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/dev/zero", "a character device"),
        ("/dev/null", "a character device"),
        ("/", "a directory"),
    ],
)
def test_devices_and_directories_are_refused_unread(
    capsys: pytest.CaptureFixture[str], path: str, kind: str
) -> None:
    code, out, _ = gate(capsys, "check", "--trivy", path)
    assert code == 3
    assert f"{path}: is {kind}, not a regular file" in out


def test_a_socket_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        code, out, _ = gate(capsys, "check", "--sarif", str(path))
    assert code == 3
    assert "is a socket, not a regular file" in out


def test_a_huge_sparse_file_fails_from_its_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """8 GB of holes: refused from fstat alone, in milliseconds, reading nothing."""
    sparse = tmp_path / "sparse.json"
    with sparse.open("wb") as fh:
        fh.truncate(8 << 30)
    began = time.perf_counter()
    code, out, _ = gate(capsys, "check", "--trivy", str(sparse))
    assert code == 3
    assert (
        "is 8,589,934,592 bytes, over the limit of 1,073,741,824 bytes (--max-input-bytes)" in out
    )
    assert time.perf_counter() - began < 2


def test_max_input_bytes(tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    size = report.stat().st_size
    code, out, _ = gate(capsys, "check", "--trivy", str(report), "--max-input-bytes", str(size - 1))
    assert code == 3 and "over the limit" in out
    code, out, err = gate(capsys, "check", "--trivy", str(report), "--max-input-bytes", str(size))
    assert code in (0, 1), out + err
    code, out, err = gate(capsys, "check", "--trivy", str(report), "--max-input-bytes", "1M")
    assert code in (0, 1), out + err
    for bad in ("0", "-5", "lots", "1.5G", ""):
        code, _, err = gate(capsys, "check", "--trivy", str(report), "--max-input-bytes", bad)
        assert code == 2 and "--max-input-bytes" in err, bad


def test_a_file_in_proc_is_read_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """procfs files report size 0: they are read (bounded), not taken as empty."""
    code, out, _ = gate(capsys, "check", "--trivy", "/proc/self/status")
    assert code == 3
    assert "the file is empty" not in out and "not valid JSON" in out


# -- outputs -------------------------------------------------------------------------

OUTPUTS = {"--json": "JSON verdict", "--sarif-output": "SARIF", "--summary": "summary"}


@pytest.mark.parametrize("flag", sorted(OUTPUTS))
def test_a_symlink_at_the_output_is_replaced_not_followed(
    tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "out"
    link.symlink_to(victim)
    code, _, err = gate(capsys, "check", "--trivy", str(report), flag, str(link))
    assert code in (0, 1), err
    assert victim.read_text() == "precious\n"
    assert not link.is_symlink() and link.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "victim.txt"]


@pytest.mark.parametrize("flag", sorted(OUTPUTS))
def test_an_output_in_a_missing_directory(
    tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    target = tmp_path / "nope" / "out"
    code, _, err = gate(capsys, "check", "--trivy", str(report), flag, str(target))
    assert code == 3
    assert f"cannot write the {OUTPUTS[flag]} to {target}: the directory" in err
    assert "does not exist" in err


@pytest.mark.parametrize("flag", sorted(OUTPUTS))
def test_a_fifo_or_directory_output_is_refused(
    tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = gate(capsys, "check", "--trivy", str(report), flag, str(fifo))
    assert code == 3 and "is a FIFO (named pipe), not a regular file" in err
    code, _, err = gate(capsys, "check", "--trivy", str(report), flag, str(tmp_path))
    assert code == 3 and "is a directory, not a regular file" in err


def test_outputs_replace_an_existing_file_whole(
    tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "verdict.json"
    out.write_text("x" * 10_000_000)  # longer than the verdict: no stale tail may remain
    os.chmod(out, 0o600)
    code, _, _ = gate(capsys, "check", "--trivy", str(report), "--json", str(out))
    import json

    assert json.loads(out.read_text())["result"] in ("PASS", "FAIL")
    assert code in (0, 1)
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("path", ["/dev/stderr", "/dev/fd/2", "/proc/self/fd/2", "/dev/gate-x"])
def test_other_device_paths_are_refused(
    report: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """Not replaced (as root, /dev is writable: a symlink there would be replaced)."""
    was = os.path.islink(path)
    code, _, err = gate(capsys, "check", "--trivy", str(report), "--json", path)
    assert code == 3 and "is a device path (in /dev, /proc or /sys)" in err
    assert not os.path.exists("/dev/gate-x")
    assert os.path.islink(path) == was


def test_dev_null_discards(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--json /dev/null` (the bench does it): rendered and thrown away, /dev/null left be."""
    code, out, err = gate(capsys, "check", "--trivy", str(report), "--json", os.devnull)
    assert code in (0, 1), err
    assert Path(os.devnull).is_char_device()


@pytest.mark.parametrize("path", ["-", "/dev/stdout"])
def test_stdout_paths_write_to_stdout(
    report: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    code, out, _ = gate(capsys, "check", "--trivy", str(report), "--json", path)
    assert code in (0, 1)
    assert out.lstrip().startswith("{")


def test_step_summary_is_appended_never_through_a_symlink(
    tmp_path: Path,
    report: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "step_summary"
    summary.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, _, _ = gate(capsys, "check", "--trivy", str(report))
    assert code in (0, 1)
    text = summary.read_text()
    assert text.startswith("## an earlier step\n") and len(text) > 40
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "linked_summary"
    link.symlink_to(victim)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(link))
    code, _, err = gate(capsys, "check", "--trivy", str(report))
    assert code == 3
    assert f"{link}: is a symlink: gate does not append through one" in err
    assert victim.read_text() == "precious\n"
    fifo = tmp_path / "fifo_summary"
    os.mkfifo(fifo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(fifo))
    code, _, err = gate(capsys, "check", "--trivy", str(report))
    assert code == 3 and "is a FIFO (named pipe), not a regular file" in err


_SLOW_WRITER = """
import os, sys, time
from pathlib import Path
sys.argv = ["gate"]
import gate.__main__ as entry, signal
signal.signal(signal.SIGTERM, entry._stop)
from gate.report.output import write_output

def write(fh):
    fh.write(b"half of a verdict")
    fh.flush()
    print("writing", flush=True)
    time.sleep(30)
    fh.write(b" and the rest")

try:
    write_output(Path(sys.argv_path), write, "JSON verdict")
except SystemExit as e:
    os._exit(e.code)
"""


def test_sigterm_during_a_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "verdict.json"
    target.write_text('{"old": true}\n')
    script = _SLOW_WRITER.replace("sys.argv_path", repr(str(target)))
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 143
    assert target.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verdict.json"]  # no temp left
