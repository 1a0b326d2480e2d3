"""`vulnerabilities.max_db_age`: trivy's vulnerability DB must be fresh when gate ran trivy.

A scan with an old DB misses every advisory published since, so it can PASS an image that
has known vulnerabilities. For each trivy run gate itself produced (`gate check IMAGE`;
its facts carry `trivy_db`, from `trivy version --format json`), a DB that is missing,
has no `UpdatedAt`, or was updated longer than `max_db_age` ago makes the verdict ERROR.
Saved reports (`--trivy FILE`) carry no DB metadata and are judged by `max_input_age`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gate.common.timestamps import parse_timestamp
from gate.facts import TrivyDbFacts
from gate.models import InputKind, InputStatus, SourceRun
from gate.policy.model import Policy, format_duration
from gate.rules.interface import Rule


class TrivyDbRule(Rule):
    """Checks the age of the vulnerability DB of each trivy scan gate ran."""

    def check_inputs(
        self, runs: Sequence[SourceRun], policy: Policy, now: dt.datetime
    ) -> list[str]:
        limit = policy.vulnerabilities.max_db_age if policy.vulnerabilities else None
        if limit is None:
            return []
        errors = []
        for run in runs:
            if run.kind is not InputKind.TRIVY or run.status is InputStatus.ERROR:
                continue
            if run.facts.trivy_db is None:
                continue  # a saved report, not a scan gate ran
            problem = _problem(run.facts.trivy_db, limit, now)
            if problem:
                errors.append(f"{run.path}: trivy's vulnerability DB {problem}")
        return errors


def _problem(db: TrivyDbFacts, limit: dt.timedelta, now: dt.datetime) -> str | None:
    """Why the DB fails `max_db_age`, or None when it is fresh enough."""
    setting = f"vulnerabilities.max_db_age {format_duration(limit)}"
    if db.updated_at is None:
        return (
            f"is missing or has no UpdatedAt ({db.error or 'unknown DB'}), so its age cannot "
            f"be checked against {setting}"
        )
    updated = parse_timestamp(db.updated_at)
    if updated is None:
        return f"has an unreadable UpdatedAt {db.updated_at!r}; {setting} cannot be checked"
    age = now - updated
    if age > limit:
        return (
            f"was updated at {updated:%Y-%m-%dT%H:%M:%SZ}, {_age(age)} ago, older than {setting}; "
            "let trivy update it (no TRIVY_SKIP_DB_UPDATE) or refresh the DB cache"
        )
    return None


def _age(age: dt.timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 72 else f"{hours / 24:.0f} days"
