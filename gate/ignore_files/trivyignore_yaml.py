"""`.trivyignore.yaml`: `vulnerabilities`, `misconfigurations`, `secrets` and `licenses`,
each a list of `{id, paths, purls, expired_at, statement}`.

Trivy skips unknown keys, so `expires:` for `expired_at:` makes an entry that never
expires; gate reports every unknown key for the policy to make an error or a warning. A path
starting with `/` never matches (Trivy's paths are relative to the scan root): a warning."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from gate.common import json_fields as f
from gate.errors import InputError
from gate.ignore_files.model import IgnoreEntry, IgnoreFile

SECTIONS = ("vulnerabilities", "misconfigurations", "secrets", "licenses")
# the finding kind each section excepts; gate judges no licenses, so `licenses:` excepts nothing
_KIND = {
    "vulnerabilities": "vulnerability",
    "misconfigurations": "misconfiguration",
    "secrets": "secret",
}
_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)
_KEYS = {"id", "paths", "purls", "expired_at", "statement"}


def _date(value: Any, path: str, at: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        # the whole text: `2025-01-01junk` is not a date
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(
                value.replace("Z", "+00:00").replace("z", "+00:00")
            ).date()
        except ValueError:
            pass
    raise InputError(path, f"expected a date (YYYY-MM-DD), got {value!r}", at)


def parse_trivyignore_yaml(data: dict[str, Any], into: IgnoreFile) -> None:
    path = into.path
    for key in data:
        if key not in SECTIONS:
            into.unknown.append(f"{key}: unknown section ({', '.join(SECTIONS)})")
    for section in SECTIONS:
        for i, raw in enumerate(f.array(data.get(section), path, section)):
            at = f"{section}[{i}]"
            item = f.obj(raw, path, at)
            into.unknown += [
                f"{at}.{k}: unknown key ({', '.join(sorted(_KEYS))})"
                for k in item
                if k not in _KEYS
            ]
            ident = f.string(item.get("id"), path, f"{at}.id", required=True)
            assert ident is not None
            paths = f.strings(item.get("paths"), path, f"{at}.paths")
            for j, p in enumerate(paths):
                if p.startswith("/"):
                    into.notes.append(
                        f"{at}.paths[{j}]: {p!r} is absolute; Trivy's paths are relative to "
                        "the scan root, so it never matches"
                    )
            purls = f.strings(item.get("purls"), path, f"{at}.purls")
            if purls and section != "vulnerabilities":
                raise InputError(path, "`purls` applies to vulnerabilities only", f"{at}.purls")
            expires = item.get("expired_at")
            kind = _KIND.get(section)
            expiry = None if expires is None else _date(expires, path, f"{at}.expired_at")
            statement = f.string(item.get("statement"), path, f"{at}.statement")
            if kind is None:
                into.notes.append(
                    f"{at} ({ident}): gate judges no license findings; it excepts nothing"
                )
                continue
            into.entries.append(
                IgnoreEntry(
                    id=ident,
                    where=at,
                    purls=purls,
                    paths=paths,
                    expires=expiry,
                    statement=statement,
                    kind=kind,
                )
            )
