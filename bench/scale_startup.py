"""Part 4 of `bench-scale`: `gate --version` and `gate --help` against `python -c pass`.

The same venv's interpreter runs all three (the `gate` console script is that
interpreter plus gate's entry point), alternately, in rotating order. The overhead is
the median of each gate command minus the median of `python -c pass`, and also the
median of the per-round differences (steadier on a loaded machine).
Goal (issue 13): under 100 ms over `python -c pass`.
"""

from __future__ import annotations

import statistics
import sys

from bench._measure import GATE, checked, run_child

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "gate --version": [GATE, "--version"],
    "gate --help": [GATE, "--help"],
}


def run(repeat: int) -> list[str]:
    names = list(COMMANDS)
    walls: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        order = names[r % 3 :] + names[: r % 3]
        for name in order:
            walls[name].append(checked(name, run_child(COMMANDS[name]), (0,)).wall)
    base = statistics.median(walls["python -c pass"])
    lines = [
        "| command | median ms | over `python -c pass`, ms (median of per-round differences) |"
    ]
    lines.append("|---|---|---|")
    lines.append(f"| python -c pass | {base * 1e3:.0f} | |")
    for name in names[1:]:
        med = statistics.median(walls[name])
        paired = statistics.median(
            a - b for a, b in zip(walls[name], walls["python -c pass"], strict=True)
        )
        lines.append(
            f"| {name} | {med * 1e3:.0f} | {(med - base) * 1e3:.0f} ({paired * 1e3:.0f}) |"
        )
    lines.append("")
    for name in names[1:]:
        over = statistics.median(walls[name]) - base
        met = "met" if over < 0.1 else "MISSED"
        lines.append(f"- {name}: {over * 1e3:.0f} ms over (goal < 100 ms): {met}")
    return lines
