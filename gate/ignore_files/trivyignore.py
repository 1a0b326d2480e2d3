"""`.trivyignore`: one id per line, `#` comments, an optional `exp:YYYY-MM-DD` after the id.

Trivy reads the first word of a line as the id and skips any other word that is not
`exp:`; gate reports each such word (`key2:value2`, the `WITH LLVM-exception` of a license
expression) as unknown, for the policy to make an error or a warning."""

from __future__ import annotations

import datetime as dt

from gate.errors import InputError
from gate.ignore_files.model import IgnoreEntry, IgnoreFile


def parse_trivyignore(text: str, into: IgnoreFile) -> None:
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        expires: dt.date | None = None
        for word in words[1:]:
            if word.startswith("exp:"):
                if expires is not None:
                    raise InputError(into.path, "`exp:` given twice", f"line {n}")
                try:
                    expires = dt.date.fromisoformat(word[4:])
                except ValueError:
                    raise InputError(
                        into.path, f"`{word}` is not exp:YYYY-MM-DD", f"line {n}"
                    ) from None
            else:
                into.unknown.append(
                    f"line {n}: `{word}` after the id {words[0]!r} is not exp:YYYY-MM-DD "
                    "(Trivy skips it silently)"
                )
        into.entries.append(IgnoreEntry(id=words[0], where=f"line {n}", expires=expires))
