"""A scriptable, hostile registry on 127.0.0.1 and a token service on 127.0.0.2 (stdlib).

    with ScriptedRegistry() as reg, TokenService() as tokens:
        x = reg.blob(config_bytes)                        # blobs by digest
        s = reg.manifest(manifest_bytes, MANIFEST, tag="s")   # by tag and by digest
        reg.challenge = f'Bearer realm="{tokens.url}/token"'
        ...
        reg.log            # [Request(method, path, user_agent, authorization)], in order

Each manifest answer is scripted (`Answer`): its body, `Content-Type`, the
`Docker-Content-Digest` it announces (the body's sha256 unless told otherwise), and how it
is sent: whole, `trickle` (one byte every `interval` seconds), or `flood` (`size` bytes of
JSON-looking filler, with or without a `Content-Length`). `challenge` makes every `/v2/`
request without an accepted `Authorization` a 401 with that `WWW-Authenticate`. Requests
are logged with their User-Agent, so a test tells gate's calls (python-httpx) from trivy's
(go-containerregistry), and with their `Authorization`, so it sees which credential went
where. The token service logs the same and answers `answer` (a JSON token by default).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, NamedTuple

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Request(NamedTuple):
    method: str
    path: str
    user_agent: str
    authorization: str | None

    @property
    def by_trivy(self) -> bool:
        return "httpx" not in self.user_agent


@dataclass
class Answer:
    body: bytes
    content_type: str | None = MANIFEST
    digest: str | None = "auto"
    """The `Docker-Content-Digest` announced: "auto" is the body's sha256, None none."""
    mode: Literal["whole", "trickle", "flood", "stall"] = "whole"
    """`stall`: send nothing at all (not even headers) until the server stops."""
    interval: float = 1.0
    size: int = 0
    announce_length: bool = True
    status: int = 200


@dataclass
class _Server:
    host: str
    log: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "not started"
        return int(self._httpd.server_address[1])

    @property
    def netloc(self) -> str:
        """`127.0.0.1:PORT`: the registry part of an image reference."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer((self.host, 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_obj: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _record(self) -> None:
        self.server_obj.log.append(
            Request(
                self.command,
                self.path,
                self.headers.get("User-Agent", ""),
                self.headers.get("Authorization"),
            )
        )

    def _send(
        self, code: int, body: bytes, ctype: str | None = "application/json", **headers: str
    ) -> None:
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)


class ScriptedRegistry(_Server):
    """The registry: `/v2/`, manifests (scripted answers) and blobs of any repository."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.blobs: dict[str, bytes] = {}
        self.answers: dict[str, Answer] = {}
        """Tag or digest → the answer, for any repository."""
        self.challenge: str | None = None
        self.accepted: set[str] = set()
        """`Authorization` values that pass the challenge."""
        self.redirect: str | None = None
        """A URL every manifest request is redirected to (307)."""
        self.moves: dict[str, str] = {}
        """Tag → digest it names once it has been served (a tag pushed over mid-scan)."""

    def blob(self, data: bytes) -> str:
        self.blobs[sha(data)] = data
        return sha(data)

    def manifest(self, body: bytes, content_type: str | None = MANIFEST, **kw: object) -> str:
        """Serve `body` by its digest (and by `tag`, when given); its digest."""
        tag = kw.pop("tag", None)
        answer = Answer(body, content_type, **kw)  # type: ignore[arg-type]
        self.answers[sha(body)] = answer
        if isinstance(tag, str):
            self.answers[tag] = answer
        return sha(body)

    def by_trivy(self) -> list[Request]:
        return [r for r in self.log if r.by_trivy and r.path != "/v2/"]

    def by_gate(self) -> list[Request]:
        return [r for r in self.log if not r.by_trivy]

    def start(self) -> ScriptedRegistry:
        owner = self

        class Handler(_Handler):
            server_obj = owner

            def do_GET(self) -> None:
                self._record()
                owner.handle(self)

            do_HEAD = do_GET

        self._serve(Handler)
        return self

    def __enter__(self) -> ScriptedRegistry:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def handle(self, h: _Handler) -> None:
        path = h.path.split("?", 1)[0]
        if self.challenge and h.headers.get("Authorization") not in self.accepted:
            return h._send(
                401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', WWW_Authenticate=self.challenge
            )
        if path.rstrip("/") == "/v2":
            return h._send(200, b"{}")
        repo_kind, _, ref = path.rpartition("/")
        if repo_kind.endswith("/blobs") and ref in self.blobs:
            return h._send(
                200, self.blobs[ref], "application/octet-stream", Docker_Content_Digest=ref
            )
        if not repo_kind.endswith("/manifests") or ref not in self.answers:
            return h._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        if self.redirect:
            return h._send(307, b"", None, Location=self.redirect)
        self._answer(h, self.answers[ref])
        if ref in self.moves:
            self.answers[ref] = self.answers[self.moves.pop(ref)]
        return None

    def _answer(self, h: _Handler, a: Answer) -> None:
        headers = {}
        if a.digest is not None:
            headers["Docker_Content_Digest"] = sha(a.body) if a.digest == "auto" else a.digest
        if a.mode == "stall":
            self.stopping.wait(60)
            return None
        if a.mode == "whole" or h.command == "HEAD":
            return h._send(a.status, a.body, a.content_type, **headers)
        h.send_response(a.status)
        if a.content_type:
            h.send_header("Content-Type", a.content_type)
        for name, value in headers.items():
            h.send_header(name.replace("_", "-"), value)
        length = len(a.body) if a.mode == "trickle" else a.size
        if a.announce_length:
            h.send_header("Content-Length", str(length))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        try:
            if a.mode == "trickle":
                for i in range(len(a.body)):
                    if self.stopping.is_set():
                        return None
                    h.wfile.write(a.body[i : i + 1])
                    h.wfile.flush()
                    time.sleep(a.interval)
            else:
                chunk = b'{"a":"' + b"x" * (1 << 20)
                sent = 0
                while sent < a.size and not self.stopping.is_set():
                    h.wfile.write(chunk[: a.size - sent])
                    sent += len(chunk)
        except OSError:
            pass  # the client stopped reading: as it should
        return None


class TokenService(_Server):
    """A token service; every request is logged, every answer is `answer`."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        super().__init__(host)
        self.answer: bytes = json.dumps({"token": "tok-from-token-service"}).encode()

    def start(self) -> TokenService:
        owner = self

        class Handler(_Handler):
            server_obj = owner

            def do_GET(self) -> None:
                self._record()
                self._send(200, owner.answer)

        self._serve(Handler)
        return self

    def __enter__(self) -> TokenService:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
