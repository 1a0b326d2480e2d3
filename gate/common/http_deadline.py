"""A deadline for a whole HTTP request: connecting, the headers and the body.

httpx's timeouts apply to each socket operation, so a server that sends a byte a second
never times out. httpcore runs every connection over a network backend; wrapping it clips
each operation's timeout to the time left before `Deadline.at`, and an operation that
starts after it raises httpcore's own timeout (which httpx reports as a
`httpx.TimeoutException`). Name resolution (`getaddrinfo`) is the system's and is not
clipped.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx


class Deadline:
    """When the request in flight must be over (`time.monotonic()`), or None between
    requests."""

    def __init__(self) -> None:
        self.at: float | None = None

    def clip(self, timeout: float | None, expired: type[Exception]) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the request's deadline passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        clipped = self._deadline.clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, clipped), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        clipped = self._deadline.clip(timeout, httpcore.ConnectTimeout)
        inner = self._inner.connect_tcp(host, port, clipped, local_address, socket_options)
        return _Stream(inner, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        clipped = self._deadline.clip(timeout, httpcore.ConnectTimeout)
        inner = self._inner.connect_unix_socket(path, clipped, socket_options)
        return _Stream(inner, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound_by(client: httpx.Client, deadline: Deadline) -> bool:
    """Make every connection `client` opens, directly or through a proxy from the
    environment, obey `deadline`; False if this httpx is built differently.

    httpx builds its connection pools itself and takes no network backend, so this
    reaches them through `_transport`, `_mounts` and `_pool._network_backend` (httpx 0.28,
    httpcore 1.0); tests/github/test_client.py checks that a trickling server still ends
    within the deadline."""
    transports = [client._transport, *client._mounts.values()]
    pools = [getattr(t, "_pool", None) for t in transports if t is not None]
    if not all(
        isinstance(getattr(p, "_network_backend", None), httpcore.NetworkBackend) for p in pools
    ):
        return False
    for pool in pools:
        pool._network_backend = _Backend(pool._network_backend, deadline)  # type: ignore[union-attr]
    return True
