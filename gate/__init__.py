"""gate: one trustworthy verdict for a supply-chain security gate in CI/CD.

This module holds only the version, so that `gate --help` stays fast.
"""

__version__ = "0.1.0"
