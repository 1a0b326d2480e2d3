"""Timestamps as scanners write them: RFC 3339, Go's nanoseconds, an offset or `Z`."""

from __future__ import annotations

import datetime as dt

__all__ = ["parse_timestamp"]


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
