"""Private pydantic models of the GitHub REST responses about branch protection.

`extra="ignore"` (GitHub adds fields) and `strict=True` (a string where GitHub sends a
number or a boolean is malformed, not coerced). Absent fields are None: the readers in
`gate.branch_protection.ingest` decide what an absence means for each field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from gate.common.strict_json import ReadAs


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


class _Enabled(_Raw):
    enabled: bool | None = None


class _Check(_Raw):
    context: str


class _StatusChecks(_Raw):
    url: str | None = None
    strict: bool | None = None
    contexts: list[str] | None = None
    checks: list[_Check] | None = None
    enforcement_level: str | None = None


class _Reviews(_Raw):
    required_approving_review_count: int | None = None
    dismiss_stale_reviews: bool | None = None
    require_code_owner_reviews: bool | None = None
    require_last_push_approval: bool | None = None


class _Classic(_Raw):
    url: str | None = None
    required_status_checks: _StatusChecks | None = None
    required_pull_request_reviews: _Reviews | None = None
    enforce_admins: _Enabled | None = None
    required_linear_history: _Enabled | None = None
    allow_force_pushes: _Enabled | None = None
    allow_deletions: _Enabled | None = None
    required_conversation_resolution: _Enabled | None = None
    required_signatures: _Enabled | None = None


class _PullRequest(_Raw):
    required_approving_review_count: int | None = None
    dismiss_stale_reviews_on_push: bool | None = None
    require_code_owner_review: bool | None = None
    require_last_push_approval: bool | None = None
    required_review_thread_resolution: bool | None = None


class _RequiredCheck(_Raw):
    context: str


class _StatusCheckRule(_Raw):
    required_status_checks: list[_RequiredCheck] | None = None
    strict_required_status_checks_policy: bool | None = None


class _Rule(_Raw):
    type: str
    parameters: Annotated[dict[str, Any] | None, ReadAs(_PullRequest | _StatusCheckRule)] = None
    """Read per rule type by `gate.branch_protection._read`."""
    ruleset_id: int | None = None
    ruleset_source_type: str | None = None
    ruleset_source: str | None = None


class _RefName(_Raw):
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class _Conditions(_Raw):
    """Only for the strict reader's shape: `conditions` is read by hand."""

    ref_name: _RefName | None = None


class _Bypass(_Raw):
    actor_id: int | None = None
    actor_type: str | None = None
    bypass_mode: str | None = None


class _Links(_Raw):
    self_: dict[str, Any] | str | None = Field(default=None, alias="self")


class _Ruleset(_Raw):
    id: int
    name: str | None = None
    target: str | None = None
    source_type: str | None = None
    source: str | None = None
    enforcement: str
    conditions: Annotated[dict[str, Any] | None, ReadAs(_Conditions)] = None
    rules: list[_Rule]
    bypass_actors: list[_Bypass] | None = None
    links: _Links | None = Field(default=None, alias="_links")


class _BranchChecks(_Raw):
    enforcement_level: str | None = None
    contexts: list[str] | None = None
    checks: list[_Check] | None = None


class _BranchSummary(_Raw):
    enabled: bool | None = None
    required_status_checks: _BranchChecks | None = None


class _Branch(_Raw):
    name: str
    protected: bool
    protection: _BranchSummary | None = None
    protection_url: str | None = None
    links: _Links | None = Field(default=None, alias="_links")


class _Message(_Raw):
    message: str
    documentation_url: str | None = None
    status: str | int | None = None
