"""The user's registry credentials, as trivy reads them, never logged.

`TRIVY_USERNAME`/`TRIVY_PASSWORD` (comma-separated lists are tried in order),
`TRIVY_REGISTRY_TOKEN`, then the `auths` of the Docker config (`$DOCKER_CONFIG/config.json`
or `~/.docker/config.json`; credential helpers are not read).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

from gate.oci.errors import RegistryError
from gate.oci.reference import DOCKER_HUB

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io")


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _docker_config_auth(registry: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    folder = env.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    try:
        auths = json.loads((Path(folder) / "config.json").read_text()).get("auths") or {}
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}"]
    if registry == DOCKER_HUB:
        keys += _HUB_KEYS
    for key in keys:
        entry = auths.get(key) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return user, password
    return None


def basic_credentials(registry: str, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The user/password pairs to try for `registry`, in trivy's order."""
    users = [u for u in env.get("TRIVY_USERNAME", "").split(",") if u]
    passwords = env.get("TRIVY_PASSWORD", "").split(",")
    pairs = [(u, passwords[i] if i < len(passwords) else "") for i, u in enumerate(users)]
    docker = _docker_config_auth(registry, env)
    return pairs + ([docker] if docker else [])


def registry_token(env: Mapping[str, str]) -> str | None:
    """`TRIVY_REGISTRY_TOKEN`, refused (unshown) when no HTTP header can carry it."""
    token = env.get("TRIVY_REGISTRY_TOKEN")
    if token and not (token.isascii() and token.isprintable()):
        # a header cannot carry it, and the error would quote it escaped, past redaction
        raise RegistryError(
            "TRIVY_REGISTRY_TOKEN holds a line break, a control or a non-ASCII character: "
            "it is not a token (a bad paste?)"
        )
    return token or None
