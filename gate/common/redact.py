"""Remove credentials from text gate shows: scanner stderr, argv, URLs.

Redacted: the values of secret-looking environment variables (`TRIVY_PASSWORD`,
`TRIVY_REGISTRY_TOKEN`, `GITHUB_TOKEN`, anything named `*TOKEN*`, `*PASSWORD*`,
`*SECRET*`, `*_KEY`; comma-separated lists item by item), `user:pass@` or `token@` in URLs,
`Authorization:` header values, and `--password`/`--token`/`--registry-token` arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
_SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|_KEY$|CREDENTIALS)", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@")
"""`user:password@` and a bare `token@` in URLs."""
_AUTH_HEADER = re.compile(
    r"(?P<name>(?:Proxy-)?Authorization[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:Bearer|Basic|Token)?\s*[^\s\"',;]+)",
    re.IGNORECASE,
)
_SECRET_FLAGS = {"--password", "--token", "--registry-token", "--passwd"}
_NAMED = {
    "TRIVY_PASSWORD",
    "TRIVY_REGISTRY_TOKEN",
    "TRIVY_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
}
_MIN_NAMED, _MIN_OTHER = 3, 8
"""Shorter values are left alone: masking `1` or `ab` everywhere would garble the text.
Other secret-looking names (`TOKENIZERS_PARALLELISM=true`) need a longer value."""


def secret_name(name: str) -> bool:
    """Whether a variable of this name holds a credential (by the rules above)."""
    return name.upper() in _NAMED or bool(_SECRET_NAME.search(name))


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The secret values in `env`, longest first (so a value inside another is masked whole)."""
    values: set[str] = set()
    for name, value in env.items():
        named = name.upper() in _NAMED
        if not value or not (named or _SECRET_NAME.search(name)):
            continue
        least = _MIN_NAMED if named else _MIN_OTHER
        for part in [value, *value.split(",")]:
            part = part.strip()
            if len(part) >= least and part.lower() not in {"true", "false"}:
                values.add(part)
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value, URL password and Authorization value masked."""
    for value in secrets:
        text = text.replace(value, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return _AUTH_HEADER.sub(lambda m: f"{m.group('name')}{MASK}", text)


def url_secrets(*urls: str | None) -> dict[str, str]:
    """The credentials in URLs (`user:password@` gives the password, a bare `token@` the
    token), as pseudo-variables `secret_values` picks up."""
    from urllib.parse import urlsplit

    out: dict[str, str] = {}
    for i, url in enumerate(u for u in urls if u):
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        secret = parts.password or parts.username
        if secret:
            out[f"URL_PASSWORD_{i}"] = secret
    return out


def redact_argv(argv: Iterable[str], secrets: Iterable[str] = ()) -> list[str]:
    """An argv list fit to record: secret flag values masked, then `redact` on each item."""
    secrets = list(secrets)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        flag, eq, _ = arg.partition("=")
        if flag in _SECRET_FLAGS:
            if eq:
                out.append(f"{flag}={MASK}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact(arg, secrets))
    return out


PIECE = 8
"""The shortest piece of a secret `redact_pieces` masks. A GitHub token carries 30 or more
random base-62 characters (about 6 bits each); a piece shorter than this, left only where
a cut ends the text, tells at most 42 bits, and shorter runs match ordinary text by chance."""


def redact_pieces(text: str, secret: str, mask: str = MASK, least: int = PIECE) -> str:
    """`text` with the secret and every piece of it at least `least` characters long (all
    of it, if it is shorter) masked: a server that echoes half a token, or an excerpt cut
    in the middle of one, shows none of it. Overlapping and adjacent pieces merge into one
    mask."""
    if not secret or not text:
        return text
    n = min(least, len(secret))
    spans: list[tuple[int, int]] = []
    for gram in {secret[i : i + n] for i in range(len(secret) - n + 1)}:
        at = text.find(gram)
        while at != -1:
            spans.append((at, at + n))
            at = text.find(gram, at + 1)
    if not spans:
        return text
    spans.sort()
    out, pos = [], 0
    start, end = spans[0]
    for s, e in spans[1:]:
        if s <= end:
            end = max(end, e)
            continue
        out += [text[pos:start], mask]
        pos, (start, end) = end, (s, e)
    out += [text[pos:start], mask, text[end:]]
    return "".join(out)
