"""`scan_image` on registry images: gate resolves the reference on a real registry on
127.0.0.1, trivy scans that manifest by digest, and the verdict names it."""

from __future__ import annotations

import pytest

from gate.models import InputStatus
from gate.scanners.trivy.scan import scan_image
from tests.helpers.registry import WRONG_DIGEST, OciRegistry
from tests.helpers.trivydb import EXPECTED
from tests.scanners.conftest import Images
from tests.scanners.test_scan_image import scan, vulns

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]


def test_by_tag_records_the_registry_digest(registry: OciRegistry, imgs: Images) -> None:
    ref = f"{registry.host}/app:1"
    before = len(registry.requests)
    run = scan(ref)
    assert run.status is InputStatus.OK, run.error
    assert run.path == ref
    assert set(vulns(run)) == set(EXPECTED["alpine"])
    assert run.subject is not None
    assert run.subject.name == f"{registry.host}/app"
    assert run.subject.digest == imgs.alpine_oci.manifest_digest
    assert run.subject.image_id == imgs.alpine_oci.image_id
    assert run.facts.as_json()["digest_source"] == "resolved by gate, scanned by digest"
    digest = imgs.alpine_oci.manifest_digest
    assert run.facts.as_json()["scan"]["argv"][-3:] == [
        "--image-src=remote",
        "--",
        f"{ref.split(':1')[0]}@{digest}",
    ]
    made = registry.requests[before:]
    assert made[0] == ("GET", "/v2/app/manifests/1")  # gate resolved the tag
    assert ("GET", f"/v2/app/manifests/{digest}") in made[1:]  # trivy pulled that digest
    assert ("GET", "/v2/app/manifests/1") not in made[1:]
    assert not [r for r in made if r[0] == "HEAD"]  # no verification asked


def test_verify_digest_heads_the_manifest(registry: OciRegistry, imgs: Images) -> None:
    run = scan(f"{registry.host}/team/deb:1", verify_digest=True)
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None
    assert run.subject.name == f"{registry.host}/team/deb"
    assert run.subject.digest == imgs.debian_oci.manifest_digest
    assert ("HEAD", "/v2/team/deb/manifests/1") in registry.requests
    assert (
        run.facts.as_json()["digest_source"]
        == "resolved by gate, scanned by digest, tag re-checked"
    )


def test_localhost_name(registry: OciRegistry, imgs: Images) -> None:
    run = scan(f"localhost:{registry.port}/app:1", verify_digest=True)
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None
    assert run.subject.name == f"localhost:{registry.port}/app"
    assert run.subject.digest == imgs.alpine_oci.manifest_digest


def test_by_digest(registry: OciRegistry, imgs: Images) -> None:
    digest = imgs.alpine_oci.manifest_digest
    run = scan(f"{registry.host}/app@{digest}", verify_digest=True)
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None
    assert run.subject.digest == digest
    assert run.subject.repo_tags == ()


def test_unknown_digest_is_an_error(registry: OciRegistry) -> None:
    run = scan(f"{registry.host}/app@sha256:{'1' * 64}")
    assert run.status is InputStatus.ERROR
    assert "HTTP 404 (MANIFEST_UNKNOWN)" in (run.error or "")
    assert "scan" not in run.facts.as_json()  # gate's resolution failed: trivy never ran


def test_unknown_repository_is_an_error(registry: OciRegistry) -> None:
    run = scan(f"{registry.host}/nope:1")
    assert run.status is InputStatus.ERROR
    assert "NAME_UNKNOWN" in (run.error or "")


def test_registry_500_is_an_error(registry: OciRegistry) -> None:
    registry.fault = "manifest-500"
    run = scan(f"{registry.host}/app:1")
    assert run.status is InputStatus.ERROR
    assert "INTERNAL_ERROR" in (run.error or "")


@pytest.mark.parametrize("verify", [True, False])
def test_wrong_content_digest_is_an_error(registry: OciRegistry, verify: bool) -> None:
    """The registry's Docker-Content-Digest contradicts the bytes it served: refused before
    trivy runs, verified or not."""
    registry.fault = "wrong-digest"
    run = scan(f"{registry.host}/app:1", verify_digest=verify)
    assert run.status is InputStatus.ERROR
    assert f"Docker-Content-Digest is {WRONG_DIGEST}" in (run.error or "")
    assert "scan" not in run.facts.as_json()


def test_registry_down_is_an_error(imgs: Images) -> None:
    with OciRegistry({"app": imgs.alpine_oci.path}) as reg:
        ref = f"{reg.host}/app:1"
    run = scan(ref)  # the registry is gone: connection refused
    assert run.status is InputStatus.ERROR
    assert "connection refused" in (run.error or "").lower()


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_credentials_pass_through(imgs: Images, monkeypatch: pytest.MonkeyPatch, auth: str) -> None:
    with OciRegistry(
        {"app": imgs.alpine_oci.path},
        auth=auth,
        credentials=("gate", "s3cret-pass"),  # type: ignore[arg-type]
    ) as reg:
        ref = f"localhost:{reg.port}/app:1"
        denied = scan(ref, verify_digest=True)
        assert denied.status is InputStatus.ERROR
        assert "UNAUTHORIZED" in (denied.error or "") or "401" in (denied.error or "")
        monkeypatch.setenv("TRIVY_USERNAME", "gate")
        monkeypatch.setenv("TRIVY_PASSWORD", "s3cret-pass")
        run = scan(ref, verify_digest=True)
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None
    assert run.subject.digest == imgs.alpine_oci.manifest_digest
    assert "s3cret-pass" not in str(run.model_dump())


def test_wrong_password_is_an_error_and_redacted(
    imgs: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OciRegistry(
        {"app": imgs.alpine_oci.path}, auth="basic", credentials=("gate", "right-pass")
    ) as reg:
        monkeypatch.setenv("TRIVY_USERNAME", "gate")
        monkeypatch.setenv("TRIVY_PASSWORD", "wrong-pass-123")
        run = scan_image(
            f"{reg.host}/app:1",
            input_path=None,
            settings=None,
            trivy_bin=None,
            timeout=60,
            verify_digest=True,
            progress=False,
        )
    assert run.status is InputStatus.ERROR
    assert "wrong-pass-123" not in str(run.model_dump())
