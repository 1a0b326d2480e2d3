"""The policy's `trivy:` block and the scan's defaults, declared once and free of pydantic.

Three readers use these names and must agree: the policy model (`gate.policy.model.
TrivySettings`, which validates the block), the early start (`gate.scanners.trivy.early`,
which reads the block before pydantic is imported) and the command builder
(`gate.scanners.trivy.command`). tests/scanners/test_trivy_settings.py checks that the
model's fields and choices are exactly these.
"""

from __future__ import annotations

KEYS = frozenset({"scanners", "pkg_types", "detection_priority"})
"""The keys of the `trivy:` block."""
SCANNERS = ("vuln", "secret", "misconfig", "license")
"""The values `trivy.scanners` accepts."""
DEFAULT_SCANNERS = ("vuln", "secret")
"""What `gate check IMAGE` scans for when the policy's `trivy.scanners` is not set."""
PKG_TYPES = ("os", "library")
"""The values `trivy.pkg_types` accepts; all of them when it is not set."""
DETECTION_PRIORITIES = ("precise", "comprehensive")
"""The values `trivy.detection_priority` accepts; trivy's own default when it is not set."""
DEFAULT_SCAN_TIMEOUT = 600.0
"""`gate check --scan-timeout`'s default, in seconds: the CLI and the early start use it."""
