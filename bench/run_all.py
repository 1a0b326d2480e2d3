"""Run every benchmark in turn (`make bench`); each prints gate beside its peer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_trivy_report.py", "bench_sarif_out.py", "bench_trivy_overhead.py"]


def main() -> int:
    worst = 0
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        rc = subprocess.run([sys.executable, str(HERE / name), *sys.argv[1:]]).returncode
        worst = max(worst, rc)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
