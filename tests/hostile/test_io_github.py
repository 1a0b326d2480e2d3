"""A hostile GitHub API on 127.0.0.1: it echoes the token, trickles, redirects and floods.

Each case runs `gate check --github-repo` as a subprocess and asserts the exit code and
that no sink (stdout, stderr, the JSON verdict, the summary, SARIF) carries any piece of
the token 8 characters or longer (`gate.scanners.redact.PIECE`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.github.conftest import DATA, FAKE_TOKEN
from tests.helpers.github_replay import GitHubReplay, Reply

POLICY = "apiVersion: gate/v1\nbranch_protection:\n  required_approving_reviews: 1\n"
BASE = "/repos/TrustSignal-dev/TrustSignal"
PIECE = 8  # gate.scanners.redact.PIECE: the shortest piece of a token that counts
PIECES = {FAKE_TOKEN[i : i + PIECE] for i in range(len(FAKE_TOKEN) - PIECE + 1)}


@pytest.fixture
def replay() -> Iterator[GitHubReplay]:
    with GitHubReplay() as server:
        yield server


def leaks(text: str) -> list[str]:
    return sorted(p for p in PIECES if p in text)


def serve_good(replay: GitHubReplay, base: str = BASE) -> None:
    replay.reply(f"{base}/rules/branches/master", Reply.json([]))
    replay.reply(
        f"{base}/branches/master", Reply.file(DATA / "realworld-2026-trustsignal-branch.json")
    )
    replay.reply(
        f"{base}/branches/master/protection",
        Reply.file(DATA / "realworld-2026-trustsignal-protection.json"),
    )


def gate(
    replay: GitHubReplay, tmp_path: Path, *, timeout: str = "2", retries: str = "0"
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run gate; return the process and every sink's text together."""
    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "GATE_"))}
    env.update(
        GITHUB_API_URL=replay.url,
        GITHUB_TOKEN=FAKE_TOKEN,
        GATE_GITHUB_RETRIES=retries,
        GATE_GITHUB_BACKOFF="0.01",
        GATE_GITHUB_TIMEOUT=timeout,
    )
    outs = [tmp_path / "verdict.json", tmp_path / "summary.md", tmp_path / "gate.sarif"]
    cmd = [
        sys.executable,
        "-m",
        "gate",
        "check",
        "--policy",
        str(policy),
        "--github-repo",
        "TrustSignal-dev/TrustSignal",
        "--branch",
        "master",
        "--json",
        str(outs[0]),
        "--summary",
        str(outs[1]),
        "--sarif-output",
        str(outs[2]),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    sinks = done.stdout + done.stderr + "".join(p.read_text() for p in outs if p.exists())
    assert "Traceback" not in done.stderr
    return done, sinks


@pytest.mark.parametrize(
    "body",
    [
        # a plain-text error body with the token across the old 80-byte cut
        ("x" * 60 + " " + FAKE_TOKEN + " trailing").encode(),
        # GitHub's JSON error shape, echoing half a token, then the other half
        json.dumps({"message": f"bad token {FAKE_TOKEN[:21]} / {FAKE_TOKEN[21:]}"}).encode(),
        # the token split by the cut of a long message
        json.dumps({"message": "y" * 190 + FAKE_TOKEN}).encode(),
    ],
)
@pytest.mark.parametrize("status", [500, 422, 401])
def test_an_echoed_token_reaches_no_sink(
    replay: GitHubReplay, tmp_path: Path, body: bytes, status: int
) -> None:
    serve_good(replay)
    replay.reply(f"{BASE}/branches/master/protection", Reply(status, body))
    done, sinks = gate(replay, tmp_path)
    assert done.returncode == 3, done.stderr
    assert leaks(sinks) == []
    assert "<redacted>" in sinks


@pytest.mark.parametrize("what", ["headers", "body"])
def test_a_trickling_server_ends_within_the_deadline(
    replay: GitHubReplay, tmp_path: Path, what: str
) -> None:
    """One byte every 0.1 s never trips a per-read timeout of 1 s; the deadline does."""
    serve_good(replay)
    good = Reply.file(DATA / "realworld-2026-trustsignal-protection.json")
    body = good.body if what == "body" else b"{}"
    replay.reply(f"{BASE}/branches/master/protection", Reply(200, body, good.headers, trickle=0.1))
    began = time.monotonic()
    done, sinks = gate(replay, tmp_path, timeout="1")
    took = time.monotonic() - began
    assert done.returncode == 3, done.stderr
    assert "timed out after 1s" in sinks
    assert took < 6, took  # the deadline, plus starting Python twice over
    assert leaks(sinks) == []


def test_a_cross_origin_redirect_is_an_error(replay: GitHubReplay, tmp_path: Path) -> None:
    """The other host would answer a protection that passes; its answer is never judged."""
    with GitHubReplay() as other:
        serve_good(other)
        serve_good(replay)
        for path in ("/rules/branches/master", "/branches/master", "/branches/master/protection"):
            replay.reply(
                f"{BASE}{path}", Reply(301, headers={"location": f"{other.url}{BASE}{path}"})
            )
        done, sinks = gate(replay, tmp_path)
        assert other.requests == []
    assert done.returncode == 3, done.stderr
    assert f"a redirect to another origin ({other.url})" in sinks
    assert leaks(sinks) == []


def test_a_same_origin_redirect_is_followed(replay: GitHubReplay, tmp_path: Path) -> None:
    """GitHub's renamed repository: a 301 to /repositories/ID/… on the same host."""
    serve_good(replay, "/repositories/42")
    for path in ("/rules/branches/master", "/branches/master", "/branches/master/protection"):
        replay.reply(f"{BASE}{path}", Reply(301, headers={"location": f"/repositories/42{path}"}))
    done, sinks = gate(replay, tmp_path)
    assert done.returncode == 0, done.stderr  # judged: the recorded protection passes
    assert replay.hits("/repositories/42/branches/master/protection") == 1
    followed = [r for r in replay.requests if r.path.startswith("/repositories/42")]
    assert all(r.headers.get("authorization") == f"Bearer {FAKE_TOKEN}" for r in followed)
    assert leaks(sinks) == []


def test_a_redirect_loop_ends(replay: GitHubReplay, tmp_path: Path) -> None:
    serve_good(replay)
    replay.reply(
        f"{BASE}/branches/master", Reply(302, headers={"location": f"{BASE}/branches/master"})
    )
    done, sinks = gate(replay, tmp_path)
    assert done.returncode == 3
    assert "more than 5 redirects" in sinks


@pytest.mark.parametrize("length", [True, False])
def test_a_flood_is_refused(replay: GitHubReplay, tmp_path: Path, length: bool) -> None:
    """11 MiB of JSON-looking bytes, announced or not: refused, not judged nor held."""
    serve_good(replay)
    flood = b"[" + b'"' + FAKE_TOKEN.encode() * (11 * 2**20 // len(FAKE_TOKEN)) + b'"]'
    replay.reply(f"{BASE}/rules/branches/master", Reply(200, flood, length=length))
    done, sinks = gate(replay, tmp_path)
    assert done.returncode == 3, done.stderr
    assert "the answer is larger than 10,485,760 bytes" in sinks
    assert leaks(sinks) == []
