"""Attestations: gate signs a PASS as an in-toto SLSA verification summary, and verifies it.

- `statement`: the in-toto Statement v1 with the SLSA VSA predicate, deterministic bytes;
- `signable`: which verdicts may be signed (PASS, a confirmed digest, young enough);
- `keypair`: ECDSA P-256 DSSE signing and verification on `cryptography` (cosign-compatible);
- `keyless`: sigstore-python's signer and verifier (imported only when used);
- `checks`: what `gate verify` requires of the statement, each failure naming its check;
- `sign`, `verify`: the two jobs end to end; `commands`: their CLI declarations.

Registry attach and discovery live in `gate.oci.referrers`.
"""
