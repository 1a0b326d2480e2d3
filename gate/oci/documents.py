"""Strict reading of what a registry serves: an image manifest or an index, never both.

- The media type decides what a document is: the `Content-Type` the registry sent, then
  the document's own `mediaType`. When both are given they must agree, and a document
  that has both `layers` and `manifests` is an ERROR whatever its type says (the shape of
  CVE-2021-41190).
- The body's sha256 must be the digest asked for (or, by tag, the one the registry's
  `Docker-Content-Digest` names, when it sends one).
- Platforms match exactly (`Platform.matches`): os and architecture always, the variant
  too (`arm64` and `arm64/v8` are one platform, as containerd normalizes them). An index
  entry without a platform is linux/amd64, as go-containerregistry (trivy's client)
  treats it.
- JSON that Python cannot read (nested 5,000 deep, not UTF-8), or that two readers could
  read two ways (a key twice in one object, even in another case), is an ERROR naming the
  document, never a crash. A descriptor's digest must be `sha256:<64 lower-case hex>`
  before it becomes part of a URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from gate.oci.errors import RegistryError

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
IMAGE_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)


_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")


def sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Platform:
    """`os/architecture[/variant]`."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    def _variant(self) -> str:
        return "" if (self.architecture, self.variant) == ("arm64", "v8") else self.variant

    def matches(self, asked: Platform) -> bool:
        """Exactly the platform asked for; a variant left out of `asked` matches any."""
        if (self.os, self.architecture) != (asked.os, asked.architecture):
            return False
        return not asked.variant or self._variant() == asked._variant()


DEFAULT_PLATFORM = Platform("linux", "amd64")
"""What an index entry without a platform is, for go-containerregistry (trivy's client)."""


@dataclass(frozen=True)
class Descriptor:
    media_type: str | None
    digest: str
    size: int | None
    platform: Platform | None
    """None: the entry names no platform."""


@dataclass(frozen=True)
class ImageManifest:
    digest: str
    config: Descriptor


@dataclass(frozen=True)
class ImageIndex:
    digest: str
    manifests: tuple[Descriptor, ...]


class _Ambiguous(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are distinct even ignoring case: Go's encoding/json (trivy)
    matches keys case-insensitively and keeps the last, Python keeps the last exact one,
    so `manifests` and `Manifests` in one object could be read two ways."""
    seen: set[str] = set()
    for key, _ in pairs:
        folded = key.casefold()
        if folded in seen:
            raise _Ambiguous(f"the key {key!r} appears twice in one object (ignoring case)")
        seen.add(folded)
    return dict(pairs)


def load_json(body: bytes, where: str) -> Any:
    """JSON, or `RegistryError` naming `where`, for any reason Python cannot read it, or
    when an object repeats a key (ignoring case)."""
    try:
        return json.loads(body, object_pairs_hook=_unique)
    except _Ambiguous as e:
        raise RegistryError(f"{where}: ambiguous JSON: {e}; refused") from e
    except RecursionError as e:
        raise RegistryError(f"{where}: JSON nested too deep for gate to read") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise RegistryError(f"{where}: not JSON ({e})") from e


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise RegistryError(f"{where}: not a descriptor object")
    digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise RegistryError(f"{where}.digest: not a sha256 digest (sha256:<64 lower-case hex>)")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise RegistryError(f"{where}.size: not a size")
    if media is not None and not isinstance(media, str):
        raise RegistryError(f"{where}.mediaType: not a string")
    plat = value.get("platform")
    platform = None
    if plat is not None:
        if not isinstance(plat, dict):
            raise RegistryError(f"{where}.platform: not an object")
        os_, arch, variant = plat.get("os"), plat.get("architecture"), plat.get("variant", "")
        if not (isinstance(os_, str) and isinstance(arch, str) and isinstance(variant, str)):
            raise RegistryError(f"{where}.platform: os, architecture or variant not a string")
        platform = Platform(os_, arch, variant)
    return Descriptor(media, digest, size, platform)


def read_document(
    body: bytes, content_type: str | None, digest: str, where: str
) -> ImageManifest | ImageIndex:
    """The manifest or index in `body` (whose sha256 the caller checked is `digest`)."""
    doc = load_json(body, where)
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: the registry served a manifest that is not an object")
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise RegistryError(f"{where}: $.mediaType is not a string")
    known = INDEX_TYPES | IMAGE_TYPES
    if content_type in known and declared is not None and declared != content_type:
        raise RegistryError(
            f"{where}: served as {content_type} but $.mediaType says {declared}: "
            "a document that is two things is refused"
        )
    media = content_type if content_type in known else declared
    if media not in known:
        raise RegistryError(
            f"{where}: neither the Content-Type ({content_type or 'none'}) nor $.mediaType "
            f"({declared or 'none'}) says this is an image manifest or an index"
        )
    if "layers" in doc and "manifests" in doc:
        raise RegistryError(
            f"{where}: the document has both $.layers and $.manifests (an image and an "
            "index at once, the shape of CVE-2021-41190); refused"
        )
    if media in INDEX_TYPES:
        entries = doc.get("manifests")
        if "layers" in doc or "config" in doc or not isinstance(entries, list):
            raise RegistryError(f"{where}: an index ({media}) without a $.manifests list")
        return ImageIndex(
            digest,
            tuple(_descriptor(e, f"{where}: $.manifests[{i}]") for i, e in enumerate(entries)),
        )
    if "manifests" in doc or not isinstance(doc.get("layers"), list):
        raise RegistryError(f"{where}: an image manifest ({media}) without a $.layers list")
    return ImageManifest(digest, _descriptor(doc.get("config"), f"{where}: $.config"))


def choose(index: ImageIndex, asked: Platform, where: str) -> tuple[Descriptor, Platform]:
    """The one entry of `index` for `asked`; an ERROR for none or more than one."""
    found = [
        (d, d.platform or DEFAULT_PLATFORM)
        for d in index.manifests
        if (d.platform or DEFAULT_PLATFORM).matches(asked)
    ]
    if len(found) > 1:
        raise RegistryError(
            f"{where}: the index has {len(found)} entries for {asked} "
            f"({', '.join(f'{p} {d.digest}' for d, p in found)}): which one is scanned "
            "would be a guess; refused"
        )
    if not found:
        have = ", ".join(str(d.platform or DEFAULT_PLATFORM) for d in index.manifests)
        raise RegistryError(
            f"{where}: the index has no image for {asked} (it has: {have or 'nothing'})"
        )
    return found[0]


def config_platform(body: bytes, where: str) -> Platform:
    """The platform an image config (`os`, `architecture`, `variant`) says it is for."""
    doc = load_json(body, where)
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: the image config is not an object")
    os_, arch, variant = doc.get("os"), doc.get("architecture"), doc.get("variant") or ""
    if not isinstance(os_, str) or not isinstance(arch, str) or not isinstance(variant, str):
        raise RegistryError(f"{where}: the image config names no os and architecture")
    return Platform(os_, arch, variant)
