"""Ignore-file entries → exceptions, under the policy's `exception_rules`.

- An entry with no expiry is an error under `require_expiry`; otherwise it never expires
  (`9999-12-31` in the verdict).
- Unknown keys and tokens are an error or a warning, as `unknown_keys` says.
- The same id with the same scope listed more than once with different expiries: the
  earliest expiry wins, with a warning (a later copy must not extend an earlier one).
- An entry excepts only the finding kind of its section (`.trivyignore.yaml`
  `secrets:` → secrets; Grype → vulnerabilities), as Trivy does; a plain `.trivyignore`
  line any kind.
- `reason` is the entry's `statement`/`reason`, or says which file ignores it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from gate.errors import InputError, PolicyError
from gate.ignore_files.model import IgnoreEntry, IgnoreFile
from gate.policy.load import format_validation_error
from gate.policy.model import ExceptionRules, PolicyException

NO_EXPIRY = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class IgnoreExceptions:
    exceptions: list[PolicyException]
    labels: list[str]
    counts: list[int]
    """How many exceptions each file gave, in order."""
    warnings: list[str]


def _key(e: IgnoreEntry) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return e.id.upper(), tuple(sorted(e.purls)), tuple(sorted(e.paths))


def ignore_exceptions(files: Sequence[IgnoreFile], rules: ExceptionRules) -> IgnoreExceptions:
    warnings: list[str] = []
    for file in files:
        if file.unknown and rules.unknown_keys == "error":
            raise InputError(
                file.path,
                "; ".join(file.unknown)
                + " (exception_rules.unknown_keys: error; set it to warn to read on)",
            )
        warnings += [f"{file.path}: {u}" for u in file.unknown]
        warnings += [f"{file.path}: {n}" for n in file.notes]
    missing = [
        f"{file.path}: {e.where} ({e.id}): no expiry (exception_rules.require_expiry)"
        for file in files
        for e in file.entries
        if e.expires is None
    ]
    if missing and rules.require_expiry:
        raise PolicyError("--ignore-file", missing)
    # the earliest expiry of each id and scope, across every file
    first: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[IgnoreFile, IgnoreEntry]] = {}
    for file in files:
        for e in file.entries:
            key = _key(e)
            if key not in first:
                first[key] = (file, e)
                continue
            seen_file, seen = first[key]
            if seen.expires != e.expires:
                a = seen.expires or NO_EXPIRY
                b = e.expires or NO_EXPIRY
                keep, drop = (
                    ((seen_file, seen), (file, e)) if a <= b else ((file, e), (seen_file, seen))
                )
                first[key] = keep
                warnings.append(
                    f"{e.id}: listed at {seen_file.path}: {seen.where} and {file.path}: "
                    f"{e.where} with different expiries; the earliest, "
                    f"{(keep[1].expires or NO_EXPIRY).isoformat()} ({keep[0].path}: "
                    f"{keep[1].where}), wins over {(drop[1].expires or NO_EXPIRY).isoformat()}"
                )
    kept = {id(e) for _, e in first.values()}
    out = IgnoreExceptions([], [], [], warnings)
    for file in files:
        before = len(out.exceptions)
        for e in file.entries:
            if id(e) not in kept:
                continue
            kept.discard(id(e))  # an exact duplicate is kept once
            for purl in e.purls or (None,):
                fields: dict[str, object] = {
                    "id": e.id,
                    "reason": e.statement or f"ignored by {file.format} {file.path}",
                    "expires": e.expires or NO_EXPIRY,
                    "paths": list(e.paths),
                }
                if purl is not None:
                    fields["package"] = purl
                try:
                    out.exceptions.append(
                        PolicyException.made(
                            fields, kinds=None if e.kind is None else frozenset({e.kind})
                        )
                    )
                except ValidationError as err:
                    why = "; ".join(format_validation_error(err))
                    raise InputError(file.path, f"not a valid exception: {why}", e.where) from err
                out.labels.append(f"{file.path}: {e.where}")
        out.counts.append(len(out.exceptions) - before)
    return out
