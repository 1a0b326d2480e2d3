"""The ingest interface: one `Ingestor` per input format, bytes in, `SourceRun` out.

An ingestor knows its scanner's format and nothing about policy. It raises
`InputError` (with the file and JSON path) for anything it cannot judge; the
caller (`gate.ingest.load_report`) turns that into a `SourceRun` with status
`error`, so one bad input makes the verdict ERROR instead of vanishing.

Rules every ingestor keeps (`docs/security.md`, "Ambiguous and empty reports"):
- **strict JSON**: decode through `gate.ingest.common.load_json` with the format's shape
  (a duplicate key, or a key equal to a known one apart from case, is an `InputError`);
- **nothing examined is an error**: an input must show that its tool examined at least one
  thing (Trivy: an artifact or a Result; npm audit: an audited dependency; pip-audit: an
  audited dependency; SARIF: a run; branch protection: an answer about the branch);
- **no guessing**: counts or entries that contradict each other are an `InputError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from gate.models import InputKind, SourceRun


class Ingestor(ABC):
    """Parses one input format."""

    kind: InputKind

    @abstractmethod
    def parse(self, raw: bytes, path: str) -> SourceRun:
        """Parse the raw bytes of `path` into a `SourceRun`.

        `raw` is never empty (the caller rejects empty files). Raise `InputError`
        for a malformed or wrong-kind input; never return zero findings for an
        input that could not be read.
        """

    def parse_file(self, path: Path) -> SourceRun:
        from gate.ingest.common import read_input

        return self.parse(read_input(path), str(path))
