"""Is this trivy's own report about the image asked for? The checks a scan's report passes.

- `parse`: the report trivy wrote exists, is not empty and reads as a Trivy report;
- `image_subject`: it is a SchemaVersion 2 container-image report about the artifact gate
  asked trivy to scan, with an `ImageID`;
- `agrees`: its findings agree with trivy's exit code (`--exit-code 4`: findings; 0: none),
  so a report that lost or gained findings is not taken for the one trivy wrote.

Each failure is a `ScannerError`: the run is an ERROR, never a PASS.
"""

from __future__ import annotations

from pathlib import Path

from gate.errors import InputError, ScannerError
from gate.models import SourceRun, Subject
from gate.scanners.trivy.command import FINDINGS_EXIT

SCHEMA_VERSION = 2


def parse(output: Path, code: int | None, display: str, tail: str) -> SourceRun:
    """The report at `output`; `tail` (trivy's last stderr lines) ends a missing one's error."""
    from gate.ingest.trivy import TrivyIngestor

    if not output.is_file():
        raise ScannerError(f"trivy exited {code} but wrote no report for {display}{tail}")
    raw = output.read_bytes()
    if not raw.strip():
        raise ScannerError(f"trivy exited {code} but its report for {display} is empty")
    try:
        run = TrivyIngestor().parse(raw, display)
    except InputError as e:
        where = f" at {e.pointer}" if e.pointer else ""
        raise ScannerError(f"trivy's report for {display} is unusable{where}: {e.message}") from e
    return run


def image_subject(run: SourceRun, display: str, artifact_name: str) -> Subject:
    """The report's subject, once it is known to be an image report about `artifact_name`."""
    found = run.subject
    if run.facts.format != f"schema-{SCHEMA_VERSION}" or found is None:
        raise ScannerError(
            f"trivy's report for {display} is not a SchemaVersion {SCHEMA_VERSION} "
            "image report (no Metadata)"
        )
    if found.name != artifact_name:
        raise ScannerError(
            f"trivy's report is for {found.name!r}, not for {artifact_name!r}: "
            "a report about another image cannot judge this one"
        )
    kind = run.facts.artifact_type
    if kind != "container_image":
        raise ScannerError(
            f"trivy's report for {display} is a {kind!r} scan, not a container image"
        )
    if not found.image_id:
        raise ScannerError(f"trivy's report for {display} has no Metadata.ImageID")
    return found


def agrees(run: SourceRun, code: int | None, display: str) -> None:
    """trivy's exit code says whether it found anything; its report must say the same."""
    found = len(run.findings) + (run.facts.licenses_ignored or 0)
    if code == FINDINGS_EXIT and not found:
        raise ScannerError(
            f"trivy exited {FINDINGS_EXIT} (findings) but its report for {display} "
            "holds none: it is not the report trivy wrote (truncated or replaced?)"
        )
    if code == 0 and found:
        raise ScannerError(
            f"trivy exited 0 (no findings) but its report for {display} holds {found}: "
            "it is not the report trivy wrote (replaced?)"
        )
