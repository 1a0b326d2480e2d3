"""Scanners gate runs itself (today: trivy, in `gate.scanners.trivy`), hermetically and
failing closed. Image identity (references, registry, digest binding, archives) is
`gate.oci`; redaction of credentials in messages is `gate.common.redact`.
"""
