"""How much time `gate check --input IMG` adds to trivy's own scan of the same image.

    .venv/bin/python bench/bench_trivy_overhead.py [--repeat 7] [--packages 500] [--json out.json]

Offline and self-contained: builds the demo image (`fixtures/make_demo.py`), an image with
~N extra packages (half apk entries, half Python dist-info dirs) and a fresh vulnerability DB
in a temp dir. For each image, in the same invocation and interleaved, it times

- trivy alone: `trivy image` with exactly the argv gate builds (`build_argv`: same scanners,
  flags, cache dir, JSON output to a file);
- gate: `gate check --input IMG --policy policies/default.yaml --json FILE`, a fresh process
  (interpreter start, imports, scan, parse, judge, render);

and reports medians, the overhead (the median of the pairs' differences `gate - trivy`, and
its ratio to trivy's median) and where it goes:
trivy's own run time inside gate (`facts.scan.duration_s`: longer than alone when gate's
start-up competes with it for the CPU) and gate's time outside trivy's run (before trivy
starts and after it ends). A third image, `real` (`bench/real_image.py`: ~N of this machine's
own Debian packages with their real files), shows a scan of realistic length; `--real TAR`
reuses one already built, `--no-real` skips it. Goals: overhead under 10% on the demo image
and under 2% on an image of ~500 packages.
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
from bench.real_image import debian_host_image  # noqa: E402
from fixtures.make_demo import build as build_demo  # noqa: E402
from gate.policy.model import TrivySettings  # noqa: E402
from gate.scanners.trivy.command import FINDINGS_EXIT, build_argv, find_trivy  # noqa: E402
from tests.helpers import images, trivydb  # noqa: E402

TRIVY_OK = (0, FINDINGS_EXIT)  # nothing found / found something
GATE_OK = (0, 1)  # PASS / FAIL
GOALS = {"demo": 0.10, "packages": 0.02, "real": 0.02}


def timed(argv: list[str], env: dict[str, str], ok: tuple[int, ...]) -> float:
    """Wall time of `argv`; exits if it ends with a code outside `ok` (a failed run is not
    the same job)."""
    began = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - began
    if proc.returncode not in ok:
        sys.exit(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def gate_cmd() -> list[str]:
    script = Path(sys.executable).parent / "gate"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gate"]


def trivy_in_gate(verdict_path: Path) -> tuple[float, bool]:
    """trivy's run time inside the gate run that wrote `verdict_path`, and whether gate
    had started it before loading its CLI (`facts.scan`)."""
    scan = json.loads(verdict_path.read_text())["inputs"][0]["facts"]["scan"]
    return float(scan["duration_s"]), bool(scan.get("started_early"))


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
    timed(trivy_argv, env, TRIVY_OK)  # warm the page cache for both
    timed(gate_argv, env, GATE_OK)
    t_trivy, t_gate, t_inner, early = [], [], [], []
    for i in range(repeat):
        # pairs, in alternating order, so neither always runs on the other's warm caches
        if i % 2:
            t_gate.append(timed(gate_argv, env, GATE_OK))
            t_trivy.append(timed(trivy_argv, env, TRIVY_OK))
        else:
            t_trivy.append(timed(trivy_argv, env, TRIVY_OK))
            t_gate.append(timed(gate_argv, env, GATE_OK))
        inner, started_early = trivy_in_gate(work / "verdict.json")
        t_inner.append(inner)
        early.append(started_early)
    trivy_med, gate_med = statistics.median(t_trivy), statistics.median(t_gate)
    # the median of the pairs' differences: steadier than a difference of medians when the
    # machine's speed drifts during a long run
    paired = statistics.median(g - t for g, t in zip(t_gate, t_trivy, strict=True))
    outside = statistics.median(g - i for g, i in zip(t_gate, t_inner, strict=True))
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
        "overhead_s": round(paired, 3),
        "overhead_ratio": round(paired / trivy_med, 3),
        "difference_of_medians_s": round(gate_med - trivy_med, 3),
        "trivy_in_gate_median_s": round(statistics.median(t_inner), 3),
        "gate_outside_trivy_s": round(outside, 3),
        "started_early": all(early),
        "goal_ratio": GOALS[name],
        "goal_met": paired / trivy_med < GOALS[name],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--real",
        type=Path,
        metavar="TAR",
        help="the realistic image (bench/real_image.py); built in the temp dir if absent",
    )
    parser.add_argument("--no-real", action="store_true", help="skip the realistic image")
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
        real = args.real
        if not args.no_real and (real is None or not real.is_file()):
            if Path("/var/lib/dpkg/status").is_file():
                real = debian_host_image(real or work / "real.tar", args.packages).path
            else:
                print("no realistic image: this host has no dpkg database", file=sys.stderr)
                real = None
        if not args.no_real and real is not None:
            results.append(bench("real", real, work, env, args.repeat))
    print(f"{'image':<10} {'trivy':>8} {'gate':>8} {'extra':>8} {'ratio':>7}  goal   "
          f"{'trivy-in-gate':>13} {'outside':>8} early")  # fmt: skip
    for r in results:
        print(
            f"{r['image']:<10} {r['trivy_median_s']:>7.3f}s {r['gate_median_s']:>7.3f}s "
            f"{r['overhead_s']:>7.3f}s {r['overhead_ratio']:>6.0%}  "
            f"<{r['goal_ratio']:.0%} {'met' if r['goal_met'] else 'NOT met':<7} "
            f"{r['trivy_in_gate_median_s']:>12.3f}s {r['gate_outside_trivy_s']:>7.3f}s "
            f"{'yes' if r['started_early'] else 'no'}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
