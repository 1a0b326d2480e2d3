"""`gate.common.sanitize`, the one sanitizer of every human-facing sink, on its own.

The properties are checked against models that do not share its code: the GitHub runner's
command parser (`inject.workflow_commands`) and GitHub's markdown renderer (cmark-gfm).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.common import sanitize
from tests.hostile import inject


def test_every_control_separator_format_and_surrogate_character_is_escaped() -> None:
    escaped = 0
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            shown = sanitize.text(f"a{ch}b")
            assert ch not in shown and shown.startswith("a\\") and shown.endswith("b"), hex(cp)
            escaped += 1
    assert escaped > 2000  # C0, C1, the format characters and 2,048 surrogates


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x9b31m", "\\x9b31m"),
        ("a\tb", "a\\tb"),  # a tab too: invisible, and it can fake table columns
        ("a\r\nb", "a\\r\\nb"),
        ("\x85\u2028\u2029", "\\x85\\u2028\\u2029"),
        ("\u202egnp.exe\u202c", "\\u202egnp.exe\\u202c"),
        ("\u2066x\u2069\u200b\ufeff\u00ad", "\\u2066x\\u2069\\u200b\\ufeff\\xad"),
        ("\U000e0041", "\\U000e0041"),
        ("\x7f", "\\x7f"),
        ("lodash@4.17.21 ≥ ü 漢字 🙂", "lodash@4.17.21 ≥ ü 漢字 🙂"),
    ],
)
def test_text_shows_controls_escaped_and_everything_else_as_is(raw: str, shown: str) -> None:
    assert sanitize.text(raw) == shown


def test_messages_keep_their_own_lines() -> None:
    assert sanitize.lines("a\nb\x1bc") == ["a", "b\\x1bc"]
    assert sanitize.message("trivy said:\n    \x1b[2J") == "trivy said:\n    \\x1b[2J"


@pytest.mark.parametrize(
    "line",
    [
        "::add-mask::FAIL",
        "   ::error file=x::forged",
        "\t::set-output name=a::b",
        "\u3000\u00a0::warning::x",
        ":\u200b:add-mask::y",
        "\u034f::notice::z",
        "see ##[error]legacy",
        "##\u200b[warning]x",
        "#\u2060#[add-mask]x",
    ],
)
def test_guard_leaves_no_workflow_command(line: str) -> None:
    assert inject.workflow_commands(line), "the model must see a command here"
    assert inject.workflow_commands(sanitize.guard(line)) == []


def test_guard_keeps_ordinary_lines() -> None:
    text = "gate: std::vector at a.cpp:1\nerror: x: y\n  - C# [note]\n"
    assert sanitize.guard(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_message_becomes_a_workflow_command(s: str) -> None:
    shown = sanitize.for_stream(s)
    assert inject.workflow_commands(shown) == []
    assert inject.raw_controls(shown) == []


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(inject.PAYLOADS), st.text(max_size=8), st.text(max_size=8))
def test_no_payload_becomes_a_workflow_command(payload: str, before: str, after: str) -> None:
    assert inject.workflow_commands(sanitize.for_stream(before + payload + after)) == []


def test_github_block_stops_commands_with_a_fresh_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert sanitize.github_block("report\n") == "report\n"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    one, two = sanitize.github_block("report\n"), sanitize.github_block("report")
    m = re.fullmatch(r"::stop-commands::([0-9a-f]{32})\nreport\n::\1::\n", one)
    assert m is not None, one
    assert m.group(1) not in two and two.endswith(
        "report\n" + two.splitlines()[0][17:].join(["::", "::\n"])
    )


class _Text(HTMLParser):
    def __init__(self, tag: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.depth, self.text = tag, 0, ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.depth += tag == self.tag

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == self.tag

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text += data


def _cell_text(markdown_cell: str, tag: str = "td") -> str:
    html = inject.render_gfm(f"| h |\n| --- |\n| {markdown_cell} |\n")
    parser = _Text(tag)
    parser.feed(html)
    return parser.text


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(inject.PAYLOADS)
)
def test_md_text_renders_as_the_text_itself_with_no_markup(s: str) -> None:
    cell = sanitize.md_text(s)
    row = f"| h |\n| --- |\n| {cell} |\n"
    assert inject.html_problems(row) == []
    assert _cell_text(cell).strip() == sanitize.text(s).strip()


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.sampled_from(inject.PAYLOADS)
    | st.sampled_from(["# h", "  ## h", "- x", "+ x", "1. x", "2) x", "---", "===", "    code"])
)
def test_md_text_starting_a_line_stays_a_paragraph(s: str) -> None:
    """Where the text starts a line (a paragraph of SARIF help, a bullet of the summary),
    it makes no heading, list, rule or code block."""
    shown = sanitize.md_text(s)
    for markdown in (shown, "- " + shown, "**x**\n\n" + shown):
        assert inject.html_problems(markdown) == [], markdown
        html = inject.render_gfm(markdown)
        assert not re.search(r"<(h[1-6]|ol|pre|hr|blockquote)\b", html), html
        assert html.count("<li>") == markdown.startswith("- "), html


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40)
    | st.sampled_from(inject.PAYLOADS)
)
def test_md_code_holds_the_text_verbatim(s: str) -> None:
    span = sanitize.md_code(s)
    assert inject.html_problems(f"| h |\n| --- |\n| {span} |\n") == []
    shown = sanitize.text(s)
    if shown.strip():
        assert _cell_text(span, "code").strip() == shown.strip()


@pytest.mark.parametrize(
    "url",
    [
        "https://avd.aquasec.com/nvd/cve-2024-1234",
        "https://github.com/advisories/GHSA-xxxx-yyyy-zzzz",
        "https://en.wikipedia.org/wiki/A_(b)?q=1&r=%20#frag",
        "HTTPS://EXAMPLE.COM:8443/x",
    ],
)
def test_safe_url_keeps_well_formed_https(url: str) -> None:
    assert sanitize.safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "javascript:alert(1)",
        "https://evil.example/\n::set-output",
        "https://evil.example/ a",
        "https://user:pw@evil.example/",
        "https://github.com@evil.example/",
        "https://evil.example/\x1b[2J",
        "https://evil.example/\u202e",
        "https://bücher.example/",
        "https://evil.example/<img>",
        '"https://evil.example/"',
        "https://evil.example/[x](y)",
        "https:///path",
        "//evil.example/",
        "",
        None,
        "https://" + "a" * 3000 + ".example/",
    ],
)
def test_safe_url_refuses_anything_else(url: str | None) -> None:
    assert sanitize.safe_url(url) is None


def test_md_link_only_for_a_safe_url() -> None:
    assert (
        sanitize.md_link("CVE", "https://a.example/x_(y)") == "[CVE](https://a.example/x_%28y%29)"
    )
    assert sanitize.md_link("CVE", "https://evil.example/\n") == "CVE"
    assert inject.html_problems(sanitize.md_link("CVE", "https://a.example/(x)")) == []
