"""`gate verify` on real public-good Sigstore bundles (tests/data/sigstore, see its
PROVENANCE.md), offline against their trusted roots, through the real sigstore verifier.

None of them is a gate attestation (they carry SLSA provenance), so a bundle whose signature
and signer hold is rejected at the next check, "predicate type": that is the proof the
signature and identity checks passed. The negative cases fail at their own check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.helpers.inproc import Ran, run

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "sigstore"
PROD = DATA / "trusted_roots" / "public-good-production.trusted_root.json"
GHA = "https://token.actions.githubusercontent.com"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
GH_CLI_SAN = (
    "https://github.com/github/artifact-attestations-workflows/"
    ".github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"
)


def verify(case: str, *args: str, root: Path | None = None) -> Ran:
    d = DATA / case
    digest = hashlib.sha256((d / "artifact").read_bytes()).hexdigest()
    trusted = root or (d / "trusted_root.json" if (d / "trusted_root.json").exists() else PROD)
    return run(
        "verify", f"example.com/app@sha256:{digest}",
        "--bundle", str(d / "bundle.sigstore.json"), "--trusted-root", str(trusted),
        "--max-age", "366d", *args,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("case", "args"),
    [
        ("conformance-dsse-rekor1-prod", ["--certificate-identity", BEACON]),
        ("conformance-dsse-rekor2-staging", ["--certificate-identity", BEACON]),
        (
            "gh-cli-github-actions-dsse-prod",
            ["--certificate-identity", GH_CLI_SAN, "--github-repo", "malancas/attest-demo"],
        ),
        (
            "conformance-dsse-rekor1-prod",
            ["--certificate-identity-regexp", r"https://github\.com/sigstore-conformance/.*"],
        ),
    ],
)
def test_real_bundles_pass_signature_and_identity(case: str, args: list[str]) -> None:
    proc = verify(case, "--certificate-oidc-issuer", GHA, *args)
    assert proc.returncode == 1, proc.stderr
    assert "rejected: predicate type: the predicate type is 'https://slsa.dev/provenance" in (
        proc.stderr
    )


@pytest.mark.parametrize(
    ("case", "args", "check", "why"),
    [
        (
            "conformance-dsse-rekor1-prod",
            [
                "--certificate-identity",
                "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main",
            ],
            "identity",
            "",
        ),
        (
            "gh-cli-github-actions-dsse-prod",
            ["--certificate-identity", GH_CLI_SAN, "--github-repo", "evil/attest-demo"],
            "identity",
            "",
        ),
        (
            "conformance-dsse-rekor1-prod",
            ["--certificate-identity-regexp", "https://evil/.*"],
            "identity",
            "no certificate identity matches",
        ),
        ("neg-dsse-invalid-sig", ["--certificate-identity", BEACON], "signature", ""),
        (
            "neg-managed-key-publickey",
            ["--certificate-identity", BEACON],
            "identity",
            "signed with a key, not a certificate",
        ),
        (
            "neg-github-tsa-only",
            ["--certificate-identity", BEACON],
            "signature",
            "not a keyless Sigstore bundle",
        ),
    ],
)
def test_real_bundles_rejected_by_their_check(
    case: str, args: list[str], check: str, why: str
) -> None:
    proc = verify(case, "--certificate-oidc-issuer", GHA, *args)
    assert proc.returncode == 1, proc.stderr
    assert f"rejected: {check}: " in proc.stderr
    assert why in proc.stderr
    assert "Traceback" not in proc.stderr


def test_wrong_issuer_is_an_identity_rejection() -> None:
    proc = verify(
        "conformance-dsse-rekor1-prod",
        "--certificate-oidc-issuer", "https://accounts.google.com",
        "--certificate-identity", BEACON,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "rejected: identity: " in proc.stderr


def test_another_trust_root_is_a_signature_rejection(tmp_path: Path) -> None:
    staging = DATA / "conformance-dsse-rekor2-staging" / "trusted_root.json"
    proc = verify(
        "conformance-dsse-rekor1-prod",
        "--certificate-oidc-issuer", GHA, "--certificate-identity", BEACON,
        root=staging,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "rejected: signature: " in proc.stderr


def test_keyless_bundle_sent_to_the_key_path_is_rejected(tmp_path: Path) -> None:
    d = DATA / "conformance-dsse-rekor1-prod"
    digest = hashlib.sha256((d / "artifact").read_bytes()).hexdigest()
    proc = run(  # no --trusted-root: with --key it is a usage error
        "verify", f"example.com/app@sha256:{digest}", "--bundle", str(d / "bundle.sigstore.json"),
        "--max-age", "366d", "--key", str(DATA / "neg-managed-key-publickey" / "key.pub"),
    )  # fmt: skip
    assert proc.returncode == 1
    assert "rejected: signature: " in proc.stderr and "--key was given" in proc.stderr


def test_no_trust_root_is_a_usage_error() -> None:
    d = DATA / "conformance-dsse-rekor1-prod"
    proc = run(
            "verify", f"example.com/app@sha256:{'a' * 64}",
            "--bundle", str(d / "bundle.sigstore.json"),
            "--certificate-oidc-issuer", GHA, "--certificate-identity", BEACON,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "needs a trust root" in proc.stderr
