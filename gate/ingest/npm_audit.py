"""`npm audit --json` output → one `SourceRun`.

Two formats:
- npm 7+ (`auditReportVersion: 2`): `vulnerabilities` keyed by package. Each entry's `via`
  mixes advisory objects and names of vulnerable dependencies; a name is skipped, since
  that dependency has its own entry carrying the advisory. One finding per (advisory,
  package). npm 7+ gives version ranges, not installed versions, so `Package.version` is
  None; the range and the `nodes` go into `details`.
- npm 6 (no version key; `advisories` keyed by id; `pnpm audit --json` writes it too): one
  finding per advisory and installed version (`findings[].version`).

Fix state (design.md: an upstream fix and npm's ability to fix the tree are two facts):
- `fix_state`/`fixed_versions` say whether a fixed upstream release exists. npm 6:
  `patched_versions` (`<0.0.0` means none). npm 7+: every `<X`/`<=X` upper bound of the
  advisory's `range` is a fixed line (`>=X`/`>X`); a range with no upper bound (`*`,
  `>=2.0.0`) is `no_fix`.
- `fix_in_tree` is npm's `fixAvailable` (npm 7+): whether `npm audit fix` can fix the tree.

The `{"error": {...}}` body npm writes when the audit itself failed is an `InputError`.

Length (over ~400 lines): one idea, npm audit's two report formats (v1 advisories, v2
vulnerabilities with `via` chains) read into the same findings; the two readers share their
helpers.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from gate.common.strict_json import Shape, shape_of
from gate.errors import InputError
from gate.ingest._sniff import wrong_kind
from gate.ingest.common import freshness, load_json, sha256_hex, validation_error
from gate.ingest.interface import Ingestor
from gate.models import (
    Finding,
    FindingKind,
    FixState,
    InputKind,
    Package,
    Severity,
    SourceRef,
    SourceRun,
    ToolInfo,
)

_GHSA_URL = re.compile(r"https://github\.com/advisories/(GHSA(?:-[0-9a-z]{4}){3})\b", re.I)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_PATHS = 20


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Cvss(_Raw):
    score: float | None = None
    vectorString: str | None = None


class _Advisory(_Raw):
    """An advisory object inside an npm 7+ `via` list (early and later npm 7 shapes)."""

    source: int | None = None
    id: int | None = None
    name: str | None = None
    dependency: str | None = None
    title: str | None = None
    url: str | None = None
    severity: str | None = None
    cwe: list[str] | str | None = None
    cvss: _Cvss | None = None
    range: str | None = None
    vulnerable_versions: str | None = None


class _FixAvailable(_Raw):
    name: str | None = None
    version: str | None = None
    isSemVerMajor: bool | None = None


class _Vulnerability(_Raw):
    name: str | None = None
    severity: str | None = None
    isDirect: bool | None = None
    via: list[str | _Advisory]
    range: str | None = None
    nodes: list[str] = []
    fixAvailable: bool | _FixAvailable | None = None


_Count = Annotated[StrictInt, Field(ge=0)]
"""A count npm writes: a whole number, never negative (a string or `-1` is malformed)."""


class _VulnCounts(_Raw):
    info: _Count | None = None
    low: _Count | None = None
    moderate: _Count | None = None
    high: _Count | None = None
    critical: _Count | None = None
    total: _Count | None = None


class _DepCountsV2(_Raw):
    total: _Count | None = None


class _MetadataV2(_Raw):
    vulnerabilities: _VulnCounts | None = None
    dependencies: _DepCountsV2 | None = None


class _MetadataV1(_Raw):
    vulnerabilities: _VulnCounts | None = None
    totalDependencies: _Count | None = None


class _ReportV2(_Raw):
    auditReportVersion: int
    vulnerabilities: dict[str, _Vulnerability]
    metadata: _MetadataV2 | None = None


class _FindingV1(_Raw):
    version: str | None = None
    paths: list[str] = []


class _AdvisoryV1(_Raw):
    id: int | None = None
    title: str | None = None
    module_name: str | None = None
    module: str | None = None
    severity: str | None = None
    cves: list[str] | None = None
    github_advisory_id: str | None = None
    url: str | None = None
    vulnerable_versions: str | None = None
    patched_versions: str | None = None
    findings: list[_FindingV1] = []
    cwe: list[str] | str | None = None
    cvss: _Cvss | None = None


class _ReportV1(_Raw):
    advisories: dict[str, _AdvisoryV1]
    metadata: _MetadataV1 | None = None


def _key(pointer: str, key: str) -> str:
    return f"{pointer}.{key}" if _KEY.match(key) else f'{pointer}["{key}"]'


def _purl(name: str, version: str | None) -> str:
    quoted = name.replace("@", "%40", 1) if name.startswith("@") else name
    return f"pkg:npm/{quoted}" + (f"@{version}" if version else "")


def _ghsa(url: str | None) -> str | None:
    m = _GHSA_URL.search(url or "")
    return m.group(1) if m else None


def fixes_from_range(vulnerable: str | None) -> tuple[FixState, tuple[str, ...]]:
    """What a vulnerable range says about upstream fixes.

    `<4.17.21` → fixable `>=4.17.21`; `<0.2.1 || >=1.0.0 <1.2.3` → fixable `>=0.2.1`,
    `>=1.2.3`; `0.4.1 - 0.5.1` → `>0.5.1`; `*`, `>=0` → `no_fix`; anything else → unknown.
    One fixed line is enough to be `fixable` (the stricter choice: `no_fix` can be ignored).
    """
    if vulnerable is None or not vulnerable.strip():
        return FixState.UNKNOWN, ()
    fixes: list[str] = []
    unreadable = False
    for part in vulnerable.split("||"):
        tokens = part.split()
        if len(tokens) == 3 and tokens[1] == "-":  # hyphen range, inclusive
            fixes.append(f">{tokens[2]}")
            continue
        bound = None
        for t in tokens:
            if t.startswith("<="):
                bound = f">{t[2:]}"
            elif t.startswith("<"):
                bound = f">={t[1:]}"
            elif t[0].isdigit() or (t[0] in "=v" and t[1:2].isdigit()):
                bound = f">{t.lstrip('=v')}"  # one exact version
            elif not (t.startswith(">") or t in ("*", "x", "X")):
                unreadable = True  # ^ ~ x-ranges: not worth guessing
        if bound:
            fixes.append(bound)
    if fixes:
        return FixState.FIXABLE, tuple(dict.fromkeys(fixes))
    return (FixState.UNKNOWN if unreadable else FixState.NO_FIX), ()


def _cwe(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _counts(report: _ReportV2 | _ReportV1, path: str) -> int:
    """Check the report's own counts and return its number of vulnerabilities.

    Every npm and pnpm report has `metadata.vulnerabilities` (per severity, npm 7+ also a
    `total`) and the number of dependencies it audited. Without the first, an empty report
    cannot be told from a cut one; with no dependency audited, it examined nothing; and a
    `total` that is not the sum of its parts contradicts itself.
    """
    meta = report.metadata
    counts = meta.vulnerabilities if meta is not None else None
    if counts is None:
        raise InputError(
            path,
            "no vulnerability counts (metadata.vulnerabilities): not a complete npm audit report",
            "metadata.vulnerabilities",
        )
    parts = (counts.info, counts.low, counts.moderate, counts.high, counts.critical)
    summed = sum(c for c in parts if c is not None)
    if counts.total is not None and counts.total != summed:
        raise InputError(
            path,
            f"total {counts.total} is not the sum of the counts per severity ({summed}): "
            "the report contradicts itself",
            "metadata.vulnerabilities.total",
        )
    if isinstance(meta, _MetadataV2):
        audited, where = (meta.dependencies.total if meta.dependencies else None), "dependencies"
    else:
        assert isinstance(meta, _MetadataV1)
        audited, where = meta.totalDependencies, "totalDependencies"
    if audited is None:
        raise InputError(
            path,
            f"no count of audited dependencies (metadata.{where}): not a complete npm audit report",
            f"metadata.{where}",
        )
    if audited == 0:
        raise InputError(
            path,
            "npm audit audited no dependency: it examined nothing (is it the project's "
            "directory, with a lockfile?)",
            f"metadata.{where}",
        )
    return summed


@cache
def _shape() -> Shape | None:
    return shape_of(_ReportV2 | _ReportV1)


class NpmAuditIngestor(Ingestor):
    kind = InputKind.NPM_AUDIT

    def parse(self, raw: bytes, path: str) -> SourceRun:
        data = load_json(raw, path, _shape())
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            err = data["error"]
            code = err.get("code") or "unknown error"
            summary = str(err.get("summary") or err.get("detail") or "").strip()
            raise InputError(path, f"npm audit failed ({code}) and wrote no report: {summary}")
        if isinstance(data, dict) and "auditReportVersion" in data:
            if data["auditReportVersion"] != 2:
                raise InputError(
                    path,
                    f"unsupported auditReportVersion {data['auditReportVersion']!r} (gate reads 2)",
                    "auditReportVersion",
                )
            findings = self._v2(self._validate(_ReportV2, data, path), path)
        elif isinstance(data, dict) and "advisories" in data:
            findings = self._v1(self._validate(_ReportV1, data, path), path)
        else:
            message = wrong_kind(data, self.kind) or "not an npm audit report"
            raise InputError(path, message)
        when, source = freshness(None, path)  # npm audit writes no timestamp
        return SourceRun(
            kind=self.kind,
            path=path,
            sha256=sha256_hex(raw),
            freshness=when,
            freshness_source=source,
            tools=(ToolInfo(name="npm audit"),),
            findings=tuple(findings),
            facts={"format": "npm7" if "auditReportVersion" in data else "npm6"},
        )

    @staticmethod
    def _validate(model: type[_ReportV2] | type[_ReportV1], data: Any, path: str) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise validation_error(path, e) from e

    def _v2(self, report: _ReportV2, path: str) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        for key, entry in report.vulnerabilities.items():
            pointer = _key("vulnerabilities", key)
            fix = entry.fixAvailable
            details_common: dict[str, Any] = {"nodes": list(entry.nodes)}
            if entry.isDirect is not None:
                details_common["is_direct"] = entry.isDirect
            if isinstance(fix, _FixAvailable):
                details_common["fix_available"] = fix.model_dump()
            for i, via in enumerate(entry.via):
                if isinstance(via, str):  # a vulnerable dependency: it has its own entry
                    if via not in report.vulnerabilities:
                        raise InputError(
                            path,
                            f"via names {via!r}, which has no entry: the report is cut",
                            f"{pointer}.via[{i}]",
                        )
                    continue
                name = via.name or via.dependency or entry.name or key
                number = via.source if via.source is not None else via.id
                ident = _ghsa(via.url) or (f"npm-{number}" if number is not None else None)
                if ident is None:
                    raise InputError(
                        path, "an advisory without url or source", f"{pointer}.via[{i}]"
                    )
                if (ident, name) in seen:
                    continue
                seen.add((ident, name))
                vulnerable = via.range or via.vulnerable_versions
                fix_state, fixed = fixes_from_range(vulnerable)
                details = {**details_common, "range": vulnerable}
                if via.dependency and via.dependency != name:
                    details["dependency"] = via.dependency
                if cwe := _cwe(via.cwe):
                    details["cwe"] = cwe
                if via.cvss and via.cvss.score:
                    details["cvss_score"] = via.cvss.score
                    details["cvss_vector"] = via.cvss.vectorString
                findings.append(
                    Finding(
                        kind=FindingKind.VULNERABILITY,
                        id=ident,
                        aliases=(f"npm-{number}",)
                        if number is not None and ident.startswith("GHSA-")
                        else (),
                        title=via.title,
                        url=via.url,
                        severity=Severity.parse(via.severity or entry.severity),
                        package=Package(name=name, ecosystem="npm", purl=_purl(name, None)),
                        fix_state=fix_state,
                        fixed_versions=fixed,
                        fix_in_tree=None if fix is None else bool(fix),
                        sources=(
                            SourceRef(kind=self.kind, path=path, pointer=f"{pointer}.via[{i}]"),
                        ),
                        details=details,
                    )
                )
        if report.vulnerabilities and not findings:
            raise InputError(
                path, "vulnerable packages are listed but no advisory", "vulnerabilities"
            )
        total = _counts(report, path)
        if total > 0 and not report.vulnerabilities:
            raise InputError(
                path, "metadata counts vulnerabilities but none are listed", "vulnerabilities"
            )
        if total != len(report.vulnerabilities):
            # npm 7+ counts vulnerable packages: one per entry of `vulnerabilities`
            raise InputError(
                path,
                f"metadata counts {total} vulnerable packages but {len(report.vulnerabilities)} "
                "are listed: the report contradicts itself",
                "metadata.vulnerabilities",
            )
        return findings

    def _v1(self, report: _ReportV1, path: str) -> list[Finding]:
        findings: list[Finding] = []
        for key, adv in report.advisories.items():
            pointer = _key("advisories", key)
            name = adv.module_name or adv.module
            if not name:
                raise InputError(path, "an advisory without module_name", pointer)
            ghsa = adv.github_advisory_id or _ghsa(adv.url)
            number = adv.id if adv.id is not None else key
            ident = ghsa or f"npm-{number}"
            aliases = [c for c in adv.cves or () if c != ident]
            if ghsa:
                aliases.append(f"npm-{number}")
            patched = (adv.patched_versions or "").strip()
            fixed: tuple[str, ...]
            if "".join(patched.split()) == "<0.0.0":  # npm's "no patched version"
                fix_state, fixed = FixState.NO_FIX, ()
            elif patched:
                fix_state, fixed = FixState.FIXABLE, (patched,)
            else:
                fix_state, fixed = fixes_from_range(adv.vulnerable_versions)
            details: dict[str, Any] = {"range": adv.vulnerable_versions}
            if cwe := _cwe(adv.cwe):
                details["cwe"] = cwe
            if adv.cvss and adv.cvss.score:
                details["cvss_score"] = adv.cvss.score
                details["cvss_vector"] = adv.cvss.vectorString
            # one finding per installed version (npm lists a version once per dev/prod flag)
            installs: dict[str | None, tuple[int, list[str]]] = {}
            for i, inst in enumerate(adv.findings or [_FindingV1()]):
                installs.setdefault(inst.version, (i, []))[1].extend(inst.paths)
            for version, (i, paths) in installs.items():
                inst_details = dict(details)
                if paths:
                    inst_details["paths"] = paths[:_MAX_PATHS]
                    inst_details["path_count"] = len(paths)
                findings.append(
                    Finding(
                        kind=FindingKind.VULNERABILITY,
                        id=ident,
                        aliases=tuple(aliases),
                        title=adv.title,
                        url=adv.url,
                        severity=Severity.parse(adv.severity),
                        package=Package(
                            name=name,
                            version=version,
                            ecosystem="npm",
                            purl=_purl(name, version),
                        ),
                        fix_state=fix_state,
                        fixed_versions=fixed,
                        sources=(
                            SourceRef(
                                kind=self.kind,
                                path=path,
                                pointer=f"{pointer}.findings[{i}]" if adv.findings else pointer,
                            ),
                        ),
                        details=inst_details,
                    )
                )
        total = _counts(report, path)
        if total > 0 and not report.advisories:
            raise InputError(
                path, "metadata counts vulnerabilities but no advisory is listed", "advisories"
            )
        if total == 0 and report.advisories:
            # npm 6 counts the paths to each advisory: advisories listed means a count > 0
            raise InputError(
                path,
                f"{len(report.advisories)} advisories are listed but metadata counts no "
                "vulnerability: the report contradicts itself",
                "metadata.vulnerabilities",
            )
        return findings
