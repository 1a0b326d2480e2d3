"""A small read-only OCI registry on 127.0.0.1 serving OCI layout directories (stdlib only).

    with OciRegistry({"app": layout_dir}) as reg:
        ref = f"{reg.host}/app:1"            # 127.0.0.1:PORT/app:1, pullable by trivy
        reg.fault = "manifest-500"           # or "wrong-digest", or None

The pull subset of the distribution API: `GET /v2/`, `tags/list`, HEAD/GET `manifests/<tag or
digest>` (an image index's platform manifests too, by digest) and `blobs/<digest>`. Tags come from the layouts' `org.opencontainers.image.ref.name`
annotations. Fault modes:

- `manifest-500`: every manifest request answers 500;
- `by-digest-500`: a GET of a manifest by digest answers 500 (by tag, and HEADs, work);
- `token-not-object`: the token service answers a JSON array;
- `wrong-digest`: manifest responses carry a `Docker-Content-Digest` that is not the digest of
  the bytes served;
- `no-digest`: manifest responses carry no `Docker-Content-Digest` (allowed by the spec).

Auth (optional): `auth="basic"` wants `credentials` as HTTP Basic on every request;
`auth="bearer"` answers `Bearer realm="http://localhost:PORT/token"` and serves `/token`,
which hands out a token for the `credentials` (or anyone, when `credentials` is None). The
realm names `localhost`: trivy refuses loopback IP literals as token realms.

Every request is recorded in `requests` as `(method, path)`. Plain HTTP, loopback only; trivy
(go-containerregistry) speaks plain HTTP to 127.0.0.1 without `--insecure`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

Fault = (
    Literal["manifest-500", "by-digest-500", "wrong-digest", "no-digest", "token-not-object"] | None
)
Auth = Literal["basic", "bearer"] | None
WRONG_DIGEST = "sha256:" + "0" * 64


class _Repo:
    def __init__(self, layout: Path) -> None:
        self.layout = layout
        index = json.loads((layout / "index.json").read_text())
        self.manifests: list[dict[str, Any]] = index["manifests"]
        self.tags = {
            m["annotations"]["org.opencontainers.image.ref.name"]: m
            for m in self.manifests
            if "org.opencontainers.image.ref.name" in m.get("annotations", {})
        }

    def blob(self, digest: str) -> bytes | None:
        algo, _, hexd = digest.partition(":")
        path = self.layout / "blobs" / algo / hexd
        if algo != "sha256" or not re.fullmatch(r"[a-f0-9]{64}", hexd) or not path.is_file():
            return None
        return path.read_bytes()

    def manifest(self, ref: str) -> tuple[str, bytes, str] | None:
        desc = self.tags.get(ref) or next((m for m in self.manifests if m["digest"] == ref), None)
        if desc is None:
            # by digest, a manifest an index names (one platform of a multi-arch image)
            body = self.blob(ref) if ref.startswith("sha256:") else None
            try:
                media = json.loads(body or b"null")["mediaType"]
            except (ValueError, TypeError, KeyError):
                return None
            return (media, body, ref) if body is not None and "manifest" in media else None
        body = self.blob(desc["digest"])
        if body is None:
            return None
        return desc["mediaType"], body, desc["digest"]


class OciRegistry:
    """The registry server, started in a daemon thread by `start()` or `with`."""

    def __init__(
        self,
        layouts: dict[str, Path],
        *,
        auth: Auth = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.repos = {name: _Repo(path) for name, path in layouts.items()}
        self.fault: Fault = None
        self.auth = auth
        self.credentials = credentials
        self.token = secrets.token_hex(16)
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "registry not started"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> OciRegistry:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OciRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _make_handler(reg: OciRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _send(
            self, code: int, body: bytes = b"", ctype: str = "application/json", digest: str = ""
        ) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            if digest:
                self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        def _error(self, code: int, name: str) -> None:
            self._send(code, json.dumps({"errors": [{"code": name, "message": name}]}).encode())

        def _basic_ok(self) -> bool:
            if reg.credentials is None:
                return True
            want = base64.b64encode(":".join(reg.credentials).encode()).decode()
            return self.headers.get("Authorization") == f"Basic {want}"

        def _authorized(self, path: str) -> bool:
            if reg.auth == "basic" and not self._basic_ok():
                challenge = 'Basic realm="gate-test"'
            elif reg.auth == "bearer" and self.headers.get("Authorization") != (
                f"Bearer {reg.token}"
            ):
                repo = path.split("/")[2] if path.count("/") > 2 else ""
                challenge = (
                    f'Bearer realm="http://localhost:{reg.port}/token",service="gate-test",'
                    f'scope="repository:{repo}:pull"'
                )
            else:
                return True
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)
            return False

        def do_GET(self) -> None:
            reg.requests.append((self.command, self.path))
            path = self.path.split("?", 1)[0]
            if path == "/token" and reg.auth == "bearer":
                if not self._basic_ok():
                    return self._error(401, "UNAUTHORIZED")
                if reg.fault == "token-not-object":
                    return self._send(200, json.dumps([reg.token]).encode())
                return self._send(200, json.dumps({"token": reg.token}).encode())
            if not self._authorized(path):
                return None
            if path.rstrip("/") == "/v2":
                return self._send(200, b"{}")
            m = re.fullmatch(r"/v2/(.+)/(manifests|blobs|tags)/([^/]+)", path)
            repo = reg.repos.get(m.group(1)) if m else None
            if m is None or repo is None:
                return self._error(404, "NAME_UNKNOWN")
            kind, ref = m.group(2), m.group(3)
            if kind == "tags":
                body = json.dumps({"name": m.group(1), "tags": sorted(repo.tags)}).encode()
                return self._send(200, body)
            if kind == "manifests":
                if reg.fault == "manifest-500" or (
                    reg.fault == "by-digest-500"
                    and self.command == "GET"
                    and ref.startswith("sha256:")
                ):
                    return self._error(500, "INTERNAL_ERROR")
                found = repo.manifest(ref)
                if found is None:
                    return self._error(404, "MANIFEST_UNKNOWN")
                media_type, body, digest = found
                if reg.fault == "wrong-digest":
                    digest = WRONG_DIGEST
                elif reg.fault == "no-digest":
                    digest = ""
                return self._send(200, body, media_type, digest)
            blob = repo.blob(ref)
            if blob is None:
                return self._error(404, "BLOB_UNKNOWN")
            return self._send(200, blob, "application/octet-stream", ref)

        do_HEAD = do_GET

    return Handler
