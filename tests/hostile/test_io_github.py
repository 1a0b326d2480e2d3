"""A hostile GitHub API on 127.0.0.1: it echoes the token, trickles, redirects and floods.

Each case runs `gate check --github-repo` in-process and asserts the exit code and
that no sink (stdout, stderr, the JSON verdict, the summary, SARIF) carries any piece of
the token 8 characters or longer (`gate.common.redact.PIECE`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gate.cli import main
from tests.github.conftest import DATA, FAKE_TOKEN
from tests.helpers.github_replay import GitHubReplay, Reply

POLICY = "apiVersion: gate/v1\nbranch_protection:\n  required_approving_reviews: 1\n"
BASE = "/repos/TrustSignal-dev/TrustSignal"
PIECE = 8  # gate.common.redact.PIECE: the shortest piece of a token that counts
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


@pytest.fixture
def gate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Callable[..., tuple[int, str]]:
    """Run `gate check --github-repo` in-process against a server; return the exit code
    and every sink's text together (stdout, stderr, JSON verdict, summary, SARIF)."""

    def run(replay: GitHubReplay, *, timeout: str = "2") -> tuple[int, str]:
        policy = tmp_path / "gate.yaml"
        policy.write_text(POLICY)
        for name in ("GH_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {
            "GITHUB_API_URL": replay.url,
            "GITHUB_TOKEN": FAKE_TOKEN,
            "GATE_GITHUB_RETRIES": "0",
            "GATE_GITHUB_BACKOFF": "0.01",
            "GATE_GITHUB_TIMEOUT": timeout,
        }.items():
            monkeypatch.setenv(name, value)
        outs = [tmp_path / "verdict.json", tmp_path / "summary.md", tmp_path / "gate.sarif"]
        for out in outs:
            out.unlink(missing_ok=True)
        args = ["check", "--policy", str(policy), "--github-repo", "TrustSignal-dev/TrustSignal"]
        args += ["--branch", "master", "--json", str(outs[0]), "--summary", str(outs[1])]
        args += ["--sarif-output", str(outs[2])]
        with pytest.raises(SystemExit) as info:
            main(args)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert isinstance(info.value.code, int)
        sinks = out + err + "".join(p.read_text() for p in outs if p.exists())
        return info.value.code, sinks

    return run


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
@pytest.mark.parametrize("status", [500, 401])
def test_an_echoed_token_reaches_no_sink(
    replay: GitHubReplay, gate: Callable[..., tuple[int, str]], body: bytes, status: int
) -> None:
    serve_good(replay)
    replay.reply(f"{BASE}/branches/master/protection", Reply(status, body))
    code, sinks = gate(replay)
    assert code == 3
    assert leaks(sinks) == []
    assert "<redacted>" in sinks


@pytest.mark.parametrize("what", ["headers", "body"])
def test_a_trickling_server_ends_within_the_deadline(
    replay: GitHubReplay, gate: Callable[..., tuple[int, str]], what: str
) -> None:
    """One byte every 0.05 s never trips a per-read timeout of 0.5 s; the deadline does."""
    serve_good(replay)
    good = Reply.file(DATA / "realworld-2026-trustsignal-protection.json")
    body = good.body if what == "body" else b"{}"
    replay.reply(f"{BASE}/branches/master/protection", Reply(200, body, good.headers, trickle=0.05))
    began = time.monotonic()
    code, sinks = gate(replay, timeout="0.5")
    took = time.monotonic() - began
    assert code == 3
    assert "timed out after 0.5s" in sinks
    assert took < 2, took
    assert leaks(sinks) == []


def test_a_cross_origin_redirect_is_an_error(
    replay: GitHubReplay, gate: Callable[..., tuple[int, str]]
) -> None:
    """The other host would answer a protection that passes; its answer is never judged."""
    with GitHubReplay() as other:
        serve_good(other)
        serve_good(replay)
        for path in ("/rules/branches/master", "/branches/master", "/branches/master/protection"):
            replay.reply(
                f"{BASE}{path}", Reply(301, headers={"location": f"{other.url}{BASE}{path}"})
            )
        code, sinks = gate(replay)
        assert other.requests == []
    assert code == 3
    assert f"a redirect to another origin ({other.url})" in sinks
    assert leaks(sinks) == []


def test_a_same_origin_redirect_is_followed(
    replay: GitHubReplay, gate: Callable[..., tuple[int, str]]
) -> None:
    """GitHub's renamed repository: a 301 to /repositories/ID/… on the same host."""
    serve_good(replay, "/repositories/42")
    for path in ("/rules/branches/master", "/branches/master", "/branches/master/protection"):
        replay.reply(f"{BASE}{path}", Reply(301, headers={"location": f"/repositories/42{path}"}))
    code, sinks = gate(replay)
    assert code == 0  # judged: the recorded protection passes
    assert replay.hits("/repositories/42/branches/master/protection") == 1
    followed = [r for r in replay.requests if r.path.startswith("/repositories/42")]
    assert all(r.headers.get("authorization") == f"Bearer {FAKE_TOKEN}" for r in followed)
    assert leaks(sinks) == []


def test_a_redirect_loop_ends(replay: GitHubReplay, gate: Callable[..., tuple[int, str]]) -> None:
    serve_good(replay)
    replay.reply(
        f"{BASE}/branches/master", Reply(302, headers={"location": f"{BASE}/branches/master"})
    )
    code, sinks = gate(replay)
    assert code == 3
    assert "more than 5 redirects" in sinks


@pytest.mark.parametrize("length", [True, False])
def test_a_flood_is_refused(
    replay: GitHubReplay, gate: Callable[..., tuple[int, str]], length: bool
) -> None:
    """11 MiB of JSON-looking bytes, announced or not: refused, not judged nor held."""
    serve_good(replay)
    flood = b"[" + b'"' + FAKE_TOKEN.encode() * (11 * 2**20 // len(FAKE_TOKEN)) + b'"]'
    replay.reply(f"{BASE}/rules/branches/master", Reply(200, flood, length=length))
    code, sinks = gate(replay)
    assert code == 3
    assert "the answer is larger than 10,485,760 bytes" in sinks
    assert leaks(sinks) == []


def test_origins_compare_as_httpx_normalizes_them() -> None:
    from gate.github import _origin

    assert _origin(httpx.URL("https://API.github.com:443/a")) == _origin(
        httpx.URL("https://api.github.com/b")
    )
    assert _origin(httpx.URL("https://api.github.com")) != _origin(
        httpx.URL("http://api.github.com")
    )
    assert _origin(httpx.URL("https://api.github.com")) != _origin(
        httpx.URL("https://api.github.com:8443")
    )
