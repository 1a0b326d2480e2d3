"""What an image archive says about itself, to bind a `--input` scan to digests.

- An OCI image-layout directory records manifest digests in `index.json`; each manifest
  names its config digest (trivy's `ImageID`). `oci_layout_info` finds the manifest whose
  config that is: the digest to bind to. When `index.json` names a multi-platform index,
  that is the scanned platform's manifest, not the index (trivy scans one platform).
- A docker-archive (`docker save`) tar records only config files (`manifest.json` →
  `Config`), no manifest digest. `docker_archive_configs` returns their digests, read from
  the tar's headers without extracting (an uncompressed tar is seeked through; a gzipped
  one is skipped, as reading it means decompressing all of it).
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_MAX_DEPTH = 4


@dataclass(frozen=True)
class ArchiveInfo:
    kind: str
    """`oci-layout`, `docker-archive` or `docker-archive.gz`."""
    config_digests: frozenset[str] = field(default_factory=frozenset)
    """Config digests (ImageIDs) the archive holds; empty when not read."""
    manifest_digest: str | None = None
    """The manifest digest of the image whose config is the scanned ImageID."""
    checked: bool = False
    """True when `config_digests` was read, so an ImageID outside it is a mismatch."""
    index_digest: str | None = None
    """When that image is one platform of a multi-platform index: the index's digest."""
    platform: str | None = None
    """That platform (`linux/amd64`); the index's others are in `not_scanned`."""
    not_scanned: tuple[str, ...] = ()


def platform_name(desc: dict[str, Any]) -> str | None:
    """`os/arch[/variant]` of an index entry; None for entries that are no image (the
    `unknown/unknown` attestation manifests buildx adds)."""
    plat = desc.get("platform")
    if not isinstance(plat, dict):
        return None
    os_, arch = plat.get("os"), plat.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str) or "unknown" in (os_, arch):
        return None
    variant = plat.get("variant")
    return f"{os_}/{arch}" + (f"/{variant}" if isinstance(variant, str) and variant else "")


def _blob(layout: Path, digest: str) -> Any:
    algo, _, hexd = digest.partition(":")
    if not algo.isalnum() or not hexd.isalnum():
        return None
    try:
        return json.loads((layout / "blobs" / algo / hexd).read_bytes())
    except (OSError, ValueError):
        return None


# config digest → (manifest digest, its platform in the index that names it, or None)
_Reach = dict[str, tuple[str, str | None]]


def _configs(layout: Path, desc: Any, depth: int = 0) -> _Reach:
    """The images reachable from a descriptor (a manifest, or an index of manifests)."""
    if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str) or depth > _MAX_DEPTH:
        return {}
    doc = _blob(layout, desc["digest"])
    if not isinstance(doc, dict):
        return {}
    media = doc.get("mediaType") or desc.get("mediaType")
    if media in INDEX_TYPES or isinstance(doc.get("manifests"), list):
        out: _Reach = {}
        for child in doc.get("manifests") or []:
            named = platform_name(child) if isinstance(child, dict) else None
            for image, (manifest, plat) in _configs(layout, child, depth + 1).items():
                out.setdefault(image, (manifest, plat or named))
        return out
    config = doc.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        return {config["digest"]: (desc["digest"], None)}
    return {}


def oci_layout_info(layout: Path, image_id: str | None) -> ArchiveInfo:
    try:
        index = json.loads((layout / "index.json").read_bytes())
    except (OSError, ValueError):
        return ArchiveInfo("oci-layout")
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        return ArchiveInfo("oci-layout")
    reach = {
        d["digest"]: _configs(layout, d)
        for d in manifests
        if isinstance(d, dict) and isinstance(d.get("digest"), str)
    }
    all_configs = frozenset(c for cs in reach.values() for c in cs)
    matching = sorted(d for d, cs in reach.items() if image_id in cs)
    if len(matching) != 1 or image_id is None:
        return ArchiveInfo("oci-layout", all_configs, None, checked=bool(all_configs))
    top = matching[0]
    manifest, plat = reach[top][image_id]
    if manifest == top:  # the layout names the image itself
        return ArchiveInfo("oci-layout", all_configs, top, checked=True)
    others = tuple(sorted({p for _, p in reach[top].values() if p and p != plat}))
    return ArchiveInfo(
        "oci-layout", all_configs, manifest, True, index_digest=top, platform=plat,
        not_scanned=others,
    )  # fmt: skip


def docker_archive_info(path: Path) -> ArchiveInfo:
    try:
        with path.open("rb") as head:
            magic = head.read(2)
    except OSError:
        return ArchiveInfo("docker-archive")
    if magic == b"\x1f\x8b":
        return ArchiveInfo("docker-archive.gz")
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.extractfile(tar.getmember("manifest.json"))
            entries = json.loads(member.read()) if member is not None else None
            configs: set[str] = set()
            for entry in entries if isinstance(entries, list) else []:
                name = entry.get("Config") if isinstance(entry, dict) else None
                if isinstance(name, str):
                    configs.add(_config_digest(tar, name))
    except (OSError, KeyError, ValueError, tarfile.TarError):
        return ArchiveInfo("docker-archive")
    configs.discard("")
    return ArchiveInfo("docker-archive", frozenset(configs), None, checked=bool(configs))


def _config_digest(tar: tarfile.TarFile, name: str) -> str:
    import hashlib

    try:
        fh = tar.extractfile(name)
    except KeyError:
        return ""
    if fh is None:
        return ""
    return "sha256:" + hashlib.sha256(fh.read()).hexdigest()


def archive_info(path: Path, image_id: str | None) -> ArchiveInfo:
    """Digests recorded by the archive at `path` (a directory is an OCI layout)."""
    if path.is_dir():
        return oci_layout_info(path, image_id)
    return docker_archive_info(path)
