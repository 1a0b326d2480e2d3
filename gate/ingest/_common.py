"""Helpers shared by the ingestors: reading files, decoding JSON, naming JSON paths."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.errors import InputError


def read_input(path: Path, limit: int | None = None) -> bytes:
    """Read a report file: a regular file of at most `limit` bytes (default: the limit
    `gate check --max-input-bytes` set, see `gate.files`), opened without blocking. A
    missing, unreadable, empty or oversized file, a FIFO, a device or a directory is an
    `InputError`."""
    from gate.files import FileProblem, max_input_bytes, read_regular

    try:
        raw = read_regular(path, max_input_bytes() if limit is None else limit, "--max-input-bytes")
    except FileProblem as e:
        raise InputError(str(path), str(e)) from e
    if not raw or raw.isspace():  # not `raw.strip()`: that copies a 100 MB report
        raise InputError(str(path), "the file is empty")
    return raw


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_json(raw: bytes, path: str) -> Any:
    """Decode JSON; truncated or invalid JSON and a literal `null` are `InputError`s."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise InputError(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        hint = " (truncated?)" if e.pos >= len(text.rstrip()) - 1 else ""
        raise InputError(
            path, f"not valid JSON{hint}: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply to be a report") from None
    if data is None:
        raise InputError(path, "the report is a literal `null`, not a scan result")
    return data


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


def parse_timestamp(value: object) -> dt.datetime | None:
    """An RFC 3339 timestamp (Trivy `CreatedAt`, with nanoseconds or an offset), or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Python 3.11 accepts at most 6 fractional digits; Go writes 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        for ch in rest:
            if ch.isdigit():
                digits += ch
            else:
                break
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


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
