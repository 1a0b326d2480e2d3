"""`--vex` and `--ignore-file`: their statements and entries join the policy's exceptions,
each labelled with where it is written, after the inputs are read (a VEX statement about an
image applies only to the image the inputs are about)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gate.models import PolicyRef, SourceRun
    from gate.policy.model import Policy


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


def add_exception_files(
    policy: Policy,
    ref: PolicyRef,
    *,
    vex: Sequence[Path],
    ignore_files: Sequence[Path],
    digests: set[str],
    today: dt.date,
) -> tuple[Policy, PolicyRef, list[str]]:
    """The policy with the files' exceptions added, its ref naming the files, and warnings.
    `digests` are the image digests the inputs are about (`image_digests(runs)`)."""
    if not vex and not ignore_files:
        return policy, ref, []
    from gate.models import ExceptionsFile
    from gate.policy.load import check_exception_rules

    exceptions = list(policy.exceptions)
    files = list(ref.exception_files)
    warnings: list[str] = []
    if vex:
        from gate.vex.apply import vex_exceptions
        from gate.vex.read import read_vex

        docs = [read_vex(p) for p in vex]
        made = vex_exceptions(docs, digests)
        at = 0
        for doc, count in zip(docs, made.counts, strict=True):
            files.append(
                ExceptionsFile(
                    path=doc.path,
                    sha256=doc.sha256,
                    first=len(exceptions) + at,
                    count=count,
                    kind="vex",
                    format=doc.format,
                    labels=tuple(made.labels[at : at + count]),
                )
            )
            at += count
        exceptions += made.exceptions
        warnings += made.warnings
    if ignore_files:
        from gate.ignore_files.apply import ignore_exceptions
        from gate.ignore_files.read import read_ignore_file

        read = [read_ignore_file(p) for p in ignore_files]
        got = ignore_exceptions(read, policy.exception_rules)
        at = 0
        for file, count in zip(read, got.counts, strict=True):
            files.append(
                ExceptionsFile(
                    path=file.path,
                    sha256=file.sha256,
                    first=len(exceptions) + at,
                    count=count,
                    kind="ignore-file",
                    format=file.format,
                    labels=tuple(got.labels[at : at + count]),
                )
            )
            at += count
        exceptions += got.exceptions
        warnings += got.warnings
    policy = policy.model_copy(update={"exceptions": exceptions})
    ref = ref.model_copy(update={"exception_files": tuple(files)})
    check_exception_rules(policy, today, ref)
    return policy, ref, warnings
