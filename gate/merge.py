"""Merging the same vulnerability seen by several scanners into one finding.

Trivy reports `CVE-2021-23337` in `pkg:npm/lodash@4.17.20`; npm audit reports
`GHSA-35jh-r3h4-6jhm` for `lodash`; pip-audit reports `PYSEC-…` with the CVE among
its aliases. Within one package, findings whose id/alias sets overlap are one
finding that lists every source. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from gate.models import Finding, FindingKind, FixState, Package, Severity

_PEP503 = re.compile(r"[-_.]+")


def _package_key(pkg: Package | None) -> tuple[str, str] | None:
    """(ecosystem, normalized name): versions may be absent on one side (npm audit v2)."""
    if pkg is None:
        return None
    eco = (pkg.ecosystem or "").lower()  # the ingestors write canonical names (npm, pypi)
    name = pkg.name.lower()
    if eco == "pypi":
        name = _PEP503.sub("-", name)
    return eco, name


def _ids(f: Finding) -> set[str]:
    return {f.id.upper(), *(a.upper() for a in f.aliases)}


def _versions_compatible(a: Package | None, b: Package | None) -> bool:
    if a is None or b is None or a.version is None or b.version is None:
        return True
    return a.version == b.version


_FIX_STATE_ORDER = [
    FixState.FIXABLE,
    FixState.UNKNOWN,
    FixState.FIX_DEFERRED,
    FixState.NO_FIX,
    FixState.WONT_FIX,
    FixState.END_OF_LIFE,
]

_ID_PREFERENCE = ("CVE-", "GHSA-", "PYSEC-", "GO-", "RUSTSEC-", "OSV-")


def _preferred_id(ids: Iterable[str], first: str) -> str:
    for prefix in _ID_PREFERENCE:
        candidates = sorted(i for i in ids if i.upper().startswith(prefix))
        if candidates:
            return candidates[0]
    return first


def _severity_origin(rater: Finding | None, group: Sequence[Finding]) -> str | None:
    """Where a merged finding's severity came from: the rating member's own source (an OSV
    record), or its input kind when some other member's scanner gave none (pip-audit's
    UNKNOWN rated by Trivy's sighting)."""
    if rater is None:
        return None
    if rater.severity_origin is not None:
        return rater.severity_origin
    if all(f.severity is not Severity.UNKNOWN for f in group) or not rater.sources:
        return None  # every scanner rated it: the highest rating stands, no one borrowed
    return str(rater.sources[0].kind)


def _combine(group: Sequence[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    base = group[0]
    all_ids: dict[str, str] = {}
    for f in group:
        for i in (f.id, *f.aliases):
            all_ids.setdefault(i.upper(), i)
    primary = _preferred_id(all_ids.values(), base.id)
    aliases = tuple(sorted(v for k, v in all_ids.items() if k != primary.upper()))
    ranked = [f for f in group if f.severity is not Severity.UNKNOWN]
    rater = max(ranked, key=lambda f: f.severity.rank) if ranked else None
    severity = rater.severity if rater is not None else Severity.UNKNOWN
    severity_origin = _severity_origin(rater, group)
    fixed = tuple(dict.fromkeys(v for f in group for v in f.fixed_versions))
    # When scanners disagree, keep the state that leaves the finding most visible:
    # a fix anyone knows of wins, and "unknown" beats any flavour of "unfixed" (fail closed).
    states = {f.fix_state for f in group}
    fix_state = FixState.FIXABLE if fixed else min(states, key=_FIX_STATE_ORDER.index)
    package = next((f.package for f in group if f.package and f.package.version), base.package)
    if package is not None and package.purl is None:
        purl = next((f.package.purl for f in group if f.package and f.package.purl), None)
        package = package.model_copy(update={"purl": purl})
    sources = tuple(s for f in group for s in f.sources)
    details = {k: v for f in reversed(group) for k, v in f.details.items()}
    in_tree = [f.fix_in_tree for f in group if f.fix_in_tree is not None]
    return base.model_copy(
        update={
            "id": primary,
            "aliases": aliases,
            "severity": severity,
            "severity_origin": severity_origin,
            "fix_state": fix_state,
            "fixed_versions": fixed,
            "package": package,
            "sources": sources,
            "details": details,
            "title": next((f.title for f in group if f.title), None),
            "url": next((f.url for f in group if f.url), None),
            "fix_in_tree": any(in_tree) if in_tree else None,
            # Not affected only if every scanner that saw it says so.
            "not_affected": all(f.not_affected for f in group),
            "location": next((f.location for f in group if f.location), None),
        }
    )


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Merge vulnerability findings about the same package whose id/alias sets overlap.

    Other kinds pass through unchanged. Order is stable: a merged finding takes
    the place of its first member; a finding joins the first-opened group it overlaps.
    """
    vulnerability = FindingKind.VULNERABILITY
    out: list[Finding] = []
    # package key -> {id or alias (upper case) -> open groups of that package holding it};
    # a group is [its place in `out` (so also its opening order), ids, members]. A finding
    # with a single id that no other finding shares (most of 50,000) is entered as just its
    # place in `out`: the group is made only when a second finding needs it.
    groups: dict[tuple[str, str], dict[str, int | list[list[Any]]]] = {}
    # ingestors share Package objects: find each one's index once (kept alive for its id)
    indexes: dict[int, tuple[Package, dict[str, int | list[list[Any]]]]] = {}
    merged: list[list[Any]] = []  # the groups of two or more, combined at the end
    last: Package | None = None  # a scanner lists a package's findings together
    index: dict[str, int | list[list[Any]]] = {}
    for f in findings:
        fd = f.__dict__  # a frozen model's fields: plain dict reads on this hot path
        pkg = fd["package"]
        if pkg is None or fd["kind"] is not vulnerability:
            out.append(f)
            continue
        if pkg is not last:
            known = indexes.get(id(pkg))
            if known is None:
                key = _package_key(pkg)
                assert key is not None
                known = indexes[id(pkg)] = (pkg, groups.setdefault(key, {}))
            last, index = pkg, known[1]
        if not fd["aliases"]:
            only = fd["id"].upper()
            if only not in index:
                index[only] = len(out)
                out.append(f)
                continue
            ids = {only}
        else:
            ids = _ids(f)
        target: list[Any] | None = None
        for i in ids:
            for entry in _entries(index, i, out) if i in index else ():
                if (target is None or entry[0] < target[0]) and all(
                    # The same scanner never reports one vulnerability twice for one package
                    # version; if it does (two install paths), keep both sightings merged.
                    _versions_compatible(m.package, pkg)
                    for m in entry[2]
                ):
                    target = entry
        if target is None:
            target = [len(out), ids, [f]]
            out.append(f)
            new = ids
        else:
            new = ids - target[1]
            target[1].update(new)
            target[2].append(f)
            if len(target[2]) == 2:
                merged.append(target)
        for i in new:
            _entries(index, i, out).append(target)
    for place, _, members in merged:
        out[place] = _combine(members)
    return out


def _entries(
    index: dict[str, int | list[list[Any]]], ident: str, out: list[Finding]
) -> list[list[Any]]:
    """The open groups holding `ident` (a list the caller may extend), making the group of
    a lone finding entered as its place in `out`."""
    entries = index.get(ident)
    if entries is None:
        entries = index[ident] = []
    elif isinstance(entries, int):
        entries = index[ident] = [[entries, {ident}, [out[entries]]]]
    return entries
