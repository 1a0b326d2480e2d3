"""`gate check` end to end, as a subprocess: the API on 127.0.0.1, real exit codes and outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.github.conftest import FAKE_TOKEN
from tests.helpers.github_replay import GitHubReplay, Reply

POLICY = """\
apiVersion: gate/v1
branch_protection:
  required_approving_reviews: 1
  require_status_checks: {checks}
  allow_force_pushes: false
  require_linear_history: true
"""


def gate(
    replay: GitHubReplay, tmp_path: Path, *args: str, checks: str = "[]"
) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY.format(checks=checks))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "GATE_"))}
    env.update(
        GITHUB_API_URL=replay.url,
        GITHUB_TOKEN=FAKE_TOKEN,
        GATE_GITHUB_RETRIES="1",
        GATE_GITHUB_BACKOFF="0.01",
        GATE_GITHUB_TIMEOUT="2",
    )
    cmd = [sys.executable, "-m", "gate", "check", "--policy", str(policy), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert FAKE_TOKEN not in done.stdout + done.stderr
    return done


def serve_trustsignal(replay: GitHubReplay, gh_data: Path, classic: Reply | None = None) -> None:
    base = "/repos/TrustSignal-dev/TrustSignal"
    replay.reply(f"{base}/rules/branches/master", Reply.json([]))
    replay.reply(
        f"{base}/branches/master", Reply.file(gh_data / "realworld-2026-trustsignal-branch.json")
    )
    replay.reply(
        f"{base}/branches/master/protection",
        classic or Reply.file(gh_data / "realworld-2026-trustsignal-protection.json"),
    )


REPO_ARGS = ("--github-repo", "TrustSignal-dev/TrustSignal", "--branch", "master")


def test_unmet_protection_fails_in_every_report(
    replay: GitHubReplay, tmp_path: Path, gh_data: Path
) -> None:
    serve_trustsignal(replay, gh_data)
    out = tmp_path / "verdict.json"
    done = gate(
        replay,
        tmp_path,
        *REPO_ARGS,
        "--json",
        str(out),
        "--summary",
        str(tmp_path / "summary.md"),
        "--sarif-output",
        str(tmp_path / "gate.sarif"),
    )
    assert done.returncode == 1, done.stderr
    verdict = json.loads(out.read_text())
    assert verdict["result"] == "FAIL"
    [finding] = verdict["findings"]
    assert finding["id"] == "branch-protection/require_linear_history"
    assert finding["decision"] == "fail"
    classic = [i for i in verdict["inputs"] if i["facts"]["endpoint"] == "classic"]
    assert classic[0]["facts"]["reading"]["state"] == "protected"
    assert "branch-protection/require_linear_history" in (tmp_path / "summary.md").read_text()
    assert "branch-protection/require_linear_history" in (tmp_path / "gate.sarif").read_text()


def test_api_fault_exits_3_and_says_what_to_do(
    replay: GitHubReplay, tmp_path: Path, gh_data: Path
) -> None:
    serve_trustsignal(replay, gh_data, classic=Reply.json({"message": "Server Error"}, status=500))
    done = gate(replay, tmp_path, *REPO_ARGS)
    assert done.returncode == 3
    text = done.stdout + done.stderr
    assert "answered 500 Server Error; gave up after 2 attempt(s)" in text
    assert "GATE_GITHUB_RETRIES" in text


def test_rejected_token_exits_3_naming_the_permissions(
    replay: GitHubReplay, tmp_path: Path, gh_data: Path
) -> None:
    serve_trustsignal(
        replay, gh_data, classic=Reply.json({"message": "Bad credentials"}, status=401)
    )
    done = gate(replay, tmp_path, *REPO_ARGS)
    assert done.returncode == 3
    assert "401 Bad credentials: check the token in GITHUB_TOKEN" in done.stdout + done.stderr
    assert "Administration: read" in done.stdout + done.stderr


def test_bad_repo_is_a_usage_error(replay: GitHubReplay, tmp_path: Path) -> None:
    done = gate(replay, tmp_path, "--github-repo", "not-a-repo", "--branch", "main")
    assert done.returncode == 2
    assert "must be OWNER/REPO" in done.stderr
    assert replay.requests == []


def test_saved_responses_and_gates_own_check(
    replay: GitHubReplay, tmp_path: Path, gh_data: Path
) -> None:
    saved = gh_data / "realworld-2026-personal-repo-protection.json"
    out = tmp_path / "verdict.json"
    args = ("--branch-protection", str(saved), "--json", str(out))
    done = gate(replay, tmp_path, *args, checks="[verify, gate]")
    assert done.returncode == 1, done.stderr
    verdict = json.loads(out.read_text())
    [finding] = verdict["findings"]
    assert finding["id"] == "branch-protection/required_status_checks"
    assert "Status check `gate` is not required on `main`" in finding["title"]
    assert "gate is decoration until it is a required check" in finding["title"]


@pytest.mark.parametrize(
    ("files", "code"),
    [
        (["realworld-2026-404-with-status-string.json", "realworld-2026-ruleset-detail.json"], 1),
        (["realworld-2026-rulesets-list.json"], 3),
        (["pygithub-2023-org-fork-protection.json"], 0),
    ],
)
def test_saved_responses_exit_codes(
    replay: GitHubReplay, tmp_path: Path, gh_data: Path, files: list[str], code: int
) -> None:
    args = [a for f in files for a in ("--branch-protection", str(gh_data / f))]
    done = gate(replay, tmp_path, *args)
    assert done.returncode == code, done.stdout + done.stderr
