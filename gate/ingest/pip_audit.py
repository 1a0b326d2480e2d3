"""`pip-audit -f json` output → one `SourceRun`.

Reads the current `{"dependencies": [...], "fixes": [...]}` shape (pip-audit ≥ 2.0) and
the legacy top-level list (1.x). pip-audit reports no severity: findings are UNKNOWN
and the policy's `unknown_severity` decides. `fix_versions: []` is `no_fix`.
Dependencies pip-audit could not audit (`skip_reason`) go to `SourceRun.skipped`, never
silently dropped; one with both `vulns` and a `skip_reason` contradicts itself (an ERROR).
A report that lists no dependency, or only skipped ones, examined nothing (an ERROR).
A non-empty `fixes` list (`--fix`) means the environment changed after the audit: a
warning says so.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

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
    SourceRef,
    SourceRun,
    ToolInfo,
)

_PEP503 = re.compile(r"[-_.]+")
_TITLE_MAX = 120
_HEADING = re.compile(r"^\s*#+\s*(?:(?:summary|description|overview)\b:?)?", re.IGNORECASE)


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Vuln(_Raw):
    id: str
    fix_versions: list[str] = []
    aliases: list[str] = []
    description: str | None = None


class _Dependency(_Raw):
    name: str
    version: str | None = None
    vulns: list[_Vuln] | None = None
    skip_reason: str | None = None


class _Fix(_Raw):
    name: str
    old_version: str | None = None
    new_version: str | None = None
    version: str | None = None
    skip_reason: str | None = None


class _Report(_Raw):
    dependencies: list[_Dependency]
    fixes: list[_Fix] = []


_LEGACY = TypeAdapter(list[_Dependency])


def _title(description: str | None) -> str | None:
    """The first line of prose of the description (GHSA texts open with `### Summary`)."""
    lines = (_HEADING.sub("", line).strip() for line in (description or "").splitlines())
    line = next((x for x in lines if x), None)
    if line is None:
        return None
    return line if len(line) <= _TITLE_MAX else line[: _TITLE_MAX - 1].rstrip() + "…"


def _url(vuln_id: str) -> str:
    if vuln_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


@cache
def _shape() -> Shape | None:
    return shape_of(_Report | list[_Dependency])


class PipAuditIngestor(Ingestor):
    kind = InputKind.PIP_AUDIT

    def parse(self, raw: bytes, path: str) -> SourceRun:
        data = load_json(raw, path, _shape())
        try:
            if isinstance(data, dict) and "dependencies" in data:
                report = _Report.model_validate(data)
                deps, fixes, root = report.dependencies, report.fixes, "dependencies"
            elif (
                isinstance(data, list)
                and data  # `[]` is no report of any tool: an empty array says nothing
                and all(isinstance(d, dict) and "name" in d for d in data)
            ):
                deps, fixes, root = _LEGACY.validate_python(data), [], ""
            else:
                raise InputError(path, wrong_kind(data, self.kind) or "not a pip-audit report")
        except ValidationError as e:
            raise validation_error(path, e) from e

        findings: list[Finding] = []
        skipped: list[str] = []
        warnings: list[str] = []
        for i, dep in enumerate(deps):
            pointer = f"{root}[{i}]"
            if dep.skip_reason is not None and dep.vulns is not None:
                # audited and not audited at once: reading either half would be a guess
                raise InputError(
                    path,
                    f"{dep.name}: has both vulns and a skip_reason: the report contradicts itself",
                    pointer,
                )
            if dep.skip_reason is not None:
                skipped.append(f"{dep.name}: {dep.skip_reason}")
                continue
            if dep.version is None or dep.vulns is None:
                missing = "version" if dep.version is None else "vulns"
                raise InputError(path, f"{dep.name}: no {missing} and no skip_reason", pointer)
            normalized = _PEP503.sub("-", dep.name).lower()
            package = Package(
                name=dep.name,
                version=dep.version,
                ecosystem="pypi",
                purl=f"pkg:pypi/{normalized}@{dep.version}",
            )
            for j, vuln in enumerate(dep.vulns):
                fixed = tuple(v for v in vuln.fix_versions if v)
                findings.append(
                    Finding(
                        kind=FindingKind.VULNERABILITY,
                        id=vuln.id,
                        aliases=tuple(dict.fromkeys(a for a in vuln.aliases if a and a != vuln.id)),
                        title=_title(vuln.description),
                        url=_url(vuln.id),
                        package=package,
                        fix_state=FixState.FIXABLE if fixed else FixState.NO_FIX,
                        fixed_versions=fixed,
                        sources=(
                            SourceRef(kind=self.kind, path=path, pointer=f"{pointer}.vulns[{j}]"),
                        ),
                        details={"description": vuln.description} if vuln.description else {},
                    )
                )
        if not deps:
            raise InputError(
                path,
                "pip-audit lists no dependency: it examined nothing (an empty environment "
                "or requirements file?)",
                root or None,
            )
        if len(skipped) == len(deps):
            raise InputError(
                path,
                f"pip-audit could audit none of the {len(deps)} dependencies it lists (each has "
                f"a skip_reason, e.g. {skipped[0]}): nothing was checked",
                root or None,
            )
        applied = [f for f in fixes if f.new_version]
        if applied:
            changes = ", ".join(f"{f.name} {f.old_version} → {f.new_version}" for f in applied)
            warnings.append(
                f"pip-audit --fix upgraded {len(applied)} packages after the audit ({changes}); "
                "the findings describe the versions before the fix"
            )
        skipped += [f"{f.name}: fix skipped: {f.skip_reason}" for f in fixes if f.skip_reason]
        when, source = freshness(None, path)  # pip-audit writes no timestamp
        facts: dict[str, Any] = {
            "format": "legacy-list" if isinstance(data, list) else "dependencies",
            "dependencies": len(deps),
        }
        return SourceRun(
            kind=self.kind,
            path=path,
            sha256=sha256_hex(raw),
            freshness=when,
            freshness_source=source,
            tools=(ToolInfo(name="pip-audit"),),
            findings=tuple(findings),
            skipped=tuple(skipped),
            facts=facts,
            warnings=tuple(warnings),
        )
