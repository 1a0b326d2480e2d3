"""The normalized model every ingest module produces and every reporter reads.

All models are frozen pydantic models: parsed once at the edge, then passed around
as values. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gate.facts import Facts, VerdictFacts


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Severity(enum.StrEnum):
    """Severity, highest first. UNKNOWN is not ranked: the policy decides what it does."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    UNKNOWN = "UNKNOWN"

    @property
    def rank(self) -> int:
        """4 for CRITICAL down to 1 for LOW; 0 for UNKNOWN."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: object) -> Severity:
        """Map a scanner's severity word to a `Severity` (npm `moderate` → MEDIUM, `info` → LOW).

        Anything unrecognised is UNKNOWN: a severity gate cannot read is never LOW.
        """
        if not isinstance(value, str):
            return cls.UNKNOWN
        return _SEVERITY_WORDS.get(value.strip().lower(), cls.UNKNOWN)

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """Map a score as GitHub does: ≥ 9.0 CRITICAL, ≥ 7.0 HIGH, ≥ 4.0 MEDIUM, > 0 LOW."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0:
            return cls.LOW
        return cls.UNKNOWN


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.UNKNOWN: 0,
}
_SEVERITY_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.LOW,
    "informational": Severity.LOW,
    "negligible": Severity.LOW,
    "unknown": Severity.UNKNOWN,
}


class FixState(enum.StrEnum):
    """One fix-status model for every scanner (see design.md)."""

    FIXABLE = "fixable"
    """A fixed version exists."""
    NO_FIX = "no_fix"
    """Affected, and no fix has been released."""
    WONT_FIX = "wont_fix"
    """The vendor will not fix it."""
    FIX_DEFERRED = "fix_deferred"
    END_OF_LIFE = "end_of_life"
    UNKNOWN = "unknown"
    """The scanner did not say (or is still investigating)."""


UNFIXED_STATES: frozenset[FixState] = frozenset(
    {FixState.NO_FIX, FixState.WONT_FIX, FixState.FIX_DEFERRED, FixState.END_OF_LIFE}
)
"""The fix states that `ignore_unfixed: true` ignores. `unknown` is not among them: fail closed."""


class FindingKind(enum.StrEnum):
    VULNERABILITY = "vulnerability"
    SECRET = "secret"  # noqa: S105 (a finding kind, not a password)
    MISCONFIGURATION = "misconfiguration"
    CODE = "code"
    """A code-scanning (SARIF) result."""
    BRANCH_PROTECTION = "branch_protection"
    """An unmet branch-protection requirement (made by the engine, not by ingest)."""


class InputKind(enum.StrEnum):
    """The kinds of input gate reads. The policy's `require` list uses these names."""

    TRIVY = "trivy"
    NPM_AUDIT = "npm-audit"
    PIP_AUDIT = "pip-audit"
    SARIF = "sarif"
    BRANCH_PROTECTION = "branch-protection"


class Decision(enum.StrEnum):
    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"  # noqa: S105
    IGNORED = "ignored"
    EXCEPTED = "excepted"


class Result(enum.StrEnum):
    PASS = "PASS"  # noqa: S105
    FAIL = "FAIL"
    ERROR = "ERROR"

    @property
    def exit_code(self) -> int:
        """gate's exit code for this result: 0 PASS, 1 FAIL, 3 ERROR (2 is a usage error)."""
        return _EXIT_CODES[self]


_EXIT_CODES = {Result.PASS: 0, Result.FAIL: 1, Result.ERROR: 3}


class InputStatus(enum.StrEnum):
    OK = "ok"
    ERROR = "error"


class Package(_Frozen):
    """The package a finding is about."""

    name: str
    version: str | None = None
    ecosystem: str | None = None
    """Lower-case ecosystem: `npm`, `pypi`, `alpine`, `debian`, `golang`, `maven`, …"""
    purl: str | None = None


class Location(_Frozen):
    """Where a finding is: a file and region (SARIF, Trivy lang-pkgs), and/or an image layer."""

    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None
    layer: str | None = None
    """The image layer's DiffID, when the scanner says which layer brought the package."""
    fingerprints: dict[str, str] = Field(default_factory=dict)
    """SARIF `partialFingerprints` and `fingerprints`, merged."""


class Suppression(_Frozen):
    """A suppression carried by the input itself (SARIF `suppressions`, a VEX statement)."""

    kind: str
    """`inSource`, `external`, `vex`, …"""
    status: str | None = None
    justification: str | None = None


class SourceRef(_Frozen):
    """One scanner's sighting of a finding: which input, and where inside it."""

    kind: InputKind
    path: str
    """The input file (or the command that produced it)."""
    pointer: str
    """A JSON path inside the input, e.g. `Results[2].Vulnerabilities[14]`."""
    tool: str | None = None
    """The tool name when an input holds several (SARIF runs)."""


class Finding(_Frozen):
    """One normalized finding. Ingest modules make these; the engine decides on them."""

    kind: FindingKind
    id: str
    """The vulnerability id (CVE, GHSA, PYSEC, …), or a secret, misconfig or SARIF rule id."""
    aliases: tuple[str, ...] = ()
    title: str | None = None
    url: str | None = None
    severity: Severity = Severity.UNKNOWN
    severity_origin: str | None = None
    """Where the severity came from when not from the finding's own report: `osv:GHSA-…:CVSS_V3`
    (an OSV record, for pip-audit), or the input kind of another scanner that saw the same
    vulnerability (`trivy`, `npm-audit`). None: the scanner that reported it rated it (or,
    with UNKNOWN, nothing did)."""
    package: Package | None = None
    fix_state: FixState = FixState.UNKNOWN
    fixed_versions: tuple[str, ...] = ()
    fix_in_tree: bool | None = None
    """npm's `fixAvailable`: `npm audit fix` can fix it inside the tree (not an upstream fix)."""
    status: str | None = None
    """The scanner's own status word, verbatim (Trivy `Status`, SARIF `kind`, …)."""
    not_affected: bool = False
    """A vendor or VEX statement says the product is not affected: never fails."""
    location: Location | None = None
    suppressions: tuple[Suppression, ...] = ()
    baseline_state: str | None = None
    """SARIF `baselineState`: `new`, `unchanged`, `updated`, `absent`, or None."""
    tool: str | None = None
    """The tool that produced it (SARIF driver name); None for the input's own scanner."""
    sources: tuple[SourceRef, ...] = ()
    details: dict[str, Any] = Field(default_factory=dict)
    """Extra facts worth showing (CVSS score, npm `isSemVerMajor`, SARIF level, …)."""


class Subject(_Frozen):
    """What an input is about: an image (name and digest), a repository, a branch."""

    name: str | None = None
    """The artifact or image reference as the input names it."""
    digest: str | None = None
    """The manifest digest, `sha256:…`, when known."""
    image_id: str | None = None
    """The image config digest (Trivy `ImageID`)."""
    repo_digests: tuple[str, ...] = ()
    repo_tags: tuple[str, ...] = ()


class ToolInfo(_Frozen):
    name: str
    version: str | None = None


class SourceRun(_Frozen):
    """One input: a report file, a scanner run or an API read, normalized."""

    kind: InputKind
    path: str
    """The file, or the command or URL it came from."""
    sha256: str | None = None
    """sha256 of the raw bytes read."""
    status: InputStatus = InputStatus.OK
    error: str | None = None
    """Why the input could not be judged (status `error`); names the file and JSON path."""
    subject: Subject | None = None
    created_at: datetime | None = None
    """The report's own timestamp (Trivy `CreatedAt`), or None."""
    freshness: datetime | None = None
    """When the input was produced, for `max_input_age`: the report's time, else the file mtime."""
    freshness_source: str | None = None
    """`report` or `file-mtime`."""
    tools: tuple[ToolInfo, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: tuple[str, ...] = ()
    """Things the scanner did not check (pip-audit `skip_reason`), reported, never dropped."""
    facts: Facts = Field(default_factory=Facts)
    """Non-finding facts: trivy DB metadata, SARIF runs, a branch-protection reading, …"""
    warnings: tuple[str, ...] = ()


class DecidedFinding(_Frozen):
    """A finding (possibly merged from several inputs) with the engine's decision."""

    finding: Finding
    decision: Decision
    rule: str
    """The policy key that decided, e.g. `vulnerabilities.fail_on` or `exceptions[2]`."""
    reason: str
    """Why, in words: `HIGH ≥ fail_on HIGH, fixed in 1.2.3`."""


class ExceptionUse(_Frozen):
    """One policy exception and what became of it in this run."""

    index: int
    label: str = ""
    """Where it is written: `exceptions[2]`, or `FILE: exceptions[0]` for an exceptions file."""
    id: str
    aliases: tuple[str, ...] = ()
    package: str | None = None
    paths: tuple[str, ...] = ()
    """Path globs it is scoped to (an ignore file's `paths`), if any."""
    reason: str
    expires: str
    owner: str | None = None
    kinds: tuple[str, ...] | None = None
    """The finding kinds it may except (an ignore file's section); null: any kind."""
    vex_status: str | None = None
    """`not_affected` or `fixed` when a VEX statement made it; null otherwise."""
    vex_justification: str | None = None
    """That statement's justification, if any."""
    vex_impact: str | None = None
    """That statement's impact statement, if any."""
    matched: int = 0
    """How many findings it matched."""
    days_left: int


class ExceptionReport(_Frozen):
    used: tuple[ExceptionUse, ...] = ()
    unused: tuple[ExceptionUse, ...] = ()
    expired: tuple[ExceptionUse, ...] = ()
    expiring: tuple[ExceptionUse, ...] = ()
    """Used or unused exceptions that expire within `expiring_days`."""
    expiring_days: int = 14
    """`exception_rules.expiring_days` of the policy that judged."""


class ExceptionsFile(_Frozen):
    """A file whose exceptions follow the policy's own: `--exceptions`, `--vex` or
    `--ignore-file`."""

    path: str
    sha256: str
    first: int
    """The index of its first exception in the policy's combined `exceptions` list."""
    count: int
    kind: Literal["exceptions", "vex", "ignore-file"] = "exceptions"
    format: str | None = None
    """`openvex`, `cyclonedx`, `csaf`, `trivyignore`, `trivyignore-yaml`, `grype`."""
    labels: tuple[str, ...] = ()
    """Where in the file each of its exceptions is written (VEX statements, ignore-file
    entries); empty for an exceptions file (`exceptions[i]`)."""


class PolicyRef(_Frozen):
    path: str
    sha256: str
    name: str | None = None
    exception_files: tuple[ExceptionsFile, ...] = ()

    def vex_indexes(self) -> frozenset[int]:
        """Indexes of the exceptions that are VEX statements (`--vex`): facts with no
        expiry, not accepted risks, so `exception_rules` leave them alone."""
        return frozenset(
            i
            for f in self.exception_files
            if f.kind == "vex"
            for i in range(f.first, f.first + f.count)
        )

    def exception_label(self, index: int, top_level: int) -> str:
        """Where exception `index` of `Policy.all_exceptions()` is written, as a key path."""
        if index >= top_level:
            return f"code_scanning.exceptions[{index - top_level}]"
        for f in self.exception_files:
            if f.first <= index < f.first + f.count:
                if f.labels:
                    return f.labels[index - f.first]
                return f"{f.path}: exceptions[{index - f.first}]"
        return f"exceptions[{index}]"


class Verdict(_Frozen):
    """The engine's output: one result and every decision that led to it."""

    result: Result
    policy: PolicyRef
    evaluated_at: datetime
    inputs: tuple[SourceRun, ...]
    findings: tuple[DecidedFinding, ...]
    exceptions: ExceptionReport
    errors: tuple[str, ...] = ()
    """Why the result is ERROR: each names the input and the problem."""
    notes: tuple[str, ...] = ()
    """Other reasons behind the result (e.g. an unused exception under `fail_on_unused`)."""
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    """`by_decision`, `by_severity`, `by_kind` and `by_source` counts."""
    tool_versions: dict[str, str] = Field(default_factory=dict)
    """gate's version and each scanner's, as the inputs report them."""
    facts: VerdictFacts = Field(default_factory=VerdictFacts)
    """Facts the rules established, e.g. `branch_protection`: the effective protection."""
    subject: Subject | None = None
    """The image the verdict is about, when the inputs agree on one."""


def fix_phrase(finding: Finding) -> str:
    """`fixed in 1.2.3`, `no fix released`, `won't be fixed`, … for reasons and summaries."""
    if finding.fixed_versions:
        return "fixed in " + ", ".join(finding.fixed_versions)
    return {
        FixState.FIXABLE: "a fix exists",
        FixState.NO_FIX: "no fix released",
        FixState.WONT_FIX: "the vendor will not fix it",
        FixState.FIX_DEFERRED: "the vendor deferred the fix",
        FixState.END_OF_LIFE: "the package is end of life",
        FixState.UNKNOWN: "fix status unknown",
    }[finding.fix_state]
