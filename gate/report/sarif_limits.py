"""GitHub code scanning's SARIF limits, enforced before gate writes a file.

GitHub rejects a whole upload when one limit is exceeded (docs: "SARIF support for
code scanning"), so gate cuts first and says what it cut. What is kept first:
failing decisions, then warnings, excepted, passing and ignored; within each, the
highest severity. A failing result is never dropped without a loud note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gate.models import DecidedFinding, Decision, Severity

MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_RULES_PER_RUN = 25_000
MAX_LOCATIONS_PER_RESULT = 1_000
MAX_TAGS_PER_RULE = 20
MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_DESCRIPTION = 1024
MAX_RULE_NAME = 255

_DECISION_ORDER = {
    Decision.FAIL: 0,
    Decision.WARN: 1,
    Decision.EXCEPTED: 2,
    Decision.PASS: 3,
    Decision.IGNORED: 4,
}


_SEVERITY_ORDER = {s: -s.rank for s in Severity}


def priority(d: DecidedFinding) -> tuple[Any, ...]:
    """Sort key: what to keep first when a limit cuts, and the order results are written in."""
    f = d.finding
    pkg = f.package
    loc = f.location
    return (
        _DECISION_ORDER[d.decision],
        _SEVERITY_ORDER[f.severity],
        f.id,
        pkg.name if pkg else "",
        (pkg.version or "") if pkg else "",
        (loc.path or "") if loc else "",
        (loc.start_line or 0) if loc else 0,
        f.sources[0].pointer if f.sources else "",
    )


class InOrder:
    """Whether the findings given to it one by one came in `priority` order.

    The engine's verdict arrives sorted by (decision, severity, id, package name, input
    order), which `priority` only refines: checking (decision, severity, id) as the
    findings are read anyway, and the full key only on ties, spares 25,000 full keys and
    a sort. (The package is left out of the short key: reaching it costs cache misses.)
    """

    def __init__(self) -> None:
        self.ok = True
        self._prev: DecidedFinding | None = None
        self._key: tuple[int, int, str] = (-1, 0, "")  # below every real key

    def __call__(self, d: DecidedFinding) -> None:
        if not self.ok:
            return
        f = d.finding
        key = (_DECISION_ORDER[d.decision], _SEVERITY_ORDER[f.severity], f.id)
        prev = self._prev
        if key <= self._key and prev is not None:
            if key < self._key or priority(d) < priority(prev):
                self.ok = False
                return
        self._prev, self._key = d, key


def failing(findings: Sequence[DecidedFinding]) -> int:
    return sum(1 for d in findings if d.decision is Decision.FAIL)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_results(
    findings: list[DecidedFinding], category: str, limit: int = MAX_RESULTS_PER_RUN
) -> tuple[list[DecidedFinding], list[str]]:
    """Keep at most `limit` results of one run (already in `priority` order)."""
    if len(findings) <= limit:
        return findings, []
    kept, dropped = findings[:limit], findings[limit:]
    lost = failing(dropped)
    note = (
        f"run {category}: GitHub accepts at most {limit:,} results per run; kept the "
        f"{limit:,} highest-priority of {len(findings):,} results"
    )
    if lost:
        note = (
            f"LIMIT EXCEEDED: {note}, and {lost:,} FAILING results are NOT in the SARIF "
            "(they still fail the verdict)"
        )
    else:
        note += f" (every failing result kept; {len(dropped):,} non-failing results dropped)"
    return kept, [note]


def cut_runs(
    runs: list[tuple[str, list[DecidedFinding]]], limit: int = MAX_RUNS
) -> tuple[list[int], list[str]]:
    """Indexes of the runs to keep (at most `limit`): those with failing results first.

    `runs` holds (category, findings) pairs. The kept indexes keep their original order.
    """
    if len(runs) <= limit:
        return list(range(len(runs))), []

    def rank(i: int) -> tuple[Any, ...]:
        cat, fs = runs[i]
        top = min((priority(d)[:2] for d in fs), default=(9, 0))
        return (-failing(fs), top, -len(fs), cat)

    order = sorted(range(len(runs)), key=rank)
    keep = sorted(order[:limit])
    dropped = [runs[i] for i in order[limit:]]
    results = sum(len(fs) for _, fs in dropped)
    lost = sum(failing(fs) for _, fs in dropped)
    cats = ", ".join(c for c, _ in dropped[:10])
    if len(dropped) > 10:
        cats += f", … and {len(dropped) - 10} more"
    note = (
        f"GitHub accepts at most {limit} runs per SARIF file; dropped {len(dropped)} run(s) "
        f"with {results:,} results: {cats}"
    )
    if lost:
        note = (
            f"LIMIT EXCEEDED: {note}; {lost:,} of them are FAILING results that are NOT in "
            "the SARIF (they still fail the verdict)"
        )
    return keep, [note]


_BLOCK = 1 << 16
_STRIDE = 8


def gzip_bound(data: bytes) -> int:
    """A conservative estimate of the gzip-compressed size GitHub limits to 10 MB.

    - Up to the limit, the raw size (gzip adds at most a header and 5 bytes per 64 KiB
      stored block to data it cannot compress).
    - Above it, every 8th 64 KiB block is compressed on its own at level 1 and the
      result scaled up: blocks compressed apart, at the fastest level, come out larger
      than the whole file at the level upload tools use, so this overestimates. When
      that estimate is under 60% of the limit it is returned (gate's SARIF is the same
      few templates throughout); otherwise the whole file is compressed at level 1,
      then at level 6 (gzip's default) if level 1 does not fit.
    """
    import zlib

    size = len(data)
    if size <= MAX_GZIP_BYTES - 4096:
        return size
    sample = [data[i : i + _BLOCK] for i in range(0, size, _BLOCK * _STRIDE)]
    sampled = sum(len(b) for b in sample)
    estimate = int(sum(len(zlib.compress(b, 1)) for b in sample) * size / sampled)
    if estimate <= MAX_GZIP_BYTES * 0.6:
        return estimate
    fast = len(zlib.compress(data, 1))
    if fast <= MAX_GZIP_BYTES or fast > MAX_GZIP_BYTES * 1.5:
        return fast  # fits; or level 6 could not save a third: over either way
    return len(zlib.compress(data, 6))


def shrink_to_fit(
    runs: list[list[DecidedFinding]], size: int, limit: int = MAX_GZIP_BYTES
) -> tuple[list[list[DecidedFinding]], str]:
    """Drop the lowest-priority results across all runs so the file should fit `limit`.

    Aims 10% under the proportional share; the caller re-measures and calls again if needed.
    """
    total = sum(len(fs) for fs in runs)
    target = max(0, min(total - 1, int(total * limit / size * 0.9)))
    ranked = sorted(
        ((priority(d), r, i) for r, fs in enumerate(runs) for i, d in enumerate(fs)),
    )
    keep = {(r, i) for _, r, i in ranked[:target]}
    out = [[d for i, d in enumerate(fs) if (r, i) in keep] for r, fs in enumerate(runs)]
    dropped = [runs[r][i] for _, r, i in ranked[target:]]
    lost = failing(dropped)
    note = (
        f"the SARIF would be {size / 1_048_576:.1f} MiB gzipped, over GitHub's 10 MB limit; "
        f"dropped the {len(dropped):,} lowest-priority results"
    )
    if lost:
        note = (
            f"LIMIT EXCEEDED: {note}, {lost:,} of them FAILING results that are NOT in the "
            "SARIF (they still fail the verdict)"
        )
    return out, note
