"""The overhead benchmark still runs end to end (one pair per image, no timing asserted).

Benchmarks measure speed (`bench/`); this only keeps the script working as gate changes,
e.g. when trivy's accepted exit codes change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

ROOT = Path(__file__).resolve().parents[2]


def test_overhead_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_trivy_overhead.py")]
        + ["--repeat", "1", "--packages", "20", "--no-real", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    results = {r["image"]: r for r in json.loads(out.read_text())}
    assert set(results) == {"demo", "packages"}
    for r in results.values():
        assert r["started_early"] is True
        assert r["findings"] > 0
