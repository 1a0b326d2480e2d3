"""What `gate check` asks of this package: run the audits it was given, and read a saved
npm audit report's installed versions from `--npm-lockfile`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import UsageError
from gate.models import InputKind, InputStatus, SourceRun

if TYPE_CHECKING:
    from gate.policy.model import Policy


@dataclass(frozen=True)
class AuditRequest:
    """The audit options of `gate check`."""

    python_project: list[Path]
    python_env: bool
    python_no_deps: bool
    osv_url: str | None
    index_url: str | None
    vulnerability_service: str
    npm_project: list[Path]
    npm_registry: str | None
    npm_lockfile: Path | None
    timeout: float

    def any(self) -> bool:
        return bool(self.python_project or self.python_env or self.npm_project)


def run_audits(request: AuditRequest) -> list[SourceRun]:
    """One `SourceRun` per audit asked for: each Python project (and the environment), then
    each npm project."""
    runs: list[SourceRun] = []
    if request.python_project or request.python_env:
        from gate.audit.pip_audit import Service, audit_python

        try:
            service = Service(request.vulnerability_service)
        except ValueError:
            choices = ", ".join(s.value for s in Service)
            raise UsageError(
                f"--vulnerability-service: one of {choices}, not {request.vulnerability_service!r}"
            ) from None
        targets: list[Path | None] = [*request.python_project]
        if request.python_env:
            targets.append(None)
        runs += [
            audit_python(
                target,
                osv_url=request.osv_url,
                index_url=request.index_url,
                service=service,
                no_deps=request.python_no_deps,
                timeout=request.timeout,
            )
            for target in targets
        ]
    elif request.python_no_deps or request.index_url:
        raise UsageError("--python-no-deps and --index-url need --python-project")
    if request.npm_project:
        from gate.audit.npm import audit_npm

        runs += [
            audit_npm(p, registry=request.npm_registry, timeout=request.timeout)
            for p in request.npm_project
        ]
    elif request.npm_registry:
        raise UsageError("--npm-registry needs --npm-project")
    return runs


def rate_saved(runs: list[SourceRun], request: AuditRequest) -> list[SourceRun]:
    """With `--osv-url`, the saved pip-audit reports' (`--pip-audit`) findings are rated from
    that OSV service too; without it, a saved report is judged as it is (gate does not know
    which service its tool asked). A service that fails makes that input an ERROR."""
    if request.osv_url is None:
        return runs
    saved = [r for r in runs if r.kind is InputKind.PIP_AUDIT and r.status is InputStatus.OK]
    if not saved and not (request.python_project or request.python_env):
        raise UsageError("--osv-url needs --python-project, --python-env or --pip-audit")
    if not saved:
        return runs
    import os
    import time

    from gate.audit.osv import OsvRecords, rate_findings
    from gate.common.redact import redact, secret_values, url_secrets
    from gate.errors import ScannerError

    secrets = secret_values({**os.environ, **url_secrets(request.osv_url)})
    records = OsvRecords(request.osv_url, deadline=time.monotonic() + request.timeout)
    out = []
    try:
        for run in runs:
            if any(run is r for r in saved):
                try:
                    run = run.model_copy(
                        update={"findings": tuple(rate_findings(run.findings, records))}
                    )
                except ScannerError as e:
                    run = run.model_copy(
                        update={
                            "status": InputStatus.ERROR,
                            "error": redact(e.diagnostics(), secrets),
                            "findings": (),
                        }
                    )
            out.append(run)
    finally:
        records.close()
    return out


def with_lockfile(runs: list[SourceRun], lockfile: Path | None) -> list[SourceRun]:
    """The saved npm audit runs (`--npm-audit`), with installed versions from `lockfile`."""
    if lockfile is None:
        return runs
    from gate.audit.npm_lockfile import read_versions, with_versions
    from gate.errors import InputError

    saved = [r for r in runs if r.kind is InputKind.NPM_AUDIT]
    if len(saved) != 1:
        raise UsageError(
            f"--npm-lockfile goes with exactly one --npm-audit report ({len(saved)} given)"
        )
    out = []
    for run in runs:
        if run is saved[0]:
            try:
                run = with_versions(run, read_versions(lockfile), str(lockfile))
            except InputError as e:
                run = run.model_copy(
                    update={
                        "status": InputStatus.ERROR,
                        "error": e.diagnostics(),
                        "findings": (),
                    }
                )
        out.append(run)
    return out


def scope_warnings(runs: list[SourceRun], policy: Policy) -> list[SourceRun]:
    """Warn on npm 7+ runs without installed versions about version-scoped exceptions."""
    from gate.audit.npm_lockfile import scope_warnings as warn

    scopes = [
        (f"the exception for {e.id}", e.package) for e in policy.exceptions if e.package is not None
    ]
    return warn(runs, scopes)
