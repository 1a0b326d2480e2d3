"""Fixtures for the GitHub tests: the recorded responses and a replay server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.github import GitHubClient
from tests.helpers.github_replay import GitHubReplay

DATA = Path(__file__).resolve().parents[1] / "data" / "github"
# Recognizable, so a leak is easy to spot; never a real token.
FAKE_TOKEN = "ghp_GATEtestTOKEN0123456789abcdefLEAKCHECK"


@pytest.fixture(scope="session")
def gh_data() -> Path:
    return DATA


@pytest.fixture
def replay() -> Iterator[GitHubReplay]:
    with GitHubReplay() as server:
        yield server


@pytest.fixture
def client(replay: GitHubReplay) -> Iterator[GitHubClient]:
    """A client for the replay server: fast backoff, small budgets."""
    with GitHubClient(
        token=FAKE_TOKEN,
        token_source="GITHUB_TOKEN",
        base_url=replay.url,
        timeout=0.5,
        retries=2,
        backoff=0.01,
        max_sleep=2.0,
    ) as c:
        yield c


@pytest.fixture
def github_env(monkeypatch: pytest.MonkeyPatch, replay: GitHubReplay) -> GitHubReplay:
    """The environment `gate check --github-repo` reads, pointed at the replay server."""
    monkeypatch.setenv("GITHUB_API_URL", replay.url)
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("GATE_GITHUB_RETRIES", "1")
    monkeypatch.setenv("GATE_GITHUB_TIMEOUT", "0.5")
    monkeypatch.setenv("GATE_GITHUB_BACKOFF", "0.01")
    return replay


@pytest.fixture(autouse=True)
def _token_never_leaks(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> Iterator[None]:
    """Every GitHub test runs with debug logging on; the token must appear nowhere."""
    caplog.set_level("DEBUG")
    yield
    out, err = capfd.readouterr()
    assert FAKE_TOKEN not in caplog.text
    assert FAKE_TOKEN not in out
    assert FAKE_TOKEN not in err
