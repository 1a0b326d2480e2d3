"""Part 2 of `bench-scale`: gate against `trivy convert` on one 50k-finding Trivy report,
each writing its JSON to a file, then a py-spy profile of gate on the same report.

    gate check --trivy R --policy policies/default.yaml --json OUT/gate.json
    trivy convert --severity HIGH,CRITICAL --exit-code 1 --format json -o OUT/trivy.json R

Alternating children; medians; ratios gate/trivy. Goal (issue 13): at most 0.8× trivy's
wall time and 0.4× its peak memory. gate writes its verdict as it always does (a temporary
file, fsync, rename); trivy writes its file without fsync.

The profile: `py-spy record --format raw` samples the same `gate check` from outside (no
change to the process, C frames folded into the Python frame that called them) and is
summed here by function (self time) and by gate's own phases (inclusive time).
"""

from __future__ import annotations

import collections
import re
import subprocess
from pathlib import Path

from bench._measure import (
    BIN,
    DEFAULT_POLICY,
    GATE,
    Medians,
    checked,
    medians,
    run_child,
    trivy_bin,
)
from bench.scale_sizes import SOURCES, report

# gate's phases, by the function names py-spy shows (`Class.method`), whatever their module:
# a function's inclusive share is the samples with it anywhere on the stack
PHASES = (
    ("start: imports (module bodies)", ("<module>",)),
    ("policy and exceptions loaded", ("load_policy_and_exceptions",)),
    ("report file read (`read_input`)", ("read_input",)),
    ("Trivy reader (`TrivyIngestor.parse`)", ("TrivyIngestor.parse",)),
    ("  msgspec decode (`decode`)", ("decode",)),
    ("  strict duplicate-key check (`check_strict`)", ("check_strict",)),
    ("  building the findings (`Builder.*`)", ("Builder.",)),
    ("engine (`evaluate`)", ("evaluate",)),
    ("  merging (`merge_findings`)", ("merge_findings",)),
    ("verdict file (`write_atomic`: encode, write, fsync, rename)", ("write_atomic",)),
    ("  JSON encoding (`write_json`)", ("write_json",)),
    ("console (`render_console`)", ("render_console",)),
)


def compare(repeat: int, out: Path) -> tuple[Path, Medians, Medians]:
    trivy = next(s for s in SOURCES if s.name == "trivy")
    rep = report(trivy, 50_000, out)
    gate = [GATE, "check", "--trivy", str(rep), "--policy", str(DEFAULT_POLICY)]
    gate += ["--json", str(out / "convert-gate.json")]
    peer = [trivy_bin(), "convert", "--severity", "HIGH,CRITICAL", "--exit-code", "1"]
    peer += ["--format", "json", "-o", str(out / "convert-trivy.json"), str(rep)]
    print(f"\nreport {rep.name}: {rep.stat().st_size / 1e6:.0f} MB, 50,000 vulnerabilities")
    print(f"{'round':>5}  {'tool':<6} {'wall s':>7} {'cpu s':>6} {'MiB':>6}")
    runs: dict[str, list] = {"gate": [], "trivy": []}
    for r in range(repeat):
        order = [("gate", gate), ("trivy", peer)]
        for name, argv in order if r % 2 == 0 else reversed(order):
            # both exit 1 on these findings; trivy also exits 1 on a fatal error (checked)
            got = checked(name, run_child(argv), (1,))
            runs[name].append(got)
            print(f"{r + 1:>5}  {name:<6} {got.wall:>7.2f} {got.cpu:>6.2f} {got.rss:>6.0f}")
    return rep, medians(runs["gate"]), medians(runs["trivy"])


def compare_lines(g: Medians, t: Medians) -> list[str]:
    wall, cpu, rss = g.wall / t.wall, g.cpu / t.cpu, g.rss / t.rss
    return [
        "| tool | wall s | CPU s | peak MiB |",
        "|---|---|---|---|",
        f"| gate check | {g.wall:.2f} | {g.cpu:.2f} | {g.rss:.0f} |",
        f"| trivy convert | {t.wall:.2f} | {t.cpu:.2f} | {t.rss:.0f} |",
        f"| gate/trivy | **{wall:.2f}** | {cpu:.2f} | **{rss:.2f}** |",
        "",
        f"- wall ×{wall:.2f} (goal ≤ 0.8): {'met' if wall <= 0.8 else 'MISSED'}; "
        f"peak memory ×{rss:.2f} (goal ≤ 0.4): {'met' if rss <= 0.4 else 'MISSED'}",
    ]


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<where>[^()]*)\)$")


def _func(frame: str) -> str:
    m = _FRAME.match(frame)
    return m["func"] if m else frame


def _is(func: str, names: tuple[str, ...]) -> bool:
    return any(func.startswith(n) if n.endswith(".") else func == n for n in names)


def profile(rep: Path, out: Path, rate: int = 250) -> list[str]:
    """py-spy on one `gate check` of the report; markdown lines summing its samples."""
    raw = out / "convert-profile.txt"
    argv = [str(BIN / "py-spy"), "record", "--rate", str(rate), "--format", "raw"]
    argv += ["--output", str(raw), "--", GATE, "check", "--trivy", str(rep)]
    argv += ["--policy", str(DEFAULT_POLICY), "--json", str(out / "convert-gate.json")]
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if not raw.exists():
        return ["(py-spy wrote no profile: is ptrace allowed here?)"]
    stacks: list[tuple[list[str], int]] = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1
    named = [([_func(f) for f in frames], c) for frames, c in stacks]
    own: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        m = _FRAME.match(frames[-1])
        leaf = f"{m['func']} ({m['where'].rsplit(':', 1)[0]})" if m else frames[-1]
        own[leaf] += count
    lines = [f"{total} samples at {rate} Hz (≈ {total / rate:.2f} s of samples, all threads)", ""]
    lines += ["| phase (inclusive) | share |", "|---|---|"]
    for label, names in PHASES:
        hit = sum(c for funcs, c in named if any(_is(f, names) for f in funcs[1:]))
        lines.append(f"| {label} | {100 * hit / total:.0f} % |")
    lines += ["", "| function (self time) | share |", "|---|---|"]
    for leaf, count in own.most_common(15):
        lines.append(f"| `{leaf}` | {100 * count / total:.1f} % |")
    return lines
