"""Multi-platform images: `--all-platforms` scans every platform of the index (by its digest)
and signs the index and each platform manifest; without it gate signs the one platform
manifest it scanned, and `gate verify` on the index says why it rejects."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.inproc import Ran, run
from tests.helpers.push_registry import PushRegistry
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

ROOT = Path(__file__).resolve().parents[2]
PASSING = ["--policy", str(ROOT / "policies" / "default.yaml"), "--exceptions",
           str(ROOT / "fixtures" / "demo" / "exceptions.yaml")]  # fmt: skip


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    assert run("keygen", "--output", d / "gate").returncode == 0
    return d / "gate.key", d / "gate.pub"


@pytest.fixture
def reg(imgs: Images) -> Iterator[PushRegistry]:
    with PushRegistry({"multi": imgs.multi_oci.path}) as r:
        yield r


def subjects(bundle: Path) -> list[str]:
    doc = json.loads(bundle.read_text())
    st = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    return ["sha256:" + s["digest"]["sha256"] for s in st["subject"]]


def verify(reg: PushRegistry, digest: str, pub: Path, *args: str | Path) -> Ran:
    return run("verify", f"{reg.host}/multi@{digest}", "--key", pub, *args)


def test_all_platforms_signs_the_index_and_each_platform(
    reg: PushRegistry, imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle, verdict = tmp_path / "b.json", tmp_path / "v.json"
    proc = run(
        "check", f"{reg.host}/multi:1", "--all-platforms", *PASSING, "--json", verdict,
        "--sign", "--key", keys[0], "--bundle", bundle, "--attach",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    multi = imgs.multi_oci
    assert subjects(bundle) == [multi.index_digest, *sorted(multi.manifests.values())]
    doc = json.loads(verdict.read_text())
    scanned = sorted(i["facts"]["platform"]["scanned"] for i in doc["inputs"])
    assert scanned == ["linux/amd64", "linux/arm64"]
    for digest in (multi.index_digest, multi.manifests["arm64"]):
        ok = verify(reg, digest, keys[1])  # from the referrer attached to the index
        assert ok.returncode == 0, ok.stderr
        ok = verify(reg, digest, keys[1], "--bundle", bundle)
        assert ok.returncode == 0, ok.stderr


def test_one_platform_is_signed_alone_and_the_index_is_rejected(
    reg: PushRegistry, imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle = tmp_path / "b.json"
    proc = run(
        "check", f"{reg.host}/multi:1", "--platform", "linux/arm64", *PASSING,
        "--sign", "--key", keys[0], "--bundle", bundle,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    multi = imgs.multi_oci
    assert subjects(bundle) == [multi.manifests["arm64"]]
    ok = verify(reg, multi.manifests["arm64"], keys[1], "--bundle", bundle)
    assert ok.returncode == 0, ok.stderr
    index = verify(reg, multi.index_digest, keys[1], "--bundle", bundle)
    assert index.returncode == 1
    assert "rejected: subject digest: " in index.stderr
    assert "--all-platforms" in index.stderr


def test_all_platforms_is_for_a_registry_image(imgs: Images) -> None:
    proc = run("check", "--input", imgs.multi_oci.path, "--all-platforms", *PASSING)
    assert proc.returncode == 2
    assert "--all-platforms scans a registry IMAGE" in proc.stderr
    both = run("check", "127.0.0.1:1/x:1", "--all-platforms", "--platform", "linux/arm64")
    assert both.returncode == 2
