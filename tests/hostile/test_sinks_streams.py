"""Error text that quotes trivy, a registry or the GitHub API reaches the reader defused.

- trivy's stderr: a fake trivy (a script, as in `tests/scanners`) writes terminal escapes,
  C1 bytes, bidi overrides, workflow commands (also after whitespace, after a `\\r`, in the
  legacy `##[` form) and a registry's error answer to stderr, and exits 1 (fatal) or 2 (a
  Go panic). gate's ERROR output must carry none of it raw, and the JSON verdict all of it.
- the GitHub API: a loopback server answers every request with an error whose message (JSON,
  or a plain-text body) holds the same payloads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers.github_replay import GitHubReplay, Reply
from tests.hostile import inject

HOSTILE_LINES = [
    "\x1b]0;owned\x07\x1b[2J\x1b[1;1H title set, screen cleared",
    "::add-mask::FAIL",
    "   ::error file=README.md,line=1::forged annotation",
    "\u2028::set-output name=verdict::PASS",
    "progress \r::stop-commands::tok",
    "see ##[error]legacy forged",
    "\x9b31m C1 CSI, \u202egnp.exe\u202c bidi, \x85::warning::after NEL",
    "FATAL\tinit error: GET https://registry.example/v2/app/manifests/1: 401 UNAUTHORIZED: "
    '{"errors":[{"code":"UNAUTHORIZED","message":"\x1b[31m::add-mask::FAIL\x1b[0m"}]}',
]

FAKE_TRIVY = r"""
import json, os, sys
args = sys.argv[1:]
if args[:1] == ["version"]:
    print(json.dumps({"Version": "0.76.0"}))
    sys.exit(0)
data = json.loads(os.environ["TRIVY_HOSTILE_STDERR"])
out = sys.stderr.buffer
if os.environ["TRIVY_HOSTILE_EXIT"] == "2":
    out.write(b"panic: runtime error: " + data[0].encode() + b"\n\ngoroutine 1 [running]:\n")
out.write(b"raw bytes: \x9b\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07\n")
for line in data:
    out.write(line.encode() + b"\n")
sys.exit(int(os.environ["TRIVY_HOSTILE_EXIT"]))
"""


def _fake_trivy(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "trivy"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n{FAKE_TRIVY}")
    path.chmod(0o755)
    return path


def _assert_clean(run, actions: bool) -> None:
    for name, stream in (("stdout", run.out), ("stderr", run.err)):
        assert inject.raw_controls(stream) == [], f"raw controls on {name}: {stream!r}"
        forged = inject.foreign_commands(stream, actions=actions)
        assert forged == [], f"{name} carries workflow commands: {forged}\n{stream}"
    assert "Traceback" not in run.err
    if run.summary is not None:
        assert inject.raw_controls(run.summary) == []
        assert inject.html_problems(run.summary) == []
    if run.sarif is not None:
        assert inject.sarif_problems(run.sarif) == []


@pytest.mark.parametrize("actions", [False, True], ids=["terminal", "github-actions"])
@pytest.mark.parametrize("exit_code", ["1", "2"], ids=["fatal", "panic"])
def test_trivy_stderr_is_shown_defused(
    actions, exit_code, run_gate, hostile_policy, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("TRIVY_HOSTILE_STDERR", json.dumps(HOSTILE_LINES))
    monkeypatch.setenv("TRIVY_HOSTILE_EXIT", exit_code)
    monkeypatch.delenv("GATE_TRIVY", raising=False)
    fake = _fake_trivy(tmp_path)
    # an archive, not a registry image: gate resolves a registry image itself before trivy
    # runs, and this test is about what trivy writes
    archive = tmp_path / "app.tar"
    archive.write_bytes(b"not read: the fake trivy fails first")
    run = run_gate(
        ["--input", str(archive), "--policy", str(hostile_policy), "--trivy-bin", str(fake)],
        actions=actions,
    )
    assert run.code == 3, run.out + run.err
    _assert_clean(run, actions)
    # the reader sees the payloads, escaped …
    shown = run.out + run.err
    assert "\\x1b]0;owned\\x07" in shown, shown
    if exit_code == "1":  # (a panic is shown by its message alone)
        assert "\\u202egnp.exe" in shown
        assert "\\x3a:add-mask::FAIL" in shown  # the line trivy wrote, no longer a command
    # … and the JSON verdict keeps them verbatim
    assert run.verdict is not None
    errors = " ".join(inject.verdict_strings(run.verdict))
    assert "\x1b]0;owned\x07" in errors
    if exit_code == "1":
        assert "\u202egnp.exe" in errors


HOSTILE_MESSAGE = "\n".join(HOSTILE_LINES[:7])


@pytest.mark.parametrize("actions", [False, True], ids=["terminal", "github-actions"])
@pytest.mark.parametrize("body", ["json", "text"])
def test_github_api_error_text_is_shown_defused(
    actions, body, run_gate, hostile_policy, tmp_path, monkeypatch
) -> None:
    if body == "json":
        reply = Reply.json(
            {"message": HOSTILE_MESSAGE, "documentation_url": "https://evil.example/\n::x"},
            status=500,
        )
    else:
        reply = Reply(500, HOSTILE_MESSAGE.encode(), {"content-type": "text/plain"})
    policy = tmp_path / "bp.yaml"
    policy.write_text(
        hostile_policy.read_text() + "branch_protection: {required_approving_reviews: 1}\n"
    )
    with GitHubReplay() as replay:
        base = "/repos/acme/app"
        for route in (
            f"{base}/branches/main/protection",
            f"{base}/rules/branches/main",
            f"{base}/branches/main",
            f"{base}",
        ):
            replay.reply(route, reply)
        monkeypatch.setenv("GITHUB_API_URL", replay.url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        monkeypatch.setenv("GATE_GITHUB_RETRIES", "1")
        monkeypatch.setenv("GATE_GITHUB_TIMEOUT", "2")
        monkeypatch.setenv("GATE_GITHUB_BACKOFF", "0.01")
        run = run_gate(
            ["--github-repo", "acme/app", "--branch", "main", "--policy", str(policy)],
            actions=actions,
        )
    assert run.code == 3, run.out + run.err
    assert replay.requests, "gate asked the server nothing"
    _assert_clean(run, actions)
    assert "\\x1b]0;owned\\x07" in run.out + run.err, run.out + run.err
