"""`gate check IMAGE --all-platforms`: what to scan so that a multi-platform image can be
signed by its index digest. The reference is resolved once, to the index digest; then each
image platform in that index is scanned by `repo@<index>` with `--platform`, so every scan
is of the same index however the tag moves meanwhile. A single-platform image is scanned
once, as without the option."""

from __future__ import annotations

from pathlib import Path

from gate.errors import ScannerError, UsageError


def every_platform(
    image: str | None,
    input_path: Path | None,
    platform: str | None,
    timeout: float,
    insecure: bool,
) -> list[tuple[str | None, str | None]]:
    """(image, platform) for each scan `--all-platforms` asks for."""
    if image is None or input_path is not None:
        raise UsageError("--all-platforms scans a registry IMAGE, not an --input")
    if platform is not None:
        raise UsageError("--all-platforms and --platform exclude each other")
    from gate.oci import parse_reference
    from gate.oci.deadline import Deadline
    from gate.oci.errors import RegistryError
    from gate.oci.resolve import index_platforms

    try:
        ref = parse_reference(image)
    except ValueError as e:
        raise UsageError(f"IMAGE: {e}") from e
    try:
        top, names = index_platforms(ref, env=None, deadline=Deadline(timeout), insecure=insecure)
    except RegistryError as e:
        raise ScannerError(f"--all-platforms: {e}") from e
    if not names:
        return [(image, None)]
    return [(f"{ref.name}@{top}", name) for name in names]
