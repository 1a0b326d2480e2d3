"""Local servers for the audits on 127.0.0.1 (stdlib only).

`OsvServer` speaks enough of the OSV API for pip-audit and gate: `POST /v1/query`,
`POST /v1/querybatch` and `GET /v1/vulns/{id}`, answering from OSV records the test
writes (a record affects the `affected[].versions` it lists for its PyPI package).
`NpmRegistry` answers npm's bulk advisory endpoint (`POST
/-/npm/v1/security/advisories/bulk`) from advisories the test writes, and the packuments
npm audit reads to compute vulnerable ranges (`GET /{name}`).

Faults, per endpoint (`fault(prefix, kind)`): `"5xx"` (a 503), `"malformed"` (cut JSON),
`"slow"` (an answer `delay` seconds late, ending early when the server stops). A server
that is down is `dead_url()`: a port nothing listens on.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was just free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and left is expected here."""


class _Base:
    delay = 30.0

    def __init__(self) -> None:
        self.faults: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fault(self, prefix: str, kind: str) -> None:
        """Answer requests whose path starts with `prefix` with a fault (module docstring)."""
        self.faults[prefix] = kind

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def hits(self, prefix: str) -> int:
        return sum(1 for _, p in self.requests if p.startswith(prefix))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                server.requests.append((method, self.path))
                fault = next((k for p, k in server.faults.items() if self.path.startswith(p)), None)
                if fault == "slow" and server._stop.wait(server.delay):
                    return
                if fault == "5xx":
                    self._send(503, b'{"error": "unavailable"}')
                    return
                status, data = server.answer(method, self.path, body)
                raw = json.dumps(data).encode()
                if fault == "malformed":
                    raw = raw[: max(1, len(raw) // 2)]
                self._send(status, raw)

            def _send(self, status: int, raw: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except OSError:
                    pass

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Any:
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


class OsvServer(_Base):
    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.records: dict[str, dict[str, Any]] = {}
        for r in records or []:
            self.add(r)

    def add(self, record: dict[str, Any]) -> None:
        self.records[record["id"]] = record

    @property
    def query_url(self) -> str:
        return f"{self.url}/v1/query"

    def _affecting(self, name: str, ecosystem: str, version: str) -> list[dict[str, Any]]:
        out = []
        for r in self.records.values():
            for a in r.get("affected", []):
                pkg = a.get("package", {})
                if (
                    pkg.get("name") == name
                    and pkg.get("ecosystem") == ecosystem
                    and version in a.get("versions", [])
                ):
                    out.append(r)
                    break
        return out

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/query":
            q = json.loads(body)
            vulns = self._affecting(q["package"]["name"], q["package"]["ecosystem"], q["version"])
            return 200, ({"vulns": vulns} if vulns else {})
        if method == "POST" and path == "/v1/querybatch":
            results = []
            for q in json.loads(body)["queries"]:
                vulns = self._affecting(
                    q["package"]["name"], q["package"]["ecosystem"], q["version"]
                )
                results.append(
                    {"vulns": [{"id": v["id"], "modified": v["modified"]} for v in vulns]}
                    if vulns
                    else {}
                )
            return 200, {"results": results}
        if method == "GET" and path.startswith("/v1/vulns/"):
            record = self.records.get(unquote(path.removeprefix("/v1/vulns/")))
            if record is None:
                return 404, {"code": 5, "message": "Bug not found."}
            return 200, record
        return 404, {"code": 5, "message": "Not found"}


class NpmRegistry(_Base):
    """`advisories`: package name → npm bulk advisories; `versions`: name → published."""

    def __init__(
        self,
        advisories: dict[str, list[dict[str, Any]]],
        versions: dict[str, list[str]],
    ) -> None:
        super().__init__()
        self.advisories = advisories
        self.versions = versions

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "POST" and path == "/-/npm/v1/security/advisories/bulk":
            asked = json.loads(body)
            return 200, {k: v for k, v in self.advisories.items() if k in asked}
        name = unquote(path.lstrip("/"))
        if method == "GET" and name in self.versions:
            vs = self.versions[name]
            return 200, {
                "name": name,
                "dist-tags": {"latest": vs[-1]},
                "versions": {
                    v: {
                        "name": name,
                        "version": v,
                        "dist": {"tarball": f"{self.url}/{name}/-/{name}-{v}.tgz"},
                    }
                    for v in vs
                },
            }
        return 404, {"error": "Not found"}
