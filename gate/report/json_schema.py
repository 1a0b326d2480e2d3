"""The JSON verdict's schema, as pydantic models: `gate schema` prints it, and
`schemas/verdict.schema.json` is generated from it (a test keeps the file current).

The writer (`gate.report.json`) does not use these models; they are loaded only for the
schema, so a `gate check` does not build them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gate.report.json import SCHEMA_ID


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectDoc(_Doc):
    name: str | None
    digest: str | None = Field(description="Manifest digest `sha256:…` when known.")
    image_id: str | None
    repo_digests: list[str]
    repo_tags: list[str]


class ToolDoc(_Doc):
    name: str
    version: str | None


class InputDoc(_Doc):
    kind: Literal["trivy", "npm-audit", "pip-audit", "sarif", "branch-protection"]
    path: str
    sha256: str | None
    status: Literal["ok", "error"]
    error: str | None
    subject: SubjectDoc | None
    created_at: str | None
    freshness: str | None
    freshness_source: str | None
    tools: list[ToolDoc]
    findings: int = Field(description="Findings read from this input.")
    skipped: list[str] = Field(description="What the scanner did not check, with its reason.")
    warnings: list[str]
    facts: dict[str, Any]


class SourceDoc(_Doc):
    kind: str
    path: str
    pointer: str = Field(description="JSON path of the finding inside the input.")
    tool: str | None


class LocationDoc(_Doc):
    path: str | None
    start_line: int | None
    end_line: int | None
    start_column: int | None
    end_column: int | None
    layer: str | None
    fingerprints: dict[str, str]


class FindingDoc(_Doc):
    id: str
    kind: Literal["vulnerability", "secret", "misconfiguration", "code", "branch_protection"]
    aliases: list[str]
    title: str | None
    url: str | None
    package: str | None
    version: str | None
    ecosystem: str | None
    purl: str | None
    severity: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    severity_origin: str | None = Field(
        description="Where the severity came from when the reporting scanner gave none: "
        "`osv:ID:CVSS_V3` (`CVSS_V4`, `database_specific`) from an OSV record, or the input "
        "kind of another scanner that saw the same vulnerability. Null: the scanner rated it."
    )
    fix_state: Literal["fixable", "no_fix", "wont_fix", "fix_deferred", "end_of_life", "unknown"]
    fixed_versions: list[str]
    fix_in_tree: bool | None
    status: str | None
    not_affected: bool
    baseline_state: str | None
    tool: str | None
    location: LocationDoc | None
    suppressions: list[dict[str, str | None]]
    sources: list[SourceDoc]
    decision: Literal["fail", "warn", "pass", "ignored", "excepted"]
    rule: str = Field(description="The policy key that decided.")
    reason: str
    details: dict[str, Any]


class ExceptionDoc(_Doc):
    index: int
    label: str = Field(description="Where it is written: `exceptions[2]` or `FILE: exceptions[0]`.")
    id: str
    aliases: list[str] = Field(description="Other ids of the same vulnerability it matches.")
    package: str | None
    paths: list[str] = Field(description="Path globs it is scoped to, if any.")
    reason: str
    expires: str
    owner: str | None
    kinds: list[str] | None = Field(
        description="The finding kinds it may except (an ignore file's section); null: any."
    )
    vex_status: str | None = Field(
        description="`not_affected` or `fixed` when a VEX statement made it; null otherwise."
    )
    vex_justification: str | None = Field(description="That statement's justification.")
    vex_impact: str | None = Field(description="That statement's impact statement.")
    matched: int
    days_left: int


class ExceptionsDoc(_Doc):
    used: list[ExceptionDoc]
    unused: list[ExceptionDoc]
    expired: list[ExceptionDoc]
    expiring: list[ExceptionDoc]


class ExceptionsFileDoc(_Doc):
    path: str
    sha256: str
    first: int = Field(description="Index of its first exception in the combined list.")
    count: int
    kind: Literal["exceptions", "vex", "ignore-file"] = Field(
        description="`--exceptions`, `--vex` or `--ignore-file`."
    )
    format: str | None = Field(
        description="openvex, cyclonedx, csaf, trivyignore, trivyignore-yaml or grype."
    )
    labels: list[str] = Field(
        description="Where each of its exceptions is written (a VEX statement, an "
        "ignore-file entry); empty for an exceptions file."
    )


class PolicyDoc(_Doc):
    path: str
    sha256: str
    name: str | None
    exception_files: list[ExceptionsFileDoc] = Field(
        description="Files whose exceptions were added (--exceptions, --vex, --ignore-file), "
        "with their sha256."
    )


class VerdictDoc(_Doc):
    """gate's JSON verdict, schema version 1."""

    schema_version: Literal[1]
    result: Literal["PASS", "FAIL", "ERROR"]
    exit_code: int = Field(description="0 PASS, 1 FAIL, 3 ERROR.")
    evaluated_at: str
    policy: PolicyDoc
    subject: SubjectDoc | None
    errors: list[str] = Field(description="Why the result is ERROR.")
    notes: list[str]
    inputs: list[InputDoc]
    findings: list[FindingDoc]
    exceptions: ExceptionsDoc
    counts: dict[str, dict[str, int]]
    tool_versions: dict[str, str]
    facts: dict[str, Any] = Field(
        description="What the rules established, e.g. `branch_protection` (effective settings)."
    )


def verdict_json_schema() -> str:
    schema = VerdictDoc.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
