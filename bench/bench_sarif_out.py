"""Writing the verdict as SARIF for 25,000 findings: gate side by side with its peers.

    .venv/bin/python bench/bench_sarif_out.py [--n 25000] [--repeat 5] [--no-trivy]

A synthetic Trivy report of N vulnerabilities (`gen_trivy_report.py`: every one its own
CVE, so N rules as well as N results: the costly case) is read with gate's Trivy ingestor
and judged with `policies/default.yaml` (untimed). Then, in one invocation:

- gate: `write_sarif(verdict, file)`: runs, rules with help, results with messages and
  fingerprints, GitHub's limits (the 10 MB gzip check included), encoding, writing;
- peer: stdlib `json.dumps` of the very document gate wrote (what serialising alone costs
  with the standard library), written to a file;
- peer: `trivy convert --format sarif` of the same report (a fresh process: it reads the
  JSON report too, so it does more than gate's timed part and less than gate as a whole).

Goal (issue 3): gate's `write_sarif` for 25,000 findings takes under a second. The exit
code is 0 when the median meets it, 1 when it does not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_trivy_report import generate  # noqa: E402

from gate.engine import evaluate  # noqa: E402
from gate.ingest.trivy import TrivyIngestor  # noqa: E402
from gate.policy.load import load_policy  # noqa: E402
from gate.report.sarif import render_sarif, write_sarif  # noqa: E402

GOAL_SECONDS = 1.0


def timed(fn: Callable[[], object], repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per run; CPU is this process's own (children for trivy)."""
    out = []
    for _ in range(repeat):
        began, cpu = time.perf_counter(), _cpu()
        fn()
        out.append((time.perf_counter() - began, _cpu() - cpu))
    return out


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=25_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-trivy", action="store_true", help="skip `trivy convert`")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gate-bench-sarif-") as tmp:
        work = Path(tmp)
        report = work / "trivy.json"
        doc_in = generate(args.n)
        for result in doc_in["Results"]:
            for v in result["Vulnerabilities"]:
                # the generator writes impossible dates (Feb 29 of non-leap years), which
                # gate never reads and trivy convert refuses
                v.pop("PublishedDate", None)
                v.pop("LastModifiedDate", None)
        report.write_text(json.dumps(doc_in), encoding="utf-8")
        run = TrivyIngestor().parse_file(report)
        import datetime as dt

        policy, ref = load_policy(ROOT / "policies" / "default.yaml")
        verdict = evaluate([run], policy, dt.datetime.now(dt.UTC), policy_ref=ref)
        print(
            f"report: {args.n:,} vulnerabilities, {report.stat().st_size / 1e6:.1f} MB; "
            f"verdict {verdict.result.value}, {len(verdict.findings):,} findings"
        )

        out = work / "gate.sarif"
        gate_times = timed(lambda: write_sarif(verdict, out, root=work), args.repeat)
        doc, notes = render_sarif(verdict, root=work)
        data = out.read_bytes()
        runs = doc["runs"]
        print(
            f"gate SARIF: {len(data) / 1e6:.1f} MB, {len(gzip.compress(data)) / 1e6:.2f} MB "
            f"gzipped, {len(runs)} run(s), {sum(len(r['results']) for r in runs):,} results, "
            f"{sum(len(r['tool']['driver']['rules']) for r in runs):,} rules, notes: {notes}"
        )

        stdlib = work / "stdlib.sarif"
        json_times = timed(
            lambda: stdlib.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8"),
            args.repeat,
        )

        rows = [
            ("gate write_sarif (render + limits + encode + write)", gate_times),
            ("stdlib json.dumps of the same document + write", json_times),
        ]
        trivy = ROOT / ".venv" / "bin" / "trivy"
        if not args.no_trivy and trivy.is_file():
            env = {**os.environ, "TRIVY_CACHE_DIR": str(work / "cache")}
            argv = [
                str(trivy),
                "convert",
                "--format",
                "sarif",
                "-o",
                str(work / "t.sarif"),
                str(report),
            ]

            def convert() -> None:
                proc = subprocess.run(argv, env=env, capture_output=True, timeout=600)
                if proc.returncode:
                    sys.exit(f"trivy convert failed: {proc.stderr.decode()[-1000:]}")

            rows.append(
                (
                    "trivy convert --format sarif (process: read + write)",
                    timed(convert, max(1, args.repeat // 2)),
                )
            )
            size = (work / "t.sarif").stat().st_size
            print(f"trivy SARIF: {size / 1e6:.1f} MB")

    print()
    print(f"{'':56} {'median':>8} {'best':>8} {'CPU':>8}")
    for label, times in rows:
        walls = [w for w, _ in times]
        cpu = statistics.median(c for _, c in times)
        print(f"{label:56} {statistics.median(walls):7.3f}s {min(walls):7.3f}s {cpu:7.3f}s")
    median = statistics.median(w for w, _ in gate_times)
    ok = median < GOAL_SECONDS
    print(
        f"\ngoal: gate under {GOAL_SECONDS:.0f} s for {args.n:,} findings: "
        f"{'met' if ok else 'NOT met'} ({median:.3f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
