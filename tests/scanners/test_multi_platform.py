"""Multi-platform images (an image index, as `docker buildx --platform` pushes): gate picks
one platform's manifest from the index, trivy scans that manifest by digest, and the
verdict is bound to it, never to the index, whose other platforms nobody scanned. From a
registry on 127.0.0.1 and from an OCI layout.
"""

from __future__ import annotations

import platform
import re

import pytest

from gate.errors import UsageError
from gate.models import InputStatus, SourceRun
from gate.scanners.trivy.scan import scan_image
from tests.helpers.registry import OciRegistry
from tests.helpers.trivydb import EXPECTED
from tests.scanners.conftest import Images
from tests.scanners.test_scan_image import scan, vulns

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

# trivy scans the platform it runs on; the index holds amd64 and arm64
MINE = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]
OTHER = "arm64" if MINE == "amd64" else "amd64"


def assert_bound_to_mine(run: SourceRun, imgs: Images) -> None:
    multi = imgs.multi_oci
    assert run.status is InputStatus.OK, run.error
    assert set(vulns(run)) == set(EXPECTED["alpine"])
    assert run.subject is not None
    assert run.subject.image_id == multi.configs[MINE]
    assert run.subject.digest == multi.manifests[MINE]
    assert run.subject.digest != multi.index_digest
    assert run.facts.as_json()["platform"] == {
        "scanned": f"linux/{MINE}",
        "manifest": multi.manifests[MINE],
        "index": multi.index_digest,
        "not_scanned": [f"linux/{OTHER}"],
    }
    (warning,) = [w for w in run.warnings if "multi-platform image" in w]
    assert f"trivy scanned linux/{MINE} only" in warning
    assert f"not scanned: linux/{OTHER}" in warning


def test_by_tag(registry: OciRegistry, imgs: Images) -> None:
    run = scan(f"{registry.host}/multi:1")
    assert_bound_to_mine(run, imgs)
    assert run.subject is not None and run.subject.name == f"{registry.host}/multi"
    assert run.facts.as_json()["resolved"] == {
        "reference": f"{registry.host}/multi:1",
        "names": imgs.multi_oci.index_digest,
    }
    mine = imgs.multi_oci.manifests[MINE]
    assert run.facts.as_json()["scan"]["argv"][-1] == f"{registry.host}/multi@{mine}"


def test_by_index_digest(registry: OciRegistry, imgs: Images) -> None:
    assert_bound_to_mine(scan(f"{registry.host}/multi@{imgs.multi_oci.index_digest}"), imgs)


def test_verified_by_tag(registry: OciRegistry, imgs: Images) -> None:
    run = scan(f"{registry.host}/multi:1", verify_digest=True)
    assert_bound_to_mine(run, imgs)
    assert (
        run.facts.as_json()["digest_source"]
        == "resolved by gate, scanned by digest, tag re-checked"
    )


def test_by_platform_manifest_digest(registry: OciRegistry, imgs: Images) -> None:
    """Asked for one platform's manifest: that is one image, bound as it is."""
    mine = imgs.multi_oci.manifests[MINE]
    run = scan(f"{registry.host}/multi@{mine}")
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None and run.subject.digest == mine
    assert "platform" not in run.facts.as_json()
    assert not [w for w in run.warnings if "multi-platform" in w]


def test_oci_layout_input(imgs: Images) -> None:
    run = scan(input_path=imgs.multi_oci.path)
    assert_bound_to_mine(run, imgs)
    assert run.facts.as_json()["archive"] == {
        "format": "oci-layout",
        "manifest_digest": imgs.multi_oci.manifests[MINE],
    }


def test_single_image_is_checked_too(registry: OciRegistry, imgs: Images) -> None:
    run = scan(f"{registry.host}/app:1")
    assert run.status is InputStatus.OK, run.error
    assert "platform" not in run.facts.as_json()
    assert run.subject is not None and run.subject.digest == imgs.alpine_oci.manifest_digest


@pytest.mark.parametrize("ref", ["multi:1", "app:1"])
def test_registry_that_cannot_serve_the_digest_is_an_error(
    registry: OciRegistry, imgs: Images, ref: str
) -> None:
    """The registry serves the tag but no GET by digest: gate cannot resolve the index to a
    platform manifest (or trivy cannot fetch the manifest): an ERROR, never a verdict bound
    to the index or to what the tag named."""
    registry.fault = "by-digest-500"
    run = scan(f"{registry.host}/{ref}")
    assert run.status is InputStatus.ERROR
    assert run.subject is None
    if ref == "multi:1":
        assert "HTTP 500 (INTERNAL_ERROR)" in (run.error or "")
        assert "scan" not in run.facts.as_json()  # trivy never ran


def test_platform_picks_another_platform(registry: OciRegistry, imgs: Images) -> None:
    multi = imgs.multi_oci
    run = scan(f"{registry.host}/multi:1", platform=f"linux/{OTHER}")
    assert run.status is InputStatus.OK, run.error
    assert (
        run.facts.as_json()["scan"]["argv"][-1] == f"{registry.host}/multi@{multi.manifests[OTHER]}"
    )
    assert not [a for a in run.facts.as_json()["scan"]["argv"] if a.startswith("--platform")]
    assert run.subject is not None
    assert run.subject.image_id == multi.configs[OTHER]
    assert run.subject.digest == multi.manifests[OTHER]
    assert run.facts.as_json()["platform"]["scanned"] == f"linux/{OTHER}"
    assert run.facts.as_json()["platform"]["not_scanned"] == [f"linux/{MINE}"]


def test_platform_the_index_lacks_is_an_error(registry: OciRegistry) -> None:
    run = scan(f"{registry.host}/multi:1", platform="linux/s390x")
    assert run.status is InputStatus.ERROR
    assert "the index has no image for linux/s390x" in (run.error or "")
    assert "linux/amd64, linux/arm64" in (run.error or "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"platform": "linux"}, "expected OS/ARCH[/VARIANT]"),
        ({"platform": "linux/arm64", "input": True}, "not of an --input"),
    ],
)
def test_platform_usage_errors(imgs: Images, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        scan_image(
            None if kwargs.get("input") else "registry.example/app:1",
            input_path=imgs.alpine_tar.path if kwargs.get("input") else None,
            settings=None,
            trivy_bin=None,
            timeout=120,
            verify_digest=False,
            progress=False,
            platform=str(kwargs["platform"]),
        )
