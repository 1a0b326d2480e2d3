"""`gate.oci.referrers` against a pushable registry on 127.0.0.1: attach and discover through
the referrers API and through the `sha256-<hex>` tag fallback, with Basic auth, and what it
refuses (a fallback tag that is not an index, a referrer that is not about the image)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.oci import parse_reference
from gate.oci.deadline import Deadline
from gate.oci.errors import RegistryError
from gate.oci.referrers import attach, discover, fallback_tag
from tests.helpers import images
from tests.helpers.push_registry import PushRegistry

BUNDLE = b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}'


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> images.Image:
    return images.oci_layout(tmp_path_factory.mktemp("img") / "app", tag="app:1")


@pytest.fixture(params=[True, False], ids=["referrers-api", "tag-fallback"])
def reg(request: pytest.FixtureRequest, layout: images.Image) -> Iterator[PushRegistry]:
    with PushRegistry({"app": layout.path}, referrers=request.param) as r:
        yield r


def _attach(reg: PushRegistry, digest: str, bundle: bytes = BUNDLE, **kw: object) -> str:
    env = kw.pop("env", {})
    return attach(
        parse_reference(f"{reg.host}/app"),
        digest,
        bundle,
        created="2026-12-01T00:00:00Z",
        env=env,  # type: ignore[arg-type]
        deadline=Deadline(10),
    )


def _discover(reg: PushRegistry, digest: str, env: dict[str, str] | None = None) -> list[bytes]:
    return discover(
        parse_reference(f"{reg.host}/app"), digest, env=env or {}, deadline=Deadline(10)
    )


def test_attach_then_discover(reg: PushRegistry, layout: images.Image) -> None:
    digest = layout.manifest_digest
    first = _attach(reg, digest)
    again = _attach(reg, digest)  # the same bundle and time: the same referrer, listed once
    assert first == again
    second = _attach(reg, digest, BUNDLE + b" ")
    assert sorted(_discover(reg, digest)) == sorted([BUNDLE, BUNDLE + b" "])
    assert second != first
    manifest = json.loads(reg.manifests[("app", first)][1])
    assert manifest["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert manifest["subject"]["digest"] == digest
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    fallback = ("app", fallback_tag(digest)) in reg.tags
    assert fallback is not reg.referrers
    assert _discover(reg, "sha256:" + "5" * 64) == []


def test_basic_auth(layout: images.Image) -> None:
    with PushRegistry({"app": layout.path}, credentials=("gate", "s3cret")) as reg:
        env = {"TRIVY_USERNAME": "gate", "TRIVY_PASSWORD": "s3cret"}
        _attach(reg, layout.manifest_digest, env=env)
        assert _discover(reg, layout.manifest_digest, env) == [BUNDLE]
        with pytest.raises(RegistryError) as info:
            _attach(reg, layout.manifest_digest, env={})
        assert "401" in str(info.value)
        assert "s3cret" not in str(info.value)


def test_bearer_token_with_push_scope(layout: images.Image) -> None:
    with PushRegistry({"app": layout.path}, bearer=True, referrers=False) as reg:
        _attach(reg, layout.manifest_digest)
        assert _discover(reg, layout.manifest_digest) == [BUNDLE]
        assert ("GET", "/token?scope=repository%3Aapp%3Apull%2Cpush&service=gate-test") in (
            reg.requests
        )


def test_a_fallback_tag_that_is_not_an_index_is_never_replaced(layout: images.Image) -> None:
    with PushRegistry({"app": layout.path}, referrers=False) as reg:
        tag = fallback_tag(layout.manifest_digest)
        reg.tags[("app", tag)] = layout.manifest_digest  # the tag names an image manifest
        with pytest.raises(RegistryError, match="other than an OCI index"):
            _attach(reg, layout.manifest_digest)
        assert reg.tags[("app", tag)] == layout.manifest_digest


def test_a_listed_referrer_about_another_image_is_ignored(
    reg: PushRegistry, layout: images.Image
) -> None:
    digest = layout.manifest_digest
    _attach(reg, digest)
    # a hostile registry lists a manifest whose subject is another image
    other = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "x", "size": 2},
            "layers": [],
            "subject": {"digest": "sha256:" + "6" * 64},
        }
    ).encode()
    odigest = "sha256:" + hashlib.sha256(other).hexdigest()
    reg.manifests[("app", odigest)] = ("application/vnd.oci.image.manifest.v1+json", other)
    if reg.referrers:
        reg.refs[("app", digest)][odigest] = {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": odigest,
            "size": len(other),
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        }
    else:
        tag = ("app", fallback_tag(digest))
        index = json.loads(reg.manifests[("app", reg.tags[tag])][1])
        index["manifests"].append({"digest": odigest, "mediaType": "x", "size": len(other)})
        body = json.dumps(index).encode()
        ndigest = "sha256:" + hashlib.sha256(body).hexdigest()
        reg.manifests[("app", ndigest)] = ("application/vnd.oci.image.index.v1+json", body)
        reg.tags[tag] = ndigest
    assert _discover(reg, digest) == [BUNDLE]


def test_an_unreachable_registry(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot reach"):
        attach(
            parse_reference("127.0.0.1:9/app"),
            "sha256:" + "7" * 64,
            BUNDLE,
            created="2026-12-01T00:00:00Z",
            env={},
            deadline=Deadline(5),
        )


def test_an_unreadable_referrer_does_not_hide_a_readable_one(
    reg: PushRegistry, layout: images.Image
) -> None:
    digest = layout.manifest_digest
    first = _attach(reg, digest)
    second = _attach(reg, digest, BUNDLE + b" ")
    third = _attach(reg, digest, BUNDLE + b"  ")
    del reg.blobs["sha256:" + hashlib.sha256(BUNDLE).hexdigest()]  # GET blob: 404
    del reg.manifests[("app", third)]  # GET manifest: 404
    assert _discover(reg, digest) == [BUNDLE + b" "]
    # nothing readable at all: the registry's error, not "no attestation"
    del reg.manifests[("app", second)]
    with pytest.raises(RegistryError, match="HTTP 404"):
        _discover(reg, digest)
    assert first


def test_a_listed_digest_that_is_not_sha256_is_never_requested(
    reg: PushRegistry, layout: images.Image
) -> None:
    digest = layout.manifest_digest
    _attach(reg, digest)
    bad = "sha256:../../../v2/other/manifests/x"
    if reg.referrers:
        reg.refs[("app", digest)][bad] = {
            "mediaType": "x",
            "digest": bad,
            "size": 1,
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        }
    else:
        tag = ("app", fallback_tag(digest))
        index = json.loads(reg.manifests[("app", reg.tags[tag])][1])
        index["manifests"].insert(0, {"digest": bad, "mediaType": "x", "size": 1})
        body = json.dumps(index).encode()
        ndigest = "sha256:" + hashlib.sha256(body).hexdigest()
        reg.manifests[("app", ndigest)] = ("application/vnd.oci.image.index.v1+json", body)
        reg.tags[tag] = ndigest
    before = len(reg.requests)
    assert _discover(reg, digest) == [BUNDLE]
    assert not [path for _, path in reg.requests[before:] if "other" in path or ".." in path]
