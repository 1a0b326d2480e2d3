"""Typed reads from decoded JSON/YAML, each failure an `InputError` naming file and path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gate.errors import InputError


def obj(value: Any, path: str, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(path, f"expected an object, got {_kind(value)}", pointer or None)
    return value


def array(value: Any, path: str, pointer: str, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            raise InputError(path, "missing (an array is required here)", pointer)
        return []
    if not isinstance(value, list):
        raise InputError(path, f"expected an array, got {_kind(value)}", pointer)
    return value


def string(value: Any, path: str, pointer: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InputError(path, "missing (a string is required here)", pointer)
        return None
    if not isinstance(value, str):
        raise InputError(path, f"expected a string, got {_kind(value)}", pointer)
    if required and not value.strip():
        raise InputError(path, "must not be empty", pointer)
    return value or None


def strings(value: Any, path: str, pointer: str) -> tuple[str, ...]:
    items = array(value, path, pointer)
    out = []
    for i, item in enumerate(items):
        s = string(item, path, f"{pointer}[{i}]", required=True)
        assert s is not None
        out.append(s)
    return tuple(out)


def timestamp(value: Any, path: str, pointer: str) -> dt.datetime | None:
    text = string(value, path, pointer)
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        # Go writes nanoseconds; Python 3.11 reads at most microseconds
        import re

        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
        try:
            when = dt.datetime.fromisoformat(trimmed)
        except ValueError as e:
            raise InputError(path, f"not an RFC 3339 timestamp: {text!r}", pointer) from e
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
