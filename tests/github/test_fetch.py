"""`fetch_branch_protection` against a replay server answering real recorded responses.

Each scenario serves the three endpoints gate reads, with the status codes GitHub gave:
rules for the branch, the branch, classic protection. Then the engine judges the runs.
A fault that survives the retries is an ERROR run: the verdict is ERROR, never PASS.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gate.branch_protection.fetch import fetch_branch_protection
from gate.engine import evaluate
from gate.errors import UsageError
from gate.github import GitHubClient
from gate.models import InputStatus, Result, SourceRun
from gate.policy.model import Policy
from tests.github.conftest import FAKE_TOKEN
from tests.helpers.github_replay import GitHubReplay, Reply

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
POLICY = Policy.model_validate(
    {
        "apiVersion": "gate/v1",
        "branch_protection": {
            "required_approving_reviews": 1,
            "require_status_checks": [],
            "allow_force_pushes": False,
            "require_linear_history": True,
        },
    }
)


def serve(replay: GitHubReplay, repo: str, name: str, **endpoints: Reply | list[Reply]) -> None:
    """Answer the three endpoints of `repo`'s branch `name`."""
    base = f"/repos/{repo}"
    paths = {
        "rules": f"{base}/rules/branches/{name}",
        "branch": f"{base}/branches/{name}",
        "classic": f"{base}/branches/{name}/protection",
    }
    for name, replies in endpoints.items():
        replay.reply(paths[name], *(replies if isinstance(replies, list) else [replies]))


def by_endpoint(runs: list[SourceRun]) -> dict[str, SourceRun]:
    return {str(r.facts.as_json()["endpoint"]): r for r in runs}


REPO, BRANCH = "curvewise-forks/PyGithub", "master"


def all_met(gh_data: Path) -> dict[str, Reply]:
    """REPO's BRANCH, whose classic protection meets POLICY (the 2023 PyGithub recording)."""
    return {
        "rules": Reply.json([]),
        "branch": Reply.json({"name": BRANCH, "commit": {"sha": "0" * 40}, "protected": True}),
        "classic": Reply.file(gh_data / "pygithub-2023-org-fork-protection.json"),
    }


def test_real_capture_classic_and_branch_of_one_repository(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    serve(
        replay,
        "TrustSignal-dev/TrustSignal",
        "master",
        rules=Reply.json([]),
        branch=Reply.file(gh_data / "realworld-2026-trustsignal-branch.json"),
        classic=Reply.file(gh_data / "realworld-2026-trustsignal-protection.json"),
    )
    runs = fetch_branch_protection("TrustSignal-dev/TrustSignal", "master", client=client)
    assert [r.status for r in runs] == [InputStatus.OK] * 3
    got = by_endpoint(runs)
    assert (
        got["classic"].path
        == f"{replay.url}/repos/TrustSignal-dev/TrustSignal/branches/master/protection"
    )
    assert got["classic"].facts.as_json()["http_status"] == 200
    assert got["classic"].freshness_source == "fetched"
    assert all(r.headers["authorization"] == f"Bearer {FAKE_TOKEN}" for r in replay.requests)
    verdict = evaluate(runs, POLICY, NOW)
    assert verdict.result is Result.FAIL
    assert [d.finding.id for d in verdict.findings] == ["branch-protection/require_linear_history"]


def test_app_token_403_on_classic_but_the_branch_is_unprotected(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    serve(
        replay,
        "MsElysia/Elysia",
        "main",
        rules=Reply.json([]),
        branch=Reply.file(gh_data / "realworld-2026-elysia-branch-unprotected.json"),
        classic=Reply.file(gh_data / "realworld-2026-elysia-403-classic.json", status=403),
    )
    runs = fetch_branch_protection("MsElysia/Elysia", "main", client=client)
    classic = by_endpoint(runs)["classic"]
    assert (classic.status, classic.facts.as_json()["http_status"]) == (InputStatus.OK, 403)
    assert classic.facts.as_json()["reading"]["state"] == "unreadable"
    verdict = evaluate(runs, POLICY, NOW)
    assert verdict.result is Result.FAIL
    assert {d.finding.status for d in verdict.findings} == {"unmet"}  # known, not unknown


def test_403_alone_is_unknown_not_unprotected(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    serve(
        replay,
        "MsElysia/Elysia",
        "main",
        rules=Reply.json([]),
        branch=Reply.json({"name": "main", "commit": {"sha": "0"}, "protected": True}),
        classic=Reply.file(gh_data / "realworld-2026-elysia-403-classic.json", status=403),
    )
    runs = fetch_branch_protection("MsElysia/Elysia", "main", client=client)
    verdict = evaluate(runs, POLICY, NOW)
    assert verdict.result is Result.FAIL
    assert {d.finding.status for d in verdict.findings} == {"unknown"}
    assert all("Administration: read" in str(d.finding.title) for d in verdict.findings)
    warn = POLICY.model_copy(
        update={
            "branch_protection": POLICY.branch_protection.model_copy(update={"unknown": "warn"})
        }  # type: ignore[union-attr]
    )
    assert evaluate(runs, warn, NOW).result is Result.PASS


def test_classic_404_and_a_ruleset_from_the_same_repository(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    detail = json.loads((gh_data / "realworld-2026-ruleset-detail.json").read_bytes())
    # What rules/branches answers for that ruleset: its rules, tagged with their source.
    rules = [
        {
            **r,
            "ruleset_source_type": "Repository",
            "ruleset_source": detail["source"],
            "ruleset_id": detail["id"],
        }
        for r in detail["rules"]
    ]
    serve(
        replay,
        "marcellovictorino/local-whisper",
        "master",
        rules=Reply.json(rules),
        branch=Reply.json({"name": "master", "commit": {"sha": "0"}, "protected": True}),
        classic=Reply.file(gh_data / "realworld-2026-404-with-status-string.json", status=404),
    )
    runs = fetch_branch_protection("marcellovictorino/local-whisper", "master", client=client)
    assert by_endpoint(runs)["classic"].facts.as_json()["reading"]["state"] == "unprotected"
    verdict = evaluate(runs, POLICY, NOW)
    failed = {d.finding.id for d in verdict.findings}
    assert verdict.result is Result.FAIL
    assert failed == {
        "branch-protection/required_approving_reviews",
        "branch-protection/required_status_checks",
        "branch-protection/require_linear_history",
    }  # force pushes are blocked by the ruleset's non_fast_forward rule


def test_octokit_recording_and_a_5xx_that_recovers(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    scenario = json.loads(
        (gh_data / "octokit-fixture-branch-protection-scenario.json").read_bytes()
    )
    get_404 = scenario[0]
    assert (get_404["method"], get_404["status"]) == ("get", 404)
    serve(
        replay,
        "octokit-fixture-org/branch-protection",
        "main",
        rules=[Reply.json({"message": "Server Error"}, status=500), Reply.json([])],
        branch=Reply.json({"name": "main", "commit": {"sha": "0"}, "protected": False}),
        classic=Reply.octokit(get_404),
    )
    runs = fetch_branch_protection("octokit-fixture-org/branch-protection", "main", client=client)
    assert [r.status for r in runs] == [InputStatus.OK] * 3
    assert replay.hits("/repos/octokit-fixture-org/branch-protection/rules/branches/main") == 2
    assert evaluate(runs, POLICY, NOW).result is Result.FAIL


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Reply.json({"message": "Server Error"}, status=500),
            "answered 500 Server Error; gave up after 3",
        ),
        (
            Reply(503, b"<html><body>unicorn</body></html>", {"content-type": "text/html"}),
            "answered 503",
        ),
        (Reply.json({"message": "slow"}, status=429, **{"retry-after": "0"}), "rate limited"),
        (
            Reply.json({"message": "slow"}, status=429, **{"retry-after": "7200"}),
            "re-run the job later",
        ),
        (Reply(200, b"{}", delay=5), "timed out after 0.5s talking to"),
        (
            Reply(200, b'{"url": "https://api.github.com/repos/o/r/branches/main/prot'),
            "malformed JSON",
        ),
        (
            Reply(200, b"<!DOCTYPE html><title>Sign in</title>", {"content-type": "text/html"}),
            "an HTML page",
        ),
        (
            Reply.json({"message": "Bad credentials"}, status=401),
            "401 Bad credentials: check the token in GITHUB_TOKEN",
        ),
        (
            Reply.json({"message": "Not Found"}, status=404),
            "404 Not Found: the repository curvewise-forks/PyGithub or branch 'master' does not exist, or the token cannot see it",
        ),
        (Reply.json({"message": "Validation Failed"}, status=422), "unexpected answer 422"),
        # a 200 that is no protection (a proxy's error page as JSON): not "protected, unknown"
        (Reply.json({}), "not a branch protection response (no keys)"),
        (Reply.json({"message": "Not Found"}), "not a branch protection response (message)"),
        (Reply.json({"message": "slow"}, status=429, **{"retry-after": "soon"}), "rate limited"),
    ],
    ids=[
        "5xx",
        "html-5xx",
        "rate-limit-budget",
        "rate-limit-too-long",
        "timeout",
        "malformed",
        "html-200",
        "401",
        "404",
        "422",
        "empty-200",
        "error-body-200",
        "retry-after-not-a-date",
    ],
)
def test_a_fault_on_classic_is_an_error_never_a_pass(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path, fault: Reply, message: str
) -> None:
    serve(replay, REPO, BRANCH, **{**all_met(gh_data), "classic": fault})
    runs = fetch_branch_protection(REPO, BRANCH, client=client)
    classic = by_endpoint(runs)["classic"]
    assert classic.status is InputStatus.ERROR
    assert message in str(classic.error)
    assert FAKE_TOKEN not in str(classic.error)
    verdict = evaluate(runs, POLICY, NOW)
    assert verdict.result is Result.ERROR
    # …although what could be read meets the policy: the fault still makes it ERROR
    assert fetch_ok_alone(replay, client, gh_data) is Result.PASS


def fetch_ok_alone(replay: GitHubReplay, client: GitHubClient, gh_data: Path) -> Result:
    serve(replay, REPO, BRANCH, **all_met(gh_data))
    return evaluate(fetch_branch_protection(REPO, BRANCH, client=client), POLICY, NOW).result


def test_rules_403_on_a_free_private_repository(
    replay: GitHubReplay, client: GitHubClient, gh_data: Path
) -> None:
    upgrade = {
        "message": "Upgrade to GitHub Pro or make this repository public to enable this feature.",
        "documentation_url": "https://docs.github.com/rest/repos/rules#get-rules-for-a-branch",
        "status": "403",
    }
    serve(replay, REPO, BRANCH, **{**all_met(gh_data), "rules": Reply.json(upgrade, status=403)})
    runs = fetch_branch_protection(REPO, BRANCH, client=client)
    assert by_endpoint(runs)["rules"].facts.as_json()["reading"]["state"] == "unreadable"
    # classic meets every requirement; rulesets can only add to it: still a PASS
    assert evaluate(runs, POLICY, NOW).result is Result.PASS


def test_branch_names_are_url_encoded(replay: GitHubReplay, client: GitHubClient) -> None:
    fetch_branch_protection("o/r", "release/1.0", client=client)
    assert {r.path.split("?")[0] for r in replay.requests} == {
        "/repos/o/r/rules/branches/release%2F1.0",
        "/repos/o/r/branches/release%2F1.0",
        "/repos/o/r/branches/release%2F1.0/protection",
    }


def test_the_environment_configures_the_client(github_env: GitHubReplay, gh_data: Path) -> None:
    serve(github_env, REPO, BRANCH, **all_met(gh_data))
    runs = fetch_branch_protection(REPO, BRANCH)
    assert [r.status for r in runs] == [InputStatus.OK] * 3
    assert github_env.requests[0].headers["authorization"] == f"Bearer {FAKE_TOKEN}"


@pytest.mark.parametrize("repo", ["o", "o/r/x", "o/r name", "../o/r"])
def test_bad_repo_is_a_usage_error(repo: str) -> None:
    with pytest.raises(UsageError, match="must be OWNER/REPO"):
        fetch_branch_protection(repo, "main", client=None)


@pytest.mark.parametrize("token", ["ghp_abc\ndef123", "ghp_abc\rdef123", "ghp_abcé123"])
def test_a_token_that_cannot_be_a_header_is_refused_unshown(token: str) -> None:
    """A bad paste: httpx's error would quote it escaped, out of redaction's reach."""
    with pytest.raises(UsageError, match="GITHUB_TOKEN holds a line break") as info:
        GitHubClient.from_env({"GITHUB_TOKEN": token})
    assert "abc" not in info.value.diagnostics()
