"""Hostile registries against the digest binding, with the real trivy.

One config X whose `diff_ids` name a vulnerable layer; manifest S pairs X with a clean
layer, manifest V with the vulnerable one (trivy does not check layers against
`diff_ids`, so both have trivy's `ImageID` X). A registry that can push both tries to make
gate name V while trivy scanned S. Every test compares what trivy fetched (the registry's
log, told apart by User-Agent) with the digest the verdict names: each case is an ERROR,
or binds to exactly the manifest trivy fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from gate.models import InputStatus, SourceRun
from tests.helpers import images
from tests.helpers.scripted_registry import (
    CONFIG,
    INDEX,
    LAYER,
    MANIFEST,
    ScriptedRegistry,
    sha,
)
from tests.scanners.conftest import offline, real_trivy, trivy_bin, trivy_cache  # noqa: F401
from tests.scanners.test_scan_image import scan

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("offline", "real_trivy")]

AMD64 = {"os": "linux", "architecture": "amd64"}


class SV(NamedTuple):
    config: str
    s: bytes
    v: bytes

    @property
    def s_digest(self) -> str:
        return sha(self.s)

    @property
    def v_digest(self) -> str:
        return sha(self.v)


def _descriptor(media: str, data: bytes, **extra: object) -> dict[str, object]:
    return {"mediaType": media, "digest": sha(data), "size": len(data), **extra}


def image_manifest(config: bytes, layer: bytes, **extra: object) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": _descriptor(CONFIG, config),
        "layers": [_descriptor(LAYER, layer)],
        **extra,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def index(*entries: tuple[bytes, dict[str, str] | None]) -> bytes:
    manifests = [
        _descriptor(MANIFEST, body, **({"platform": p} if p is not None else {}))
        for body, p in entries
    ]
    doc = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
    return json.dumps(doc, separators=(",", ":")).encode()


def push_sv(reg: ScriptedRegistry) -> SV:
    clean = images.layer_tar({k: v for k, v in images.files("alpine").items() if "etc/" in k})
    vulnerable = images.layer_tar(images.files("alpine"))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha(vulnerable)]},
        },
        separators=(",", ":"),
    ).encode()
    for blob in (clean, vulnerable, config):
        reg.blob(blob)
    s, v = image_manifest(config, clean), image_manifest(config, vulnerable)
    reg.manifest(s)
    reg.manifest(v)
    return SV(sha(config), s, v)


@pytest.fixture
def reg() -> Iterator[ScriptedRegistry]:
    with ScriptedRegistry() as r:
        yield r


@pytest.fixture
def sv(reg: ScriptedRegistry) -> SV:
    return push_sv(reg)


def trivy_fetched(reg: ScriptedRegistry) -> set[str]:
    """The manifests trivy fetched (digests or tags)."""
    return {r.path.rsplit("/", 1)[-1] for r in reg.by_trivy() if "/manifests/" in r.path}


def assert_bound_to_what_trivy_fetched(run: SourceRun, reg: ScriptedRegistry) -> str:
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None and run.subject.digest is not None
    assert trivy_fetched(reg) == {run.subject.digest}
    return run.subject.digest


def assert_error_and_trivy_fetched_nothing(
    run: SourceRun, reg: ScriptedRegistry, text: str
) -> None:
    assert run.status is InputStatus.ERROR
    assert text in (run.error or ""), run.error
    assert run.subject is None
    assert trivy_fetched(reg) == set()


def test_the_fixture_itself_s_is_clean_and_v_is_not(reg: ScriptedRegistry, sv: SV) -> None:
    """S and V share trivy's ImageID; only V has findings."""
    s = scan(f"{reg.netloc}/app@{sv.s_digest}")
    v = scan(f"{reg.netloc}/app@{sv.v_digest}")
    assert s.subject is not None and v.subject is not None
    assert s.subject.image_id == v.subject.image_id == sv.config
    assert not s.findings and v.findings
    assert s.subject.digest == sv.s_digest and v.subject.digest == sv.v_digest


@pytest.mark.parametrize("content_type", [MANIFEST, INDEX, None])
def test_polyglot_manifest_is_an_error(
    reg: ScriptedRegistry, sv: SV, content_type: str | None
) -> None:
    """An image manifest that also carries a `manifests` list naming V (CVE-2021-41190)."""
    v_entry = json.loads(index((sv.v, AMD64)))["manifests"]
    doc = json.loads(sv.s)
    doc["manifests"] = v_entry
    if content_type == INDEX:
        doc["mediaType"] = INDEX
    reg.manifest(json.dumps(doc).encode(), content_type, tag="poly")
    run = scan(f"{reg.netloc}/app:poly", platform="linux/amd64")
    assert_error_and_trivy_fetched_nothing(run, reg, "both $.layers and $.manifests")


def test_media_type_and_content_type_disagreeing_is_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    reg.manifest(index((sv.s, AMD64)), MANIFEST, tag="two")
    run = scan(f"{reg.netloc}/app:two")
    assert_error_and_trivy_fetched_nothing(run, reg, f"served as {MANIFEST} but $.mediaType")


def test_platformless_entry_is_linux_amd64_as_for_trivy(reg: ScriptedRegistry, sv: SV) -> None:
    """`[{no platform} → S, {linux/amd64} → V]`: two entries for linux/amd64."""
    reg.manifest(index((sv.s, None), (sv.v, AMD64)), INDEX, tag="pl")
    run = scan(f"{reg.netloc}/app:pl", platform="linux/amd64")
    assert_error_and_trivy_fetched_nothing(run, reg, "the index has 2 entries for linux/amd64")


def test_a_lone_platformless_entry_binds_to_what_trivy_scanned(
    reg: ScriptedRegistry, sv: SV
) -> None:
    reg.manifest(index((sv.v, None)), INDEX, tag="lone")
    run = scan(f"{reg.netloc}/app:lone", platform="linux/amd64")
    assert assert_bound_to_what_trivy_fetched(run, reg) == sv.v_digest
    assert run.findings


def test_look_alike_platform_is_not_the_platform(reg: ScriptedRegistry, sv: SV) -> None:
    """`[{linux/amd64x} → V, {linux/amd64} → S]`: amd64x is another platform."""
    look_alike = {"os": "linux", "architecture": "amd64x"}
    reg.manifest(index((sv.v, look_alike), (sv.s, AMD64)), INDEX, tag="la")
    run = scan(f"{reg.netloc}/app:la", platform="linux/amd64")
    assert assert_bound_to_what_trivy_fetched(run, reg) == sv.s_digest
    assert not run.findings
    assert run.facts.as_json()["platform"]["not_scanned"] == ["linux/amd64x"]


def test_duplicate_platform_entries_are_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    reg.manifest(index((sv.s, AMD64), (sv.v, AMD64)), INDEX, tag="dup")
    run = scan(f"{reg.netloc}/app:dup", platform="linux/amd64")
    assert_error_and_trivy_fetched_nothing(run, reg, "the index has 2 entries for linux/amd64")


def test_wrong_docker_content_digest_is_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    reg.manifest(sv.s, tag="wrong", digest=sv.v_digest)
    run = scan(f"{reg.netloc}/app:wrong")
    assert_error_and_trivy_fetched_nothing(run, reg, f"Docker-Content-Digest is {sv.v_digest}")


def test_body_that_is_not_the_digest_asked_for_is_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    reg.answers[sv.v_digest] = reg.answers[sv.s_digest]  # asked for V, serves S
    run = scan(f"{reg.netloc}/app@{sv.v_digest}")
    assert_error_and_trivy_fetched_nothing(
        run, reg, f"@{sv.v_digest}: the registry served bytes whose sha256 is {sv.s_digest}"
    )


def test_registry_error_on_gates_own_call_never_binds_the_index(
    reg: ScriptedRegistry, sv: SV
) -> None:
    """amd64 clean, arm64 vulnerable, the platform manifest fails: ERROR, no index digest."""
    arm64 = {"os": "linux", "architecture": "arm64"}
    top = reg.manifest(index((sv.s, AMD64), (sv.v, arm64)), INDEX, tag="multi")
    reg.answers[sv.s_digest].status = 500
    run = scan(f"{reg.netloc}/app:multi", platform="linux/amd64")
    assert_error_and_trivy_fetched_nothing(run, reg, "HTTP 500")
    assert top not in json.dumps(run.model_dump(mode="json"))


def test_index_binds_the_platform_manifest_trivy_fetched(reg: ScriptedRegistry, sv: SV) -> None:
    arm64 = {"os": "linux", "architecture": "arm64"}
    top = reg.manifest(index((sv.s, AMD64), (sv.v, arm64)), INDEX, tag="multi")
    run = scan(f"{reg.netloc}/app:multi", platform="linux/arm64")
    assert assert_bound_to_what_trivy_fetched(run, reg) == sv.v_digest
    assert run.facts.as_json()["platform"]["index"] == top
    assert run.subject is not None and run.subject.digest != top


def test_platform_asked_of_a_single_platform_image_of_another_is_an_error(
    reg: ScriptedRegistry, sv: SV
) -> None:
    """`--platform linux/arm64` on a single-platform amd64 image (issue 9)."""
    reg.manifest(sv.s, tag="amd")
    run = scan(f"{reg.netloc}/app:amd", platform="linux/arm64")
    assert_error_and_trivy_fetched_nothing(
        run,
        reg,
        "--platform linux/arm64 was asked for, but this single-platform image is for linux/amd64",
    )
    ok = scan(f"{reg.netloc}/app:amd", platform="linux/amd64")
    assert assert_bound_to_what_trivy_fetched(ok, reg) == sv.s_digest
    assert ok.facts.as_json()["platform"] == {"scanned": "linux/amd64", "manifest": sv.s_digest}


def test_a_moved_tag_does_not_move_the_binding(reg: ScriptedRegistry, sv: SV) -> None:
    """The tag names V by the time trivy would pull it: trivy pulls by digest, so S."""
    reg.manifest(sv.s, tag="moving")
    run = scan(f"{reg.netloc}/app:moving")
    reg.manifest(sv.v, tag="moving")
    assert assert_bound_to_what_trivy_fetched(run, reg) == sv.s_digest
    again = scan(f"{reg.netloc}/app:moving", verify_digest=True)
    assert again.status is InputStatus.OK and again.subject is not None
    assert again.subject.digest == sv.v_digest


def test_a_tag_moved_during_the_scan_is_an_error_with_verify_digest(
    reg: ScriptedRegistry, sv: SV
) -> None:
    """The tag names S when gate resolves it and V by the end of the scan: without
    --verify-digest the verdict names S (what trivy scanned); with it, an ERROR."""
    reg.manifest(sv.s, tag="moving")
    reg.moves["moving"] = sv.v_digest
    run = scan(f"{reg.netloc}/app:moving")
    assert assert_bound_to_what_trivy_fetched(run, reg) == sv.s_digest
    reg.manifest(sv.s, tag="moving")
    reg.moves["moving"] = sv.v_digest
    run = scan(f"{reg.netloc}/app:moving", verify_digest=True)
    assert run.status is InputStatus.ERROR
    assert f"names {sv.v_digest} after the scan" in (run.error or ""), run.error


def test_only_exact_unknown_unknown_entries_are_not_images(reg: ScriptedRegistry, sv: SV) -> None:
    """A platform whose name merely contains `unknown` is an image --all-platforms must scan;
    only BuildKit's `unknown/unknown` attestation entries are skipped."""
    from gate.oci import parse_reference
    from gate.oci.deadline import Deadline
    from gate.oci.resolve import index_platforms

    odd = {"os": "linux", "architecture": "arm64", "variant": "unknown"}
    attestation = {"os": "unknown", "architecture": "unknown"}
    reg.manifest(index((sv.s, AMD64), (sv.v, odd), (sv.s, attestation)), INDEX, tag="odd")
    ref = parse_reference(f"{reg.netloc}/app:odd")
    _, platforms = index_platforms(ref, env={}, deadline=Deadline(10), insecure=True)
    assert platforms == ("linux/amd64", "linux/arm64/unknown")
