"""`gate verify IMAGE@sha256:…`, the deploy step: find the bundles (`--bundle`, or the
image's referrers), and accept the image only if one of them holds every check: the
signature (keyless against a trusted root, or `--key`), the signer, the payload and
predicate types, the subject digest, PASSED, the policy digest (when asked) and the age.

Exit 0 verified; 1 rejected (`VerificationRejected`, naming the check the best bundle
failed); 3 could not verify (no bundle found, the registry, an unreadable file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.attest.checks import Requirements, check_statement
from gate.errors import InputError, SigningError, VerificationRejected

__all__ = ["Requirements", "Signer", "parse_age", "verify_bundles"]

ORDER = (
    "signature",
    "identity",
    "payload type",
    "predicate type",
    "subject digest",
    "verificationResult",
    "policy digest",
    "max age",
)


@dataclass(frozen=True)
class Signer:
    """Whom to accept: a public key (`--key`), or a keyless identity with its trust root."""

    key: Path | None = None
    identity: Any = None
    """`gate.attest.keyless.Identity` for keyless bundles."""
    trusted_root: Path | None = None
    trust_config: Path | None = None
    tuf_refresh: bool = False


def _bundle_doc(raw: bytes, name: str) -> dict[str, Any]:
    from gate.common.strict_json import load_strict

    doc = load_strict(raw, name)
    if not isinstance(doc, dict):
        raise InputError(name, "not a Sigstore bundle (a JSON object)")
    return doc


def _verify_one(
    raw: bytes, name: str, signer: Signer, req: Requirements, root: Any
) -> dict[str, Any]:
    from gate.attest import keyless

    doc = _bundle_doc(raw, name)
    if signer.key is not None:
        from gate.attest.keypair import KeyProblem, verify_envelope
        from gate.common.files import FileProblem, read_regular

        if keyless.has_certificate(doc):
            raise VerificationRejected(
                "signature", f"{name} is a keyless (certificate) bundle, but --key was given"
            )
        envelope = doc.get("dsseEnvelope")
        if not isinstance(envelope, dict):
            raise VerificationRejected("signature", f"{name} holds no DSSE envelope")
        try:
            pem = read_regular(signer.key, 1 << 20, "1 MiB for a key")
        except FileProblem as e:
            raise InputError(str(signer.key), str(e)) from e
        try:
            payload_type, payload = verify_envelope(envelope, pem)
        except KeyProblem as e:
            raise InputError(str(signer.key), str(e)) from e
        except ValueError as e:
            raise VerificationRejected("signature", f"{name}: {e}") from e
    else:
        if not keyless.has_certificate(doc):
            raise VerificationRejected(
                "identity",
                f"{name} is signed with a key, not a certificate: verify it with --key PUB",
            )
        payload_type, payload = keyless.verify(raw.decode("utf-8"), root, signer.identity)
    return check_statement(payload_type, payload, req)


def verify_bundles(
    bundles: list[tuple[str, bytes]], signer: Signer, req: Requirements
) -> tuple[str, dict[str, Any]]:
    """The first bundle that holds every check (its name and statement); otherwise the
    rejection of the bundle that got furthest."""
    if not bundles:
        raise SigningError(f"no gate attestation found for {req.digest}: nothing to verify")
    root = None
    if signer.key is None:
        from gate.attest import keyless

        root = keyless.trusted_root(signer.trusted_root, signer.trust_config, signer.tuf_refresh)
    best: VerificationRejected | None = None
    for name, raw in bundles:
        if len(bundles) > 1:  # one unreadable bundle among several: a rejection of it
            try:
                _bundle_doc(raw, name)
            except InputError as e:
                if best is None:
                    best = VerificationRejected("signature", f"not a readable bundle: {e}")
                continue
        try:
            return name, _verify_one(raw, name, signer, req, root)
        except VerificationRejected as e:
            if best is None or ORDER.index(e.check) > ORDER.index(best.check):
                best = e
    assert best is not None
    if len(bundles) > 1:
        raise VerificationRejected(
            best.check, f"none of the {len(bundles)} attestations holds; the closest: {best}"
        )
    raise best


def parse_age(text: str) -> dt.timedelta:
    """`7d`, `12h`, `30m`, `3600s` → a timedelta; `ValueError` otherwise."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    value = text.strip().lower()
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise ValueError(f"not a duration: {text!r} (use 7d, 12h, 30m or 3600s)")
    seconds = int(value[:-1]) * units[value[-1]]
    if seconds <= 0 or seconds > 366 * 86400:
        raise ValueError(f"{text!r}: a duration above 0 and at most 366 days")
    return dt.timedelta(seconds=seconds)
