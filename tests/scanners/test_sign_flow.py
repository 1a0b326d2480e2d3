"""`gate check … --sign` then `gate verify`, end to end: the real CLI process, the real trivy,
a real key pair from `gate keygen`, and a pushable registry on 127.0.0.1 (with the OCI 1.1
referrers API, and without it: the `sha256-<hex>` tag fallback)."""

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
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
DEMO_EXCEPTIONS = ROOT / "fixtures" / "demo" / "exceptions.yaml"


def gate(*args: str | Path) -> Ran:
    return run(*args)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    proc = gate("keygen", "--output", d / "gate")
    assert proc.returncode == 0, proc.stderr
    return d / "gate.key", d / "gate.pub"


@pytest.fixture(params=[True, False], ids=["referrers-api", "tag-fallback"])
def pushreg(request: pytest.FixtureRequest, imgs: Images) -> Iterator[PushRegistry]:
    with PushRegistry({"app": imgs.alpine_oci.path}, referrers=request.param) as reg:
        yield reg


def _pass(*extra: str | Path) -> list[str | Path]:
    return ["--policy", DEFAULT_POLICY, "--exceptions", DEMO_EXCEPTIONS, *extra]


def test_sign_attach_then_verify_from_the_registry(
    pushreg: PushRegistry, imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keys
    bundle = tmp_path / "b.json"
    proc = gate(
        "check",
        f"{pushreg.host}/app:1",
        *_pass("--sign", "--key", key, "--bundle", bundle, "--attach"),
    )
    assert proc.returncode == 0, proc.stderr
    digest = imgs.alpine_oci.manifest_digest
    assert f"signed {pushreg.host}/app@{digest}" in proc.stdout
    statement = json.loads(
        base64.b64decode(json.loads(bundle.read_text())["dsseEnvelope"]["payload"])
    )
    assert statement["subject"] == [
        {"name": f"{pushreg.host}/app", "digest": {"sha256": digest.split(":")[1]}}
    ]
    if pushreg.referrers:
        assert not [t for (_, t) in pushreg.tags if t.startswith("sha256-")]
    else:
        assert (("app", "sha256-" + digest.split(":")[1])) in pushreg.tags
    ok = gate("verify", f"{pushreg.host}/app@{digest}", "--key", pub)
    assert ok.returncode == 0, ok.stderr
    assert "verified" in ok.stdout
    # the registry holds nothing for another image: could not verify (3), not a rejection
    other = gate("verify", f"{pushreg.host}/app@sha256:{'1' * 64}", "--key", pub)
    assert other.returncode == 3, other.stderr
    assert "no gate attestation found" in other.stderr


def test_fail_is_never_signed(imgs: Images, keys: tuple[Path, Path], tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    proc = gate(
        "check", "--input", imgs.alpine_oci.path, "--policy", DEFAULT_POLICY,
        "--sign", "--key", keys[0], "--bundle", bundle,
    )  # fmt: skip
    assert proc.returncode == 1  # the FAIL's own exit code: not an ERROR a CI may let through
    assert "not signed: the verdict is FAIL" in proc.stderr
    assert not bundle.exists()
    assert not list(tmp_path.iterdir())


def test_docker_archive_without_a_digest_is_never_signed(
    imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle = tmp_path / "b.json"
    proc = gate(
        "check",
        "--input",
        imgs.alpine_tar.path,
        *_pass("--sign", "--key", keys[0], "--bundle", bundle),
    )
    assert proc.returncode == 3
    assert "names no manifest digest (a docker-archive records none" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_attach_fault_writes_no_bundle(
    imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    with PushRegistry({"app": imgs.alpine_oci.path}) as reg:
        reg.fault = "put-500"
        bundle = tmp_path / "b.json"
        proc = gate(
            "check",
            f"{reg.host}/app:1",
            *_pass("--sign", "--key", keys[0], "--bundle", bundle, "--attach"),
        )
    assert proc.returncode == 3
    assert "--attach" in proc.stderr and "HTTP 500" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_sign_later_from_a_saved_verdict(
    imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    saved = tmp_path / "v.json"
    proc = gate("check", "--input", imgs.alpine_oci.path, *_pass("--json", saved))
    assert proc.returncode == 0, proc.stderr
    bundle = tmp_path / "b.json"
    signed = gate("sign", "--verdict", saved, "--key", keys[0], "--bundle", bundle)
    assert signed.returncode == 0, signed.stderr
    digest = imgs.alpine_oci.manifest_digest
    ok = gate("verify", f"app@{digest}", "--bundle", bundle, "--key", keys[1])
    assert ok.returncode == 0, ok.stderr
    # too old for --max-age: refused, nothing written
    doc = json.loads(saved.read_text())
    later = "2099-01-01T00:00:00+00:00"
    old = gate(
        "sign",
        "--verdict",
        saved,
        "--key",
        keys[0],
        "--bundle",
        tmp_path / "c.json",
        "--now",
        later,
    )
    assert old.returncode == 3
    assert "more than --max-age" in old.stderr and doc["evaluated_at"] in old.stderr
    assert not (tmp_path / "c.json").exists()
    # a verdict that is not gate's (the schema): refused
    doc["result"] = "MAYBE"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    refused = gate("sign", "--verdict", bad, "--key", keys[0], "--bundle", tmp_path / "d.json")
    assert refused.returncode == 3
    assert "not a gate JSON verdict" in refused.stderr and "/result" in refused.stderr
    assert not (tmp_path / "d.json").exists()


FORGED = "sha256:" + "1" * 64


def _forge(saved: Path, real: str, tmp_path: Path) -> Path:
    """The saved verdict with its digest replaced everywhere (the claims edited to match)."""
    text = saved.read_text()
    assert real in text
    forged = tmp_path / "forged.json"
    forged.write_text(text.replace(real, FORGED))
    return forged


def test_a_saved_registry_verdict_is_checked_again_in_the_registry(
    imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    saved = tmp_path / "v.json"
    with PushRegistry({"app": imgs.alpine_oci.path}) as reg:
        host = reg.host
        proc = gate("check", f"{host}/app:1", *_pass("--json", saved))
        assert proc.returncode == 0, proc.stderr
        ok = gate("sign", "--verdict", saved, "--key", keys[0], "--bundle", tmp_path / "b.json")
        assert ok.returncode == 0, ok.stderr
        forged = _forge(saved, imgs.alpine_oci.manifest_digest, tmp_path)
        refused = gate(
            "sign", "--verdict", forged, "--key", keys[0], "--bundle", tmp_path / "c.json"
        )
    assert refused.returncode == 3
    assert f"names {FORGED}, which gate could not find again in {host}/app" in refused.stderr
    assert not (tmp_path / "c.json").exists()


def test_a_saved_layout_verdict_is_checked_again_in_the_layout(
    imgs: Images, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    saved = tmp_path / "v.json"
    proc = gate("check", "--input", imgs.alpine_oci.path, *_pass("--json", saved))
    assert proc.returncode == 0, proc.stderr
    forged = _forge(saved, imgs.alpine_oci.manifest_digest, tmp_path)
    refused = gate("sign", "--verdict", forged, "--key", keys[0], "--bundle", tmp_path / "c.json")
    assert refused.returncode == 3
    assert f"names {FORGED}, but the OCI layout" in refused.stderr
    assert not (tmp_path / "c.json").exists()
    # a claim gate cannot check again: the layout gone
    doc = json.loads(saved.read_text())
    doc["inputs"][0]["path"] = str(tmp_path / "gone")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(doc))
    refused = gate("sign", "--verdict", moved, "--key", keys[0], "--bundle", tmp_path / "d.json")
    assert refused.returncode == 3
    assert "which is not there to check again" in refused.stderr
