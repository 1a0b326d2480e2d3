"""`gate.oci.documents`: what a registry serves is read one way only, or refused."""

from __future__ import annotations

import json

import pytest

from gate.oci.documents import (
    ImageIndex,
    ImageManifest,
    Platform,
    choose,
    read_document,
    sha256,
)
from gate.oci.errors import RegistryError
from tests.helpers.scripted_registry import CONFIG, INDEX, MANIFEST

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
CFG = {"mediaType": CONFIG, "digest": D1, "size": 2}


def read(doc: object, ctype: str | None = MANIFEST) -> ImageManifest | ImageIndex:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return read_document(body, ctype, sha256(body), "reg/app@x")


def entry(digest: str, platform: dict[str, str] | None) -> dict[str, object]:
    return {"mediaType": MANIFEST, "digest": digest, "size": 1, "platform": platform}


def test_an_image_manifest() -> None:
    got = read({"schemaVersion": 2, "mediaType": MANIFEST, "config": CFG, "layers": []})
    assert isinstance(got, ImageManifest) and got.config.digest == D1


def test_an_index_without_a_media_type_in_the_body() -> None:
    got = read({"schemaVersion": 2, "manifests": [entry(D1, None)]}, INDEX)
    assert isinstance(got, ImageIndex) and got.manifests[0].platform is None


@pytest.mark.parametrize(
    ("body", "ctype", "said"),
    [
        ({"mediaType": MANIFEST, "config": CFG, "layers": [], "manifests": []}, MANIFEST,
         "both $.layers and $.manifests"),
        ({"mediaType": INDEX, "manifests": []}, MANIFEST, "but $.mediaType says"),
        ({"config": CFG, "layers": []}, "application/json", "neither the Content-Type"),
        ({"mediaType": MANIFEST, "config": CFG}, MANIFEST, "without a $.layers list"),
        ({"mediaType": INDEX}, INDEX, "without a $.manifests list"),
        ({"mediaType": INDEX, "manifests": [entry("sha256:../../x" + "a" * 57, None)]}, INDEX,
         "not a sha256 digest"),
        ({"mediaType": INDEX, "manifests": [entry(D1.upper(), None)]}, INDEX,
         "not a sha256 digest"),
        ({"mediaType": INDEX, "manifests": [{**entry(D1, None), "platform": "linux/amd64"}]},
         INDEX, "platform: not an object"),
        (b'{"mediaType":"%s","manifests":[],"Manifests":[]}' % INDEX.encode(), INDEX,
         "appears twice in one object"),
        (b'{"mediaType":"%s","config":{},"config":{},"layers":[]}' % MANIFEST.encode(),
         MANIFEST, "appears twice in one object"),
        (b"[" * 5000 + b"]" * 5000, MANIFEST, "nested too deep"),
        (b"\xff\xfe", MANIFEST, "not JSON"),
        (b"[]", MANIFEST, "not an object"),
    ],
)  # fmt: skip
def test_refused(body: object, ctype: str, said: str) -> None:
    with pytest.raises(RegistryError) as e:
        read(body, ctype)
    assert said in e.value.diagnostics()


@pytest.mark.parametrize(
    ("have", "asked", "match"),
    [
        ("linux/amd64", "linux/amd64", True),
        ("linux/amd64x", "linux/amd64", False),
        ("linux/amd64", "linux/amd", False),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm/v6", "linux/arm/v7", False),
        ("linux/arm/v7", "linux/arm", True),
        ("windows/amd64", "linux/amd64", False),
    ],
)
def test_platform_matching_is_exact(have: str, asked: str, match: bool) -> None:
    assert Platform.parse(have).matches(Platform.parse(asked)) is match


def test_choose() -> None:
    index = read(
        {"mediaType": INDEX, "manifests": [
            entry(D1, {"os": "linux", "architecture": "arm", "variant": "v6"}),
            entry(D2, {"os": "linux", "architecture": "arm", "variant": "v7"}),
        ]}, INDEX,
    )  # fmt: skip
    assert isinstance(index, ImageIndex)
    assert choose(index, Platform.parse("linux/arm/v7"), "w")[0].digest == D2
    with pytest.raises(RegistryError, match="2 entries for linux/arm"):
        choose(index, Platform.parse("linux/arm"), "w")
    with pytest.raises(RegistryError, match="no image for linux/amd64"):
        choose(index, Platform.parse("linux/amd64"), "w")
