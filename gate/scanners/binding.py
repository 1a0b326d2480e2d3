"""Bind a trivy report to the image it is about: the manifest digest a verdict can name.

- A registry image: the digest trivy pulled, from `Metadata.RepoDigests` (the entry of the
  repository asked for), which must equal the digest in the reference when one was given,
  and, with `verify`, the registry's `Docker-Content-Digest` from a HEAD on the manifest.
- An archive (`--input`): the report's `ImageID` (config digest) must be one the archive
  holds, and the digest is the manifest digest an OCI layout records for it; a
  docker-archive records none, so its verdict has no digest (and cannot be signed).

Every mismatch raises `ScannerError`: a report about another image never judges this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from gate.errors import ScannerError
from gate.oci import ImageRef, head_manifest, parse_reference
from gate.scanners.archive import ArchiveInfo, archive_info


def repo_digests(entries: Iterable[str], ref: ImageRef) -> list[str]:
    """The digests of `RepoDigests` entries (`name@digest`) that name `ref`'s repository."""
    out = set()
    for entry in entries:
        try:
            parsed = parse_reference(entry)
        except ValueError:
            continue
        if parsed.name == ref.name and parsed.digest:
            out.add(parsed.digest)
    return sorted(out)


def scanned_digest(ref: ImageRef, entries: Iterable[str]) -> str:
    """The one manifest digest trivy scanned for `ref`, from its `RepoDigests`."""
    entries = list(entries)
    digests = repo_digests(entries, ref)
    if ref.digest is not None:
        if ref.digest not in digests:
            raise ScannerError(
                f"trivy scanned {ref.name}@{', '.join(digests) or '(no digest)'}, "
                f"not the requested {ref.digest}"
            )
        return ref.digest
    if len(digests) == 1:
        return digests[0]
    if not digests:
        raise ScannerError(
            f"trivy's report records no digest for {ref.name} (Metadata.RepoDigests: "
            f"{entries}): the verdict cannot be bound to an image"
        )
    raise ScannerError(
        f"trivy's report records several digests for {ref.name}: {', '.join(digests)}"
    )


def verify_with_registry(
    ref: ImageRef, digest: str, *, timeout: float, env: Mapping[str, str]
) -> None:
    """The registry must serve `digest` for `ref` now (HEAD, `Docker-Content-Digest`)."""
    head = head_manifest(ref, timeout=timeout, env=env)
    if head.digest != digest:
        raise ScannerError(
            f"digest mismatch for {ref}: trivy scanned {digest} but the registry now serves "
            f"{head.digest} (the tag moved during the scan, or the registry is inconsistent)"
        )


def archive_binding(path: Path, display: str, image_id: str) -> ArchiveInfo:
    """What the archive records for the scanned `image_id`; raises if it lacks that image."""
    info = archive_info(path, image_id)
    if info.checked and image_id not in info.config_digests:
        raise ScannerError(
            f"trivy's report for {display} names image {image_id}, which {display} does not contain"
        )
    return info
