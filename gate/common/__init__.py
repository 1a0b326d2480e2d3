"""Helpers every layer may use, with no knowledge of scanners, policy or verdicts.

- `timestamps`: RFC 3339 timestamps as scanners write them (`parse_timestamp`).
- `redact`: credentials out of messages before they are shown or recorded.

Import from those modules: this package imports nothing, so each stays as light as its job.
"""
