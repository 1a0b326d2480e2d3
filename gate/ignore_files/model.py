"""One entry of an ignore file, whatever its format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IgnoreEntry:
    id: str
    where: str
    """Where in the file: `line 4`, `vulnerabilities[2]`, `ignore[0]`."""
    purls: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    expires: dt.date | None = None
    statement: str | None = None
    kind: str | None = None
    """The finding kind its section excepts (`.trivyignore.yaml` `secrets:` → `secret`);
    None: any kind (a plain `.trivyignore` line)."""


@dataclass
class IgnoreFile:
    path: str
    sha256: str
    format: str
    """`trivyignore`, `trivyignore-yaml` or `grype`."""
    entries: list[IgnoreEntry] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Unknown keys and tokens, each with where it is (the policy decides: error or warn)."""
    notes: list[str] = field(default_factory=list)
    """Things always worth a warning (an absolute path that can never match, …)."""
