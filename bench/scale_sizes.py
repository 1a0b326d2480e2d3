"""Part 1 of `bench-scale`: `gate check` on 1k, 10k and 100k findings of each source.

Each (source, size) is one `gate check --<source> FILE --policy policies/default.yaml
--json FILE` child; the rounds alternate the order (forward, then backward) so that the
machine's drift does not favour one size. Reports come from the bench's generators
(`gen_*.py`) and are kept in `bench/out/scale/` for 12 hours (a Trivy report carries its
`CreatedAt`, the others their file time, and the default policy's `max_input_age` is 24 h).
Goal (issue 13): the 100k/10k ratio of time and of peak memory at most 12.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench._measure import DEFAULT_POLICY, GATE, REPO, Medians, checked, medians, run_child

HERE = Path(__file__).resolve().parent
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class Source:
    name: str  # the `gate check` option, without `--`
    generator: str  # bench/gen_*.py
    suffix: str


SOURCES = (
    Source("trivy", "gen_trivy_report.py", "json"),
    Source("npm-audit", "gen_npm_audit.py", "json"),
    Source("pip-audit", "gen_pip_audit.py", "json"),
    Source("sarif", "gen_sarif.py", "sarif"),
)


def report(source: Source, n: int, out: Path) -> Path:
    """The generated report of `n` findings, made again when missing or older than 12 h."""
    path = out / f"{source.name}-{n}.{source.suffix}"
    if not path.exists() or time.time() - path.stat().st_mtime > MAX_AGE_S:
        tmp = path.with_suffix(".tmp")
        gen = [sys.executable, str(HERE / source.generator), str(n), str(tmp)]
        subprocess.run(gen, check=True, cwd=REPO)
        tmp.replace(path)
    return path


_JUDGED_ALL = """
import json, sys
doc = json.load(open(sys.argv[1], "rb"))
decided = sum(doc["counts"]["by_decision"].values())
if doc["errors"] or decided != int(sys.argv[2]):
    sys.exit(f"{sys.argv[1]}: {decided} findings decided of {sys.argv[2]}, errors {doc['errors']}")
"""


def _judged_all(verdict: Path, n: int) -> None:
    """The verdict decided exactly `n` findings: the generator's report was read whole.

    In a child: a child's `ru_maxrss` starts from its parent's peak (Linux keeps the
    high-water mark across exec), so the parent must never hold a 100k verdict."""
    subprocess.run([sys.executable, "-c", _JUDGED_ALL, str(verdict), str(n)], check=True)


@dataclass(frozen=True)
class SizeResult:
    source: str
    n: int
    mb: float
    med: Medians


def run(sizes: list[int], repeat: int, out: Path) -> list[SizeResult]:
    out.mkdir(parents=True, exist_ok=True)
    files = {(s.name, n): report(s, n, out) for s in SOURCES for n in sizes}
    pairs = list(files)
    runs: dict[tuple[str, int], list] = {pair: [] for pair in pairs}
    print(f"\n{'round':>5}  {'source':<10} {'findings':>8} {'wall s':>7} {'cpu s':>6} {'MiB':>6}")
    for r in range(repeat):
        for name, n in pairs if r % 2 == 0 else reversed(pairs):
            argv = [GATE, "check", f"--{name}", str(files[name, n])]
            argv += [
                "--policy",
                str(DEFAULT_POLICY),
                "--json",
                str(out / f"verdict-{name}-{n}.json"),
            ]
            got = checked(f"gate check --{name} ({n})", run_child(argv), (0, 1))
            if r == 0:
                _judged_all(out / f"verdict-{name}-{n}.json", n)
            runs[name, n].append(got)
            print(f"{r + 1:>5}  {name:<10} {n:>8} {got.wall:>7.2f} {got.cpu:>6.2f} {got.rss:>6.0f}")
    return [
        SizeResult(name, n, files[name, n].stat().st_size / 1e6, medians(runs[name, n]))
        for name, n in pairs
    ]


def table(results: list[SizeResult]) -> list[str]:
    """Markdown rows: medians per size, then the growth from the size below."""
    lines = [
        "| source | findings | MB | wall s | CPU s | peak MiB | µs CPU/finding "
        "| ×wall | ×CPU | ×peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    prev: SizeResult | None = None
    for res in results:
        m = res.med
        grow = ["", "", ""]
        if prev is not None and prev.source == res.source:
            p = prev.med
            grow = [f"{m.wall / p.wall:.1f}", f"{m.cpu / p.cpu:.1f}", f"{m.rss / p.rss:.1f}"]
        lines.append(
            f"| {res.source} | {res.n:,} | {res.mb:.1f} | {m.wall:.2f} | {m.cpu:.2f} | {m.rss:.0f} "
            f"| {m.cpu / res.n * 1e6:.0f} | {' | '.join(grow)} |"
        )
        prev = res
    return lines


def goal_lines(results: list[SizeResult], big: int, small: int) -> list[str]:
    """The 100k/10k ratios against the goal of at most 12."""
    by = {(r.source, r.n): r.med for r in results}
    lines = []
    for s in SOURCES:
        if (s.name, big) not in by or (s.name, small) not in by:
            continue
        b, m = by[s.name, big], by[s.name, small]
        wall, cpu, rss = b.wall / m.wall, b.cpu / m.cpu, b.rss / m.rss
        met = "met" if wall <= 12 and rss <= 12 else "MISSED"
        lines.append(
            f"- {s.name}: {big:,}/{small:,} wall ×{wall:.1f}, CPU ×{cpu:.1f}, peak ×{rss:.1f} "
            f"(goal ≤ 12): {met}"
        )
    return lines
