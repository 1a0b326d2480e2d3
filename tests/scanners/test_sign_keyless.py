"""Keyless signing end to end against a Sigstore test instance on 127.0.0.1 (Fulcio with SCTs,
Rekor v1 with real inclusion proofs and signed checkpoints, a GitHub-style OIDC endpoint),
configured by a ClientTrustConfig JSON, exactly as a private-instance user would: the real
sigstore-python signer signs, the real verifier verifies. Each fault is an ERROR (exit 3)
with no bundle written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.inproc import Ran, run
from tests.helpers.push_registry import PushRegistry
from tests.helpers.sigstore_instance import IDENTITY, ISSUER, SigstoreInstance
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
DEMO_EXCEPTIONS = ROOT / "fixtures" / "demo" / "exceptions.yaml"


def gate(*args: str | Path, env: dict[str, str] | None = None) -> Ran:
    return run(*args, env=env)


@pytest.fixture(scope="module")
def instance(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SigstoreInstance, Path, Path]]:
    d = tmp_path_factory.mktemp("sigstore")
    with SigstoreInstance() as inst:
        yield (
            inst,
            inst.write_trust_config(d / "trust.json"),
            inst.write_trusted_root(d / "root.json"),
        )


@pytest.fixture
def sig(
    instance: tuple[SigstoreInstance, Path, Path],
) -> Iterator[tuple[SigstoreInstance, Path, Path]]:
    instance[0].fault = None
    yield instance
    instance[0].fault = None


@pytest.fixture(scope="module")
def saved_pass(
    imgs: Images, tmp_path_factory: pytest.TempPathFactory, trivy_bin: Path, trivy_cache: Path
) -> Path:
    from tests.helpers import trivydb

    out = tmp_path_factory.mktemp("verdict") / "v.json"
    env = {**trivydb.offline_env(trivy_cache), "GATE_TRIVY": str(trivy_bin)}
    proc = gate(
        "check", "--input", imgs.alpine_oci.path, "--policy", DEFAULT_POLICY,
        "--exceptions", DEMO_EXCEPTIONS, "--json", out, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def verify_args(digest: str, root: Path) -> list[str | Path]:
    return [
        "verify", f"127.0.0.1:5000/app@{digest}",
        "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER,
        "--trusted-root", root,
    ]  # fmt: skip


def test_check_sign_attach_then_verify_keyless(
    sig: tuple[SigstoreInstance, Path, Path], imgs: Images, tmp_path: Path
) -> None:
    inst, trust, root = sig
    ambient = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{inst.url}/oidc",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-token",
    }
    with PushRegistry({"app": imgs.alpine_oci.path}, referrers=True) as reg:
        bundle = tmp_path / "b.json"
        proc = gate(
            "check", f"{reg.host}/app:1", "--policy", DEFAULT_POLICY, "--exceptions", DEMO_EXCEPTIONS,
            "--sign", "--trust-config", trust, "--attach", "--bundle", bundle, env=ambient,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "GET /oidc" in inst.requests  # the ambient credential, as sigstore detects it
        digest = imgs.alpine_oci.manifest_digest
        ok = gate(
            "verify", f"{reg.host}/app@{digest}", "--certificate-identity", IDENTITY,
            "--certificate-oidc-issuer", ISSUER, "--trusted-root", root,
            "--github-repo", "acme/app", "--github-ref", "refs/heads/main",
        )  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        wrong = gate(
            "verify", f"{reg.host}/app@{digest}", "--certificate-identity",
            IDENTITY.replace("acme", "evil"), "--certificate-oidc-issuer", ISSUER,
            "--trusted-root", root,
        )  # fmt: skip
        assert wrong.returncode == 1
        assert "rejected: identity: " in wrong.stderr
    doc = json.loads(bundle.read_text())
    assert "certificate" in doc["verificationMaterial"]
    assert doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] == "dsse"


def test_sign_saved_verdict_with_a_token_then_verify(
    sig: tuple[SigstoreInstance, Path, Path], saved_pass: Path, imgs: Images, tmp_path: Path
) -> None:
    inst, trust, root = sig
    bundle = tmp_path / "b.json"
    for _ in range(3):  # a few entries: inclusion proofs with real audit paths
        proc = gate(
            "sign", "--verdict", saved_pass, "--trust-config", trust,
            "--identity-token", inst.token(), "--bundle", bundle,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert len(inst.log.leaves) >= 3
    ok = gate(*verify_args(imgs.alpine_oci.manifest_digest, root), "--bundle", bundle)
    assert ok.returncode == 0, ok.stderr
    # the trust config's root serves as well
    ok = gate(
        "verify", f"127.0.0.1:5000/app@{imgs.alpine_oci.manifest_digest}", "--bundle", bundle,
        "--certificate-identity-regexp", r"https://github\.com/acme/.*",
        "--certificate-oidc-issuer", ISSUER, "--trust-config", trust,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    other = gate(*verify_args("sha256:" + "4" * 64, root), "--bundle", bundle)
    assert other.returncode == 1
    assert "rejected: subject digest: " in other.stderr


FAULTS = [
    ("fulcio-down", "keyless signing failed"),
    ("fulcio-500", "keyless signing failed"),
    ("fulcio-malformed", "keyless signing failed"),
    ("fulcio-slow", "did not answer within 1s"),
    ("rekor-down", "keyless signing failed"),
    ("rekor-500", "keyless signing failed"),
    ("rekor-malformed", "keyless signing failed"),
    ("rekor-slow", "did not answer within 1s"),
    ("bad-proof", "the new bundle does not verify"),
]


@pytest.mark.parametrize(("fault", "message"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_an_error_with_nothing_written(
    sig: tuple[SigstoreInstance, Path, Path],
    saved_pass: Path,
    tmp_path: Path,
    fault: str,
    message: str,
) -> None:
    inst, trust, _ = sig
    inst.fault = fault
    inst.slow_seconds = 3.0
    out = tmp_path / "out"
    out.mkdir()
    proc = gate(
        "sign", "--verdict", saved_pass, "--trust-config", trust, "--identity-token", inst.token(),
        "--bundle", out / "b.json", "--timeout", "1",
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(out.iterdir())


OIDC_FAULTS = [
    ("oidc-down", "OIDC"),
    ("oidc-500", "OIDC"),
    ("oidc-malformed", "OIDC"),
    ("oidc-slow", "did not answer within 1s"),
]


@pytest.mark.parametrize(("fault", "message"), OIDC_FAULTS, ids=[f[0] for f in OIDC_FAULTS])
def test_oidc_endpoint_faults(
    sig: tuple[SigstoreInstance, Path, Path],
    saved_pass: Path,
    tmp_path: Path,
    fault: str,
    message: str,
) -> None:
    inst, trust, _ = sig
    inst.fault = fault
    inst.slow_seconds = 3.0
    out = tmp_path / "out"
    out.mkdir()
    ambient = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{inst.url}/oidc",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-token",
    }
    proc = gate(
        "sign", "--verdict", saved_pass, "--trust-config", trust, "--bundle", out / "b.json",
        "--timeout", "1", env=ambient,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(out.iterdir())


def test_a_token_for_another_audience(
    sig: tuple[SigstoreInstance, Path, Path], saved_pass: Path, tmp_path: Path
) -> None:
    inst, trust, _ = sig
    proc = gate(
        "sign", "--verdict", saved_pass, "--trust-config", trust,
        "--identity-token", inst.token(audience="not-sigstore"), "--bundle", tmp_path / "b.json",
    )  # fmt: skip
    assert proc.returncode == 3
    assert "the OIDC identity token is not usable" in proc.stderr
    assert not (tmp_path / "b.json").exists()


def test_the_token_from_the_environment(
    sig: tuple[SigstoreInstance, Path, Path], saved_pass: Path, imgs: Images, tmp_path: Path
) -> None:
    inst, trust, root = sig
    bundle = tmp_path / "b.json"
    token = inst.token()
    proc = gate(
        "sign", "--verdict", saved_pass, "--trust-config", trust, "--bundle", bundle,
        env={"GATE_IDENTITY_TOKEN": token},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert token not in proc.stdout + proc.stderr
    ok = gate(*verify_args(imgs.alpine_oci.manifest_digest, root), "--bundle", bundle)
    assert ok.returncode == 0, ok.stderr
