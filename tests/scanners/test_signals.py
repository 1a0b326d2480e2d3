"""Stopping gate mid-scan (Ctrl-C, or SIGTERM from a cancelled CI job) stops trivy too.

trivy runs in its own session (so a timeout can kill its whole group), so the terminal's
Ctrl-C and a job runner's SIGTERM reach gate only: gate must kill it on the way out, and
exit 128 + the signal, never 1 (FAIL).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scanners.conftest import Images, write_script

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_for(check: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize(
    ("sig", "code", "delay"),
    [
        (signal.SIGTERM, 143, 0.0),  # while gate still loads its CLI (trivy started early)
        (signal.SIGTERM, 143, 2.0),  # while gate waits for trivy on its scan thread
        (signal.SIGINT, 130, 2.0),
    ],
)
def test_stopping_gate_stops_trivy(
    imgs: Images,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sig: signal.Signals,
    code: int,
    delay: float,
) -> None:
    pid_file = tmp_path / "trivy.pid"
    fake = write_script(
        tmp_path / "bin" / "trivy",
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
    )
    monkeypatch.setenv("GATE_TRIVY", str(fake))
    tmp = tmp_path / "tmp"  # where gate makes trivy's working directory
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gate", "check", "--input", str(imgs.alpine_tar.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip())
        trivy_pid = int(pid_file.read_text())
        time.sleep(delay)
        began = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, out + err
    assert time.monotonic() - began < 10
    assert f"gate: stopped by {sig.name}" in err
    assert "Traceback" not in err
    wait_for(lambda: not alive(trivy_pid), 10)
    assert not list(tmp.glob("gate-trivy-*")), "trivy's working directory was left behind"
