"""`gate exceptions`: every exception and VEX statement with its origin, scope, owner, expiry
and state, for a scheduled hygiene job.

States, in this order of precedence: `expired` (past its expiry), `unused` (named among the
unused exceptions of the last verdict, `--verdict`), `expiring` (within
`exception_rules.expiring_days`, or `--expiring-days`), `active`. VEX statements never
expire; a statement about an image is listed for every image digest it names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError

STATES = ("expired", "unused", "expiring", "active")


@dataclass(frozen=True)
class Listed:
    origin: str
    id: str
    scope: str
    owner: str | None
    expires: dt.date
    state: str
    days_left: int
    reason: str


def _unused_in(verdict: Path) -> set[tuple[str, str]]:
    """(label, id) of every exception the verdict lists as unused."""
    from gate.common.files import FileProblem, max_input_bytes, read_regular
    from gate.common.strict_json import load_strict

    name = str(verdict)
    try:
        raw = read_regular(verdict, max_input_bytes(), "--max-input-bytes")
    except FileProblem as e:
        raise InputError(name, str(e)) from e
    data: Any = load_strict(raw, name)
    ex = data.get("exceptions") if isinstance(data, dict) else None
    unused = ex.get("unused") if isinstance(ex, dict) else None
    if not isinstance(unused, list) or not all(
        isinstance(u, dict) and isinstance(u.get("label"), str) and isinstance(u.get("id"), str)
        for u in unused
    ):
        raise InputError(name, "not a gate JSON verdict: no exceptions.unused list", "exceptions")
    return {(u["label"], u["id"]) for u in unused}


def _vex_digests(docs: Sequence[Any]) -> set[str]:
    from packageurl import PackageURL

    out = set()
    for doc in docs:
        for s in doc.statements:
            for p in s.products:
                try:
                    purl = PackageURL.from_string(p.id)
                except ValueError:
                    continue
                if purl.type == "oci" and purl.version:
                    out.add(purl.version)
    return out


def list_exceptions(
    *,
    policy_path: Path | None,
    exceptions: Sequence[Path],
    vex: Sequence[Path],
    ignore_files: Sequence[Path],
    verdict: Path | None,
    today: dt.date,
    expiring_days: int | None,
) -> tuple[list[Listed], list[str]]:
    """Every exception, with its state, and the warnings reading the files gave."""
    from gate.exception_files import add_exception_files, read_exception_sources
    from gate.wiring import load_policy_and_exceptions

    now = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    policy, ref = load_policy_and_exceptions(policy_path, list(exceptions), now)
    sources = read_exception_sources(vex, ignore_files, policy.exception_rules)
    policy, ref, warnings = add_exception_files(
        policy, ref, sources, digests=_vex_digests(sources.vex), today=today
    )
    unused = _unused_in(verdict) if verdict is not None else set()
    soon = policy.exception_rules.expiring_days if expiring_days is None else expiring_days
    top = len(policy.exceptions)
    out = []
    for i, e in enumerate(policy.all_exceptions()):
        label = ref.exception_label(i, top)
        days = (e.expires - today).days
        if days < 0:
            state = "expired"
        elif (label, e.id) in unused:
            state = "unused"
        elif days <= soon:
            state = "expiring"
        else:
            state = "active"
        scope = ", ".join([e.package or "any package", *(f"path {p}" for p in e.paths)])
        out.append(Listed(label, e.id, scope, e.owner, e.expires, state, days, e.reason))
    return out, warnings


def render(items: Sequence[Listed], warnings: Sequence[str]) -> str:
    """One block per exception, every file-borne string escaped."""
    from gate.common.sanitize import guard, text

    lines = []
    for it in items:
        expiry = "never" if it.expires.year == 9999 else f"{it.expires} ({it.days_left} days)"
        lines.append(f"{it.state:<8} {text(it.id)}  {text(it.origin)}")
        lines.append(
            f"         scope {text(it.scope)}; owner {text(it.owner or '-')}; expires {expiry}"
        )
        lines.append(f"         {text(it.reason)}")
    lines += [f"warning: {text(w)}" for w in warnings]
    counts = {s: sum(1 for it in items if it.state == s) for s in STATES}
    lines.append(f"{len(items)} exceptions: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return guard("\n".join(lines) + "\n")
