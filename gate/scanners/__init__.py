"""Scanners gate runs itself (today: trivy), hermetically and failing closed.

`gate.scanners.trivy.scan_image` is the entry point; the other modules are its parts:
`process` (argv, timeout, process group, stderr tail), `redact` (credentials out of
messages), `trivy_db` (the DB's metadata), `archive` and `binding` (the digest a verdict
is bound to).
"""
