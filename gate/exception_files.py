"""`--vex` and `--ignore-file`: their statements and entries join the policy's exceptions,
each labelled with where it is written, after the inputs are read (a VEX statement about an
image applies only to the image the inputs are about)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.ignore_files.apply import IgnoreExceptions
    from gate.ignore_files.model import IgnoreFile
    from gate.models import ExceptionsFile, PolicyRef, SourceRun
    from gate.policy.model import ExceptionRules, Policy
    from gate.vex.model import VexDocument


def image_digests(runs: Sequence[SourceRun]) -> set[str]:
    """Every manifest digest the inputs say they are about."""
    out: set[str] = set()
    for run in runs:
        s = run.subject
        if s is None:
            continue
        if s.digest:
            out.add(s.digest)
        out.update(d.rpartition("@")[2] for d in s.repo_digests if "@" in d)
    return out


@dataclass(frozen=True)
class ExceptionSources:
    """The `--vex` documents and `--ignore-file` files, read and checked before any scan;
    the ignore files' exceptions already made (they need no image digest)."""

    vex: list[VexDocument]
    ignore_files: list[IgnoreFile]
    ignored: IgnoreExceptions | None


def read_exception_sources(
    vex: Sequence[Path], ignore_files: Sequence[Path], rules: ExceptionRules
) -> ExceptionSources:
    """Read and check every file now: a bad one is an error before trivy spends a minute
    scanning."""
    docs: list[VexDocument] = []
    read: list[IgnoreFile] = []
    ignored = None
    if vex:
        from gate.vex.apply import check_statement
        from gate.vex.read import read_vex

        docs = [read_vex(p) for p in vex]
        for doc in docs:
            for s in doc.statements:
                check_statement(s)
    if ignore_files:
        from gate.ignore_files.apply import ignore_exceptions
        from gate.ignore_files.read import read_ignore_file

        read = [read_ignore_file(p) for p in ignore_files]
        ignored = ignore_exceptions(read, rules)
    return ExceptionSources(docs, read, ignored)


def add_exception_files(
    policy: Policy,
    ref: PolicyRef,
    sources: ExceptionSources,
    *,
    digests: set[str],
    today: dt.date,
) -> tuple[Policy, PolicyRef, list[str]]:
    """The policy with the files' exceptions added, its ref naming the files, and warnings.
    `digests` are the image digests the inputs are about (`image_digests(runs)`)."""
    if not sources.vex and not sources.ignore_files:
        return policy, ref, []
    from gate.policy.load import check_exception_rules

    exceptions = list(policy.exceptions)
    files = list(ref.exception_files)
    warnings: list[str] = []
    if sources.vex:
        from gate.vex.apply import vex_exceptions

        docs = sources.vex
        made = vex_exceptions(docs, digests)
        files += _recorded(docs, made.counts, made.labels, len(exceptions), "vex")
        exceptions += made.exceptions
        warnings += made.warnings
    if sources.ignored is not None:
        read = sources.ignore_files
        got = sources.ignored
        files += _recorded(read, got.counts, got.labels, len(exceptions), "ignore-file")
        exceptions += got.exceptions
        warnings += got.warnings
    policy = policy.model_copy(update={"exceptions": exceptions})
    ref = ref.model_copy(update={"exception_files": tuple(files)})
    check_exception_rules(policy, today, ref)
    return policy, ref, warnings


def _recorded(
    docs: Sequence[Any], counts: Sequence[int], labels: Sequence[str], first: int, kind: str
) -> list[ExceptionsFile]:
    """One `ExceptionsFile` per VEX document or ignore file, in order: where its exceptions
    start in the policy's list (`first` onwards), how many, and the label of each."""
    from gate.models import ExceptionsFile

    out: list[ExceptionsFile] = []
    at = 0
    for doc, count in zip(docs, counts, strict=True):
        out.append(
            ExceptionsFile(
                path=doc.path,
                sha256=doc.sha256,
                first=first + at,
                count=count,
                kind=kind,
                format=doc.format,
                labels=tuple(labels[at : at + count]),
            )
        )
        at += count
    return out
