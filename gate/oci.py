"""Container image references and the registry's manifest digest.

`parse_reference("localhost:5000/app:1")` splits a reference the way Docker and
go-containerregistry do (docker.io and `library/` are implied for short names);
`head_manifest(ref)` asks the registry which manifest digest a tag or digest names
(HEAD on the manifest, `Docker-Content-Digest`) and `get_manifest(ref)` fetches it, with
anonymous, Basic and Bearer (token) auth. Plain HTTP for localhost and loopback
addresses, HTTPS otherwise, like go-containerregistry. httpx is imported only when a
request is made.

Credentials, never logged: `TRIVY_USERNAME`/`TRIVY_PASSWORD` (comma-separated lists are
tried in order), `TRIVY_REGISTRY_TOKEN`, then the `auths` of the Docker config
(`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`; credential helpers are not read).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import GateError

if TYPE_CHECKING:
    import httpx

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_HUB_API = "registry-1.docker.io"
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_DOMAIN = re.compile(
    r"^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$"
)


_AUTH_HINT = (
    ": authentication required or denied (gate reads TRIVY_USERNAME/TRIVY_PASSWORD, "
    "TRIVY_REGISTRY_TOKEN, or the Docker config's auths)"
)


class RegistryError(GateError):
    """The registry could not tell the manifest digest (network, auth, HTTP error)."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: `registry/repository[:tag][@digest]`."""

    registry: str
    """`docker.io`, `ghcr.io`, `127.0.0.1:5000`, … (Docker Hub aliases become `docker.io`)."""
    repository: str
    """`library/alpine`, `org/app`, …"""
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The full repository name, `registry/repository`."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when given, else the tag (`latest`)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(text: str) -> ImageRef:
    """Parse an image reference; raises `ValueError` naming what is wrong."""
    ref = text.strip()
    if not ref or ref != text or any(c.isspace() for c in ref):
        raise ValueError(f"not an image reference: {text!r}")
    rest, _, digest = ref.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ValueError(f"{text!r}: invalid digest {digest!r} (expected sha256:<64 hex>)")
    if digest.startswith("sha256:") and not re.fullmatch(r"sha256:[a-f0-9]{64}", digest):
        raise ValueError(f"{text!r}: invalid sha256 digest {digest!r}")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise ValueError(f"{text!r}: invalid tag {tag!r}")
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, path = first, remainder
        if not _DOMAIN.match(registry):
            raise ValueError(f"{text!r}: invalid registry host {registry!r}")
    else:
        registry, path = DOCKER_HUB, rest
    if registry.lower() in _HUB_ALIASES:
        registry = DOCKER_HUB
    if not _PATH.match(path):
        raise ValueError(
            f"{text!r}: invalid repository name {path!r} "
            "(lower-case letters, digits and . _ - separators)"
        )
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if tag is None and not digest:
        tag = "latest"
    return ImageRef(registry, path, tag, digest or None)


def is_plain_http(registry: str) -> bool:
    """Localhost and loopback registries are reached over plain HTTP (as go-containerregistry)."""
    host = registry.rsplit(":", 1)[0] if not registry.endswith("]") else registry
    host = host.strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"


def api_base(registry: str) -> str:
    scheme = "http" if is_plain_http(registry) else "https"
    host = _HUB_API if registry == DOCKER_HUB else registry
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class ManifestHead:
    digest: str
    media_type: str | None
    size: int | None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _docker_config_auth(registry: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    folder = env.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    try:
        auths = json.loads((Path(folder) / "config.json").read_text()).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}"]
    if registry == DOCKER_HUB:
        keys += ["https://index.docker.io/v1/", "index.docker.io", _HUB_API]
    for key in keys:
        entry = auths.get(key) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return user, password
    return None


def _credentials(registry: str, env: Mapping[str, str]) -> list[tuple[str, str]]:
    users = [u for u in env.get("TRIVY_USERNAME", "").split(",") if u]
    passwords = env.get("TRIVY_PASSWORD", "").split(",")
    pairs = [(u, passwords[i] if i < len(passwords) else "") for i, u in enumerate(users)]
    docker = _docker_config_auth(registry, env)
    return pairs + ([docker] if docker else [])


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _verify(env: Mapping[str, str]) -> object:
    if _truthy(env.get("TRIVY_INSECURE")):
        return False
    cacert = env.get("TRIVY_CACERT")
    if cacert:
        import ssl

        return ssl.create_default_context(cafile=cacert)
    return True


def head_manifest(
    ref: ImageRef, *, timeout: float = 30.0, env: Mapping[str, str] | None = None
) -> ManifestHead:
    """HEAD the manifest `ref` names; the registry's `Docker-Content-Digest` and media type.

    Raises `RegistryError` for network, auth and HTTP errors. A registry that sends no
    `Docker-Content-Digest` is asked again with GET and the bytes are hashed.
    """
    resp = _fetch(ref, "HEAD", timeout=timeout, env=env)
    if resp.request.method == "GET":
        digest = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        return ManifestHead(digest, _ctype(resp), len(resp.content))
    digest = resp.headers["Docker-Content-Digest"].strip()
    size = resp.headers.get("Content-Length")
    return ManifestHead(digest, _ctype(resp), int(size) if size and size.isdigit() else None)


@dataclass(frozen=True)
class Manifest:
    digest: str
    """sha256 of the bytes served."""
    media_type: str | None
    body: bytes


def get_manifest(
    ref: ImageRef, *, timeout: float = 30.0, env: Mapping[str, str] | None = None
) -> Manifest:
    """GET the manifest (or index) `ref` names; its digest is the sha256 of the bytes.

    Raises `RegistryError` for network, auth and HTTP errors, and when `ref` names a digest
    the bytes do not hash to.
    """
    resp = _fetch(ref, "GET", timeout=timeout, env=env)
    digest = "sha256:" + hashlib.sha256(resp.content).hexdigest()
    if ref.digest is not None and ref.digest != digest:
        raise RegistryError(f"{ref}: the registry served a manifest whose digest is {digest}")
    return Manifest(digest, _ctype(resp), resp.content)


def _fetch(
    ref: ImageRef, method: str, *, timeout: float, env: Mapping[str, str] | None
) -> httpx.Response:
    """One manifest request (HEAD or GET) answering any auth challenge; a 200 response.

    A HEAD answered without `Docker-Content-Digest` is repeated as a GET."""
    import httpx

    env = os.environ if env is None else env
    url = f"{api_base(ref.registry)}/v2/{ref.repository}/manifests/{ref.reference}"
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}
    try:
        with httpx.Client(
            timeout=timeout,
            verify=_verify(env),  # type: ignore[arg-type]
            follow_redirects=True,
            trust_env=True,
        ) as client:
            resp = client.request(method, url, headers=headers)
            if resp.status_code == 401:
                resp = _authenticated(client, method, ref, url, headers, resp, env)
            if method == "HEAD" and resp.status_code == 200:
                if not resp.headers.get("Docker-Content-Digest"):
                    auth = resp.request.headers.get("Authorization")
                    resp = client.get(
                        url, headers={**headers, **({"Authorization": auth} if auth else {})}
                    )
    except httpx.HTTPError as e:
        raise RegistryError(
            f"{ref.registry}: cannot reach the registry: {_describe(e, env)}"
        ) from None
    if resp.status_code != 200:
        raise RegistryError(
            f"{ref}: the registry answered HTTP {resp.status_code} to "
            f"{resp.request.method} {url}" + (_AUTH_HINT if resp.status_code in (401, 403) else "")
        )
    return resp


def _ctype(resp: httpx.Response) -> str | None:
    value = resp.headers.get("Content-Type")
    return value.split(";")[0].strip() if value else None


def _describe(e: Exception, env: Mapping[str, str]) -> str:
    """An HTTP error's text, without credentials (URL userinfo, secret env values)."""
    from gate.scanners.redact import redact, secret_values

    return redact(str(e) or type(e).__name__, secret_values(env))


def _authenticated(
    client: httpx.Client,
    method: str,
    ref: ImageRef,
    url: str,
    headers: dict[str, str],
    first: httpx.Response,
    env: Mapping[str, str],
) -> httpx.Response:
    """Answer a 401 challenge: Bearer (token service) or Basic, with each credential in turn."""
    scheme, params = _challenge(first.headers.get("WWW-Authenticate", ""))
    creds: list[tuple[str, str] | None] = [*_credentials(ref.registry, env), None]
    token = env.get("TRIVY_REGISTRY_TOKEN")
    if token and not (token.isascii() and token.isprintable()):
        # a header cannot carry it, and the error would quote it escaped, past redaction
        raise RegistryError(
            "TRIVY_REGISTRY_TOKEN holds a line break, a control or a non-ASCII character: "
            "it is not a token (a bad paste?)"
        )
    if token:
        resp = client.request(method, url, headers={**headers, "Authorization": f"Bearer {token}"})
        if resp.status_code != 401:
            return resp
    resp = first
    for cred in creds:
        if scheme == "basic":
            if cred is None:
                break
            resp = client.request(method, url, headers=headers, auth=cred)
        elif scheme == "bearer" and params.get("realm"):
            query = {"scope": f"repository:{ref.repository}:pull"}
            if params.get("service"):
                query["service"] = params["service"]
            tok = (
                client.get(params["realm"], params=query, auth=cred)
                if cred
                else client.get(params["realm"], params=query)
            )
            if tok.status_code != 200:
                continue
            try:
                body = tok.json()
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            bearer = body.get("token") or body.get("access_token")
            if not isinstance(bearer, str):
                continue
            resp = client.request(
                method, url, headers={**headers, "Authorization": f"Bearer {bearer}"}
            )
        else:
            break
        if resp.status_code != 401:
            return resp
    return resp
