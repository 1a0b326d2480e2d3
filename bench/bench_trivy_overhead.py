"""How much time `gate check --input IMG` adds to trivy's own scan of the same image.

    .venv/bin/python bench/bench_trivy_overhead.py [--repeat 7] [--packages 500] [--json out.json]

Offline and self-contained: builds the demo image (`fixtures/make_demo.py`), an image with
~N extra packages (half apk entries, half Python dist-info dirs) and a fresh vulnerability DB
in a temp dir. For each image, in the same invocation and interleaved, it times

- trivy alone: `trivy image` with exactly the argv gate builds (`build_argv`: same scanners,
  flags, cache dir, JSON output to a file);
- gate: `gate check --input IMG --policy policies/default.yaml --json FILE`, a fresh process
  (interpreter start, imports, scan, parse, judge, render);

and reports medians, the overhead ratio `gate / trivy - 1` and where the difference goes:
the interpreter plus CLI import floor (`gate --version`) and gate's in-process work around
trivy (`scan_image` time minus trivy's own run time). Goals: overhead under 10% on the demo
image and under 2% on the ~500-package image.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._bytecode import compile_gate  # noqa: E402
from fixtures.make_demo import build as build_demo  # noqa: E402
from gate.policy.model import TrivySettings  # noqa: E402
from gate.scanners.trivy import build_argv, find_trivy  # noqa: E402
from tests.helpers import images, trivydb  # noqa: E402

GOALS = {"demo": 0.10, "packages": 0.02}


def timed(argv: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - began
    if proc.returncode not in (0, 1):  # gate: 0 PASS / 1 FAIL; trivy: 0
        sys.exit(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def gate_cmd() -> list[str]:
    script = Path(sys.executable).parent / "gate"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gate"]


def in_process_overhead(image: Path, repeat: int) -> float:
    """Median of gate's own time inside `scan_image`: its wall time minus trivy's."""
    from gate.scanners.trivy import scan_image

    extra = []
    for _ in range(repeat):
        began = time.perf_counter()
        run = scan_image(
            None,
            input_path=image,
            settings=None,
            trivy_bin=None,
            timeout=600,
            verify_digest=False,
            progress=False,
        )
        total = time.perf_counter() - began
        extra.append(total - run.facts["scan"]["duration_s"])
    return statistics.median(extra)


def bench(name: str, image: Path, work: Path, env: dict[str, str], repeat: int) -> dict[str, Any]:
    trivy = find_trivy(None, env)
    trivy_argv = build_argv(
        trivy,
        [f"--input={image}"],
        work / "trivy.json",
        TrivySettings(),
        600,
        env["TRIVY_CACHE_DIR"],
    )
    gate_argv = [
        *gate_cmd(),
        "check",
        "--input",
        str(image),
        "--policy",
        str(ROOT / "policies" / "default.yaml"),
        "--json",
        str(work / "verdict.json"),
    ]
    timed(trivy_argv, env)  # warm the page cache for both
    timed(gate_argv, env)
    t_trivy, t_gate = [], []
    for _ in range(repeat):
        t_trivy.append(timed(trivy_argv, env))
        t_gate.append(timed(gate_argv, env))
    floor = statistics.median(timed([*gate_cmd(), "--version"], env) for _ in range(repeat))
    trivy_med, gate_med = statistics.median(t_trivy), statistics.median(t_gate)
    verdict = json.loads((work / "verdict.json").read_text())
    report = json.loads((work / "trivy.json").read_text())
    return {
        "image": name,
        "packages": sum(len(r.get("Packages") or []) for r in report.get("Results") or []),
        "findings": len(verdict["findings"]),
        "trivy_median_s": round(trivy_med, 3),
        "trivy_min_s": round(min(t_trivy), 3),
        "gate_median_s": round(gate_med, 3),
        "gate_min_s": round(min(t_gate), 3),
        "overhead_s": round(gate_med - trivy_med, 3),
        "overhead_ratio": round(gate_med / trivy_med - 1, 3),
        "python_and_cli_import_s": round(floor, 3),
        "gate_in_process_s": round(in_process_overhead(image, repeat), 3),
        "goal_ratio": GOALS[name],
        "goal_met": gate_med / trivy_med - 1 < GOALS[name],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    compile_gate()  # time gate as installed (see bench/_bytecode.py)
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        work = Path(tmp)
        demo, cache = build_demo(work / "demo")
        big = images.docker_archive(work / "packages.tar", extra_packages=args.packages)
        env = {**os.environ, **trivydb.offline_env(cache)}
        env.setdefault("GATE_TRIVY", str(Path(sys.executable).parent / "trivy"))
        os.environ.update(env)
        results = [
            bench("demo", demo.path, work, env, args.repeat),
            bench("packages", big.path, work, env, args.repeat),
        ]
    print(f"{'image':<10} {'trivy':>8} {'gate':>8} {'extra':>8} {'ratio':>7}  goal   "
          f"{'py+import':>9} {'in-proc':>8}")  # fmt: skip
    for r in results:
        print(
            f"{r['image']:<10} {r['trivy_median_s']:>7.3f}s {r['gate_median_s']:>7.3f}s "
            f"{r['overhead_s']:>7.3f}s {r['overhead_ratio']:>6.0%}  "
            f"<{r['goal_ratio']:.0%} {'met' if r['goal_met'] else 'NOT met':<7} "
            f"{r['python_and_cli_import_s']:>8.3f}s {r['gate_in_process_s']:>7.3f}s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
