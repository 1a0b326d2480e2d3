"""Helpers shared by the ingestors: reading files, decoding JSON, naming JSON paths."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.common.strict_json import Shape, load_strict
from gate.errors import InputError


def read_input(path: Path, limit: int | None = None) -> bytes:
    """Read a report file: a regular file of at most `limit` bytes (default: the limit
    `gate check --max-input-bytes` set, see `gate.common.files`), opened without blocking. A
    missing, unreadable, empty or oversized file, a FIFO, a device or a directory is an
    `InputError`."""
    from gate.common.files import FileProblem, max_input_bytes, read_regular

    try:
        raw = read_regular(path, max_input_bytes() if limit is None else limit, "--max-input-bytes")
    except FileProblem as e:
        raise InputError(str(path), str(e)) from e
    if not raw or raw.isspace():  # not `raw.strip()`: that copies a 100 MB report
        raise InputError(str(path), "the file is empty")
    return raw


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_json(raw: bytes, path: str, shape: Shape | None = None) -> Any:
    """Decode JSON strictly (`gate.common.strict_json`): truncated or invalid JSON, a
    literal `null`, a duplicate key and a key that differs from a known key of `shape`
    only in case are `InputError`s naming the file and the JSON path."""
    return load_strict(raw, path, shape)


def json_path(loc: Sequence[int | str], root: str = "") -> str:
    """`("Results", 2, "Vulnerabilities", 14)` → `Results[2].Vulnerabilities[14]`."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def validation_error(path: str, err: ValidationError, root: str = "") -> InputError:
    """The first problem of a pydantic error, as an `InputError` naming its JSON path."""
    first = err.errors()[0]
    loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    more = len(err.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return InputError(path, f"{first['msg']}{suffix}", pointer=json_path(loc, root))


def file_mtime(path: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(Path(path).stat().st_mtime, tz=dt.UTC)
    except OSError:
        return None


def freshness(created: dt.datetime | None, path: str) -> tuple[dt.datetime | None, str | None]:
    """When an input was produced, for `max_input_age`, and how gate knows: the report's
    own timestamp (`report`), else the file's modification time (`file-mtime`)."""
    if created is not None:
        return created, "report"
    mtime = file_mtime(path)
    return mtime, "file-mtime" if mtime else None
