"""Hostile text made safe for the places a person reads it: terminal, CI log, markdown, SARIF.

Every string from a report, an image, a registry or an API may have been written by an
attacker. The JSON verdict keeps it verbatim (JSON-escaped); every human-facing sink shows
it through one of these functions, at the point where it is printed or rendered:

- `text`: one field on one line. Control characters (C0 with `\\t`, `\\r`, `\\n`; DEL; C1
  with U+0085), line and paragraph separators, bidi embeddings, overrides and isolates
  ("Trojan Source"), and the other invisible format characters are shown escaped
  (`\\x1b`, `\\u202e`, `\\n`), never raw. A tab is escaped too: it is invisible, its width is
  the terminal's choice, and it can make one field pass for several table columns.
- `lines`: a message that may span lines (an error quoting trivy's stderr): split at `\\n`,
  each line as `text`.
- `guard_line` / `guard`: the last step before a line reaches stdout or stderr. The GitHub
  runner reads a line as a workflow command when, after leading whitespace, it starts with
  `::`, or when it holds `##[` anywhere (`ActionCommand.TryParseV2` / `TryParse` in
  actions/runner); such a line gets its first `:` or the `[` escaped (`\\x3a`, `\\x5b`).
  `github_block` also wraps a block in `::stop-commands::<random>` under GitHub Actions.
- `md_text`, `md_code`, `md_link`: markdown (step summary, SARIF `help.markdown`) where
  untrusted text can make no link, autolink, image, HTML, entity, emphasis or table break.
- `safe_url`: a URL that may become a link or a SARIF `helpUri`: `https://`, a plain host
  name, no user info, no whitespace, no control or non-ASCII character; else None.

Pure, stdlib only, cheap to import: every sink imports it.
"""

from __future__ import annotations

import os
import re

_NOT_C0 = (
    "\x7f-\x9f"  # DEL, C1 (CSI \x9b, NEL \x85 …)
    "\xad"  # soft hyphen
    "\u034f"  # combining grapheme joiner (invisible, ignored when text is compared)
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"  # Arabic format marks, ALM
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f"  # invisible fillers, Mongolian selectors
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators; LRE RLE PDF LRO RLO
    "\u2060-\u206f"  # word joiner, invisible operators; LRI RLI FSI PDI; deprecated formats
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"  # filler, variation selectors, BOM
    "\ud800-\udfff"  # lone surrogates (cannot even be written to a UTF-8 stream)
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"  # tags, variation selectors supplement
)
_UNSAFE_CLASS = "\x00-\x1f" + _NOT_C0  # C0: tab, CR, LF, ESC, BEL …
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f{_NOT_C0}]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    cp = ord(ch)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _clean(s: str) -> bool:
    """Nothing in `s` to escape (printable ASCII is decided without a regex: the hot path)."""
    if s.isascii():
        return s.isprintable()
    return _UNSAFE.search(s) is None


def text(value: object) -> str:
    """One field on one line: every control, separator and invisible format char escaped.

    Returns `value` itself when there is nothing to escape."""
    s = value if isinstance(value, str) else str(value)
    if s.isascii():
        if s.isprintable():
            return s
    elif _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape, s)


def lines(value: object) -> list[str]:
    """A message that may span lines: its `\\n`-separated lines, each one as `text`."""
    s = value if isinstance(value, str) else str(value)
    return [text(line) for line in s.split("\n")]


def message(value: object, sep: str = "\n") -> str:
    """`lines(value)` joined with `sep`."""
    s = value if isinstance(value, str) else str(value)
    if sep == "\n":
        if s.isascii():
            if s.isprintable() or s.replace("\n", "").isprintable():
                return s
        elif _UNSAFE_BUT_LF.search(s) is None:
            return s
    return sep.join(lines(s))


def for_stream(value: object) -> str:
    """A message for stdout or stderr: `message`, then `guard` (see below)."""
    return guard(message(value))


# --- workflow commands ---------------------------------------------------------------------

_V1_COMMAND = re.compile(f"#[{_UNSAFE_CLASS}]*#[{_UNSAFE_CLASS}]*\\[")
_BREAK = re.compile(r"(\r\n|\r|\n)")


def _skippable(ch: str) -> bool:
    """What the runner skips or ignores before `::`: whitespace, invisible format chars."""
    return ch.isspace() or _UNSAFE.match(ch) is not None


def guard_line(line: str) -> str:
    """`line` such that the GitHub runner cannot read it as a workflow command.

    `##[` anywhere (the legacy form) gets its `[` escaped; a line whose first visible
    characters are `::` gets its first `:` escaped. Anything else is returned as it is.
    """
    if "#" in line and "[" in line:
        line = _V1_COMMAND.sub(lambda m: m.group()[:-1] + "\\x5b", line)
    if ":" not in line:
        return line
    n = len(line)
    i = 0
    while i < n and _skippable(line[i]):
        i += 1
    if i < n and line[i] == ":":
        j = i + 1
        while j < n and _UNSAFE.match(line[j]) is not None:
            j += 1
        if j < n and line[j] == ":":
            line = line[:i] + "\\x3a" + line[i + 1 :]
    return line


def guard(block: str) -> str:
    """Every line of `block` through `guard_line` (lines end at `\\n`, `\\r` or both)."""
    if ":" not in block and "#" not in block:
        return block
    parts = _BREAK.split(block)
    parts[::2] = [guard_line(p) for p in parts[::2]]
    return "".join(parts)


def json_lines(data: bytes | bytearray) -> bytes | bytearray:
    """Encoded JSON that no runner reads as a workflow command, and that decodes the same.

    For a JSON verdict on stdout (`--json -`): strings in it are verbatim, so a `##[` in one
    is JSON-escaped (`##\\u005b`), which every decoder reads back as `##[`. (`::` cannot start
    a line of JSON: a string holds no raw line break.)
    """
    if b"#" not in data or b"[" not in data:
        return data
    decoded = data.decode("utf-8", "surrogatepass")
    if _V1_COMMAND.search(decoded) is None:
        return data
    fixed = _V1_COMMAND.sub(lambda m: m.group()[:-1] + "\\u005b", decoded)
    return fixed.encode("utf-8", "surrogatepass")


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def github_block(block: str) -> str:
    """Under GitHub Actions, `block` between `::stop-commands::<token>` and `::<token>::`.

    A second line of defence: the runner ignores every command until the resume line,
    whose token (128 random bits) no report can know. Elsewhere `block` as it is. gate's
    own annotations are printed outside such a block. `block` should end with a newline.
    """
    if not in_github_actions():
        return block
    import secrets

    token = secrets.token_hex(16)
    end = "" if block.endswith("\n") else "\n"
    return f"::stop-commands::{token}\n{block}{end}::{token}::\n"


# --- URLs -----------------------------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SAFE_URL = re.compile(
    rf"(?i:https)://(?:{_LABEL}\.)*{_LABEL}(?::[0-9]{{1,5}})?"
    r"(?:[/?#][A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*)?",
    re.ASCII,
)


def safe_url(url: object) -> str | None:
    """`url` when it is a well-formed `https://` URL fit to link to, else None.

    Only printable ASCII without whitespace, quotes, angle brackets, backslashes or
    backticks; a DNS host name (punycode for IDN) with an optional port; no `user@`.
    """
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    return url if _SAFE_URL.fullmatch(url) else None


# --- markdown -------------------------------------------------------------------------------

_MD_CHARS = re.compile(r"[\\`*_\[\]|~$<>&@]")
_MD_PUNCT = re.compile(r"[\\`*\[\]|~$]")
_EMPHASIS_UNDERSCORES = re.compile(r"(?<![^\W_])_+|_+(?![^\W_])")
"""Runs of `_` that could open or close emphasis: all but those between two alphanumerics."""
_AUTOLINK_SCHEME = re.compile(r"://")
_AUTOLINK_WWW = re.compile(r"(?i)(www)\.")


_BLOCK_START = re.compile(
    r" {4,}|( {0,3})(?:(#{1,6}|[-+])(?= |$)|(\d{1,9})[.)](?= |$)|(-)(?: *-){2,} *$|(=+) *$)"
)
"""What a line may start with to make a heading, list, code block, rule or setext underline
(`*`, `_`, `>` and the fences are escaped anywhere already)."""


def _no_block_start(s: str) -> str:
    """`s` such that, at the start of a line, it is a paragraph's text and nothing else."""
    m = _BLOCK_START.match(s)
    if m is None:
        return s
    stripped = s.lstrip(" ")
    if len(stripped) < len(s):  # spaces as entities: the line then starts with text
        return "&#32;" * (len(s) - len(stripped)) + stripped
    if m.group(3):  # `1.` / `1)`: escape the dot or parenthesis
        n = len(m.group(3))
        return f"{s[:n]}\\{s[n:]}"
    return "\\" + s


def _md_plain(s: str) -> bool:
    """No markdown syntax and no autolink trigger in `s` (already through `text`)."""
    if _MD_CHARS.search(s) is not None or "://" in s or _BLOCK_START.match(s) is not None:
        return False
    if "w." not in s and "W." not in s:
        return True
    return _AUTOLINK_WWW.search(s) is None


_EMAIL_AT = re.compile(r"(?<=[A-Za-z0-9.+\-_])@")


def md_text(value: object) -> str:
    """Inline markdown (also a table cell) that shows `value` as plain text, on one line.

    Escaped: `\\ ` * [ ] | ~ $` (backslash), `& < >` (entities), `://` and `www.` (so
    no autolink), and an `@` after an address character is set as code (GitHub's email
    autolinks look through every escape). `text` escapes `\\n`, so no line starts inside;
    where the text itself starts a line, a heading, list, rule or indented code marker at
    its start is escaped too.
    A `_` between two letters or digits is left as it is (it cannot make emphasis, and
    identifiers are full of it); any other `_` is escaped.
    """
    s = text(value)
    if _md_plain(s):
        return s
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_PUNCT.sub(r"\\\g<0>", s)
    if "_" in s:
        s = _EMPHASIS_UNDERSCORES.sub(lambda m: m.group().replace("_", "\\_"), s)
    s = _AUTOLINK_SCHEME.sub(r"\\://", s)
    s = _AUTOLINK_WWW.sub(r"\1\\.", s)
    return _no_block_start(_EMAIL_AT.sub("`@`", s))


def plain(*values: str) -> bool:
    """Whether every value is the same as `text` and as `md_text` of it (nothing to escape):
    one check for a hot path's fields."""
    joined = " ".join(values)
    if not (_clean(joined) and _md_plain(joined)):
        return False
    return all(_BLOCK_START.match(v) is None for v in values)  # each may start a line


def md_lines(value: object, sep: str = "<br>") -> str:
    """A message that may span lines, as inline markdown: each line `md_text`, joined by `sep`."""
    s = value if isinstance(value, str) else str(value)
    return sep.join(md_text(line) for line in s.split("\n"))


_BACKTICKS = re.compile(r"`+")


def md_code(value: object) -> str:
    """An inline code span (also in a table cell) holding `value` verbatim, on one line.

    The fence is one backtick longer than the longest run inside, so nothing breaks out;
    `|` is escaped for tables (GitHub removes that backslash inside code too).
    """
    s = text(value).replace("|", "\\|")
    if not s:
        return ""
    if "`" not in s:
        return f"`{s}`"
    fence = "`" * (max(len(run) for run in _BACKTICKS.findall(s)) + 1)
    return f"{fence} {s} {fence}"


def md_link(label: str, url: object) -> str:
    """`[label](url)` when `url` is a `safe_url`, else just `label`. `label` must be markdown
    already (`md_text`); `(` and `)` in the URL are percent-encoded."""
    ok = safe_url(url)
    if ok is None:
        return label
    return f"[{label}]({ok.replace('(', '%28').replace(')', '%29')})"
