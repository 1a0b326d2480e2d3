"""The REST client against a real HTTP server on 127.0.0.1: retries, limits, timeouts, pages."""

from __future__ import annotations

import time

import pytest

from gate.errors import GitHubError, UsageError
from gate.github import GitHubClient
from tests.github.conftest import FAKE_TOKEN
from tests.helpers.github_replay import GitHubReplay, Reply

P = "/repos/o/r/branches/main"
SERVER_ERROR = Reply.json({"message": "Server Error"}, status=500)


def test_sends_token_and_api_headers(client: GitHubClient, replay: GitHubReplay) -> None:
    replay.reply(P, Reply.json({"ok": True}))
    assert client.get(P).json() == {"ok": True}
    headers = replay.requests[0].headers
    assert headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("gate/")
    assert FAKE_TOKEN not in repr(client)


def test_no_token_sends_no_authorization(replay: GitHubReplay) -> None:
    replay.reply(P, Reply.json({}))
    with GitHubClient(base_url=replay.url) as c:
        c.get(P)
        assert "no token: set GITHUB_TOKEN" in c.auth_hint()
    assert "authorization" not in replay.requests[0].headers


def test_enterprise_base_url_with_a_path(replay: GitHubReplay) -> None:
    replay.reply("/api/v3" + P, Reply.json({"name": "main"}))
    with GitHubClient(base_url=replay.url + "/api/v3/", token=FAKE_TOKEN) as c:
        assert c.get(P).json() == {"name": "main"}


def test_500_then_200_is_retried(client: GitHubClient, replay: GitHubReplay) -> None:
    replay.reply(P, SERVER_ERROR, Reply(502, b"bad gateway"), Reply.json({"name": "main"}))
    r = client.get(P)
    assert (r.status, r.json()) == (200, {"name": "main"})
    assert replay.hits(P) == 3


def test_5xx_past_the_retry_budget_is_an_error(client: GitHubClient, replay: GitHubReplay) -> None:
    replay.reply(P, SERVER_ERROR)
    with pytest.raises(GitHubError, match=r"answered 500 Server Error; gave up after 3 attempt"):
        client.get(P)
    assert replay.hits(P) == 3


@pytest.mark.parametrize(
    "limited",
    [
        Reply.json({"message": "slow down"}, status=429, **{"retry-after": "0"}),
        Reply.json(
            {"message": "You have exceeded a secondary rate limit."},
            status=403,
            **{"retry-after": "0"},
        ),
    ],
    ids=["429", "403-secondary"],
)
def test_rate_limit_with_retry_after_is_waited_out(
    client: GitHubClient, replay: GitHubReplay, limited: Reply
) -> None:
    replay.reply(P, limited, Reply.json({"name": "main"}))
    assert client.get(P).status == 200
    assert replay.hits(P) == 2


def test_primary_rate_limit_waits_for_the_reset(client: GitHubClient, replay: GitHubReplay) -> None:
    reset = str(int(time.time()) - 5)  # already past: the client waits the 1s margin
    limited = Reply.json(
        {"message": "API rate limit exceeded for user ID 1."},
        status=403,
        **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    replay.reply(P, limited, Reply.json({"name": "main"}))
    start = time.monotonic()
    assert client.get(P).status == 200
    assert 0.9 < time.monotonic() - start < 2.5


def test_rate_limit_longer_than_max_sleep_fails_at_once(
    client: GitHubClient, replay: GitHubReplay
) -> None:
    replay.reply(P, Reply.json({"message": "slow down"}, status=429, **{"retry-after": "3600"}))
    with pytest.raises(GitHubError) as e:
        client.get(P)
    msg = e.value.diagnostics()
    assert "rate limited" in msg and "retry after 3600s" in msg and "re-run the job later" in msg
    assert replay.hits(P) == 1


def test_rate_limit_message_without_headers_waits_a_minute(
    client: GitHubClient, replay: GitHubReplay
) -> None:
    # GitHub: without retry-after, wait at least a minute; that exceeds max_sleep here.
    replay.reply(P, Reply.json({"message": "API rate limit exceeded"}, status=403))
    with pytest.raises(GitHubError, match=r"retry after 60s"):
        client.get(P)


def test_rate_limit_past_the_retry_budget(client: GitHubClient, replay: GitHubReplay) -> None:
    replay.reply(P, Reply.json({"message": "slow down"}, status=429, **{"retry-after": "0"}))
    with pytest.raises(GitHubError, match=r"rate limited .* gave up after 3 attempt"):
        client.get(P)


def test_permission_403_is_returned_not_retried(client: GitHubClient, replay: GitHubReplay) -> None:
    body = {"message": "Resource not accessible by integration", "status": "403"}
    replay.reply(P, Reply.json(body, status=403))
    r = client.get(P)
    assert (r.status, r.message()) == (403, "Resource not accessible by integration")
    assert replay.hits(P) == 1


def _impatient(replay: GitHubReplay) -> GitHubClient:
    return GitHubClient(base_url=replay.url, timeout=0.2, retries=2, backoff=0.01)


def test_timeout_after_retries_names_the_server(replay: GitHubReplay) -> None:
    replay.reply(P, Reply(200, b"{}", delay=5))
    start = time.monotonic()
    with _impatient(replay) as c, pytest.raises(GitHubError) as e:
        c.get(P)
    assert f"timed out after 0.2s talking to {replay.url}" in e.value.diagnostics()
    assert "gave up after 3 attempt" in e.value.diagnostics()
    assert replay.hits(P) == 3
    assert time.monotonic() - start < 3


def test_a_slow_answer_then_a_fast_one(replay: GitHubReplay) -> None:
    replay.reply(P, Reply(200, b"{}", delay=5), Reply.json({"name": "main"}))
    with _impatient(replay) as c:
        assert c.get(P).json() == {"name": "main"}


def test_connection_refused(replay: GitHubReplay) -> None:
    url = replay.url
    replay.__exit__(None, None, None)  # nothing listens on the port any more
    with GitHubClient(base_url=url, retries=1, backoff=0.01) as c:
        with pytest.raises(GitHubError, match=f"cannot reach {url} "):
            c.get(P)


def test_malformed_json_is_an_error(client: GitHubClient, replay: GitHubReplay) -> None:
    replay.reply(P, Reply(200, b'{"name": "main", "protected": tr', {"content-type": "json"}))
    with pytest.raises(GitHubError, match=r"malformed JSON"):
        client.get(P).json()


@pytest.mark.parametrize("ctype", ["text/html; charset=utf-8", "application/json"])
def test_an_html_page_is_an_error(client: GitHubClient, replay: GitHubReplay, ctype: str) -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>"
    replay.reply(P, Reply(200, page, {"content-type": ctype}))
    with pytest.raises(GitHubError, match=r"an HTML page, not JSON: is GITHUB_API_URL"):
        client.get(P).json()


def test_an_html_502_is_retried_then_reported(client: GitHubClient, replay: GitHubReplay) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    replay.reply(P, Reply(502, page, {"content-type": "text/html"}))
    with pytest.raises(GitHubError, match=r"answered 502 <html>"):
        client.get(P)


def test_pages_are_followed(client: GitHubClient, replay: GitHubReplay) -> None:
    path = "/repos/o/r/rules/branches/main"
    nxt = f'<{replay.url}{path}?per_page=100&page=2>; rel="next", <{replay.url}{path}>; rel="first"'
    replay.reply(path, Reply.json([{"type": "deletion", "ruleset_id": 1}], link=nxt))
    replay.reply(f"{path}?per_page=100&page=2", Reply.json([{"type": "non_fast_forward"}]))
    r = client.get_list(path)
    assert [i["type"] for i in r.json()] == ["deletion", "non_fast_forward"]
    assert replay.requests[0].path == f"{path}?per_page=100"


def test_a_failing_later_page_is_an_error(client: GitHubClient, replay: GitHubReplay) -> None:
    path = "/repos/o/r/rules/branches/main"
    replay.reply(path, Reply.json([], link=f'<{replay.url}/x?page=2>; rel="next"'))
    replay.reply("/x?page=2", Reply.json({"message": "Not Found"}, status=404))
    with pytest.raises(GitHubError, match=r"page 2 answered 404 Not Found"):
        client.get_list(path)


def test_pagination_never_sends_the_token_elsewhere(
    client: GitHubClient, replay: GitHubReplay
) -> None:
    path = "/repos/o/r/rules/branches/main"
    replay.reply(path, Reply.json([], link='<https://evil.example/steal?page=2>; rel="next"'))
    with pytest.raises(GitHubError, match=r"refusing to send the token to evil.example"):
        client.get_list(path)


def test_the_token_is_redacted_from_echoed_errors(
    client: GitHubClient, replay: GitHubReplay
) -> None:
    echo = {"message": f"Bad token {FAKE_TOKEN} for this server"}
    replay.reply(P, Reply.json(echo, status=500))
    with pytest.raises(GitHubError) as e:
        client.get(P)
    assert FAKE_TOKEN not in e.value.diagnostics()
    assert "<redacted>" in e.value.diagnostics()


def test_from_env(monkeypatch: pytest.MonkeyPatch, replay: GitHubReplay) -> None:
    env = {"GH_TOKEN": FAKE_TOKEN, "GITHUB_API_URL": replay.url, "GATE_GITHUB_TIMEOUT": "2.5"}
    with GitHubClient.from_env(env) as c:
        assert (c.base_url, c.timeout, c.retries, c.token_source) == (
            replay.url,
            2.5,
            3,
            "GH_TOKEN",
        )
    with GitHubClient.from_env({}) as c:
        assert (c.base_url, c.token_source) == ("https://api.github.com", None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATE_GITHUB_TIMEOUT": "soon"}, "GATE_GITHUB_TIMEOUT must be a number of seconds"),
        ({"GATE_GITHUB_TIMEOUT": "0"}, "GATE_GITHUB_TIMEOUT must be positive"),
        ({"GATE_GITHUB_RETRIES": "2.5"}, "GATE_GITHUB_RETRIES must be a whole number"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL must be an http"),
    ],
)
def test_bad_environment_is_a_usage_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        GitHubClient.from_env(env)
