"""gate's own registry calls: manifests, config blobs and tokens, as carefully as trivy.

Length (over ~400 lines): one idea, one repository's HTTP client; auth, realms, redirects,
streaming caps and uploads share its session and deadline, and splitting them would pass
that state around.

`RegistryClient(ref, env, deadline)` GETs (or HEADs) what one repository serves:

- one deadline (`gate.oci.deadline`, inside `--scan-timeout`) for every request and
  token call, enforced around the whole resolution by `within` (a registry that trickles
  headers or bodies cannot hold gate past it);
- a body is read streaming and capped at `MAX_DOCUMENT` (4 MiB, as the distribution spec
  advises for manifests): a 300 MB answer is refused after its first 4 MiB;
- auth: `TRIVY_REGISTRY_TOKEN`, then Basic or Bearer (token service) with each credential
  in turn, under the realm rules of `gate.oci.realm`; redirects are followed by hand and
  drop the `Authorization` header when they leave the registry's origin;
- plain HTTP only for literal loopback registries and `localhost`; with `TRIVY_INSECURE`,
  HTTPS without certificate checks, then plain HTTP if TLS cannot connect.

Every failure is a `RegistryError` with one line of text and no credential in it. httpx is
imported only when a client is made.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from gate.oci.credentials import basic_credentials, registry_token, truthy
from gate.oci.deadline import Deadline
from gate.oci.errors import RegistryError
from gate.oci.realm import checked_realm, may_send_basic
from gate.oci.reference import ImageRef, api_base, is_plain_http

if TYPE_CHECKING:
    import httpx

MAX_DOCUMENT = 4 * 1024 * 1024
"""The largest manifest, index, config or token answer gate reads (the distribution spec's
advice for manifests)."""
MAX_REDIRECTS = 5
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_AUTH_HINT = (
    ": authentication required or denied (gate reads TRIVY_USERNAME/TRIVY_PASSWORD, "
    "TRIVY_REGISTRY_TOKEN, or the Docker config's auths)"
)


@dataclass(frozen=True)
class Fetched:
    """One 200 answer, its body read whole (at most `MAX_DOCUMENT` bytes)."""

    url: str
    content_type: str | None
    """The `Content-Type` without parameters."""
    docker_digest: str | None
    """The `Docker-Content-Digest` header, as the registry sent it."""
    body: bytes


def _ctype(resp: httpx.Response) -> str | None:
    value = resp.headers.get("Content-Type")
    return value.split(";")[0].strip().lower() if value else None


_CODE = re.compile(r"[A-Z][A-Z_]{0,63}")


def _error_codes(resp: httpx.Response) -> str:
    """` (MANIFEST_UNKNOWN)`: the distribution error codes of an error answer's first 4 KiB
    (only codes of capital letters: the rest of a registry's text is not repeated)."""
    import httpx

    try:
        head = b""
        for chunk in resp.iter_bytes(4096):
            head += chunk
            if len(head) >= 4096:
                break
        doc = json.loads(head)
    except (httpx.HTTPError, httpx.StreamError, ValueError, RecursionError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    codes = [
        e["code"]
        for e in (errors if isinstance(errors, list) else [])[:5]
        if isinstance(e, dict) and isinstance(e.get("code"), str) and _CODE.fullmatch(e["code"])
    ]
    return f" ({', '.join(codes)})" if codes else ""


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}
    return scheme.lower(), params


def _describe(e: Exception, env: Mapping[str, str]) -> str:
    """An HTTP error's text, without credentials (URL userinfo, secret env values)."""
    from gate.common.redact import redact, secret_values

    return redact(str(e) or type(e).__name__, secret_values(env))


class RegistryClient:
    """Reads from one repository of one registry; use as a context manager."""

    def __init__(
        self,
        ref: ImageRef,
        env: Mapping[str, str] | None,
        deadline: Deadline,
        *,
        insecure: bool = False,
        push: bool = False,
    ) -> None:
        import httpx

        self.ref = ref
        self.scope = "pull,push" if push else "pull"
        """The token scope asked for: `pull`, or `pull,push` for `gate.oci.referrers`."""
        self.env = os.environ if env is None else env
        self.deadline = deadline
        self.insecure = insecure or truthy(self.env.get("TRIVY_INSECURE"))
        self.base = api_base(ref.registry)
        self._fallback = self.insecure and not is_plain_http(ref.registry)
        self._authorization: str | None = None
        self._client = httpx.Client(
            verify=self._verify(),  # type: ignore[arg-type]
            follow_redirects=False,
            trust_env=True,
        )

    def _verify(self) -> object:
        if self.insecure:
            return False
        cacert = self.env.get("TRIVY_CACERT")
        if cacert:
            import ssl

            return ssl.create_default_context(cafile=cacert)
        return True

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client.close()

    # -- public ---------------------------------------------------------------------

    def manifest(self, reference: str) -> Fetched:
        """GET the manifest or index `reference` (a tag or a digest) names."""
        return self._get(f"/v2/{self.ref.repository}/manifests/{reference}", MANIFEST_TYPES)

    def blob(self, digest: str) -> Fetched:
        """GET a (small) blob, such as an image config."""
        return self._get(f"/v2/{self.ref.repository}/blobs/{digest}", ("*/*",))

    def head_digest(self, reference: str) -> str | None:
        """The `Docker-Content-Digest` a HEAD on the manifest answers (None without one)."""
        path = f"/v2/{self.ref.repository}/manifests/{reference}"
        resp = self._request("HEAD", path, MANIFEST_TYPES)
        try:
            self._expect_200(resp, "HEAD")
            found: str | None = resp.headers.get("Docker-Content-Digest")
            return found
        finally:
            resp.close()

    # -- requests -------------------------------------------------------------------

    def _get(self, path: str, accept: tuple[str, ...]) -> Fetched:
        resp = self._request("GET", path, accept)
        try:
            self._expect_200(resp, "GET")
            body = self._read(resp, f"{self.ref.name}: {path.rsplit('/', 1)[-1]}")
            return Fetched(
                str(resp.url), _ctype(resp), resp.headers.get("Docker-Content-Digest"), body
            )
        finally:
            resp.close()

    def _expect_200(self, resp: httpx.Response, method: str) -> None:
        if resp.status_code != 200:
            codes = _error_codes(resp) if method == "GET" else ""
            raise RegistryError(
                f"{self.ref}: the registry answered HTTP {resp.status_code}{codes} to {method} "
                f"{resp.request.url}" + (_AUTH_HINT if resp.status_code in (401, 403) else "")
            )

    def _read(self, resp: httpx.Response, what: str) -> bytes:
        """The body, streaming, capped at `MAX_DOCUMENT`, within the deadline."""
        import httpx

        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_DOCUMENT:
            raise RegistryError(
                f"{what}: the registry announces {int(length)} bytes, more than the "
                f"{MAX_DOCUMENT} bytes gate reads for a manifest; refused"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_bytes(65536):
                size += len(chunk)
                if size > MAX_DOCUMENT:
                    raise RegistryError(
                        f"{what}: the registry sent more than the {MAX_DOCUMENT} bytes gate "
                        "reads for a manifest; refused"
                    )
                chunks.append(chunk)
                self.deadline.check(what)
        except (httpx.HTTPError, httpx.StreamError) as e:
            raise RegistryError(
                f"{what}: reading the registry's answer failed: {_describe(e, self.env)}"
            ) from e
        return b"".join(chunks)

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        auth: tuple[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One request (no redirects), streaming, with the deadline as its timeout."""
        import httpx

        left = self.deadline.check(f"{self.ref.registry}: {method} {url}")
        try:
            request = self._client.build_request(
                method, url, headers=headers, content=content, timeout=httpx.Timeout(left)
            )
            if auth is not None:
                pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                request.headers["Authorization"] = f"Basic {pair}"
            return self._client.send(request, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as e:
            if isinstance(e, httpx.TimeoutException):
                raise self.deadline.expired(f"{self.ref.registry}: {method} {url}") from e
            raise RegistryError(
                f"{self.ref.registry}: cannot reach the registry: {_describe(e, self.env)}"
            ) from e

    def _follow(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        auth: tuple[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """`_send`, following redirects by hand: credentials stay with their origin."""
        import httpx

        origin = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._send(method, url, headers, auth, content)
            location = resp.headers.get("Location")
            if resp.status_code not in (301, 302, 303, 307, 308) or not location:
                return resp
            resp.close()
            try:
                target = resp.url.join(location)
            except (httpx.InvalidURL, ValueError) as e:
                raise RegistryError(
                    f"{self.ref.registry}: a redirect to a URL gate cannot read"
                ) from e
            if (target.scheme, target.host, target.port) != (
                origin.scheme,
                origin.host,
                origin.port,
            ):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                auth = None
            url = str(target)
        raise RegistryError(f"{self.ref.registry}: more than {MAX_REDIRECTS} redirects")

    def _request(
        self,
        method: str,
        path: str,
        accept: tuple[str, ...],
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        import httpx

        headers = {"Accept": ", ".join(accept)}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self._authorization:
            headers["Authorization"] = self._authorization
        url = path if path.startswith(("http://", "https://")) else self.base + path
        try:
            resp = self._follow(method, url, headers, None, content)
        except RegistryError as e:
            if not self._fallback or not isinstance(e.__cause__, httpx.ConnectError):
                raise
            self._fallback = False  # TRIVY_INSECURE: HTTPS failed to connect, try HTTP
            self.base = api_base(self.ref.registry, plain_http=True)
            url = self.base + path
            resp = self._follow(method, url, headers, None, content)
        self._fallback = False
        if resp.status_code != 401 or (
            self._authorization is not None and "insufficient_scope" not in _www(resp)
        ):
            return resp
        return self._authenticate(method, url, headers, resp, content)

    # -- auth -----------------------------------------------------------------------

    def _authenticate(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        first: httpx.Response,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Answer a 401: `TRIVY_REGISTRY_TOKEN`, then Basic or Bearer with each credential."""
        import httpx

        first.close()
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        scheme, params = _challenge(first.headers.get("WWW-Authenticate", ""))
        token = registry_token(self.env)
        resp = first
        if token:
            resp = self._retry(method, url, headers, f"Bearer {token}", None, content)
            if resp.status_code != 401:
                return resp
            resp.close()
        creds: list[tuple[str, str] | None] = [*basic_credentials(self.ref.registry, self.env)]
        if scheme == "basic":
            if not may_send_basic(httpx.URL(url), self.ref.registry):
                return resp  # credentials never travel unencrypted to another host
            for cred in creds:
                assert cred is not None
                resp = self._retry(method, url, headers, None, cred, content)
                if resp.status_code != 401:
                    return resp
                resp.close()
            return resp
        if scheme != "bearer" or not params.get("realm"):
            return resp
        realm = checked_realm(params["realm"], self.ref.registry)
        for cred in [*creds, None]:
            bearer = self._token(realm, params, cred)
            if bearer is None:
                continue
            resp = self._retry(method, url, headers, f"Bearer {bearer}", None, content)
            if resp.status_code != 401:
                return resp
            resp.close()
        return resp

    def _retry(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        authorization: str | None,
        cred: tuple[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        sent = dict(headers)
        if authorization:
            sent["Authorization"] = authorization
        resp = self._follow(method, url, sent, cred, content)
        if resp.status_code != 401:
            if authorization:
                self._authorization = authorization
            elif cred is not None:
                self._authorization = resp.request.headers.get("Authorization")
        return resp

    def _token(
        self, realm: httpx.URL, params: dict[str, str], cred: tuple[str, str] | None
    ) -> str | None:
        """A bearer token from the realm (None when it refuses this credential)."""
        query = {"scope": f"repository:{self.ref.repository}:{self.scope}"}
        if params.get("service"):
            query["service"] = params["service"]
        url = str(realm.copy_merge_params(query))
        resp = self._send("GET", url, {"Accept": "application/json"}, cred)
        try:
            if resp.status_code != 200:
                return None
            body = self._read(resp, f"{self.ref.registry}: the token service {realm.host}")
        finally:
            resp.close()
        return _bearer(body, f"{self.ref.registry}: the token service at {realm.host}")


def _www(resp: httpx.Response) -> str:
    return str(resp.headers.get("WWW-Authenticate", ""))


def _bearer(body: bytes, where: str) -> str | None:
    """The token in a token service's answer; `RegistryError` for an unreadable answer."""
    try:
        doc: Any = json.loads(body)
    except RecursionError as e:
        raise RegistryError(f"{where} answered JSON nested too deep to read") from e
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    token = doc.get("token") or doc.get("access_token")
    if not isinstance(token, str) or not token:
        return None
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise RegistryError(f"{where} answered a token no HTTP header can carry")
    return token
