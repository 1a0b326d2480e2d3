"""The policy file's schema. Every model forbids unknown keys: a typo must not loosen a gate.

`policies/schema.json` is generated from `Policy` (`gate policy schema`); a test keeps it current.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from gate.models import FixState, InputKind, Severity
from gate.policy.trivy import DEFAULT_SCANNERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_empty_values(cls, data: object) -> object:
        """A key written with no value (`fail_on:`, `vulnerabilities:`) is an error: read
        as "none" it would switch a check off without a word. Leave a key out for its
        default; write `NONE` or `{}` to mean them."""
        if isinstance(data, dict):
            empty = sorted(str(k) for k, v in data.items() if v is None)
            if empty:
                raise ValueError(
                    f"{', '.join(empty)}: no value given (leave the key out for its default)"
                )
        return data


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> dt.timedelta:
    """`90s`, `30m`, `24h`, `7d`, `2w` → timedelta. A bare integer is seconds."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 24h or 7d")
    if isinstance(value, int):
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return dt.timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    raise ValueError(f"expected a duration such as 24h or 7d, got {value!r}")


def format_duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


class Threshold(enum.StrEnum):
    """A severity threshold; `NONE` means the rule never triggers."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    NONE = "NONE"

    def reached_by(self, severity: Severity) -> bool:
        """True when a ranked severity is at or above this threshold (UNKNOWN never is)."""
        return _SEVERITY_RANK[severity] >= _THRESHOLD_RANK[self]


# NONE is never reached; UNKNOWN never reaches anything (the policy's unknown_severity decides).
_THRESHOLD_RANK = {t: 99 if t is Threshold.NONE else Severity(t.value).rank for t in Threshold}
_SEVERITY_RANK = {s: s.rank if s is not Severity.UNKNOWN else -1 for s in Severity}


class Action(enum.StrEnum):
    FAIL = "fail"
    WARN = "warn"
    IGNORE = "ignore"


class Thresholds(_Strict):
    """Severity rules shared by the vulnerability, secret, misconfiguration and code sections."""

    fail_on: Threshold = Field(default=Threshold.HIGH, description="This severity and above fail.")
    warn_on: Threshold = Field(
        default=Threshold.NONE, description="This severity and above warn (below `fail_on`)."
    )
    unknown_severity: Action = Field(
        default=Action.FAIL,
        description="What a finding of UNKNOWN severity does (pip-audit reports no severity).",
    )

    @field_validator("fail_on", "warn_on", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class SourceOverride(_Strict):
    """Per-source overrides inside `vulnerabilities.sources`; unset keys inherit."""

    fail_on: Threshold | None = None
    warn_on: Threshold | None = None
    unknown_severity: Action | None = None
    ignore_unfixed: bool | None = None

    @field_validator("fail_on", "warn_on", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class Vulnerabilities(Thresholds):
    ignore_unfixed: bool = Field(
        default=False,
        description="Findings whose fix state is in `unfixed_states` do not fail or warn.",
    )
    unfixed_states: list[FixState] = Field(
        default_factory=lambda: [
            FixState.NO_FIX,
            FixState.WONT_FIX,
            FixState.FIX_DEFERRED,
            FixState.END_OF_LIFE,
        ],
        description="The fix states `ignore_unfixed` ignores. `unknown` is left out by default.",
    )
    sources: dict[Literal["trivy", "npm-audit", "pip-audit"], SourceOverride] = Field(
        default_factory=dict, description="Per-source overrides, keyed by input kind."
    )
    max_db_age: dt.timedelta | None = Field(
        default=None,
        description="Trivy's vulnerability DB older than this (or missing) is an ERROR.",
    )

    @field_validator("max_db_age", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        return None if v is None else parse_duration(v)

    @field_validator("unfixed_states")
    @classmethod
    def _no_fixable(cls, v: list[FixState]) -> list[FixState]:
        if FixState.FIXABLE in v:
            raise ValueError("`fixable` cannot be an unfixed state")
        return v


class Secrets(Thresholds):
    fail_on: Threshold = Threshold.LOW


class Misconfigurations(Thresholds):
    pass


class PolicyException(_Strict):
    """An accepted risk: it must say why, and it must end."""

    id: str = Field(min_length=1, description="Vulnerability id or alias, or a rule id.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other ids of the same vulnerability (GHSA, GO-…); any of them matches.",
    )
    package: str | None = Field(
        default=None,
        description="Optional purl scope, with or without a version: `pkg:npm/lodash`.",
    )
    paths: list[str] = Field(
        default_factory=list,
        description="Optional file scope: globs (`**` crosses directories, `*` does not) "
        "matched against the finding's path, as in `.trivyignore.yaml`.",
    )
    reason: str = Field(min_length=1)
    expires: dt.date = Field(description="The last day it applies: an ISO 8601 date, YYYY-MM-DD.")
    owner: str | None = None

    # Set by gate, never by a policy (no schema keys): where an exception came from.
    _kinds: frozenset[str] | None = PrivateAttr(default=None)
    _vex: tuple[str, str | None, str | None] | None = PrivateAttr(default=None)

    @classmethod
    def made(
        cls,
        fields: dict[str, object],
        *,
        kinds: frozenset[str] | None = None,
        vex: tuple[str, str | None, str | None] | None = None,
    ) -> PolicyException:
        """An exception gate makes from another file: `kinds` the finding kinds it may
        except (an ignore file's section; None: any), `vex` the (status, justification,
        impact) of the VEX statement it stands for."""
        e = cls.model_validate(fields)
        e._kinds = kinds
        e._vex = vex
        return e

    @property
    def kinds(self) -> frozenset[str] | None:
        """The finding kinds it may except; None: any kind."""
        return self._kinds

    @property
    def vex(self) -> tuple[str, str | None, str | None] | None:
        """(status, justification, impact) when a VEX statement made it; else None."""
        return self._vex

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date(cls, v: object) -> object:
        """Only a calendar date: `2026-12-31` (YAML reads it unquoted as a date) or the
        same text quoted. A number (a Unix time?), a timestamp or any other spelling is
        refused: an expiry must not be a guess."""
        if isinstance(v, dt.datetime):
            raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str) and _ISO_DATE.fullmatch(v):
            try:
                return dt.date.fromisoformat(v)
            except ValueError as e:
                raise ValueError(f"not a valid date: {v!r}") from e
        raise ValueError(f"expected an ISO 8601 date (YYYY-MM-DD), got {v!r}")

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reason must not be blank")
        return v

    @field_validator("package")
    @classmethod
    def _purl(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from packageurl import PackageURL

        try:
            PackageURL.from_string(v)
        except ValueError as e:
            raise ValueError(f"not a package URL: {e}") from e
        return v


class ExceptionRules(_Strict):
    """Hygiene rules for `exceptions`."""

    max_days: int | None = Field(
        default=None, ge=1, description="No exception may expire further ahead than this."
    )
    require_owner: bool = False
    require_expiry: bool = Field(
        default=False,
        description="An ignore-file entry (`--ignore-file`) with no expiry is an error.",
    )
    unknown_keys: Literal["error", "warn"] = Field(
        default="error",
        description="An unknown key in an ignore file (`expires:` for `expired_at:`) is an "
        "error, or a warning in the verdict.",
    )
    fail_on_unused: bool = Field(
        default=False, description="An exception that matched nothing makes the verdict FAIL."
    )
    expiring_days: int = Field(default=14, ge=0)


class CodeScanning(Thresholds):
    only_new: bool = Field(
        default=False, description="Only `new` results (and results with no baseline) can fail."
    )
    require_tools: list[str] = Field(
        default_factory=list,
        description="Tool names that must be among the SARIF runs, e.g. CodeQL.",
    )
    honor_suppressions: bool = Field(
        default=True,
        description="Accepted SARIF suppressions (`// eslint-disable`, `# nosec`, external) "
        "except their results; false: only the policy's exceptions do.",
    )
    exceptions: list[PolicyException] = Field(default_factory=list)


class StatusChecks(_Strict):
    contexts: list[str] = Field(default_factory=list)
    strict: bool | None = None


class BranchProtection(_Strict):
    branch: str | None = None
    required_approving_reviews: int | None = Field(default=None, ge=0)
    dismiss_stale_reviews: bool | None = None
    require_code_owner_reviews: bool | None = None
    require_last_push_approval: bool | None = None
    require_status_checks: list[str] | StatusChecks | None = None
    require_conversation_resolution: bool | None = None
    require_linear_history: bool | None = None
    require_signed_commits: bool | None = None
    allow_force_pushes: bool | None = None
    allow_deletions: bool | None = None
    enforce_admins: bool | None = None
    unknown: Literal["fail", "warn"] = "fail"


class TrivySettings(_Strict):
    """How `gate check IMAGE` runs trivy: the policy says what "scanned" means."""

    # The choices are `gate.policy.trivy`'s, spelled out for the schema; a test checks them.
    scanners: list[Literal["vuln", "secret", "misconfig", "license"]] = Field(
        default_factory=lambda: list(DEFAULT_SCANNERS)  # type: ignore[arg-type]
    )
    pkg_types: list[Literal["os", "library"]] | None = None
    detection_priority: Literal["precise", "comprehensive"] | None = None


class Policy(_Strict):
    """A gate policy file (`apiVersion: gate/v1`). A section that is absent judges nothing."""

    api_version: Literal["gate/v1"] = Field(alias="apiVersion")
    name: str | None = None
    description: str | None = None
    require: list[InputKind] = Field(
        default_factory=list, description="Input kinds that must be present; fail closed."
    )
    max_input_age: dt.timedelta | None = None
    vulnerabilities: Vulnerabilities | None = None
    secrets: Secrets | None = None
    misconfigurations: Misconfigurations | None = None
    code_scanning: CodeScanning | None = None
    branch_protection: BranchProtection | None = None
    trivy: TrivySettings | None = None
    exceptions: list[PolicyException] = Field(default_factory=list)
    exception_rules: ExceptionRules = Field(default_factory=ExceptionRules)

    @field_validator("max_input_age", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        return None if v is None else parse_duration(v)

    def all_exceptions(self) -> list[PolicyException]:
        """Top-level exceptions followed by `code_scanning.exceptions`."""
        extra = self.code_scanning.exceptions if self.code_scanning else []
        return [*self.exceptions, *extra]
