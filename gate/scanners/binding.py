"""Bind a trivy report to the image it is about: the manifest digest a verdict can name.

- A registry image: the digest trivy pulled, from `Metadata.RepoDigests` (the entry of the
  repository asked for), which must equal the digest in the reference when one was given,
  and, with `verify`, the registry's `Docker-Content-Digest` from a HEAD on the manifest.
  When that digest names a multi-platform index, trivy scanned one platform of it (its
  own, by default): `scanned_platform` finds that platform's manifest (the one whose config
  is the report's `ImageID`), and the verdict is bound to it, not to the index, whose other
  platforms nobody scanned.
- An archive (`--input`): the report's `ImageID` (config digest) must be one the archive
  holds, and the digest is the manifest digest an OCI layout records for it; a
  docker-archive records none, so its verdict has no digest (and cannot be signed).

Every mismatch raises `ScannerError`: a report about another image never judges this one.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gate.errors import ScannerError
from gate.oci import ImageRef, RegistryError, get_manifest, head_manifest, parse_reference
from gate.scanners.archive import INDEX_TYPES, ArchiveInfo, archive_info, platform_name

_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


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


@dataclass(frozen=True)
class ScannedPlatform:
    """The platform of a multi-platform image that trivy scanned."""

    index: str
    """The index digest trivy reported (`RepoDigests`)."""
    manifest: str
    """The manifest digest of the platform scanned: what the verdict is about."""
    platform: str
    """`linux/amd64`, `linux/arm/v7`, …"""
    not_scanned: tuple[str, ...]
    """The index's other platforms."""


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise RegistryError(f"{what}: the registry served a manifest that is not JSON") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{what}: the registry served a manifest that is not an object")
    return doc


def _config_digest(manifest: dict[str, Any]) -> str | None:
    config = manifest.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    return digest if isinstance(digest, str) else None


def scanned_platform(
    ref: ImageRef,
    digest: str,
    image_id: str,
    *,
    timeout: float,
    env: Mapping[str, str],
    asked: str | None = None,
) -> ScannedPlatform | None:
    """None when `digest` names one image (whose config must be `image_id`); for a
    multi-platform index, the platform whose manifest's config is `image_id` (what trivy
    scanned). Raises `RegistryError` when the registry cannot tell, `ScannerError` when
    neither the image nor any platform of the index has that config."""
    at = replace(ref, tag=None, digest=digest)
    top = get_manifest(at, timeout=timeout, env=env)
    doc = _json(top.body, str(at))
    if top.media_type not in INDEX_TYPES and not isinstance(doc.get("manifests"), list):
        config = _config_digest(doc)
        if config is not None and config != image_id:
            raise ScannerError(
                f"{at} is the image with config {config}, but trivy's report is about "
                f"{image_id}: a report about another image cannot judge this one"
            )
        return None
    entries = [
        (d, name)
        for d in doc.get("manifests") or []
        if isinstance(d, dict) and isinstance(d.get("digest"), str)
        and (name := platform_name(d)) is not None
    ]  # fmt: skip
    # trivy scans the platform asked for, else its own: look there first
    likely = asked or f"linux/{_GO_ARCH.get(platform.machine().lower(), '')}"
    entries.sort(key=lambda e: not e[1].startswith(likely))
    for desc, name in entries:
        child = replace(ref, tag=None, digest=desc["digest"])
        manifest = _json(get_manifest(child, timeout=timeout, env=env).body, str(child))
        if _config_digest(manifest) == image_id:
            others = tuple(sorted({n for _, n in entries if n != name}))
            return ScannedPlatform(digest, desc["digest"], name, others)
    raise ScannerError(
        f"{at} is a multi-platform index, and none of its platforms "
        f"({', '.join(n for _, n in entries) or 'none'}) has the image trivy scanned "
        f"({image_id}): the verdict cannot be bound to an image"
    )


def archive_binding(path: Path, display: str, image_id: str) -> ArchiveInfo:
    """What the archive records for the scanned `image_id`; raises if it lacks that image."""
    info = archive_info(path, image_id)
    if info.checked and image_id not in info.config_digests:
        raise ScannerError(
            f"trivy's report for {display} names image {image_id}, which {display} does not contain"
        )
    return info


@dataclass
class Bound:
    """The digest a verdict is bound to, and the facts and warnings that explain it."""

    digest: str | None
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def multi_platform(
        self,
        display: str,
        index: str,
        manifest: str | None,
        platform: str | None,
        others: tuple[str, ...],
    ) -> None:
        """Say that trivy scanned one platform of a multi-platform index, and which."""
        self.facts["platform"] = {
            "scanned": platform,
            "manifest": manifest,
            "index": index,
            "not_scanned": list(others),
        }
        self.warnings.append(
            f"{display} is a multi-platform image: trivy scanned {platform or 'one platform'}"
            f" only, so the verdict is bound to that platform's manifest {manifest}, not to the "
            f"index {index} (not scanned: {', '.join(others) or 'none'})"
        )


def bind_registry(
    ref: ImageRef,
    image_id: str,
    repo_digests: Iterable[str],
    display: str,
    *,
    verify: bool,
    platform: str | None,
    timeout: float,
    env: Mapping[str, str],
    phase: Callable[[str], None],
) -> Bound:
    """A registry image's binding: `RepoDigests`, optionally verified by a HEAD, then
    narrowed to the platform trivy scanned when it names a multi-platform index."""
    bound = Bound(scanned_digest(ref, repo_digests), {"digest_source": "trivy RepoDigests"})
    assert bound.digest is not None
    if verify:
        phase(f"verifying the digest with {ref.registry}")
        verify_with_registry(ref, bound.digest, timeout=timeout, env=env)
        bound.facts["digest_source"] = "trivy RepoDigests, verified by registry HEAD"
    try:
        scanned = scanned_platform(
            ref, bound.digest, image_id, timeout=timeout, env=env, asked=platform
        )
    except RegistryError as e:
        if verify:
            raise
        bound.facts["digest_checked"] = False
        bound.warnings.append(
            f"{ref.name}@{bound.digest}: could not ask {ref.registry} whether this names one "
            f"image or a multi-platform index ({e.diagnostics()}); the verdict is bound to it "
            "as trivy reported it"
        )
        return bound
    bound.facts["digest_checked"] = True
    if scanned is not None and platform and not _same_platform(scanned.platform, platform):
        raise ScannerError(
            f"{display}: --platform {platform} was asked for, but trivy scanned "
            f"{scanned.platform} (the index has {', '.join(scanned.not_scanned) or 'no other'})"
        )
    if scanned is not None:
        bound.multi_platform(
            display, scanned.index, scanned.manifest, scanned.platform, scanned.not_scanned
        )
        bound.digest = scanned.manifest
    return bound


def _same_platform(scanned: str, asked: str) -> bool:
    """`linux/arm64/v8` is `linux/arm64`; a variant asked for must match."""
    have, want = scanned.split("/"), asked.split("/")
    return have[:2] == want[:2] and (len(want) < 3 or have[2:3] == want[2:3])


def bind_archive(path: Path, display: str, image_id: str) -> Bound:
    """An archive's binding: the manifest digest an OCI layout records for the scanned
    image (a platform's, in a multi-platform index); a docker-archive records none."""
    info = archive_binding(path, display, image_id)
    bound = Bound(
        info.manifest_digest,
        {"archive": {"format": info.kind, "manifest_digest": info.manifest_digest}},
    )
    if info.index_digest is not None:
        bound.multi_platform(
            display, info.index_digest, info.manifest_digest, info.platform, info.not_scanned
        )
    if info.manifest_digest is None:
        bound.warnings.append(
            f"{display}: a {info.kind} records no manifest digest; the verdict is "
            f"bound to the image config {image_id} only and cannot be signed"
        )
    return bound
