"""Installed versions for npm 7+ findings, from the project's lockfile.

npm 7+ (`auditReportVersion: 2`) names the vulnerable package, its range and its `nodes`
(paths such as `node_modules/a/node_modules/atob`), not the installed version, so an
exception scoped to `pkg:npm/atob@2.1.0` could never match. `package-lock.json` (or
`npm-shrinkwrap.json`) v2/v3 lists every node with its version under `packages`: each
finding becomes one finding per installed version, with that version in its package and
purl, and only the nodes that hold it.

A node the lockfile does not list means the report is not about this lockfile (an ERROR);
a v1 lockfile (npm 6, no `packages`) cannot be read this way (an ERROR: npm 7+ rewrites it).
Without a lockfile, `scope_warnings` says why an exception scoped to a version cannot
match an npm 7+ finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gate.common.files import FileProblem, max_input_bytes, read_regular
from gate.common.strict_json import Shape, load_strict, shape_of
from gate.errors import InputError
from gate.facts import Facts
from gate.models import Finding, InputKind, InputStatus, SourceRun

LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")
"""What npm reads, in its order: a shrinkwrap wins over a package-lock."""


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Node(_Raw):
    version: str | None = None
    link: bool | None = None


class _Lock(_Raw):
    lockfileVersion: int
    packages: dict[str, _Node] | None = None


@cache
def _shape() -> Shape | None:
    return shape_of(_Lock)


def find_lockfile(directory: Path) -> Path | None:
    """The lockfile npm would read in `directory`, or None."""
    for name in LOCKFILES:
        if (directory / name).is_file():
            return directory / name
    return None


def read_versions(path: Path) -> dict[str, str]:
    """node path → installed version, from a v2/v3 lockfile; `InputError` otherwise."""
    where = str(path)
    try:
        raw = read_regular(path, max_input_bytes(), "--max-input-bytes")
    except FileProblem as e:
        raise InputError(where, str(e)) from e
    except OSError as e:
        raise InputError(where, e.strerror or str(e)) from e
    try:
        lock = _Lock.model_validate(load_strict(raw, where, _shape()))
    except ValidationError as e:
        first = e.errors()[0]
        pointer = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(where, f"not an npm lockfile: {first['msg']}", pointer) from e
    if lock.packages is None:
        raise InputError(
            where,
            f"lockfileVersion {lock.lockfileVersion} has no `packages` (npm 6): gate reads "
            "the v2 and v3 lockfiles npm 7+ writes (`npm install --package-lock-only`)",
            "packages",
        )
    return {key: node.version for key, node in lock.packages.items() if key and node.version}


def with_versions(run: SourceRun, versions: dict[str, str], lockfile: str) -> SourceRun:
    """`run`'s npm 7+ findings split by installed version (module docstring)."""
    if run.status is not InputStatus.OK or run.facts.format != "npm7":
        return run
    out: list[Finding] = []
    for f in run.findings:
        nodes = f.details.get("nodes") or []
        if f.package is None or not nodes:
            out.append(f)
            continue
        by_version: dict[str, list[str]] = {}
        for node in nodes:
            version = versions.get(node)
            if version is None:
                pointer = f.sources[0].pointer if f.sources else None
                raise InputError(
                    run.path,
                    f"node {node!r} is not in {lockfile}: the report is not about this lockfile",
                    pointer,
                )
            by_version.setdefault(version, []).append(node)
        for version, held in by_version.items():
            package = f.package.model_copy(
                update={"version": version, "purl": f"{f.package.purl}@{version}"}
            )
            details = {**f.details, "nodes": held, "installed_from": lockfile}
            out.append(f.model_copy(update={"package": package, "details": details}))
    facts = run.facts.merged(Facts(lockfile=lockfile))
    return run.model_copy(update={"findings": tuple(out), "facts": facts})


def scope_warnings(runs: Sequence[SourceRun], scopes: Iterable[tuple[str, str]]) -> list[SourceRun]:
    """`runs`, with a warning on each npm 7+ run without installed versions for each
    exception (label, purl) scoped to an npm package version: it cannot match there."""
    wanted = [(label, purl) for label, purl in scopes if _npm_versioned(purl)]
    if not wanted:
        return list(runs)
    out = []
    for run in runs:
        unversioned = (
            run.kind is InputKind.NPM_AUDIT
            and run.status is InputStatus.OK
            and run.facts.format == "npm7"
            and run.facts.lockfile is None
        )
        if unversioned:
            notes = tuple(
                f"{label} is scoped to {purl}, but npm audit 7+ reports name no installed "
                "version, so it cannot match here: give the lockfile with --npm-lockfile "
                "(or audit with --npm-project)"
                for label, purl in wanted
            )
            run = run.model_copy(update={"warnings": run.warnings + notes})
        out.append(run)
    return out


def _npm_versioned(purl: str) -> bool:
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return False
    return p.type == "npm" and bool(p.version)
