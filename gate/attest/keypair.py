"""Key-pair signing for air-gapped users, on `cryptography` (sigstore-python signs only
keyless): ECDSA P-256 with SHA-256 over the DSSE pre-authentication encoding, a DER
signature, in a Sigstore bundle v0.3 whose verification material is a public-key hint
(the sha256 of the key's SubjectPublicKeyInfo, as sigstore-go writes it) and no
transparency-log entry. That is what cosign v3 writes for `--key` without a log, so
`cosign verify-blob-attestation --bundle B --key gate.pub --insecure-ignore-tlog` reads it.

Private keys are PKCS#8 PEM (what `gate keygen` writes, and what `cosign import-key-pair`
imports), encrypted when `GATE_KEY_PASSWORD` is set; public keys are SubjectPublicKeyInfo PEM.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from gate.attest.statement import PAYLOAD_TYPE

BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


class KeyProblem(ValueError):
    """A key cannot be read or used: the message says why, never the key or its password."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def generate(password: bytes | None) -> tuple[bytes, bytes]:
    """A new P-256 key pair: (PKCS#8 PEM private key, SPKI PEM public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _load_private(pem: bytes, password: bytes | None) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(pem, password)
    except TypeError as e:  # encrypted without a password, or a password for a plain key
        raise KeyProblem(
            "the key is encrypted: set GATE_KEY_PASSWORD"
            if password is None
            else "the key is not encrypted, but GATE_KEY_PASSWORD is set"
        ) from e
    except ValueError as e:
        raise KeyProblem(
            "not a PEM private key gate can read, or the wrong GATE_KEY_PASSWORD"
        ) from e
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyProblem("not an ECDSA P-256 private key (gate keygen makes one)")
    return key


def load_public(pem: bytes) -> Any:
    """An ECDSA P-256 public key from SPKI PEM; `KeyProblem` otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise KeyProblem("not a PEM public key") from e
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyProblem("not an ECDSA P-256 public key")
    return key


def key_hint(public_key: Any) -> str:
    """sigstore-go's default hint: base64 of the sha256 of the SubjectPublicKeyInfo DER."""
    from cryptography.hazmat.primitives import serialization

    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def sign_bundle(statement: bytes, private_pem: bytes, password: bytes | None) -> dict[str, Any]:
    """A Sigstore bundle v0.3 holding a DSSE envelope of `statement`, signed with the key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _load_private(private_pem, password)
    signature = key.sign(pae(PAYLOAD_TYPE, statement), ec.ECDSA(hashes.SHA256()))
    return {
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(key.public_key())},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": base64.b64encode(statement).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }


def verify_envelope(envelope: dict[str, Any], public_pem: bytes) -> tuple[str, bytes]:
    """(payload type, payload) of a DSSE envelope one of whose signatures `public_pem`
    made; `KeyProblem` for an unusable key, `InvalidSignature`-like `ValueError` otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_public(public_pem)
    payload_type = envelope.get("payloadType")
    payload_b64 = envelope.get("payload")
    signatures = envelope.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(payload_b64, str):
        raise ValueError("the DSSE envelope has no payloadType or payload")
    if not isinstance(signatures, list) or not signatures:
        raise ValueError("the DSSE envelope has no signature")
    try:
        payload = base64.b64decode(payload_b64, validate=True)
    except ValueError as e:
        raise ValueError("the DSSE payload is not base64") from e
    message = pae(payload_type, payload)
    for entry in signatures:
        sig = entry.get("sig") if isinstance(entry, dict) else None
        if not isinstance(sig, str):
            continue
        try:
            key.verify(base64.b64decode(sig, validate=True), message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue
        return payload_type, payload
    raise ValueError("no signature in the DSSE envelope was made by this key")
