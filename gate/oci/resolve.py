"""Resolve an image reference to the one platform manifest trivy is then asked to scan.

`resolve(ref, platform, env=..., deadline=...)` follows the reference as trivy's client
would, but strictly (`gate.oci.documents`): the tag (or digest) → an index, if it is one →
the one entry for the platform asked (`--platform`, else this machine's, as trivy's
default) → that manifest. trivy then scans `repo@sha256:<that manifest>`, so the digest a
verdict names is the manifest trivy fetched, whatever the tag names by then. A
single-platform image asked for with `--platform` must be for that platform (its config
says which). Every doubt is a `RegistryError`: the verdict is an ERROR, never bound to an
index or to a guess.
"""

from __future__ import annotations

import platform as _host
from collections.abc import Mapping
from dataclasses import dataclass

from gate.oci.client import RegistryClient
from gate.oci.deadline import Deadline, within
from gate.oci.documents import (
    DEFAULT_PLATFORM,
    ImageIndex,
    ImageManifest,
    Platform,
    choose,
    config_platform,
    read_document,
    sha256,
)
from gate.oci.errors import RegistryError
from gate.oci.reference import ImageRef

_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def host_platform() -> Platform:
    """The platform trivy picks from an index when none is asked: this machine's."""
    return Platform("linux", _GO_ARCH.get(_host.machine().lower(), "amd64"))


@dataclass(frozen=True)
class Resolution:
    """Which manifest gate asks trivy to scan, and how the reference led there."""

    ref: ImageRef
    manifest: str
    """The platform manifest's digest: what trivy scans and the verdict names."""
    config: str
    """Its config digest: the `ImageID` trivy's report must carry."""
    top: str
    """The digest the reference named when resolved (the index's, or the manifest's)."""
    index: str | None = None
    """The index the manifest was chosen from (never a verdict's digest)."""
    platform: str | None = None
    """The platform chosen from the index, or checked in a single image's config."""
    not_scanned: tuple[str, ...] = ()
    """The index's other platforms."""

    @property
    def target(self) -> str:
        """What trivy is asked to scan: `registry/repository@sha256:…`."""
        return f"{self.ref.name}@{self.manifest}"


def resolve(
    ref: ImageRef,
    platform: str | None,
    *,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool = False,
) -> Resolution:
    """The platform manifest `ref` names for `platform`; `RegistryError` otherwise."""
    return within(
        deadline,
        f"resolving {ref}",
        lambda: _resolve(ref, platform, env=env, deadline=deadline, insecure=insecure),
    )


def _fetch(
    client: RegistryClient, reference: str, expected: str | None, size: int | None = None
) -> ImageManifest | ImageIndex:
    """A manifest or index whose bytes hash to the digest asked for (or announced)."""
    ref = client.ref
    got = client.manifest(reference)
    digest = sha256(got.body)
    where = f"{ref.name}@{digest}"
    if expected is not None and digest != expected:
        raise RegistryError(
            f"{ref.name}@{expected}: the registry served bytes whose sha256 is {digest}; refused"
        )
    announced = (got.docker_digest or "").strip()
    if announced.startswith("sha256:") and announced != digest:
        raise RegistryError(
            f"{ref.name}:{reference}: the registry's Docker-Content-Digest is {announced}, "
            f"but the bytes it served hash to {digest}; refused"
        )
    if size is not None and size != len(got.body):
        raise RegistryError(
            f"{where}: the index says {size} bytes, the registry served {len(got.body)}"
        )
    return read_document(got.body, got.content_type, digest, where)


def _resolve(
    ref: ImageRef,
    platform: str | None,
    *,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool,
) -> Resolution:
    with RegistryClient(ref, env, deadline, insecure=insecure) as client:
        top = _fetch(client, ref.reference, ref.digest)
        if isinstance(top, ImageIndex):
            asked = Platform.parse(platform) if platform else host_platform()
            desc, chosen = choose(top, asked, f"{ref.name}@{top.digest}")
            child = _fetch(client, desc.digest, desc.digest, desc.size)
            if isinstance(child, ImageIndex):
                raise RegistryError(
                    f"{ref.name}@{top.digest}: the entry for {chosen} is itself an index "
                    f"({child.digest}); nested indexes are refused"
                )
            others = {
                str(d.platform or DEFAULT_PLATFORM)
                for d in top.manifests
                if d is not desc and not _attestation(d.platform or DEFAULT_PLATFORM)
            }
            return Resolution(
                ref, child.digest, child.config.digest, top.digest, top.digest, str(chosen),
                tuple(sorted(others)),
            )  # fmt: skip
        checked = None
        if platform is not None:
            checked = str(_single_platform(client, top, Platform.parse(platform)))
        return Resolution(ref, top.digest, top.config.digest, top.digest, platform=checked)


def _attestation(platform: Platform) -> bool:
    """An index entry that is not an image: BuildKit's attestation manifests say
    `unknown/unknown` (exactly: a real platform whose name merely contains `unknown` is an
    image, and skipping it would let `--all-platforms` sign an index not wholly scanned)."""
    return (platform.os, platform.architecture) == ("unknown", "unknown")


def index_platforms(
    ref: ImageRef,
    *,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool = False,
) -> tuple[str, tuple[str, ...]]:
    """What `ref` names now, and, when it is a multi-platform index, every image platform in
    it (`--all-platforms`; attestation entries `unknown/unknown` are not images); an image
    manifest has none. Two entries for one platform are a `RegistryError`."""

    def read() -> tuple[str, tuple[str, ...]]:
        with RegistryClient(ref, env, deadline, insecure=insecure) as client:
            top = _fetch(client, ref.reference, ref.digest)
            if not isinstance(top, ImageIndex):
                return top.digest, ()
            names = [
                str(d.platform or DEFAULT_PLATFORM)
                for d in top.manifests
                if not _attestation(d.platform or DEFAULT_PLATFORM)
            ]
            if len(set(names)) != len(names):
                raise RegistryError(
                    f"{ref.name}@{top.digest}: the index names a platform twice; "
                    "--all-platforms cannot tell which to scan"
                )
            return top.digest, tuple(sorted(names))

    return within(deadline, f"resolving {ref}", read)


def _single_platform(client: RegistryClient, image: ImageManifest, asked: Platform) -> Platform:
    """A single-platform image's own platform, which must be the one asked for."""
    where = f"{client.ref.name}@{image.digest}"
    got = client.blob(image.config.digest)
    if sha256(got.body) != image.config.digest:
        raise RegistryError(f"{where}: the config blob's bytes do not hash to its digest")
    have = config_platform(got.body, f"{where}: config {image.config.digest}")
    if not have.matches(asked):
        raise RegistryError(
            f"{where}: --platform {asked} was asked for, but this single-platform image is "
            f"for {have}; scanning another platform than the one asked for is refused"
        )
    return have


def still_names(
    resolution: Resolution,
    *,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool = False,
) -> str:
    """The digest the reference names now (HEAD, `Docker-Content-Digest`, else a GET)."""
    ref = resolution.ref

    def ask() -> str:
        with RegistryClient(ref, env, deadline, insecure=insecure) as client:
            announced = client.head_digest(ref.reference)
            if announced and announced.strip().startswith("sha256:"):
                return announced.strip()
            return sha256(client.manifest(ref.reference).body)

    return within(deadline, f"checking {ref} again", ask)
