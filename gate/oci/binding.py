"""Bind a trivy report to the image it is about: the manifest digest a verdict can name.

- A registry image: gate resolved the reference itself (`gate.oci.resolve`) to one
  platform manifest and asked trivy to scan `repo@sha256:<that manifest>`. trivy's report
  must say so: `Metadata.RepoDigests` names that digest and `ImageID` is that manifest's
  config. The verdict names the manifest, never an index; when the reference named a
  multi-platform index, the facts say which platform was scanned and which were not.
  With `verify`, the reference must still name what was resolved after the scan.
- An archive (`--input`): the report's `ImageID` (config digest) must be one the archive
  holds, and the digest is the manifest digest an OCI layout records for it; a
  docker-archive records none, so its verdict has no digest (and cannot be signed).

Every mismatch raises `ScannerError`: a report about another image never judges this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from gate.errors import ScannerError
from gate.facts import ArchiveFacts, Facts, PlatformFacts, ResolvedFacts
from gate.oci import ImageRef, parse_reference
from gate.oci.archive import ArchiveInfo, archive_info
from gate.oci.resolve import Resolution


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
    facts: Facts = field(default_factory=Facts)
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
        platform_facts = PlatformFacts(
            scanned=platform, manifest=manifest, index=index, not_scanned=others
        )
        self.facts = self.facts.merged(Facts(platform=platform_facts))
        self.warnings.append(
            f"{display} is a multi-platform image: trivy scanned {platform or 'one platform'}"
            f" only, so the verdict is bound to that platform's manifest {manifest}, not to the "
            f"index {index} (not scanned: {', '.join(others) or 'none'})"
        )


def bind_registry(
    resolution: Resolution,
    image_id: str,
    repo_digests: Iterable[str],
    display: str,
    *,
    verify: Callable[[], str] | None,
    phase: Callable[[str], None],
) -> Bound:
    """A registry image's binding: the manifest gate resolved, which trivy's report must
    name (`RepoDigests`, `ImageID`); `verify` (when given) says what the reference names
    after the scan, which must be what it named before."""
    ref = resolution.ref
    scanned = scanned_digest(replace(ref, tag=None, digest=resolution.manifest), repo_digests)
    if image_id != resolution.config:
        raise ScannerError(
            f"trivy's report for {display} is about the image with config {image_id}, but "
            f"{ref.name}@{scanned} has config {resolution.config}: a report about another "
            "image cannot judge this one"
        )
    resolved = ResolvedFacts(reference=str(ref), names=resolution.top)
    bound = Bound(
        scanned, Facts(digest_source="resolved by gate, scanned by digest", resolved=resolved)
    )
    if resolution.index is not None:
        bound.multi_platform(
            display, resolution.index, scanned, resolution.platform, resolution.not_scanned
        )
    elif resolution.platform is not None:
        plat = PlatformFacts(scanned=resolution.platform, manifest=scanned)
        bound.facts = bound.facts.merged(Facts(platform=plat))
    if verify is not None and ref.digest is None:
        phase(f"checking {ref} again")
        now = verify()
        if now != resolution.top:
            raise ScannerError(
                f"{ref} named {resolution.top} when gate resolved it, and names {now} after "
                "the scan (the tag moved, or the registry is inconsistent): --verify-digest "
                "refuses a verdict about a tag that moved"
            )
        source = "resolved by gate, scanned by digest, tag re-checked"
        bound.facts = bound.facts.merged(Facts(digest_source=source))
    return bound


def bind_archive(path: Path, display: str, image_id: str) -> Bound:
    """An archive's binding: the manifest digest an OCI layout records for the scanned
    image (a platform's, in a multi-platform index); a docker-archive records none."""
    info = archive_binding(path, display, image_id)
    bound = Bound(
        info.manifest_digest,
        Facts(archive=ArchiveFacts(format=info.kind, manifest_digest=info.manifest_digest)),
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
