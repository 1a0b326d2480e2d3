"""Ingest: every input format gate reads, each in its own module behind `Ingestor`.

`load_report(kind, path)` is the one entry point the CLI uses. It never raises for
a bad input: it returns a `SourceRun` whose status is `error`, so the verdict is ERROR.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_never

from gate.errors import InputError
from gate.ingest.interface import Ingestor
from gate.models import InputKind, InputStatus, SourceRun

__all__ = ["Ingestor", "ingestor_for", "load_report"]


def ingestor_for(kind: InputKind) -> Ingestor:
    """The ingestor of an input kind (a closed registry; a test walks every member)."""
    match kind:
        case InputKind.TRIVY:
            from gate.ingest.trivy import TrivyIngestor

            return TrivyIngestor()
        case InputKind.NPM_AUDIT:
            from gate.ingest.npm_audit import NpmAuditIngestor

            return NpmAuditIngestor()
        case InputKind.PIP_AUDIT:
            from gate.ingest.pip_audit import PipAuditIngestor

            return PipAuditIngestor()
        case InputKind.SARIF:
            from gate.ingest.sarif import SarifIngestor

            return SarifIngestor()
        case InputKind.BRANCH_PROTECTION:
            from gate.branch_protection.ingest import BranchProtectionIngestor

            return BranchProtectionIngestor()
        case _:
            assert_never(kind)


def load_report(kind: InputKind, path: Path) -> SourceRun:
    """Read and parse one report file; any `InputError` becomes an error `SourceRun`."""
    from gate.ingest.common import read_input, sha256_hex

    raw: bytes | None = None
    try:
        raw = read_input(path)
        run = ingestor_for(kind).parse(raw, str(path))
    except InputError as e:
        return SourceRun(
            kind=kind,
            path=str(path),
            sha256=sha256_hex(raw) if raw is not None else None,
            status=InputStatus.ERROR,
            error=e.diagnostics(),
        )
    return run
