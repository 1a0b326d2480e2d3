"""The raw SARIF 2.1.0 shapes `gate.ingest.sarif` reads: only the fields gate uses.

Private to the SARIF ingestor. `extra="ignore"`: SARIF is large and producers add
much; a field gate reads with the wrong type is still an error naming its JSON path.
Attribute names keep SARIF's camelCase so error paths match the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gate.common.strict_json import ReadAs


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Properties(_Raw):
    """Only for the strict reader's shape: the property-bag keys gate reads by hand."""

    security_severity: Any = Field(default=None, alias="security-severity")
    tags: Any = None
    precision: Any = None


def _tags_are_an_array(props: dict[str, Any] | None) -> dict[str, Any] | None:
    """SARIF §3.8.2: `tags` is an array of strings; gate reads it (Trivy's severity words)."""
    if props is not None and props.get("tags") is not None:
        if not isinstance(props["tags"], list):
            raise ValueError(f"`tags` must be an array, got {type(props['tags']).__name__}")
    return props


_Props = Annotated[dict[str, Any] | None, ReadAs(_Properties), AfterValidator(_tags_are_an_array)]


class Message(_Raw):
    text: str | None = None
    markdown: str | None = None
    id: str | None = None
    arguments: list[Any] = Field(default_factory=list)


class MultiformatMessage(_Raw):
    text: str | None = None
    markdown: str | None = None


class Configuration(_Raw):
    level: str | None = None


class Rule(_Raw):
    """A `reportingDescriptor`."""

    id: str | None = None
    name: str | None = None
    shortDescription: MultiformatMessage | None = None
    fullDescription: MultiformatMessage | None = None
    help: MultiformatMessage | None = None
    helpUri: str | None = None
    messageStrings: dict[str, MultiformatMessage] | None = None
    defaultConfiguration: Configuration | None = None
    properties: _Props = None


class Component(_Raw):
    """A `toolComponent`: the driver or an extension (a CodeQL query pack)."""

    name: str | None = None
    version: str | None = None
    semanticVersion: str | None = None
    informationUri: str | None = None
    rules: list[Rule] | None = None


class Tool(_Raw):
    driver: Component
    extensions: list[Component] | None = None


class ComponentRef(_Raw):
    index: int | None = None
    name: str | None = None


class RuleRef(_Raw):
    """A `reportingDescriptorReference` (`result.rule`)."""

    id: str | None = None
    index: int | None = None
    toolComponent: ComponentRef | None = None


class ArtifactLocation(_Raw):
    uri: str | None = None
    uriBaseId: str | None = None
    index: int | None = None


class Region(_Raw):
    startLine: int | None = None
    endLine: int | None = None
    startColumn: int | None = None
    endColumn: int | None = None


class PhysicalLocation(_Raw):
    artifactLocation: ArtifactLocation | None = None
    region: Region | None = None


class Location(_Raw):
    physicalLocation: PhysicalLocation | None = None


class Suppression(_Raw):
    kind: str | None = None
    status: str | None = None
    justification: str | None = None


class Result(_Raw):
    ruleId: str | None = None
    ruleIndex: int | None = None
    rule: RuleRef | None = None
    kind: str | None = None
    level: str | None = None
    message: Message | None = None
    locations: list[Location] | None = None
    suppressions: list[Suppression] | None = None
    baselineState: str | None = None
    partialFingerprints: dict[str, Any] | None = None
    fingerprints: dict[str, Any] | None = None
    properties: _Props = None


class Notification(_Raw):
    level: str | None = None
    message: Message | None = None


class Invocation(_Raw):
    executionSuccessful: bool | None = None
    startTimeUtc: str | None = None
    endTimeUtc: str | None = None
    workingDirectory: ArtifactLocation | None = None
    toolExecutionNotifications: list[Notification] | None = None


class Artifact(_Raw):
    location: ArtifactLocation | None = None


class AutomationDetails(_Raw):
    id: str | None = None


class Run(_Raw):
    tool: Tool
    results: list[Result]
    invocations: list[Invocation] | None = None
    originalUriBaseIds: dict[str, ArtifactLocation] | None = None
    artifacts: list[Artifact] | None = None
    automationDetails: AutomationDetails | None = None


class Log(_Raw):
    """The top of a SARIF log: read by hand in `gate.ingest.sarif` (for its own errors);
    declared for the shape of the strict reader (`gate.common.strict_json`)."""

    schema_: str | None = Field(default=None, alias="$schema")
    version: str | None = None
    runs: list[Run] | None = None
