"""Typed facts of one input (`SourceRun.facts`): what an ingestor or scanner learnt besides
its findings, as fields and small records instead of string-keyed dicts.

Each field is set only by the producer that knows it; a field never set is left out of the
JSON verdict (`inputs[].facts`), so the verdict keeps the keys each input kind always had.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, JsonValue, SerializeAsAny, field_serializer


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OsFacts(_Record):
    """The image's OS as Trivy's `Metadata.OS` names it."""

    family: str | None = None
    name: str | None = None
    eosl: bool = False


class SuppressedFacts(_Record):
    """A finding trivy itself suppressed (`ExperimentalModifiedFindings`)."""

    pointer: str
    type: str | None = None
    id: str | None = None
    status: str | None = None
    source: str | None = None
    statement: str | None = None


class ScanFacts(_Record):
    """How gate ran trivy: the (redacted) argv, its exit code and duration."""

    argv: tuple[str, ...]
    exit_code: int | None
    duration_s: float
    started_early: bool
    resolved_early: bool | None = None
    """Set for a registry image only: gate resolved it while trivy started."""


class TrivyDbFacts(_Record):
    """The vulnerability DB trivy used (values verbatim from trivy, hence any JSON)."""

    version: JsonValue = None
    updated_at: JsonValue = None
    next_update: JsonValue = None
    downloaded_at: JsonValue = None
    error: str | None = None
    """Why the DB metadata could not be read."""


class BinaryFacts(_Record):
    """The trivy binary that ran."""

    path: str
    version: str | None
    sha256: str


class ResolvedFacts(_Record):
    """The registry reference gate resolved, and the digest it named."""

    reference: str
    names: str


class PlatformFacts(_Record):
    """The platform trivy scanned, and (for a multi-platform index) the others."""

    scanned: str | None
    manifest: str | None
    index: str | None = None
    not_scanned: tuple[str, ...] = ()


class ArchiveFacts(_Record):
    """The image archive trivy scanned: its format and the manifest digest it records."""

    format: str
    manifest_digest: str | None


class SarifRuleFacts(_Record):
    """What the SARIF writer needs to re-emit a rule of a SARIF input under its own id."""

    id: str
    name: str | None = None
    short: str | None = None
    full: str | None = None
    help_text: str | None = None
    help_markdown: str | None = None
    help_uri: str | None = None
    tags: tuple[str, ...] = ()
    security_severity: str | None = None
    precision: str | None = None
    level: str | None = None


class SarifRunFacts(_Record):
    """One run of a SARIF input: its tool, version, category and rules."""

    index: int
    tool: str
    version: str | None = None
    information_uri: str | None = None
    category: str | None = None
    results: int = 0
    rules: dict[str, SarifRuleFacts] = {}


class _Facts(_Record):
    """Facts whose fields are each set by the one producer that knows them."""

    def merged(self, other: Self) -> Self:
        """These facts with every field `other` set replaced by `other`'s."""
        if not other.model_fields_set:
            return self
        return self.model_copy(update={k: getattr(other, k) for k in other.model_fields_set})

    def as_json(self) -> dict[str, Any]:
        """The JSON verdict's form: the fields that were set, nothing else."""
        return self.model_dump(mode="json", exclude_unset=True)


class Facts(_Facts):
    """Non-finding facts of one input. Every field is optional; which are set depends on
    the input kind and on how gate got it (a saved report, a scan gate ran, an API read)."""

    # Trivy reports
    format: str | None = None
    """The report's format: `schema-2`, `transitional`, `legacy-array` (Trivy); `npm7`,
    `npm6` (npm audit); `dependencies`, `legacy-list` (pip-audit)."""
    artifact_type: str | None = None
    report_id: str | None = None
    os: OsFacts | None = None
    examined: tuple[str, ...] | None = None
    """The finding kinds whose scan produced a Result (None: not read by gate's reader)."""
    licenses_ignored: int | None = None
    suppressed: tuple[SuppressedFacts, ...] | None = None
    # a trivy scan gate ran
    scan: ScanFacts | None = None
    trivy_db: TrivyDbFacts | None = None
    """None: a saved report, not a scan gate ran."""
    digest_source: str | None = None
    resolved: ResolvedFacts | None = None
    platform: PlatformFacts | None = None
    archive: ArchiveFacts | None = None
    trivy_binary: BinaryFacts | None = None
    # npm audit, pip-audit (read or run by gate)
    argv: tuple[str, ...] | None = None
    registry: str | None = None
    """npm audit run by gate: the registry it asked (always on npm's argv)."""
    lockfile: str | None = None
    dependencies: int | None = None
    service: str | None = None
    osv_url: str | None = None
    osv_records_read: int | None = None
    # SARIF
    sarif_tools: tuple[str, ...] | None = None
    sarif_runs: tuple[SarifRunFacts, ...] | None = None
    # branch protection (a GitHub API read)
    endpoint: str | None = None
    http_status: int | None = None
    repo: str | None = None
    branch: str | None = None
    reading: SerializeAsAny[BaseModel] | None = None
    """The normalized reading, a `gate.branch_protection.effective.Reading` (typed here as
    its base class: the reporters that import this module must not import that package)."""

    @field_serializer("reading")
    def _whole_reading(self, reading: BaseModel | None) -> dict[str, Any] | None:
        # every field of the reading, defaults too, as the verdict always listed them
        return None if reading is None else reading.model_dump(mode="json")


class ProtectionSummary(_Record):
    """A branch's effective protection in compact form: setting → value (None: unknown)."""

    repo: str | None
    branch: str | None
    sources: dict[str, str]
    """`classic` / `rulesets` → `protected`, `unprotected`, `unreadable`, `partial`, `not read`."""
    settings: dict[str, int | bool | list[str] | None]
    notes: tuple[str, ...] = ()


class VerdictFacts(_Facts):
    """Facts the rules established about the inputs as a whole (`Verdict.facts`)."""

    branch_protection: ProtectionSummary | None = None
