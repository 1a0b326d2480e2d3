"""`gate.oci`: reference parsing, and resolving a reference on a real registry on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gate.errors import ScannerError
from gate.oci import ImageRef, RegistryError, api_base, parse_reference
from gate.oci.binding import repo_digests, scanned_digest
from gate.oci.deadline import Deadline
from gate.oci.resolve import Resolution, resolve
from tests.helpers.registry import WRONG_DIGEST, OciRegistry
from tests.scanners.conftest import Images

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("alpine", ImageRef("docker.io", "library/alpine", "latest")),
        ("alpine:3.22", ImageRef("docker.io", "library/alpine", "3.22")),
        ("org/app:1", ImageRef("docker.io", "org/app", "1")),
        ("index.docker.io/library/alpine", ImageRef("docker.io", "library/alpine", "latest")),
        ("docker.io/alpine", ImageRef("docker.io", "library/alpine", "latest")),
        ("ghcr.io/org/team/app:v1.2", ImageRef("ghcr.io", "org/team/app", "v1.2")),
        ("localhost:5000/app:1", ImageRef("localhost:5000", "app", "1")),
        ("localhost/app", ImageRef("localhost", "app", "latest")),
        ("127.0.0.1:5000/a/b@" + D, ImageRef("127.0.0.1:5000", "a/b", None, D)),
        ("reg.example:443/app:1@" + D, ImageRef("reg.example:443", "app", "1", D)),
        ("my-reg.example/app__x/y.z-w", ImageRef("my-reg.example", "app__x/y.z-w", "latest")),
    ],
)
def test_parse_reference(text: str, want: ImageRef) -> None:
    assert parse_reference(text) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not an image reference"),
        (" alpine", "not an image reference"),
        ("Alpine", "invalid repository name"),
        ("app:bad tag", "not an image reference"),
        ("app:-x", "invalid tag"),
        ("app@sha256:abc", "invalid digest"),
        ("app@sha256:" + "A" * 64, "invalid sha256 digest"),
        ("reg.example/App/x", "invalid repository name"),
        ("reg_bad.example:x/app", "invalid registry host"),
        ("-rm", "invalid repository name"),
    ],
)
def test_parse_reference_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_reference(text)


def test_str_and_names() -> None:
    ref = parse_reference("localhost:5000/app:1@" + D)
    assert str(ref) == "localhost:5000/app:1@" + D
    assert ref.name == "localhost:5000/app"
    assert ref.reference == D
    assert parse_reference("alpine").reference == "latest"


@pytest.mark.parametrize(
    ("registry", "base"),
    [
        ("localhost:5000", "http://localhost:5000"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("docker.io", "https://registry-1.docker.io"),
        ("ghcr.io", "https://ghcr.io"),
        ("10.0.0.5:5000", "https://10.0.0.5:5000"),
        ("127.0.0.2:5000", "http://127.0.0.2:5000"),
        # names that merely look like loopback addresses are HTTPS, as any other host
        ("127.0.0.1.nip.io:5000", "https://127.0.0.1.nip.io:5000"),
        ("127.corp.example.com", "https://127.corp.example.com"),
    ],
)
def test_api_base(registry: str, base: str) -> None:
    assert api_base(registry) == base


def head_manifest(ref: ImageRef, env: dict[str, str], timeout: float = 30) -> Resolution:
    return resolve(ref, None, env=env, deadline=Deadline(timeout))


def test_resolve(registry: OciRegistry, imgs: Images) -> None:
    got = head_manifest(parse_reference(f"{registry.host}/app:1"), env={})
    assert got.manifest == got.top == imgs.alpine_oci.manifest_digest
    assert got.config == imgs.alpine_oci.image_id
    assert got.index is None
    assert registry.requests[-1] == ("GET", "/v2/app/manifests/1")


def test_resolve_refuses_a_wrong_digest_header(registry: OciRegistry) -> None:
    registry.fault = "wrong-digest"
    with pytest.raises(RegistryError, match=f"Docker-Content-Digest is {WRONG_DIGEST}"):
        head_manifest(parse_reference(f"{registry.host}/app:1"), env={})


def test_resolve_without_digest_header_hashes_the_body(registry: OciRegistry, imgs: Images) -> None:
    registry.fault = "no-digest"
    got = head_manifest(parse_reference(f"{registry.host}/app:1"), env={})
    assert got.manifest == imgs.alpine_oci.manifest_digest


@pytest.mark.parametrize(
    ("ref", "fault", "message"),
    [
        ("app:1", "manifest-500", r"HTTP 500 \(INTERNAL_ERROR\)"),
        ("app:2", None, r"HTTP 404 \(MANIFEST_UNKNOWN\)"),
        ("nope:1", None, r"HTTP 404 \(NAME_UNKNOWN\)"),
    ],
)
def test_resolve_errors(registry: OciRegistry, ref: str, fault: str, message: str) -> None:
    registry.fault = fault  # type: ignore[assignment]
    with pytest.raises(RegistryError, match=message):
        head_manifest(parse_reference(f"{registry.host}/{ref}"), env={})


def test_resolve_unreachable(imgs: Images) -> None:
    with OciRegistry({"app": imgs.alpine_oci.path}) as reg:
        ref = parse_reference(f"{reg.host}/app:1")
    with pytest.raises(RegistryError, match="cannot reach the registry"):
        head_manifest(ref, env={}, timeout=5)


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_resolve_auth(imgs: Images, tmp_path: Path, auth: str) -> None:
    with OciRegistry(
        {"app": imgs.alpine_oci.path},
        auth=auth,
        credentials=("gate", "pw-1234"),  # type: ignore[arg-type]
    ) as reg:
        ref = parse_reference(f"localhost:{reg.port}/app:1")
        with pytest.raises(RegistryError, match="HTTP 401 .*: authentication required or denied"):
            head_manifest(ref, env={"DOCKER_CONFIG": str(tmp_path)})
        with pytest.raises(RegistryError, match="HTTP 401"):
            head_manifest(ref, env={"TRIVY_USERNAME": "gate", "TRIVY_PASSWORD": "wrong"})
        ok = head_manifest(ref, env={"TRIVY_USERNAME": "x,gate", "TRIVY_PASSWORD": "y,pw-1234"})
        assert ok.manifest == imgs.alpine_oci.manifest_digest
        # the Docker config's `auths` entry, as `docker login` writes it
        auth_b64 = base64.b64encode(b"gate:pw-1234").decode()
        (tmp_path / "config.json").write_text(
            json.dumps({"auths": {f"localhost:{reg.port}": {"auth": auth_b64}}})
        )
        ok = head_manifest(ref, env={"DOCKER_CONFIG": str(tmp_path)})
        assert ok.manifest == imgs.alpine_oci.manifest_digest


def test_resolve_with_registry_token(imgs: Images) -> None:
    with OciRegistry({"app": imgs.alpine_oci.path}, auth="bearer") as reg:
        ref = parse_reference(f"localhost:{reg.port}/app:1")
        ok = head_manifest(ref, env={"TRIVY_REGISTRY_TOKEN": reg.token})
        assert ok.manifest == imgs.alpine_oci.manifest_digest
        assert ("GET", "/token") not in [(m, p.split("?")[0]) for m, p in reg.requests]


@pytest.mark.parametrize(
    "entry",
    [
        f"alpine@{D}",
        f"library/alpine@{D}",
        f"docker.io/library/alpine@{D}",
        f"index.docker.io/library/alpine@{D}",
    ],
)
def test_repo_digests_normalize_docker_hub_names(entry: str) -> None:
    ref = parse_reference("alpine:3.22")
    assert repo_digests([entry, f"ghcr.io/library/alpine@sha256:{'b' * 64}"], ref) == [D]
    assert scanned_digest(ref, [entry]) == D


def test_scanned_digest_errors() -> None:
    ref = parse_reference("reg.example/app:1")
    other = f"sha256:{'b' * 64}"
    with pytest.raises(ScannerError, match="records several digests"):
        scanned_digest(ref, [f"reg.example/app@{D}", f"reg.example/app@{other}"])
    with pytest.raises(ScannerError, match="records no digest for reg.example/app"):
        scanned_digest(ref, ["not a reference", f"reg.example/other@{D}"])
    pinned = parse_reference(f"reg.example/app@{other}")
    with pytest.raises(ScannerError, match=f"not the requested {other}"):
        scanned_digest(pinned, [f"reg.example/app@{D}"])
    assert scanned_digest(pinned, [f"reg.example/app@{D}", f"reg.example/app@{other}"]) == other


def test_token_service_answering_no_object_is_an_auth_error(imgs: Images) -> None:
    with OciRegistry({"app": imgs.alpine_oci.path}, auth="bearer") as reg:
        reg.fault = "token-not-object"
        ref = parse_reference(f"localhost:{reg.port}/app:1")
        with pytest.raises(RegistryError, match="HTTP 401"):
            head_manifest(ref, env={})


@pytest.mark.parametrize("token", ["tok-abc\ndef-123", "tok-abcé-123"])
def test_a_registry_token_that_cannot_be_a_header_is_refused_unshown(
    imgs: Images, token: str
) -> None:
    with OciRegistry({"app": imgs.alpine_oci.path}, auth="bearer") as reg:
        ref = parse_reference(f"localhost:{reg.port}/app:1")
        with pytest.raises(RegistryError, match="TRIVY_REGISTRY_TOKEN holds a line break") as e:
            head_manifest(ref, env={"TRIVY_REGISTRY_TOKEN": token})
        assert "abc" not in str(e.value.diagnostics())
