"""Timing helpers shared by the `bench-scale` parts: one child process, measured from outside."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GATE = str(BIN / "gate")
DEFAULT_POLICY = REPO / "policies" / "default.yaml"


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, around the child
    cpu: float  # user + sys of the child, all threads
    rss: float  # the child's peak RSS, MiB (ru_maxrss)
    rc: int
    tail: str  # the last line of its stderr


def run_child(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run one child, stdout discarded, and measure it with `os.wait4`."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    rc = os.waitstatus_to_exitcode(status)
    return Run(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, rc, (lines or [""])[-1]
    )


def checked(name: str, run: Run, ok: tuple[int, ...]) -> Run:
    """Refuse a run that did not do the job (an ERROR, a crash, trivy's FATAL)."""
    if run.rc not in ok or "FATAL" in run.tail or "Traceback" in run.tail:
        sys.exit(f"{name} failed (exit {run.rc}): {run.tail}; its timing would be meaningless")
    return run


@dataclass(frozen=True)
class Medians:
    wall: float
    cpu: float
    rss: float
    n: int


def medians(runs: list[Run]) -> Medians:
    return Medians(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.rss for r in runs),
        len(runs),
    )


def trivy_bin() -> str:
    for candidate in (os.environ.get("GATE_TRIVY"), str(BIN / "trivy"), shutil.which("trivy")):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("trivy not found: set GATE_TRIVY or put trivy on PATH")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
