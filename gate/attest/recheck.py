"""`gate sign --verdict`: check a saved verdict's digests again before signing them.

A saved verdict is a file anyone with write access to it can edit, so its claims about the
digest (`digest_source`, an OCI layout's `manifest_digest`) are not taken on trust:

- a digest gate resolved in the registry is fetched again, by digest, from the verdict's
  image repository, and the bytes the registry serves must hash to it;
- a digest read from an OCI layout is read again from the layout at the input's path (still
  present and a directory), which must record that manifest (and index) for the image
  config the verdict names, with blobs that hash to their digests;
- anything else is refused.

This proves the digest exists where the verdict says and is the image the verdict names; it
cannot prove the verdict's result (sign in the job that scanned, or keep the saved verdict
where only that job can write it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from gate.errors import SigningError

SHA256_HEX = frozenset("0123456789abcdef")


def _is_sha256(digest: object) -> bool:
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        return False
    hexd = digest.removeprefix("sha256:")
    return len(hexd) == 64 and set(hexd) <= SHA256_HEX


def _digests(inp: dict[str, Any]) -> list[str]:
    """The input's manifest digest, and the index it came from, if any."""
    found = [str(inp["subject"]["digest"])]
    platform = inp["facts"].get("platform")
    if isinstance(platform, dict) and platform.get("index") is not None:
        found.append(str(platform["index"]))
    return found


def recheck(
    doc: dict[str, Any], repository: str, *, insecure: bool, timeout: float, where: str
) -> None:
    """Raise `SigningError` unless every digest the saved verdict `doc` would sign is
    confirmed again (see the module's docstring)."""
    for inp in doc["inputs"]:
        subject = inp.get("subject") or {}
        if inp["kind"] != "trivy" or inp["status"] != "ok" or not subject.get("digest"):
            continue
        facts = inp["facts"]
        digests = _digests(inp)
        for digest in digests:
            if not _is_sha256(digest):
                raise SigningError(f"{where} names {digest}: not a sha256 digest")
        source = facts.get("digest_source")
        archive = facts.get("archive")
        if isinstance(source, str) and source.startswith("resolved by gate"):
            _in_registry(repository, digests, insecure=insecure, timeout=timeout, where=where)
        elif isinstance(archive, dict) and archive.get("format") == "oci-layout":
            _in_layout(Path(str(inp["path"])), subject.get("image_id"), digests, where=where)
        else:
            raise SigningError(
                f"{where} names {digests[0]}, which gate cannot check again (neither resolved "
                "in a registry nor read from an OCI layout): refusing to sign it"
            )


def _in_registry(
    repository: str, digests: list[str], *, insecure: bool, timeout: float, where: str
) -> None:
    from gate.oci import parse_reference
    from gate.oci.client import RegistryClient
    from gate.oci.deadline import Deadline
    from gate.oci.errors import RegistryError

    try:
        ref = parse_reference(repository)
    except ValueError as e:
        raise SigningError(f"{where}: {repository} is not a registry repository: {e}") from e
    try:
        with RegistryClient(ref, None, Deadline(timeout), insecure=insecure) as client:
            for digest in digests:
                body = client.manifest(digest).body
                if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
                    raise SigningError(
                        f"{where} names {ref.name}@{digest}, but the registry serves other "
                        "bytes for it: refusing to sign"
                    )
    except RegistryError as e:
        raise SigningError(
            f"{where} names {digests[0]}, which gate could not find again in {ref.name}: {e}"
        ) from e


def _in_layout(layout: Path, image_id: object, digests: list[str], *, where: str) -> None:
    from gate.oci.archive import archive_info

    if not layout.is_dir():
        raise SigningError(
            f"{where} names {digests[0]} from the OCI layout {layout}, which is not there to "
            "check again: refusing to sign (sign with `gate check --sign`, or from where the "
            "layout is)"
        )
    info = archive_info(layout, image_id if isinstance(image_id, str) else None)
    recorded = [info.manifest_digest] + ([info.index_digest] if info.index_digest else [])
    if recorded != digests:
        raise SigningError(
            f"{where} names {digests[0]}, but the OCI layout {layout} records "
            f"{info.manifest_digest or 'no manifest'} for its image: refusing to sign"
        )
    for digest in digests:
        blob = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
        try:
            data = blob.read_bytes()
        except OSError as e:
            raise SigningError(f"{where}: {blob}: {e.strerror}") from e
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise SigningError(f"{where}: {blob} does not hash to {digest}: refusing to sign")
