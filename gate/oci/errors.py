"""The registry's error: gate could not resolve or read an image in a registry."""

from __future__ import annotations

from gate.errors import GateError


class RegistryError(GateError):
    """The registry could not tell gate which manifest to scan: network, auth, HTTP error,
    a refused token realm, a document that is too big, malformed or contradictory, or the
    deadline (`--scan-timeout`) passed. A verdict never binds to an image gate could not
    resolve: the run is an ERROR."""
