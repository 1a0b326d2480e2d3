"""Issue 9: an input no policy section judges is an ERROR naming the section, and the live
GitHub answers go through the same strict reading as saved files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.branch_protection.fetch import fetch_branch_protection
from gate.cli import main
from gate.github import GitHubClient
from gate.models import InputStatus
from tests.helpers.github_replay import GitHubReplay, Reply

DATA = Path(__file__).resolve().parents[1] / "data"
VULNS = "vulnerabilities: {fail_on: HIGH}\n"
SECRETS = "secrets: {fail_on: LOW}\n"
MISCONF = "misconfigurations: {fail_on: HIGH}\n"
CODE = "code_scanning: {fail_on: HIGH}\n"
BRANCH = "branch_protection: {required_approving_reviews: 1}\n"


def check(tmp_path: Path, policy: str, *inputs: str) -> tuple[int, dict[str, object], str]:
    path = tmp_path / "gate.yaml"
    path.write_text("apiVersion: gate/v1\n" + policy)
    out = tmp_path / "verdict.json"
    with pytest.raises(SystemExit) as info:
        main(["check", *inputs, "--policy", str(path), "--json", str(out)])
    return int(info.value.code or 0), json.loads(out.read_text()), str(info.value)


UNJUDGED = [
    # (flag, file, policy, the section the error must name)
    ("--sarif", "sarif/codeql-action-valid-2-runs.sarif", VULNS, "code_scanning"),
    (
        "--npm-audit",
        "reports/npm-audit/v2-nar-all-severity-levels.json",
        SECRETS,
        "vulnerabilities",
    ),
    ("--pip-audit", "reports/pip-audit/dd-legacy-list-many-vulns.json", CODE, "vulnerabilities"),
    (
        "--branch-protection",
        "github/docs-example-branch-protection.json",
        VULNS,
        "branch_protection",
    ),
    # Trivy: one section per class the report examined
    ("--trivy", "reports/trivy/trivy-golden-secrets.json", VULNS, "secrets"),
    (
        "--trivy",
        "reports/trivy/dd-misconfigs-and-secrets.json",
        VULNS + SECRETS,
        "misconfigurations",
    ),
    (
        "--trivy",
        "reports/trivy/trivy-golden-fluentd-gems.json",
        SECRETS + MISCONF,
        "vulnerabilities",
    ),
    # no Results at all: still needs a section that could judge a Trivy report
    ("--trivy", "reports/trivy/trivy-golden-alpine-39-skip.json", CODE, "vulnerabilities"),
]


@pytest.mark.parametrize(("flag", "name", "policy", "section"), UNJUDGED)
def test_an_input_no_section_judges_is_an_error_naming_it(flag, name, policy, section, tmp_path):
    code, verdict, _ = check(tmp_path, policy, flag, str(DATA / name))
    assert code == 3
    assert verdict["result"] == "ERROR"
    named = [e for e in verdict["errors"] if f"`{section}:`" in e]
    assert named and str(DATA / name) in named[0], verdict["errors"]


@pytest.mark.parametrize(
    ("flag", "name", "policy", "want"),
    [
        ("--trivy", "reports/trivy/trivy-golden-fluentd-gems.json", VULNS, 1),
        ("--trivy", "reports/trivy/trivy-golden-secrets.json", SECRETS, 1),
        # licenses are no class gate judges: counted in a warning, never an ERROR
        ("--trivy", "reports/trivy/dd-license-scheme.json", VULNS, 0),
        ("--sarif", "sarif/codeql-action-valid-2-runs.sarif", CODE, 0),
    ],
)
def test_inputs_with_their_section_are_judged(flag, name, policy, want, tmp_path):
    code, verdict, _ = check(tmp_path, policy, flag, str(DATA / name))
    assert code == want, verdict["errors"]
    assert "ignored" not in verdict["counts"]["by_decision"]  # type: ignore[index]


def test_a_duplicate_key_in_a_live_github_answer_is_an_error() -> None:
    base = "/repos/o/r"
    body = b'[{"type": "deletion"}, {"type": "non_fast_forward", "type": "creation"}]'
    with GitHubReplay() as gh:
        gh.reply(
            f"{base}/rules/branches/main", Reply(200, body, {"content-type": "application/json"})
        )
        gh.reply(
            f"{base}/branches/main",
            Reply.file(DATA / "github/realworld-2026-trustsignal-branch.json"),
        )
        gh.reply(
            f"{base}/branches/main/protection", Reply.json({"message": "Branch not protected"}, 404)
        )
        with GitHubClient(token=None, base_url=gh.url, timeout=2, retries=0) as client:
            runs = fetch_branch_protection("o/r", "main", client=client)
    rules = runs[0]
    assert rules.status is InputStatus.ERROR
    assert rules.error is not None and "[1].type" in rules.error and "twice" in rules.error


def test_a_case_variant_key_in_a_live_github_answer_is_an_error() -> None:
    base = "/repos/o/r"
    with GitHubReplay() as gh:
        gh.reply(f"{base}/rules/branches/main", Reply.json([{"type": "deletion", "Type": "x"}]))
        gh.reply(
            f"{base}/branches/main",
            Reply.file(DATA / "github/realworld-2026-trustsignal-branch.json"),
        )
        gh.reply(
            f"{base}/branches/main/protection", Reply.json({"message": "Branch not protected"}, 404)
        )
        with GitHubClient(token=None, base_url=gh.url, timeout=2, retries=0) as client:
            runs = fetch_branch_protection("o/r", "main", client=client)
    assert runs[0].status is InputStatus.ERROR
    assert runs[0].error is not None and "[0].Type" in runs[0].error


def test_a_github_error_body_with_a_duplicate_message_is_not_read_as_unprotected() -> None:
    base = "/repos/o/r"
    body = b'{"message": "Not Found", "message": "Branch not protected"}'
    with GitHubReplay() as gh:
        gh.reply(f"{base}/rules/branches/main", Reply.json([]))
        gh.reply(
            f"{base}/branches/main",
            Reply.file(DATA / "github/realworld-2026-trustsignal-branch.json"),
        )
        gh.reply(
            f"{base}/branches/main/protection",
            Reply(404, body, {"content-type": "application/json"}),
        )
        with GitHubClient(token=None, base_url=gh.url, timeout=2, retries=0) as client:
            runs = fetch_branch_protection("o/r", "main", client=client)
    classic = runs[2]
    assert classic.status is InputStatus.ERROR
    assert classic.error is not None and "ambiguous" in classic.error


def test_a_deeply_nested_live_github_answer_is_an_error_not_a_crash() -> None:
    base = "/repos/o/r"
    deep = b"[" * 100_000 + b"]" * 100_000
    with GitHubReplay() as gh:
        gh.reply(
            f"{base}/rules/branches/main", Reply(200, deep, {"content-type": "application/json"})
        )
        gh.reply(f"{base}/branches/main", Reply(404, deep, {"content-type": "application/json"}))
        gh.reply(
            f"{base}/branches/main/protection", Reply.json({"message": "Branch not protected"}, 404)
        )
        with GitHubClient(token=None, base_url=gh.url, timeout=2, retries=0) as client:
            runs = fetch_branch_protection("o/r", "main", client=client)
    assert [r.status for r in runs[:2]] == [InputStatus.ERROR, InputStatus.ERROR]
    assert runs[0].error is not None and "nested too deeply" in runs[0].error
