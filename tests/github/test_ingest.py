"""Saved API responses: the endpoint told by shape, and one failure mode per wrong input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.branch_protection.effective import Reading, Setting, Source
from gate.branch_protection.ingest import BranchProtectionIngestor
from gate.errors import InputError
from gate.models import InputStatus

ING = BranchProtectionIngestor()


def parse(data: Any, name: str = "saved.json") -> Reading:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    run = ING.parse(raw, name)
    assert run.status is InputStatus.OK
    json.dumps(run.facts.as_json())  # facts go into the JSON verdict as they are
    return Reading.model_validate(run.facts.as_json()["reading"])


def value(reading: Reading, setting: Setting, source: Source = Source.CLASSIC) -> object:
    [st] = [s for s in reading.statements if s.setting is setting and s.source is source]
    return st.value


@pytest.mark.parametrize(
    ("name", "endpoint", "state", "repo", "branch"),
    [
        (
            "docs-example-branch-protection.json",
            "classic",
            "protected",
            "octocat/Hello-World",
            "master",
        ),
        ("octokit-404-branch-not-protected.json", "classic", "unprotected", None, None),
        ("realworld-2026-404-with-status-string.json", "classic", "unprotected", None, None),
        (
            "pygithub-required-status-checks-subresource.json",
            "classic",
            "partial",
            "jacquev6/PyGithub",
            "integrations",
        ),
        ("realworld-2026-elysia-403-classic.json", "classic", "unreadable", None, None),
        ("go-github-list-rules-for-branch.json", "rules", "protected", "google/a", None),
        (
            "realworld-2026-ruleset-detail.json",
            "ruleset",
            None,
            "marcellovictorino/local-whisper",
            None,
        ),
        (
            "realworld-2026-trustsignal-branch.json",
            "branch",
            None,
            "TrustSignal-dev/TrustSignal",
            "master",
        ),
        (
            "realworld-2026-elysia-branch-unprotected.json",
            "branch",
            None,
            "MsElysia/Elysia",
            "main",
        ),
    ],
)
def test_endpoint_by_shape(
    gh_data: Path, name: str, endpoint: str, state: str | None, repo: str | None, branch: str | None
) -> None:
    run = ING.parse_file(gh_data / name)
    assert run.facts.as_json()["endpoint"] == endpoint
    reading = Reading.model_validate(run.facts.as_json()["reading"])
    assert (reading.state, reading.repo, reading.branch) == (state, repo, branch)
    assert run.sha256 and run.freshness_source == "file-mtime"


def test_classic_fields_and_where_they_came_from(gh_data: Path) -> None:
    r = Reading.model_validate(
        ING.parse_file(gh_data / "octokit-put-response-full-restrictions.json").facts.as_json()[
            "reading"
        ]
    )
    assert value(r, Setting.REQUIRED_APPROVING_REVIEWS) == 1
    assert value(r, Setting.REQUIRED_STATUS_CHECKS) == ["foo/bar"]
    assert value(r, Setting.REQUIRED_STATUS_CHECKS_STRICT) is True
    assert value(r, Setting.ALLOW_FORCE_PUSHES) is False
    assert value(r, Setting.REQUIRE_LAST_PUSH_APPROVAL) is None  # absent from the 2022 answer
    [st] = [s for s in r.statements if s.setting is Setting.REQUIRED_APPROVING_REVIEWS]
    assert st.field == "classic: required_pull_request_reviews.required_approving_review_count = 1"
    assert st.pointer == "required_pull_request_reviews.required_approving_review_count"


def test_classic_contexts_merge_contexts_and_checks(gh_data: Path) -> None:
    r = Reading.model_validate(
        ING.parse_file(
            gh_data / "pygithub-required-status-checks-subresource.json"
        ).facts.as_json()["reading"]
    )
    # `contexts` lists foo/bar, `checks` lists travis-ci: both are required
    assert value(r, Setting.REQUIRED_STATUS_CHECKS) == [
        "continuous-integration/travis-ci",
        "foo/bar",
    ]


def test_rules_parameters() -> None:
    rules = [
        {
            "type": "pull_request",
            "ruleset_id": 7,
            "ruleset_source_type": "Repository",
            "ruleset_source": "o/r",
            "parameters": {
                "required_approving_review_count": 2,
                "dismiss_stale_reviews_on_push": True,
                "require_code_owner_review": False,
                "require_last_push_approval": True,
                "required_review_thread_resolution": True,
            },
        },
        {
            "type": "required_status_checks",
            "ruleset_id": 8,
            "parameters": {
                "strict_required_status_checks_policy": True,
                "required_status_checks": [
                    {"context": "gate", "integration_id": 15368},
                    {"context": "build"},
                ],
            },
        },
        {"type": "required_linear_history", "ruleset_id": 7},
        {"type": "required_signatures", "ruleset_id": 7},
        {"type": "merge_queue", "ruleset_id": 7, "parameters": {"merge_method": "SQUASH"}},
    ]
    r = parse(rules)
    rs = Source.RULESETS
    assert value(r, Setting.REQUIRED_APPROVING_REVIEWS, rs) == 2
    assert value(r, Setting.REQUIRE_CONVERSATION_RESOLUTION, rs) is True
    assert value(r, Setting.REQUIRED_STATUS_CHECKS, rs) == ["build", "gate"]
    assert value(r, Setting.REQUIRED_STATUS_CHECKS_STRICT, rs) is True
    assert value(r, Setting.REQUIRE_SIGNED_COMMITS, rs) is True
    assert value(r, Setting.ALLOW_FORCE_PUSHES, rs) is True  # no non_fast_forward rule
    assert (r.repo, r.ruleset_ids, r.other_rules) == ("o/r", [7, 8], ["merge_queue"])


def test_empty_rules_means_no_rule_applies() -> None:
    r = parse([])
    assert (r.endpoint, r.state) == ("rules", "unprotected")
    assert value(r, Setting.ALLOW_DELETIONS, Source.RULESETS) is True


@pytest.mark.parametrize(
    ("body", "endpoint"),
    [
        (
            {
                "message": "Upgrade to GitHub Pro or make this repository public to enable this feature.",
                "documentation_url": "https://docs.github.com/rest/repos/rules#get-rules-for-a-branch",
                "status": "403",
            },
            "rules",
        ),
        (
            {
                "message": "Must have admin rights to Repository.",
                "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
            },
            "classic",
        ),
    ],
)
def test_403_bodies_are_unreadable_not_unprotected(body: dict[str, str], endpoint: str) -> None:
    r = parse(body)
    assert (r.endpoint, r.state, r.http_status) == (endpoint, "unreadable", 403)
    assert all(s.value is None for s in r.statements)


def test_branch_names_are_url_decoded() -> None:
    url = "https://api.github.com/repos/o/r/branches/release%2F1.0/protection"
    assert parse({"url": url, "enforce_admins": {"enabled": True}}).branch == "release/1.0"


@pytest.mark.parametrize(
    ("raw", "message", "pointer"),
    [
        (
            [{"id": 1, "name": "x", "enforcement": "active"}],
            r"a rulesets list has no rules; save /rules/branches/\{branch\}",
            None,
        ),
        (
            {"id": 1, "name": "x", "enforcement": "active"},
            r"a rulesets list entry has no rules",
            None,
        ),
        (
            [{"method": "get", "path": "/x", "status": 404, "response": {}}],
            r"a recorded HTTP exchange",
            None,
        ),
        (
            [{"name": "main", "commit": {}, "protected": True}],
            r"a list of branches: save /branches/\{branch\}",
            None,
        ),
        (["main"], r"a JSON array, but not the rules of a branch", "[0]"),
        (
            {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            r"a 401 body",
            None,
        ),
        ({"message": "Not Found", "status": "404"}, r"a 404 body .* the token cannot see it", None),
        ({"message": "API rate limit exceeded for 1.2.3.4."}, r"a rate-limit error body", None),
        (
            {"message": "Resource not accessible by integration", "status": "403"},
            r"documentation_url does not say which endpoint",
            None,
        ),
        ({"message": "Validation Failed"}, r"a GitHub error body", None),
        (
            {"foo": 1},
            r"not a GitHub branch-protection, rules/branches, ruleset or branch response",
            None,
        ),
        (42, r"expected a JSON object or array, got int", None),
        (
            {
                "url": "https://api.github.com/repos/o/r/branches/main/protection",
                "required_pull_request_reviews": {"required_approving_review_count": "2"},
            },
            r"Input should be a valid integer",
            "required_pull_request_reviews.required_approving_review_count",
        ),
        (
            [{"type": "pull_request", "parameters": {"required_approving_review_count": "1"}}],
            r"Input should be a valid integer",
            "[0].parameters.required_approving_review_count",
        ),
        (
            {"name": "main", "commit": {}, "protected": "yes"},
            r"Input should be a valid boolean",
            "protected",
        ),
        (b"- type: deletion\n", r"not valid JSON", None),
        (b"null", r"literal `null`", None),
    ],
)
def test_inputs_that_say_nothing_about_the_branch(
    raw: Any, message: str, pointer: str | None
) -> None:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(InputError, match=message) as e:
        ING.parse(data, "saved.json")
    assert e.value.pointer == pointer
