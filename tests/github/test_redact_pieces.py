"""The token-piece rule: any run of 8 or more characters of the token is masked, wherever
a cut falls; shorter runs are left (they tell little and match ordinary text)."""

from __future__ import annotations

import pytest

from gate.common.redact import PIECE, redact_pieces
from gate.github import EXCERPT, GitHubClient, Response
from tests.github.conftest import FAKE_TOKEN

T = FAKE_TOKEN


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (f"a {T} b", "a * b"),
        (f"a {T[:PIECE]}", "a *"),
        (f"a {T[: PIECE - 1]}", f"a {T[: PIECE - 1]}"),
        (f"{T[5:20]} and {T[-PIECE:]}", "* and *"),
        (f"{T}{T}", "*"),
        ("nothing here", "nothing here"),
    ],
)
def test_pieces(text: str, want: str) -> None:
    assert redact_pieces(text, T, "*") == want


def test_a_short_secret_is_masked_whole_only() -> None:
    assert redact_pieces("abc abd xabcx", "abc", "*") == "* abd x*x"


@pytest.mark.parametrize("cut", range(EXCERPT - len(T), EXCERPT + 1, 3))
def test_a_message_cut_across_the_token_shows_no_piece(cut: int) -> None:
    """Wherever the excerpt's end falls inside the token, nothing of it shows."""
    client = GitHubClient(token=T, base_url="http://127.0.0.1:9")
    body = ("x" * cut + T + "y" * 50).encode()
    said = client.say(Response(500, "u", {}, body, "b"))
    client.close()
    assert all(
        T[i : i + 4] not in said.replace("x", "").replace("y", "") for i in range(4, len(T) - 4)
    )
