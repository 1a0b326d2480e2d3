"""Which policy file `gate check` reads: the one given, else `./gate.yaml`, else the bundled
default. Free of pydantic, so the early trivy start (`gate.scanners.trivy.early`) picks the same."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
LOCAL_POLICY = "gate.yaml"


def bundled_policy_path(name: str = "default") -> Path:
    """A policy shipped with gate: `policies/NAME.yaml`.

    The wheel carries `policies/` as `gate/_policies/` (see pyproject's force-include);
    a source checkout reads the repository's `policies/` directly.
    """
    for folder in (_PACKAGE_DIR / "_policies", _PACKAGE_DIR.parent / "policies"):
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return _PACKAGE_DIR.parent / "policies" / f"{name}.yaml"


def resolve_policy(path: Path | None) -> Path:
    """`path` if given, else `./gate.yaml` if present, else the bundled default."""
    if path is not None:
        return path
    local = Path(LOCAL_POLICY)
    return local if local.is_file() else bundled_policy_path("default")
