"""The reporter interface: what every file output of `gate check` implements.

A reporter says where its output goes for a request (`target`, None when not asked for)
and renders the verdict (`render`); `gate.report.dispatch` iterates over every
`ReportKind` and writes what each renders. The console report is not one of them: it is
the command's own stdout, written last, by `gate.cli`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from gate.models import Verdict


class ReportKind(enum.StrEnum):
    """Every file output, in the order they are written (a closed registry)."""

    JSON = "json"
    SARIF = "sarif"
    SUMMARY = "summary"
    OPENVEX = "openvex"
    CYCLONEDX = "cyclonedx"
    ANNOTATIONS = "annotations"


@dataclass(frozen=True, slots=True)
class OutputRequest:
    """The outputs `gate check` was asked for (`--json`, `--summary`, `--sarif-*`,
    `--openvex`, `--cyclonedx`)."""

    json_path: Path | None = None
    summary: Path | None = None
    sarif_output: Path | None = None
    sarif_location: str | None = None
    sarif_category: str | None = None
    openvex: Path | None = None
    cyclonedx: Path | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where one output goes: a path (`-` is stdout), replaced atomically or appended to."""

    path: Path
    append: bool = False


Content = str | bytes | Callable[[BinaryIO], None]
"""Text, bytes, or a function that streams into a binary file."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered output, and notes for the user about it (one line each)."""

    content: Content
    notes: tuple[str, ...] = ()


class Reporter(Protocol):
    """One file output of `gate check`."""

    @property
    def what(self) -> str:
        """The output's name in an error message (`cannot write the JSON verdict to …`)."""
        ...

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        """Where the output goes, or None when it was not asked for."""
        ...

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        """The verdict, rendered."""
        ...
