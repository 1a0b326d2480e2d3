"""The GitHub REST client.

- The token comes from `GITHUB_TOKEN` or `GH_TOKEN`. It is sent only to the API base
  URL, never logged, and redacted from every message gate builds.
- The base URL comes from `GITHUB_API_URL` (default `https://api.github.com`; Actions sets
  it on GitHub Enterprise Server too).
- Every request has a deadline (`GATE_GITHUB_TIMEOUT` seconds, default 10) that covers
  connecting, the headers and the whole body: a server that trickles a byte a second
  cannot hold gate longer. An answer over `MAX_BODY` bytes is an error, unread.
- Redirects are followed only within the API's origin (scheme, host and port: GitHub's
  301 for a renamed repository); a redirect to another origin is an error, so that no
  other host's answer is ever judged.
- Text quoted from an answer is redacted before it is cut: the token and every piece of
  it of 8 characters or more (`gate.common.redact.redact_pieces`).
- 5xx answers, timeouts and rate limits (429, or 403 with `retry-after`,
  `x-ratelimit-remaining: 0` or a "rate limit" message) are retried with exponential
  backoff (`GATE_GITHUB_BACKOFF` seconds, doubling; default 1), up to
  `GATE_GITHUB_RETRIES` times (default 3). A wait longer than `max_sleep` (60s) is not
  slept: gate fails at once and says when to retry.
- List endpoints follow `Link: rel="next"` on the same host.

Reading a branch's protection with this client is `gate.branch_protection.fetch`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gate import __version__
from gate.errors import GitHubError, UsageError

if TYPE_CHECKING:
    import httpx


log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
MAX_PAGES = 50
MAX_REDIRECTS = 5
MAX_BODY = 10 << 20
"""10 MiB: a page of 100 rules or a branch's protection is a few KB to a few hundred."""
EXCERPT = 200
"""Characters of a foreign message gate quotes (after redaction)."""
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_PERMISSIONS = (
    "read access to the repository (fine-grained: Metadata: read for rulesets, Contents: read "
    "for the branch, Administration: read for classic protection; or a classic PAT with `repo`)"
)


@dataclass(frozen=True)
class Response:
    """One answer, after retries: status, lower-case headers and the raw body."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    base_url: str

    def message(self) -> str:
        """GitHub's `message` from a JSON error body, else the body's text, whole: the
        client redacts it, then cuts it (`GitHubClient.say`)."""
        from gate.common.strict_json import strict_loads
        from gate.errors import InputError

        try:
            data = strict_loads(self.body.decode("utf-8", "replace"), self.url)
        except InputError:  # a key twice: which `message` counts is anyone's guess
            return "(an ambiguous JSON body: a key appears twice)"
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return str(data["message"])
        text = self.body.decode("utf-8", "replace").strip()
        return text or "(empty body)"

    def json(self) -> Any:
        """The body as JSON; an HTML page or malformed JSON is a `GitHubError`."""
        text = self.body.decode("utf-8", "replace")
        ctype = self.headers.get("content-type", "")
        if "html" in ctype or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
            raise GitHubError(
                f"GET {self.url} answered {self.status} with an HTML page, not JSON: is "
                f"GITHUB_API_URL ({self.base_url}) the API endpoint (https://api.github.com, "
                "or https://HOST/api/v3 on GitHub Enterprise Server)?"
            )
        from gate.common.strict_json import strict_loads
        from gate.errors import InputError

        try:
            return strict_loads(text, f"GET {self.url}")
        except InputError as e:  # a duplicate key: the answer means two things
            raise GitHubError(e.diagnostics()) from e
        except json.JSONDecodeError as e:
            raise GitHubError(
                f"GET {self.url} answered {self.status} with malformed JSON ({e.msg} at line "
                f"{e.lineno}, column {e.colno}): retry; if it persists, a proxy may be "
                "rewriting GitHub's answers"
            ) from e
        except RecursionError as e:
            raise GitHubError(
                f"GET {self.url} answered {self.status} with JSON nested too deeply to be an "
                "API response"
            ) from e


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port, as httpx normalizes them (`HOST:443` is `HOST` for https)."""
    return url.scheme, url.host, url.port


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as e:
        kind = "a whole number" if integer else "a number of seconds"
        raise UsageError(f"{name} must be {kind}, got {raw!r}") from e
    if value < 0 or (not integer and value == 0):
        raise UsageError(f"{name} must be positive, got {raw!r}")
    return value


class GitHubClient:
    """A small GitHub REST client over httpx (see the module docstring for its rules)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        token_source: str | None = None,
        base_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 1.0,
        max_sleep: float = 60.0,
    ) -> None:
        import httpx

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"GITHUB_API_URL must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(httpx.URL(self.base_url))
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_sleep = max_sleep
        if token and not (token.isascii() and token.isprintable()):
            # an HTTP header cannot carry it, and the error would quote it escaped (so that
            # redaction no longer finds it): refuse it without ever showing it
            raise UsageError(
                f"{token_source or 'the GitHub token'} holds a line break, a control or a "
                "non-ASCII character: it is not a token (a bad paste?)"
            )
        self._token = token or None
        self.token_source = token_source if token else None
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"gate/{__version__}",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        from gate.common.http_deadline import Deadline, bound_by

        self._deadline = Deadline()
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout), follow_redirects=False
        )
        if not bound_by(self._http, self._deadline):
            raise GitHubError("this httpx cannot bound a request's time: gate needs httpx 0.28")

    def __repr__(self) -> str:
        return f"GitHubClient({self.base_url!r}, token={'<redacted>' if self._token else None})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> GitHubClient:
        """A client configured from `GITHUB_TOKEN`/`GH_TOKEN`, `GITHUB_API_URL`, `GATE_GITHUB_*`."""
        env = os.environ if env is None else env
        source = next((n for n in ("GITHUB_TOKEN", "GH_TOKEN") if env.get(n, "").strip()), None)
        settings: dict[str, Any] = {
            "token": env[source].strip() if source else None,
            "token_source": source,
            "base_url": env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
            "timeout": _number(env, "GATE_GITHUB_TIMEOUT", DEFAULT_TIMEOUT, integer=False),
            "retries": int(_number(env, "GATE_GITHUB_RETRIES", DEFAULT_RETRIES, integer=True)),
            "backoff": _number(env, "GATE_GITHUB_BACKOFF", 1.0, integer=False),
        }
        settings.update(overrides)
        return cls(**settings)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        """`text` with the token, and every piece of it long enough to matter, replaced
        (for any message that quotes foreign text)."""
        from gate.common.redact import redact_pieces

        return redact_pieces(text, self._token, "<redacted>") if self._token else text

    def say(self, r: Response) -> str:
        """The answer's message for a human: redacted first, then cut to `EXCERPT`."""
        text = self.redact(r.message())
        return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def auth_hint(self) -> str:
        if not self._token:
            return f"no token: set GITHUB_TOKEN (or GH_TOKEN) to {_PERMISSIONS}"
        return f"check the token in {self.token_source}: it needs {_PERMISSIONS}"

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff * 2**attempt)

    def _rate_limit_wait(self, r: Response, attempt: int) -> float | None:
        """Seconds to wait if `r` is a rate limit, else None."""
        h = r.headers
        limited = r.status == 429 or (
            r.status == 403
            and (
                "retry-after" in h
                or h.get("x-ratelimit-remaining") == "0"
                or "rate limit" in self.say(r).lower()
            )
        )
        if not limited:
            return None
        after = h.get("retry-after", "").strip()
        if after.isdigit():
            return float(after)
        if after:
            try:
                when = email.utils.parsedate_to_datetime(after)
            except (TypeError, ValueError):  # neither seconds nor an HTTP date
                return self._backoff(attempt)
            if when.tzinfo is None:  # "-0000": the date is in UTC
                when = when.replace(tzinfo=dt.UTC)
            return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
        reset = h.get("x-ratelimit-reset", "").strip()
        if h.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            return max(0.0, int(reset) - time.time()) + 1.0
        # GitHub: without a header, wait at least a minute before retrying.
        return max(60.0, self._backoff(attempt))

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Response:
        """GET with retries; returns the final answer whatever its status (4xx included)."""
        import httpx

        url = self.url(path)
        if _origin(httpx.URL(url)) != self._origin:
            raise GitHubError(
                f"refusing to send the token to {urlsplit(url).netloc} (not {self.base_url})"
            )
        for attempt in range(self.retries + 1):
            try:
                r = self._fetch(url, params)
            except httpx.TimeoutException:
                problem = (
                    f"timed out after {self.timeout:g}s talking to {self.base_url} (one "
                    "deadline for connecting, the headers and the whole body)"
                )
                wait = self._backoff(attempt)
            except httpx.TransportError as e:
                detail = self.redact(str(e)) or type(e).__name__
                problem = f"cannot reach {self.base_url} (check GITHUB_API_URL, network): {detail}"
                wait = self._backoff(attempt)
            except httpx.HTTPError as e:
                # Not `from e`: the cause's text is shown only redacted (--verbose prints it).
                raise GitHubError(f"GET {url}: {self.redact(str(e))}") from None
            else:
                log.debug("GET %s → %s (attempt %d)", r.url, r.status, attempt + 1)
                limit = self._rate_limit_wait(r, attempt)
                if limit is not None:
                    stamp = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=limit)
                    problem = (
                        f"rate limited by {self.base_url} ({r.status} {self.say(r)}); "
                        f"retry after {limit:.0f}s ({stamp:%H:%M:%S} UTC)"
                    )
                    if limit > self.max_sleep:
                        raise GitHubError(
                            f"GET {url}: {problem}: longer than gate waits ({self.max_sleep:g}s); "
                            "re-run the job later"
                        )
                    wait = limit
                elif r.status >= 500:
                    problem = f"{self.base_url} answered {r.status} {self.say(r)}"
                    wait = self._backoff(attempt)
                else:
                    return r
            log.debug("GET %s: %s (attempt %d)", url, problem, attempt + 1)
            if attempt < self.retries:
                time.sleep(min(wait, self.max_sleep))
        raise GitHubError(
            f"GET {url}: {problem}; gave up after {self.retries + 1} attempt(s) "
            "(GATE_GITHUB_RETRIES, GATE_GITHUB_TIMEOUT raise the limits)"
        )

    def _fetch(self, url: str, params: Mapping[str, str | int] | None) -> Response:
        """One GET, its same-origin redirects and its body, all before the deadline."""

        self._deadline.at = time.monotonic() + self.timeout
        try:
            for _ in range(MAX_REDIRECTS + 1):
                with self._http.stream("GET", url, params=params) as raw:
                    if raw.next_request is not None:  # a redirect with a Location
                        target = raw.next_request.url
                        if _origin(target) != self._origin:
                            raise GitHubError(
                                f"GET {url}: answered {raw.status_code}, a redirect to another "
                                f"origin ({target.scheme}://{target.netloc.decode()}): gate "
                                f"judges only answers from {self.base_url}"
                            )
                        url, params = str(target), None
                        continue
                    return Response(
                        status=raw.status_code,
                        url=str(raw.url),
                        headers={k.lower(): v for k, v in raw.headers.items()},
                        body=self._body(raw, url),
                        base_url=self.base_url,
                    )
            raise GitHubError(f"GET {url}: more than {MAX_REDIRECTS} redirects")
        finally:
            self._deadline.at = None

    def _body(self, raw: httpx.Response, url: str) -> bytes:
        """The body, refused unread past `MAX_BODY` bytes (after decompression)."""
        too_big = GitHubError(
            f"GET {url}: the answer is larger than {MAX_BODY:,} bytes: not a GitHub API answer"
        )
        length = raw.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > MAX_BODY:
            raise too_big
        chunks, total = [], 0
        for chunk in raw.iter_bytes():
            total += len(chunk)
            if total > MAX_BODY:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def get_list(self, path: str, params: Mapping[str, str | int] | None = None) -> Response:
        """GET a list endpoint and every `rel="next"` page; the body is the merged array.

        A non-200 first page is returned as is; a failing later page is a `GitHubError`.
        """
        first = self.get(path, {"per_page": 100, **(params or {})})
        if first.status != 200:
            return first
        items = first.json()
        if not isinstance(items, list):
            raise GitHubError(f"GET {first.url}: expected a JSON array, got {type(items).__name__}")
        page, pages = first, 1
        while (m := _NEXT.search(page.headers.get("link", ""))) is not None:
            if pages >= MAX_PAGES:
                raise GitHubError(f"GET {first.url}: more than {MAX_PAGES} pages; giving up")
            page = self.get(m.group(1))
            pages += 1
            if page.status != 200:
                raise GitHubError(
                    f"GET {page.url}: page {pages} answered {page.status} {self.say(page)}"
                )
            more = page.json()
            if not isinstance(more, list):
                raise GitHubError(f"GET {page.url}: expected a JSON array on page {pages}")
            items += more
        if pages == 1:
            return first
        body = json.dumps(items).encode()
        return Response(200, first.url, first.headers, body, self.base_url)
