"""Trivy JSON reports (`trivy image|fs|repo|sbom --format json`) → one `SourceRun`.

Reads SchemaVersion 2, the legacy top-level array (Trivy < 0.20) and the transitional
top-level object (`ImageID`/`RepoDigests` beside `Results`). Vulnerabilities, secrets and
failed misconfigurations become findings; license results are ignored (gate has no
license policy).

NOTE: the raw models are `msgspec.Struct`s, not pydantic models as elsewhere in gate. A
report can hold 50,000 vulnerabilities (100 MB); msgspec decodes only the declared fields
(unknown fields are skipped, as with pydantic's `extra="ignore"`) in a third of the time
and half the memory of `json.loads` alone, which lets gate read a report faster and in
less memory than `trivy convert` does (`bench/bench_trivy_report.py`).

Decisions worth knowing:
- Strict reading: a duplicate key anywhere, or a key that differs from one gate reads only
  in case, is an `InputError` (`gate.common.strict_json`), whatever the report's size; msgspec
  cannot see either, so the report is decoded a second time for the check (above
  `STRICT_MAX_BYTES`, a lean pass that keeps only key sets; `_trivy_raw.check_strict`).
- Nothing examined: a report with neither an artifact nor Results is an `InputError`;
  `Facts.examined` lists the finding kinds whose scan produced a Result, so the policy
  must have a section for each (`gate.rules.coverage`).
- Fix state: a non-empty `FixedVersion` is `fixable` whatever the `Status`; otherwise the
  `Status` decides (`affected` → `no_fix`, `will_not_fix` → `wont_fix`, …); no `Status` and
  no `FixedVersion` is `no_fix` (what `trivy --ignore-unfixed` treats as unfixed); `fixed`
  without a version is still `fixable` (Trivy says a fix exists). `not_affected` sets
  `Finding.not_affected`.
- Aliases: `VendorIDs`, plus the GHSA id of `PrimaryURL` when the data source is `ghsa`
  (so a Trivy CVE merges with npm audit's GHSA). References are not mined: they often
  name related advisories, and a wrong alias would merge two different vulnerabilities.
- Secrets: the matched text (`Match`, `Code`) is never read, so it cannot leak into a verdict.
- `ExperimentalModifiedFindings` (`--show-suppressed`): a VEX `not_affected`/`fixed`
  statement becomes a finding with `not_affected=True` and a `vex` suppression (shown,
  never failing). Findings Trivy's own ignore files or policies hid (`ignored`) are not
  judged, exactly as without `--show-suppressed`; they are listed in `Facts.suppressed`
  and a warning says that gate exceptions (with owner and expiry) are the place for them.
"""

from __future__ import annotations

import threading
from typing import Any

from gate._fastmodel import gc_paused
from gate.common.timestamps import parse_timestamp
from gate.errors import InputError
from gate.facts import Facts, OsFacts
from gate.ingest._trivy_findings import Builder
from gate.ingest._trivy_raw import Report, Result, check_strict, decode
from gate.ingest.common import freshness, sha256_hex
from gate.ingest.interface import Ingestor
from gate.models import InputKind, SourceRun, Subject, ToolInfo


class TrivyIngestor(Ingestor):
    kind = InputKind.TRIVY

    def parse(self, raw: bytes, path: str) -> SourceRun:
        # hashlib releases the GIL: hash 100 MB on the other core while decoding
        digest: list[str] = []
        hasher = threading.Thread(target=lambda: digest.append(sha256_hex(raw)), daemon=True)
        hasher.start()
        try:
            check_strict(raw, path)
            report, legacy = decode(raw, path)
            builder = Builder(path)
            with gc_paused():
                results = report if isinstance(report, list) else report.Results
                root = "" if legacy else "Results"
                for ri, result in enumerate(results or []):
                    builder.result(result, f"{root}[{ri}]")
        finally:
            hasher.join()
        warnings = builder.warnings
        meta = _facts(report)
        meta["examined"] = tuple(sorted(builder.examined))
        if builder.licenses:
            meta["licenses_ignored"] = builder.licenses
            warnings.append(
                f"{builder.licenses} license findings ignored (gate has no license policy)"
            )
        created = None
        if isinstance(report, Report):
            if not report.Results and not report.ArtifactName:
                # every scan trivy writes names its artifact: this is no scan result
                raise InputError(
                    path, "the report names no artifact and holds no Results: not a scan result"
                )
            created = parse_timestamp(report.CreatedAt)
            if report.CreatedAt and created is None:
                # falling back to the file's mtime could make a stale report look fresh
                raise InputError(
                    path,
                    f"CreatedAt {report.CreatedAt!r} is not an RFC 3339 timestamp",
                    "CreatedAt",
                )
            if not report.Results:
                warnings.append("the report has no Results: trivy found nothing it could scan")
        when, source = freshness(created, path)
        if builder.suppressed:
            meta["suppressed"] = tuple(builder.suppressed)
            by = sorted({s.source or "an ignore rule" for s in builder.suppressed})
            warnings.append(
                f"{len(builder.suppressed)} findings were suppressed by trivy itself "
                f"({', '.join(by)}; ExperimentalModifiedFindings): gate does not judge them; "
                "accepted risks belong in gate exceptions, which have an owner and an expiry"
            )
        os_info = meta.get("os")
        if isinstance(os_info, OsFacts) and os_info.eosl:
            warnings.append(
                f"the OS ({os_info.family} {os_info.name}) is end of service "
                "life: its packages get no more security fixes"
            )
        version = report.Trivy.Version if isinstance(report, Report) and report.Trivy else None
        return SourceRun(
            kind=self.kind,
            path=path,
            sha256=digest[0] if digest else sha256_hex(raw),
            subject=_subject(report),
            created_at=created,
            freshness=when,
            freshness_source=source,
            tools=(ToolInfo(name="Trivy", version=version),),
            findings=tuple(builder.findings),
            facts=Facts(**meta),
            warnings=tuple(warnings),
        )


def _facts(report: Report | list[Result]) -> dict[str, Any]:
    if isinstance(report, list):
        return {"format": "legacy-array"}
    facts: dict[str, Any] = {
        "format": f"schema-{report.SchemaVersion}" if report.SchemaVersion else "transitional"
    }
    if report.ArtifactType:
        facts["artifact_type"] = report.ArtifactType
    if report.ReportID:
        facts["report_id"] = report.ReportID
    os = report.Metadata.OS if report.Metadata else None
    if os is not None and (os.Family or os.Name):
        facts["os"] = OsFacts(family=os.Family, name=os.Name, eosl=bool(os.EOSL))
    return facts


def _subject(report: Report | list[Result]) -> Subject | None:
    if isinstance(report, list):
        return None
    meta = report.Metadata
    image_id = (meta.ImageID if meta else None) or report.ImageID
    digests = [d for d in ((meta.RepoDigests if meta else None) or report.RepoDigests or []) if d]
    tags = [t for t in ((meta.RepoTags if meta else None) or report.RepoTags or []) if t]
    name = report.ArtifactName or None
    if not (name or image_id or digests or tags):
        return None
    digest = next((d.partition("@")[2] for d in digests if "@" in d), None)
    return Subject(
        name=name,
        digest=digest or None,
        image_id=image_id or None,
        repo_digests=tuple(digests),
        repo_tags=tuple(tags),
    )
