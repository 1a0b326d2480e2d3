"""Image references: `parse_reference("localhost:5000/app:1")` splits a reference the way
Docker and go-containerregistry do (docker.io and `library/` are implied for short names),
and which registries are reached over plain HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_HUB_API = "registry-1.docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_DOMAIN = re.compile(
    r"^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$"
)


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


def registry_host(registry: str) -> str:
    """The host part of `registry` (`127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`)."""
    if registry.startswith("["):
        return registry[1 : registry.index("]")]
    return registry.rsplit(":", 1)[0] if ":" in registry else registry


def is_loopback(host: str) -> bool:
    """A literal loopback address, or `localhost` (a name no DNS answer may move)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_plain_http(registry: str) -> bool:
    """Plain HTTP only for a literal loopback address or `localhost` (not for a name that
    merely begins with `127.`, such as `127.0.0.1.nip.io`); every other registry is HTTPS
    unless the user says `TRIVY_INSECURE`."""
    return is_loopback(registry_host(registry))


def api_base(registry: str, *, plain_http: bool | None = None) -> str:
    """The registry's base URL; `plain_http` overrides the loopback rule (`--insecure`)."""
    plain = is_plain_http(registry) if plain_http is None else plain_http
    host = _HUB_API if registry == DOCKER_HUB else registry
    return f"{'http' if plain else 'https'}://{host}"
