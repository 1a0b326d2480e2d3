"""An in-memory OCI registry on 127.0.0.1 that accepts pushes (stdlib only), for the
attach/discover tests: seeded from OCI layout directories (so trivy pulls from it too).

    with PushRegistry({"app": layout_dir}, referrers=True) as reg:
        f"{reg.host}/app:1"

The push and pull subset of the distribution spec: blob uploads (POST then PUT with
`?digest=`; only a 201 stores), HEAD/GET blobs, HEAD/GET/PUT manifests by tag or digest,
and, with `referrers=True`, `GET /v2/<name>/referrers/<digest>` (`OCI-Subject` on a manifest
PUT with a subject). With `referrers=False` it behaves as distribution 2.8: the referrers
path answers 404 and a PUT carries no `OCI-Subject`, so clients must use the tag schema.
`credentials=("u", "p")` wants HTTP Basic on every request; with `bearer=True` it wants a
token instead, from `/token` on the same host (`localhost`), whose scope must include `push`
for a POST or PUT (else 401 `insufficient_scope`). `fault="put-500"` answers 500 to
every manifest PUT. Requests are recorded in `requests` as `(method, path)`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

INDEX = "application/vnd.oci.image.index.v1+json"
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (httpx closing a kept-alive connection) is no test failure:
    no traceback on stderr, which in-process CLI tests read."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class PushRegistry:
    def __init__(
        self,
        layouts: dict[str, Path] | None = None,
        *,
        referrers: bool = True,
        credentials: tuple[str, str] | None = None,
        bearer: bool = False,
    ) -> None:
        self.referrers = referrers
        self.bearer = bearer
        self.credentials = credentials
        self.fault: str | None = None
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.tags: dict[tuple[str, str], str] = {}
        self.uploads: dict[str, bytes] = {}
        self.refs: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._server: _QuietServer | None = None
        for repo, layout in (layouts or {}).items():
            self._seed(repo, layout)

    def _seed(self, repo: str, layout: Path) -> None:
        for blob in (layout / "blobs" / "sha256").iterdir():
            self.blobs["sha256:" + blob.name] = blob.read_bytes()
        index = json.loads((layout / "index.json").read_text())
        for desc in index["manifests"]:
            body = self.blobs[desc["digest"]]
            self.manifests[(repo, desc["digest"])] = (desc["mediaType"], body)
            for child in json.loads(body).get("manifests", []):
                cbody = self.blobs[child["digest"]]
                self.manifests[(repo, child["digest"])] = (child["mediaType"], cbody)
            tag = desc.get("annotations", {}).get("org.opencontainers.image.ref.name")
            if tag:
                self.tags[(repo, tag)] = desc["digest"]

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> PushRegistry:
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
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

    def __enter__(self) -> PushRegistry:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _handler(reg: PushRegistry) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def reply(
            self,
            code: int,
            body: bytes = b"",
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(code)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def err(self, code: int, name: str) -> None:
            self.reply(code, json.dumps({"errors": [{"code": name, "message": name}]}).encode())

        def body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def route(self) -> None:
            reg.requests.append((self.command, self.path))
            data = self.body()
            if reg.bearer:
                return self.bearer_route(data)
            if reg.credentials is not None:
                want = "Basic " + base64.b64encode(":".join(reg.credentials).encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.reply(
                        401,
                        b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                        headers={"WWW-Authenticate": 'Basic realm="gate-test"'},
                    )
            return self.dispatch(data)

        def bearer_route(self, data: bytes) -> None:
            u = urlsplit(self.path)
            port = self.server.server_address[1]
            if u.path == "/token":
                scope = parse_qs(u.query).get("scope", [""])[0]
                return self.reply(200, json.dumps({"token": "tok:" + scope}).encode())
            got = self.headers.get("Authorization", "")
            actions = got.removeprefix("Bearer tok:").rsplit(":", 1)[-1].split(",")
            need = "push" if self.command in ("POST", "PUT") else "pull"
            if not got.startswith("Bearer tok:") or need not in actions:
                repo = u.path.split("/")[2] if u.path.count("/") > 2 else ""
                error = ',error="insufficient_scope"' if got.startswith("Bearer ") else ""
                challenge = (
                    f'Bearer realm="http://localhost:{port}/token",service="gate-test",'
                    f'scope="repository:{repo}:{need}"{error}'
                )
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                  headers={"WWW-Authenticate": challenge})  # fmt: skip
            return self.dispatch(data)

        def dispatch(self, data: bytes) -> None:
            u = urlsplit(self.path)
            q = parse_qs(u.query)
            if u.path in ("/v2", "/v2/"):
                return self.reply(200, b"{}")
            m = re.fullmatch(
                rf"/v2/({_NAME})/(blobs/uploads|blobs|manifests|referrers)/?(.*)", u.path
            )
            if not m:
                return self.err(404, "NAME_UNKNOWN")
            repo, kind, ref = m.groups()
            fn = getattr(self, f"{self.command.lower()}_{kind.replace('blobs/uploads', 'upload')}")
            return fn(repo, ref, q, data)  # type: ignore[no-any-return]

        do_GET = do_HEAD = do_PUT = do_POST = route

        def get_blobs(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            blob = reg.blobs.get(ref)
            if blob is None:
                return self.err(404, "BLOB_UNKNOWN")
            self.reply(200, blob, "application/octet-stream", {"Docker-Content-Digest": ref})

        head_blobs = get_blobs

        def post_upload(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            uid = str(uuid.uuid4())
            reg.uploads[uid] = data
            self.reply(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{uid}"})

        def put_upload(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            if ref not in reg.uploads or "digest" not in q:
                return self.err(404, "BLOB_UPLOAD_UNKNOWN")
            blob = reg.uploads.pop(ref) + data
            if _sha(blob) != q["digest"][0]:
                return self.err(400, "DIGEST_INVALID")
            reg.blobs[q["digest"][0]] = blob
            self.reply(201, headers={"Docker-Content-Digest": q["digest"][0]})

        def get_manifests(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            digest = ref if ref.startswith("sha256:") else reg.tags.get((repo, ref))
            found = reg.manifests.get((repo, digest or ""))
            if found is None:
                return self.err(404, "MANIFEST_UNKNOWN")
            self.reply(200, found[1], found[0], {"Docker-Content-Digest": digest or ""})

        head_manifests = get_manifests

        def put_manifests(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            if reg.fault == "put-500":
                return self.err(500, "UNKNOWN")
            digest = _sha(data)
            if ref.startswith("sha256:") and ref != digest:
                return self.err(400, "DIGEST_INVALID")
            doc = json.loads(data)
            ctype = self.headers.get("Content-Type", "")
            descs = ([doc["config"]] if "config" in doc else []) + doc.get("layers", [])
            if any(d["digest"] not in reg.blobs for d in descs):
                return self.err(400, "MANIFEST_BLOB_UNKNOWN")
            headers = {"Docker-Content-Digest": digest}
            with reg.lock:
                reg.manifests[(repo, digest)] = (ctype, data)
                if not ref.startswith("sha256:"):
                    reg.tags[(repo, ref)] = digest
                subject = (doc.get("subject") or {}).get("digest")
                if subject and reg.referrers:
                    reg.refs.setdefault((repo, subject), {})[digest] = {
                        "mediaType": ctype,
                        "digest": digest,
                        "size": len(data),
                        "artifactType": doc.get("artifactType"),
                    }
                    headers["OCI-Subject"] = subject
            self.reply(201, headers=headers)

        def get_referrers(self, repo: str, ref: str, q: dict[str, list[str]], data: bytes) -> None:
            if not reg.referrers:
                return self.reply(404, b"404 page not found\n", "text/plain")
            descs = sorted(reg.refs.get((repo, ref), {}).values(), key=lambda d: str(d["digest"]))
            if "artifactType" in q:
                descs = [d for d in descs if d["artifactType"] == q["artifactType"][0]]
            body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": descs})
            self.reply(200, body.encode(), INDEX)

    return H
