"""Typed facts: each input's facts are fields and small records, and the JSON verdict lists
exactly the fields a producer set, under the keys it always had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from gate.facts import Facts, PlatformFacts, ScanFacts, TrivyDbFacts, VerdictFacts
from gate.models import InputKind, SourceRun


def test_an_unknown_fact_is_refused() -> None:
    with pytest.raises(ValidationError, match="trivy_dbb"):
        SourceRun(kind=InputKind.TRIVY, path="img", facts={"trivy_dbb": {}})


def test_a_fact_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="licenses_ignored"):
        Facts.model_validate({"licenses_ignored": "many"})


def test_only_the_fields_set_reach_the_json() -> None:
    facts = Facts(format="schema-2", trivy_db=TrivyDbFacts(version=2, updated_at=None))
    assert facts.as_json() == {
        "format": "schema-2",
        "trivy_db": {"version": 2, "updated_at": None},
    }
    assert Facts().as_json() == {} == VerdictFacts().as_json()


def test_merged_keeps_what_the_other_did_not_set() -> None:
    scan = ScanFacts(argv=("trivy",), exit_code=0, duration_s=1.5, started_early=False)
    base = Facts(format="schema-2", digest_source="first")
    both = base.merged(Facts(scan=scan, digest_source="second"))
    assert both.as_json() == {
        "format": "schema-2",
        "scan": {"argv": ["trivy"], "exit_code": 0, "duration_s": 1.5, "started_early": False},
        "digest_source": "second",
    }
    assert base.merged(Facts()) is base
    assert base.digest_source == "first"  # frozen: merging makes a new record


def test_a_platform_of_an_index_keeps_all_four_keys_and_a_lone_one_two() -> None:
    lone = PlatformFacts(scanned="linux/amd64", manifest="sha256:" + "a" * 64)
    assert set(Facts(platform=lone).as_json()["platform"]) == {"scanned", "manifest"}
    of_index = PlatformFacts(
        scanned="linux/amd64",
        manifest="sha256:" + "a" * 64,
        index="sha256:" + "b" * 64,
        not_scanned=(),
    )
    assert Facts(platform=of_index).as_json()["platform"] == {
        "scanned": "linux/amd64",
        "manifest": "sha256:" + "a" * 64,
        "index": "sha256:" + "b" * 64,
        "not_scanned": [],
    }


def test_a_branch_protection_reading_is_kept_typed_and_dumped_whole(repo_root: Path) -> None:
    from gate.branch_protection.effective import Reading
    from gate.ingest import load_report

    saved = repo_root / "tests/data/github/realworld-2026-personal-repo-protection.json"
    run = load_report(InputKind.BRANCH_PROTECTION, saved)
    assert isinstance(run.facts.reading, Reading)  # no JSON round trip between packages
    dumped = run.facts.as_json()
    assert dumped["reading"] == run.facts.reading.model_dump(mode="json")
    assert dumped["endpoint"] == run.facts.endpoint
    json.dumps(dumped)


def test_the_verdict_facts_are_typed_and_serialized_under_their_key(repo_root: Path) -> None:
    import datetime as dt

    from gate.engine import evaluate
    from gate.ingest import load_report
    from gate.policy.model import Policy
    from gate.report.console import render_console
    from gate.report.json import verdict_document

    saved = repo_root / "tests/data/github/realworld-2026-personal-repo-protection.json"
    run = load_report(InputKind.BRANCH_PROTECTION, saved)
    policy = Policy.model_validate(
        {"apiVersion": "gate/v1", "branch_protection": {"required_approving_reviews": 1}}
    )
    verdict = evaluate([run], policy, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    bp = verdict.facts.branch_protection
    assert bp is not None and bp.branch == "main"
    doc = json.loads(json.dumps(verdict_document(verdict)))
    assert doc["facts"]["branch_protection"] == bp.model_dump(mode="json")
    assert set(doc["facts"]["branch_protection"]) == {
        "repo",
        "branch",
        "sources",
        "settings",
        "notes",
    }
    assert "branch protection: `main` judged" in render_console(verdict)
