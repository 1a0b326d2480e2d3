"""Part 3 of `bench-scale`: gate's engine against the same policy in Rego (regopy, rego-cpp).

Both judge the same normalized findings, in this process: gate's reader makes them once
(untimed) from a 20k-finding Trivy report; gate's `evaluate` judges them against
`policies/default.yaml`, and `bench/policy.rego` judges them as plain data (each finding's
id, package, kind, severity, fix state, not_affected) against the same policy file as
gate read it (`data.policy`, every default filled in). rego-cpp runs a compiled bundle
(`Interpreter.build`, made once, untimed: the faster of its two ways, so the peer is
measured at its best); its time is `set_input` (Python → Rego terms) plus `query_bundle`.
Before timing, both must give every finding the same decision (and so the same counts of
fail / warn / pass / ignored), or the comparison is refused.
Goal (issue 13): gate at least 10× faster at 20k findings.

It runs as its own process (`python bench/scale_rego.py N REPEAT OUT`, which writes
OUT/rego.md): it holds gate and 20k findings, and a child's peak memory as `os.wait4`
reports it starts from its parent's, so `bench_scale.py` itself must stay small.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._gate_api import gate_api  # noqa: E402
from bench._measure import DEFAULT_POLICY  # noqa: E402
from bench.scale_sizes import SOURCES, report  # noqa: E402

QUERY = "counts := data.gate.counts; decisions := data.gate.decisions; result := data.gate.result"


def _plain(finding: Any) -> dict[str, Any]:
    pkg = finding.package
    return {
        "id": finding.id,
        "package": pkg.name if pkg is not None else None,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "fix_state": finding.fix_state.value,
        "not_affected": finding.not_affected,
    }


def run(n: int, repeat: int, out: Path) -> list[str]:
    import regopy

    api = gate_api()
    trivy = next(s for s in SOURCES if s.name == "trivy")
    policy, ref = api.load_policy(DEFAULT_POLICY)
    source = api.load_report(api.input_kind("trivy"), report(trivy, n, out))
    if source.error:
        sys.exit(f"gate could not read the report: {source.error}")
    data = {"findings": [_plain(f) for f in source.findings]}
    now = dt.datetime.now(dt.UTC)

    rego = regopy.Interpreter()
    rego.add_module("gate", (HERE / "policy.rego").read_text(encoding="utf-8"))
    rego.add_data({"policy": policy.model_dump(mode="json")})
    bundle = rego.build(QUERY)

    def gate_once() -> Any:
        return api.evaluate([source], policy, now, policy_ref=ref)

    def rego_once() -> Any:
        rego.set_input(data)
        got = rego.query_bundle(bundle)
        if not got.ok():
            sys.exit(f"rego failed: {got}")
        return got

    # the same decisions, finding by finding, before anything is timed
    verdict, answer = gate_once(), rego_once()
    ours = collections.Counter(
        (d.finding.id, d.finding.package.name, d.decision.value) for d in verdict.findings
    )
    theirs = collections.Counter(
        (d["id"], d["package"], d["decision"])
        for d in json.loads(answer.binding("decisions").json())
    )
    counts = dict(sorted(collections.Counter(d for *_, d in ours.elements()).items()))
    rego_counts = json.loads(answer.binding("counts").json())
    if ours != theirs or counts != {k: v for k, v in sorted(rego_counts.items()) if v}:
        sys.exit(f"gate and Rego disagree: gate {counts}, rego {rego_counts}; not comparable")

    times: dict[str, list[float]] = {"gate": [], "rego set_input": [], "rego query": []}
    print(f"\n{'round':>5}  {'gate evaluate s':>15} {'rego input s':>12} {'rego query s':>12}")
    for r in range(repeat):
        for name in ("gate", "rego") if r % 2 == 0 else ("rego", "gate"):
            if name == "gate":
                start = time.perf_counter()
                gate_once()
                times["gate"].append(time.perf_counter() - start)
            else:
                start = time.perf_counter()
                rego.set_input(data)
                mid = time.perf_counter()
                rego.query_bundle(bundle)
                times["rego set_input"].append(mid - start)
                times["rego query"].append(time.perf_counter() - mid)
        print(
            f"{r + 1:>5}  {times['gate'][-1]:>15.3f} {times['rego set_input'][-1]:>12.3f} "
            f"{times['rego query'][-1]:>12.3f}"
        )
    med = {k: statistics.median(v) for k, v in times.items()}
    rego_total = statistics.median(
        a + b for a, b in zip(times["rego set_input"], times["rego query"], strict=True)
    )
    rego_result = json.loads(answer.binding("result").json())
    speedup, query_only = rego_total / med["gate"], med["rego query"] / med["gate"]
    return [
        f"{len(source.findings):,} findings; decisions identical, finding by finding "
        f"(counts {counts}); result {verdict.result.value} / {rego_result}",
        "",
        "| engine | median s |",
        "|---|---|",
        f"| gate `evaluate` | {med['gate']:.3f} |",
        f"| regopy `set_input` + `query_bundle` | {rego_total:.3f} |",
        f"| regopy `query_bundle` alone | {med['rego query']:.3f} |",
        "",
        f"- gate is {speedup:.1f}× faster than Rego (goal ≥ 10): "
        f"{'met' if speedup >= 10 else 'MISSED'}; {query_only:.1f}× against the query alone",
    ]


def main(argv: list[str]) -> int:
    n, repeat, out = int(argv[1]), int(argv[2]), Path(argv[3])
    lines = run(n, repeat, out)
    (out / "rego.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
