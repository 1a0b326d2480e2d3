"""`vulnerabilities.max_db_age`: the DB facts of a real scan, judged by `TrivyDbRule`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gate.models import InputKind, InputStatus, SourceRun
from gate.policy.model import Policy
from gate.rules.trivy_db import TrivyDbRule
from tests.scanners.conftest import Images
from tests.scanners.test_scan_image import scan

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

NOW = dt.datetime.now(dt.UTC)


def policy(max_db_age: str | None) -> Policy:
    vulns = {"max_db_age": max_db_age} if max_db_age else {}
    return Policy.model_validate({"apiVersion": "gate/v1", "vulnerabilities": vulns})


def test_fresh_db_passes(imgs: Images) -> None:
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.OK, run.error
    assert TrivyDbRule().check_inputs([run], policy("48h"), NOW) == []


def test_stale_db_is_an_error(
    imgs: Images, stale_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(stale_cache))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.OK, run.error  # the scan itself works
    errors = TrivyDbRule().check_inputs([run], policy("48h"), NOW)
    assert len(errors) == 1
    assert errors[0].startswith(f"{imgs.alpine_tar.path}: trivy's vulnerability DB was updated")
    assert "10 days ago" in errors[0] or "240h" in errors[0]
    assert "vulnerabilities.max_db_age 2d" in errors[0]
    # a limit the DB meets, or no limit, passes
    assert TrivyDbRule().check_inputs([run], policy("30d"), NOW) == []
    assert TrivyDbRule().check_inputs([run], policy(None), NOW) == []


def _run(facts: dict[str, object], status: InputStatus = InputStatus.OK) -> SourceRun:
    return SourceRun(kind=InputKind.TRIVY, path="img", status=status, facts=facts)


@pytest.mark.parametrize(
    ("db", "message"),
    [
        (
            {"version": None, "updated_at": None, "error": "trivy has no vulnerability DB"},
            "is missing or has no UpdatedAt (trivy has no vulnerability DB)",
        ),
        ({}, "is missing or has no UpdatedAt (unknown DB)"),
        ({"updated_at": "yesterday"}, "has an unreadable UpdatedAt 'yesterday'"),
    ],
)
def test_missing_or_unreadable_db(db: object, message: str) -> None:
    errors = TrivyDbRule().check_inputs([_run({"trivy_db": db})], policy("48h"), NOW)
    assert len(errors) == 1
    assert message in errors[0]


def test_only_scans_gate_ran_are_judged() -> None:
    saved_report = _run({"format": "schema-2"})
    failed_scan = _run({"trivy_db": None}, InputStatus.ERROR)
    other = SourceRun(kind=InputKind.NPM_AUDIT, path="npm.json", facts={"trivy_db": None})
    assert TrivyDbRule().check_inputs([saved_report, failed_scan, other], policy("1h"), NOW) == []
