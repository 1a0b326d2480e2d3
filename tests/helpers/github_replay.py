"""A GitHub REST API replay server on 127.0.0.1 (stdlib only).

    with GitHubReplay() as gh:
        gh.reply("/repos/o/r/branches/main/protection", Reply.file(path, status=404))
        gh.reply("/repos/o/r/rules/branches/main", Reply(500), Reply.json([]))
        monkeypatch.setenv("GITHUB_API_URL", gh.url)

Each path answers its replies in order; the last one repeats. A path with a query string
(`/x?page=2`) is matched before the bare path. Unknown paths answer GitHub's own 404
`{"message": "Not Found"}` and are listed in `unexpected`. Every request is recorded in
`requests` with its headers, so tests can check what the client sent (the token included).

A `Reply` can be delayed (`delay=` seconds, to exceed the client's timeout); the delay
ends early when the server stops, so a slow reply never holds a test up. With `trickle=`
seconds, the whole answer (status line, headers, body) is sent one byte at a time, that
long apart; with `length=False`, it has no content-length and ends when the connection
closes (a flood of unknown size).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0
    length: bool = True

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status, json.dumps(data).encode(), {"content-type": JSON, **headers})

    @classmethod
    def file(cls, path: Path, status: int = 200, **headers: str) -> Reply:
        """A recorded response body, byte for byte, with a real status code."""
        return cls(status, path.read_bytes(), {"content-type": JSON, **headers})

    @classmethod
    def octokit(cls, interaction: dict[str, Any]) -> Reply:
        """One interaction of an octokit/fixtures scenario, with its recorded headers."""
        response = interaction["response"]
        body = response if isinstance(response, str) else json.dumps(response)
        keep = {"content-length", "connection", "transfer-encoding"}
        headers = {k: str(v) for k, v in interaction["headers"].items() if k not in keep}
        return cls(int(interaction["status"]), body.encode(), headers)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and left is expected here, not an error to print."""


class GitHubReplay:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self.unexpected: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def _next(self, path: str) -> Reply | None:
        with self._lock:
            replies = self.routes.get(path) or self.routes.get(path.split("?")[0])
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                replay.requests.append(
                    Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                )
                reply = replay._next(self.path)
                if reply is None:
                    replay.unexpected.append(self.path)
                    reply = Reply.json(
                        {
                            "message": "Not Found",
                            "documentation_url": "https://docs.github.com/rest",
                            "status": "404",
                        },
                        status=404,
                    )
                if reply.delay and replay._stop.wait(reply.delay):
                    return
                if reply.trickle or not reply.length:
                    self._raw(reply)
                    return
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def _raw(self, reply: Reply) -> None:
                head = f"HTTP/1.1 {reply.status} X\r\n"
                for k, v in reply.headers.items():
                    head += f"{k}: {v}\r\n"
                if reply.length:
                    head += f"content-length: {len(reply.body)}\r\n"
                else:
                    head += "connection: close\r\n"
                    self.close_connection = True
                data = head.encode() + b"\r\n" + reply.body
                if not reply.trickle:
                    self.wfile.write(data)
                    return
                for i in range(len(data)):
                    if replay._stop.wait(reply.trickle):
                        return
                    try:
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up: as it should
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> GitHubReplay:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
