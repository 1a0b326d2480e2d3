"""Attach a Sigstore bundle to an image as an OCI 1.1 referrer, and find the bundles attached.

`attach(ref, bundle, …)` pushes, on gate's own registry client (its auth, realms, deadline,
`--insecure` rules; a `pull,push` token scope):

1. the empty config `{}` and the bundle as blobs (POST an upload, PUT it with its digest:
   only a 201 means stored);
2. an image manifest with `artifactType` `application/vnd.dev.sigstore.bundle.v0.3+json`, one
   layer (the bundle), and `subject` = the image's manifest (its digest, media type and size,
   from the registry), PUT by the digest of the exact bytes sent;
3. when the registry's answer has no `OCI-Subject` header (no referrers API), the referrers
   tag schema cosign and oras use: the index at tag `sha256-<hex>` gets the new manifest
   (created if absent; a tag holding anything but an OCI index is refused, never replaced).

`discover(ref, …)` asks `GET /v2/<repo>/referrers/<digest>?artifactType=…`; anything but a
200 with an OCI index is "no API", and the `sha256-<hex>` tag is read instead. Each listed
manifest is fetched by digest and re-checked (its bytes hash to the digest, its `subject` is
the image, one layer of the bundle type whose blob hashes to its digest): the index says
nothing gate trusts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from gate.oci.client import MANIFEST_TYPES, MAX_DOCUMENT, RegistryClient
from gate.oci.deadline import Deadline, within
from gate.oci.errors import RegistryError
from gate.oci.reference import ImageRef

BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
MAX_REFERRERS = 50
"""The most bundles gate fetches for one image (newest listed first are not known: the
first ones listed)."""


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def fallback_tag(digest: str) -> str:
    """The referrers tag schema: `sha256:abc…` → `sha256-abc…` (`<alg>-<hex>`, truncated)."""
    algo, _, value = digest.partition(":")
    return f"{algo[:32]}-{value[:64]}"


class _Pusher:
    def __init__(self, client: RegistryClient) -> None:
        self.c = client
        self.repo = client.ref.repository
        self.name = str(client.ref.name)

    def _check(self, resp: Any, want: tuple[int, ...], what: str) -> None:
        if resp.status_code not in want:
            raise RegistryError(
                f"{self.name}: the registry answered HTTP {resp.status_code} to {what}"
                + (" (push access denied?)" if resp.status_code in (401, 403) else "")
            )

    def blob(self, data: bytes) -> dict[str, Any]:
        digest = _digest(data)
        head = self.c._request("HEAD", f"/v2/{self.repo}/blobs/{digest}", ("*/*",))
        head.close()
        if head.status_code == 200:
            return {"digest": digest, "size": len(data)}
        resp = self.c._request("POST", f"/v2/{self.repo}/blobs/uploads/", ("*/*",), b"")
        resp.close()
        self._check(resp, (202,), "starting a blob upload")
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{self.name}: the registry's upload answer has no Location")
        url = resp.url.join(location)
        if (url.scheme, url.host, url.port) != (resp.url.scheme, resp.url.host, resp.url.port):
            raise RegistryError(
                f"{self.name}: the registry sends the upload to another origin ({url.host}); "
                "gate uploads only to the registry itself"
            )
        url = url.copy_merge_params({"digest": digest})
        put = self.c._request(
            "PUT", str(url), ("*/*",), data, content_type="application/octet-stream"
        )
        put.close()
        self._check(put, (201,), f"uploading blob {digest}")
        return {"digest": digest, "size": len(data)}

    def manifest(self, reference: str, body: bytes, media_type: str) -> Any:
        resp = self.c._request(
            "PUT",
            f"/v2/{self.repo}/manifests/{reference}",
            MANIFEST_TYPES,
            body,
            content_type=media_type,
        )
        resp.close()
        self._check(resp, (201,), f"PUT manifests/{reference}")
        return resp


def _subject(client: RegistryClient, digest: str) -> dict[str, Any]:
    found = client.manifest(digest)
    if _digest(found.body) != digest:
        raise RegistryError(f"{client.ref.name}@{digest}: the registry served other bytes")
    return {"mediaType": found.content_type or MANIFEST, "digest": digest, "size": len(found.body)}


def _attach(client: RegistryClient, digest: str, bundle: bytes, created: str) -> str:
    push = _Pusher(client)
    subject = _subject(client, digest)
    config = push.blob(b"{}")
    layer = push.blob(bundle)
    annotations = {
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": "https://slsa.dev/verification_summary/v1",
        "org.opencontainers.image.created": created,
    }
    manifest = _dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": BUNDLE_TYPE,
            "config": {"mediaType": EMPTY_TYPE, **config},
            "layers": [{"mediaType": BUNDLE_TYPE, **layer}],
            "subject": subject,
            "annotations": annotations,
        }
    )
    mdigest = _digest(manifest)
    resp = push.manifest(mdigest, manifest, MANIFEST)
    if resp.headers.get("OCI-Subject") == digest:
        return mdigest
    tag = fallback_tag(digest)
    try:
        found = client.manifest(tag)
    except RegistryError as e:
        if "HTTP 404" not in str(e):
            raise
        index: dict[str, Any] = {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}
    else:
        try:
            loaded: Any = json.loads(found.body)
        except ValueError as e:
            raise RegistryError(
                f"{client.ref.name}:{tag} is not JSON; refusing to replace it"
            ) from e
        if (
            not isinstance(loaded, dict)
            or found.content_type != INDEX
            or not isinstance(loaded.get("manifests"), list)
        ):
            raise RegistryError(
                f"{client.ref.name}:{tag} holds something other than an OCI index; gate will "
                "not replace it"
            )
        index = loaded
    entries = [m for m in index["manifests"] if isinstance(m, dict)]
    if all(m.get("digest") != mdigest for m in entries):
        entries.append(
            {
                "mediaType": MANIFEST,
                "digest": mdigest,
                "size": len(manifest),
                "artifactType": BUNDLE_TYPE,
                "annotations": annotations,
            }
        )
        index["manifests"] = sorted(entries, key=lambda m: str(m.get("digest")))
        push.manifest(tag, _dumps(index), INDEX)
    return mdigest


def attach(
    ref: ImageRef,
    digest: str,
    bundle: bytes,
    *,
    created: str,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool = False,
) -> str:
    """Attach `bundle` to `ref`'s repository's image `digest`; the referrer's digest."""

    def run() -> str:
        with RegistryClient(ref, env, deadline, insecure=insecure, push=True) as client:
            return _attach(client, digest, bundle, created)

    return within(deadline, f"{ref.name}: attaching the bundle", run)


def _listed(client: RegistryClient, digest: str) -> list[str]:
    from urllib.parse import quote

    path = f"/v2/{client.ref.repository}/referrers/{digest}?artifactType={quote(BUNDLE_TYPE)}"
    resp = client._request("GET", path, (INDEX,))
    try:
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
        body = (
            client._read(resp, f"{client.ref.name}: referrers")
            if (resp.status_code == 200 and ctype == INDEX)
            else None
        )
    finally:
        resp.close()
    if body is None:
        try:
            body = client.manifest(fallback_tag(digest)).body
        except RegistryError as e:
            if "HTTP 404" in str(e):
                return []
            raise
    try:
        index = json.loads(body)
    except ValueError as e:
        raise RegistryError(f"{client.ref.name}: the referrers index is not JSON") from e
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{client.ref.name}: the referrers index has no manifests list")
    return [
        m["digest"] for m in entries if isinstance(m, dict) and isinstance(m.get("digest"), str)
    ][:MAX_REFERRERS]


def _sha256(digest: str) -> bool:
    """A well-formed `sha256:<64 hex>` digest: safe to put in a URL path."""
    return re.fullmatch(r"sha256:[0-9a-f]{64}", digest) is not None


def _bundle_of(client: RegistryClient, mdigest: str, digest: str) -> bytes | None:
    if not _sha256(mdigest):
        return None
    found = client.manifest(mdigest)
    if _digest(found.body) != mdigest:
        return None
    try:
        doc = json.loads(found.body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("subject"), dict):
        return None
    if doc["subject"].get("digest") != digest:
        return None
    layers = doc.get("layers")
    if not isinstance(layers, list) or len(layers) != 1 or not isinstance(layers[0], dict):
        return None
    layer = layers[0]
    media = layer.get("mediaType")
    if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore.bundle"):
        return None
    ldigest = layer.get("digest")
    if not isinstance(ldigest, str) or not _sha256(ldigest):
        return None
    if not isinstance(layer.get("size"), int):
        return None
    if layer["size"] > MAX_DOCUMENT:
        return None
    blob = client.blob(ldigest).body
    return blob if _digest(blob) == ldigest else None


def discover(
    ref: ImageRef,
    digest: str,
    *,
    env: Mapping[str, str] | None,
    deadline: Deadline,
    insecure: bool = False,
) -> list[bytes]:
    """The Sigstore bundles attached to `ref`'s image `digest`, each re-checked. A referrer
    that cannot be read (a registry error on its manifest or blob) is skipped like one that
    fails a check, so one broken referrer cannot hide a valid attestation; if nothing could
    be read at all, the first error is raised."""

    def run() -> list[bytes]:
        with RegistryClient(ref, env, deadline, insecure=insecure) as client:
            out = []
            errors: list[RegistryError] = []
            for mdigest in _listed(client, digest):
                try:
                    bundle = _bundle_of(client, mdigest, digest)
                except RegistryError as e:
                    errors.append(e)
                    continue
                if bundle is not None:
                    out.append(bundle)
            if not out and errors:
                raise errors[0]
            return out

    return within(deadline, f"{ref.name}: finding the attached bundles", run)
