"""Matching policy exceptions to findings, and the ledger of what each exception did."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gate.models import ExceptionReport, ExceptionUse, Finding, FindingKind
from gate.policy.model import PolicyException


@dataclass(frozen=True)
class _Purl:
    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: frozenset[tuple[str, str]] = frozenset()


def _parse_purl(text: str) -> _Purl | None:
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    name = p.name.lower()
    if p.type == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    return _Purl(
        p.type,
        (p.namespace or "").lower() or None,
        name,
        p.version,
        frozenset((str(k), str(v)) for k, v in dict(p.qualifiers or {}).items()),
    )


def _package_matches(scope: str, finding: Finding) -> bool:
    want = _parse_purl(scope)
    pkg = finding.package
    if want is None or pkg is None:
        return False
    if pkg.purl:
        have = _parse_purl(pkg.purl)
    else:
        eco = (pkg.ecosystem or "").lower()
        have = _Purl(eco, None, pkg.name.lower(), pkg.version)
        if want.namespace and "/" in pkg.name:
            ns, _, name = pkg.name.lower().rpartition("/")
            have = _Purl(eco, ns, name, pkg.version)
    if have is None:
        return False
    if (want.type, want.namespace, want.name) != (have.type, have.namespace, have.name):
        return False
    if want.version is not None and want.version != have.version:
        return False
    # a scope's qualifiers (`?arch=x86_64`) narrow it: each must be the finding's too
    return want.qualifiers <= have.qualifiers


def exception_matches(e: PolicyException, finding: Finding) -> bool:
    """The id or an alias matches the finding's id or an alias (case-insensitive), and the
    purl and path scopes if any."""
    ids = {finding.id.upper(), *(a.upper() for a in finding.aliases)}
    mine = {e.id.upper(), *(a.upper() for a in e.aliases)}
    return bool(mine & ids) and _in_scope(e, finding)


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """A doublestar glob: `**/` any directories (or none), `**` anything, `*` and `?` within
    one path segment."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _path_matches(globs: Sequence[str], finding: Finding) -> bool:
    path = finding.location.path if finding.location else None
    return path is not None and any(_glob(g).fullmatch(path) for g in globs)


def _in_scope(e: PolicyException, finding: Finding) -> bool:
    # an ignore file's section (`secrets:`) excepts that kind of finding only, as in Trivy
    if e.kinds is not None and finding.kind.value not in e.kinds:
        return False
    if e.paths and not _path_matches(e.paths, finding):
        return False
    return e.package is None or _package_matches(e.package, finding)


@dataclass
class ExceptionLedger:
    """Which exceptions are active today, and how many findings each matched."""

    exceptions: Sequence[PolicyException]
    today: dt.date
    expiring_days: int = 14
    code_only_from: int | None = None
    """Exceptions from this index on (`code_scanning.exceptions`) apply to code findings only."""
    matched: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.matched = [0] * len(self.exceptions)
        # by upper-cased id, once: a finding is looked up by its ids, not tried against all
        self._by_id: dict[str, list[int]] = {}
        for i, e in enumerate(self.exceptions):
            for key in {e.id.upper(), *(a.upper() for a in e.aliases)}:
                self._by_id.setdefault(key, []).append(i)

    def is_expired(self, index: int) -> bool:
        return self.exceptions[index].expires < self.today

    def match(self, finding: Finding) -> list[int]:
        """Indexes of every exception (active or expired) that applies to the finding, in
        order; each is counted as matched (`fail_on_unused` reads the counts)."""
        ids = {finding.id.upper(), *(a.upper() for a in finding.aliases)}
        code = finding.kind is FindingKind.CODE
        hits = sorted(
            {
                i
                for key in ids
                for i in self._by_id.get(key, ())
                if (code or self.code_only_from is None or i < self.code_only_from)
                and _in_scope(self.exceptions[i], finding)
            }
        )
        for i in hits:
            self.matched[i] += 1
        return hits

    def report(self, labels: Sequence[str] = ()) -> ExceptionReport:
        """What became of each exception; `labels[i]` says where exception i is written."""
        used: list[ExceptionUse] = []
        unused: list[ExceptionUse] = []
        expired: list[ExceptionUse] = []
        expiring: list[ExceptionUse] = []
        for i, e in enumerate(self.exceptions):
            days_left = (e.expires - self.today).days
            use = ExceptionUse(
                index=i,
                label=labels[i] if i < len(labels) else f"exceptions[{i}]",
                id=e.id,
                aliases=tuple(e.aliases),
                package=e.package,
                paths=tuple(e.paths),
                reason=e.reason,
                expires=e.expires.isoformat(),
                owner=e.owner,
                kinds=None if e.kinds is None else tuple(sorted(e.kinds)),
                vex_status=e.vex[0] if e.vex else None,
                vex_justification=e.vex[1] if e.vex else None,
                vex_impact=e.vex[2] if e.vex else None,
                matched=self.matched[i],
                days_left=days_left,
            )
            if days_left < 0:
                expired.append(use)
                continue
            (used if self.matched[i] else unused).append(use)
            if days_left <= self.expiring_days:
                expiring.append(use)
        return ExceptionReport(
            used=tuple(used),
            unused=tuple(unused),
            expired=tuple(expired),
            expiring=tuple(expiring),
            expiring_days=self.expiring_days,
        )
