"""`gate verify --key` on bundles gate's own signer made from varied statements: each negative
case is rejected (exit 1) with the message of its own check; the statement is deterministic."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gate.attest.keypair import generate, sign_bundle
from gate.attest.statement import build_statement, statement_bytes
from tests.helpers.inproc import Ran, run

DIGEST = "sha256:" + "ab" * 32
POLICY_SHA = "cd" * 32
WHEN = "2026-12-01T10:00:00+00:00"
NOW = "2026-12-02T10:00:00+00:00"


def verdict_doc() -> dict[str, Any]:
    return {
        "result": "PASS",
        "exit_code": 0,
        "evaluated_at": WHEN,
        "policy": {"path": "gate.yaml", "sha256": POLICY_SHA, "name": "p", "exception_files": []},
        "subject": {"name": "127.0.0.1:5000/app", "digest": DIGEST},
        "inputs": [
            {"kind": "trivy", "path": "127.0.0.1:5000/app:1", "sha256": "ef" * 32, "status": "ok"}
        ],
        "exceptions": {"used": [], "unused": [], "expired": [], "expiring": []},
        "counts": {"by_decision": {"pass": 1}},
    }


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path, Path]:
    d = tmp_path_factory.mktemp("k")
    private, public = generate(None)
    other_private, other_public = generate(None)
    (d / "gate.pub").write_bytes(public)
    (d / "other.pub").write_bytes(other_public)
    return private, d / "gate.pub", d / "other.pub"


def statement(**changes: Any) -> dict[str, Any]:
    st = build_statement(verdict_doc(), "127.0.0.1:5000/app", [DIGEST], "0.1.0")
    for key, value in changes.items():
        if key in st:
            st[key] = value
        else:
            st["predicate"][key] = value
    return st


def write_bundle(tmp: Path, private: bytes, payload: bytes, name: str = "b.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(sign_bundle(payload, private, None)))
    return path


def verify(bundle: Path, pub: Path, *args: str, image: str = f"127.0.0.1:5000/app@{DIGEST}") -> Ran:
    return run("verify", image, "--bundle", bundle, "--key", pub, "--now", NOW, *args)


def test_a_good_bundle_verifies(keys: tuple[bytes, Path, Path], tmp_path: Path) -> None:
    private, pub, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    proc = verify(bundle, pub, "--policy-digest", f"sha256:{POLICY_SHA}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("verified: 127.0.0.1:5000/app@sha256:abab")


def test_statement_bytes_are_deterministic() -> None:
    a = statement_bytes(build_statement(verdict_doc(), "r/app", [DIGEST], "0.1.0"))
    b = statement_bytes(build_statement(copy.deepcopy(verdict_doc()), "r/app", [DIGEST], "0.1.0"))
    assert a == b
    st = json.loads(a)
    assert st["predicate"]["timeVerified"] == "2026-12-01T10:00:00Z"
    assert (
        st["predicate"]["resourceUri"] == f"pkg:oci/app@sha256%3A{'ab' * 32}?repository_url=r/app"
    )
    assert not any(level.startswith("SLSA_") for level in st["predicate"]["verifiedLevels"])


CASES = [
    (
        "another digest",
        {"subject": [{"name": "x", "digest": {"sha256": "99" * 32}}]},
        "subject digest",
        "not sha256:abab",
    ),
    ("FAILED", {"verificationResult": "FAILED"}, "verificationResult", "'FAILED', not PASSED"),
    (
        "predicate type",
        {"predicateType": "https://slsa.dev/provenance/v1"},
        "predicate type",
        "not https://slsa.dev/verification_summary/v1",
    ),
    ("expired", {"timeVerified": "2026-11-20T10:00:00Z"}, "max age", "more than --max-age"),
    ("future", {"timeVerified": "2027-11-20T10:00:00Z"}, "max age", "in the future"),
    (
        "statement type",
        {"_type": "https://in-toto.io/Statement/v0.1"},
        "payload type",
        "not an in-toto",
    ),
]


@pytest.mark.parametrize(("label", "changes", "check", "why"), CASES, ids=[c[0] for c in CASES])
def test_each_negative_case_names_its_check(
    keys: tuple[bytes, Path, Path],
    tmp_path: Path,
    label: str,
    changes: dict[str, Any],
    check: str,
    why: str,
) -> None:
    private, pub, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement(**changes)))
    proc = verify(bundle, pub)
    assert proc.returncode == 1, proc.stderr
    assert f"rejected: {check}: " in proc.stderr
    assert why in proc.stderr


def test_policy_digest(keys: tuple[bytes, Path, Path], tmp_path: Path) -> None:
    private, pub, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    proc = verify(bundle, pub, "--policy-digest", "sha256:" + "00" * 32)
    assert proc.returncode == 1
    assert "rejected: policy digest: the verdict's policy is sha256:cdcd" in proc.stderr


def test_tampered_payload_and_wrong_key(keys: tuple[bytes, Path, Path], tmp_path: Path) -> None:
    private, pub, other = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    doc = json.loads(bundle.read_text())
    payload = base64.b64decode(doc["dsseEnvelope"]["payload"]).replace(b"PASSED", b"PASSEd")
    doc["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    tampered = tmp_path / "t.json"
    tampered.write_text(json.dumps(doc))
    proc = verify(tampered, pub)
    assert proc.returncode == 1
    assert "rejected: signature: " in proc.stderr and "made by this key" in proc.stderr
    wrong = verify(bundle, other)
    assert wrong.returncode == 1
    assert "rejected: signature: " in wrong.stderr


def test_payload_type(keys: tuple[bytes, Path, Path], tmp_path: Path) -> None:
    from gate.attest import keypair

    private, pub, _ = keys
    body = statement_bytes(statement())
    doc = sign_bundle(body, private, None)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(private, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    sig = key.sign(keypair.pae("text/plain", body), ec.ECDSA(hashes.SHA256()))
    doc["dsseEnvelope"]["payloadType"] = "text/plain"
    doc["dsseEnvelope"]["signatures"] = [{"sig": base64.b64encode(sig).decode(), "keyid": ""}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    proc = verify(path, pub)
    assert proc.returncode == 1
    assert "rejected: payload type: " in proc.stderr


def test_a_tag_is_a_usage_error(keys: tuple[bytes, Path, Path], tmp_path: Path) -> None:
    private, pub, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    proc = verify(bundle, pub, image="127.0.0.1:5000/app:1")
    assert proc.returncode == 2
    assert "by its digest" in proc.stderr


def test_a_bundle_that_is_not_json_could_not_be_verified(
    keys: tuple[bytes, Path, Path], tmp_path: Path
) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"dsseEnvelope": ')
    proc = verify(path, keys[1])
    assert proc.returncode == 3
    assert "b.json" in proc.stderr and "not valid JSON" in proc.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--github-repo", "acme/app"],
        ["--github-ref", "refs/heads/main"],
        ["--github-workflow", "ci"],
        ["--tuf-refresh"],
        ["--trusted-root", "root.json"],
        ["--trust-config", "trust.json"],
        ["--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"],
    ],
)
def test_key_with_a_keyless_option_is_a_usage_error(
    keys: tuple[bytes, Path, Path], tmp_path: Path, extra: list[str]
) -> None:
    """--key ignores the keyless options: saying one with it is a mistake, not a silent no-op."""
    private, pub, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    proc = verify(bundle, pub, *extra)
    assert proc.returncode == 2, proc.stderr
    assert f"--key and the keyless options exclude each other: {extra[0]}" in proc.stderr


@pytest.mark.parametrize("workflow", [[], ["--github-workflow", "ci"]])
def test_github_repo_alone_is_a_usage_error(
    keys: tuple[bytes, Path, Path], tmp_path: Path, workflow: list[str]
) -> None:
    """--github-repo (even with the workflow's mutable name) would trust any branch."""
    private, _, _ = keys
    bundle = write_bundle(tmp_path, private, statement_bytes(statement()))
    proc = run(
        "verify", f"127.0.0.1:5000/app@{DIGEST}", "--bundle", bundle, "--github-repo", "acme/app",
        "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", *workflow,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--github-repo alone trusts any branch" in proc.stderr


def test_an_unreadable_bundle_among_several_is_rejected_not_fatal(
    keys: tuple[bytes, Path, Path], tmp_path: Path
) -> None:
    """One referrer that is not JSON must not hide a valid attestation next to it."""
    import datetime as dt

    from gate.attest.verify import Requirements, Signer, verify_bundles
    from gate.errors import InputError, VerificationRejected

    private, pub, _ = keys
    good = write_bundle(tmp_path, private, statement_bytes(statement())).read_bytes()
    req = Requirements(DIGEST, dt.timedelta(days=7), dt.datetime.fromisoformat(NOW))
    signer = Signer(key=pub)
    name, _ = verify_bundles([("broken", b"{not json"), ("good", good)], signer, req)
    assert name == "good"
    with pytest.raises(VerificationRejected, match="not a readable bundle"):
        verify_bundles([("broken", b"{not json"), ("also", b"[]")], signer, req)
    with pytest.raises(InputError):  # the one bundle given: could not verify (exit 3)
        verify_bundles([("broken", b"{not json")], signer, req)
