"""Which token realms gate asks, and what it sends them (as trivy, or stricter).

A registry's `WWW-Authenticate: Bearer realm="…"` names a URL gate then calls, with the
user's credentials, and whose answer it sends back to the registry as a bearer token. A
hostile registry can point that at anything, so a realm is refused (an ERROR) when:

- it is not an absolute `http`/`https` URL httpx can parse, or carries userinfo;
- its host is a private, loopback, link-local or otherwise internal address (or
  `localhost`), unless it is the registry's own host (`localhost`, `127.0.0.1` and `::1`
  are one host; another loopback address is another host); go-containerregistry ≥ 0.21.4
  refuses these IP literals too (gate also refuses the names `localhost` and
  `*.localhost`);
- it is plain HTTP, unless it is the registry's own loopback host.

Basic credentials go only over HTTPS, or to a loopback registry the user named; a token
is sent only to the registry's own origin (redirects to another origin drop it).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from gate.oci.errors import RegistryError
from gate.oci.reference import is_loopback, registry_host

if TYPE_CHECKING:
    import httpx


def _internal(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_unspecified
        or addr.is_reserved
        or addr.is_multicast
    )


_THIS_MACHINE = frozenset({"localhost", "127.0.0.1", "::1"})
"""The names of one host: `localhost` and the addresses it stands for."""


def same_host(host: str, registry: str) -> bool:
    """`host` is the registry's own host (`localhost`, `127.0.0.1` and `::1` are one host;
    `127.0.0.2` is another)."""
    mine = registry_host(registry).strip("[]").lower()
    other = host.strip("[]").lower()
    return other == mine or (other in _THIS_MACHINE and mine in _THIS_MACHINE)


def checked_realm(realm: str, registry: str) -> httpx.URL:
    """The realm as a URL gate may call, or `RegistryError` saying why not."""
    import httpx

    try:
        url = httpx.URL(realm)
        host = url.host
    except (httpx.InvalidURL, ValueError, TypeError) as e:
        raise RegistryError(
            f"{registry}: the registry's token realm is not a URL gate can read ({e})"
        ) from e
    where = f"{registry}: the registry's token realm {realm!r}"
    if url.scheme not in ("http", "https") or not host:
        raise RegistryError(f"{where} is not an absolute http(s) URL; refused")
    if url.userinfo:
        raise RegistryError(f"{where} carries a user name or password; refused")
    own = same_host(host, registry)
    if _internal(host) and not own:
        raise RegistryError(
            f"{where} is on a private, loopback or link-local address that is not the "
            "registry's own host; refused (trivy refuses it too)"
        )
    if url.scheme == "http" and not (own and is_loopback(host)):
        raise RegistryError(
            f"{where} is plain HTTP on another host: credentials and tokens would travel "
            "unencrypted; refused"
        )
    return url


def may_send_basic(url: httpx.URL, registry: str) -> bool:
    """Basic credentials only over HTTPS, or to the loopback registry the user named."""
    return url.scheme == "https" or (same_host(url.host, registry) and is_loopback(url.host))
