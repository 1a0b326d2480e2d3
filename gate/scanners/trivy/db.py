"""Which vulnerability DB trivy used, as facts for the verdict.

gate passes trivy an explicit `--cache-dir` (`TRIVY_CACHE_DIR`, else trivy's own default,
`os.UserCacheDir()/trivy` as Go computes it), so after the scan it knows which
`db/metadata.json` trivy read or wrote: `{"Version": 2, "UpdatedAt": …, "NextUpdate": …,
"DownloadedAt": …}`. Reading that file is what `trivy version --format json` does; gate asks
`trivy version` itself only when the file cannot be read, which saves a second trivy start
(as long as a small scan) on every run. `gate.rules.trivy_db` judges the facts against
`vulnerabilities.max_db_age`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.facts import TrivyDbFacts

VERSION_TIMEOUT = 60.0
DB_KEYS = {
    "version": "Version",
    "updated_at": "UpdatedAt",
    "next_update": "NextUpdate",
    "downloaded_at": "DownloadedAt",
}
_DOWNLOAD_MARKERS = (
    "Need to update DB",
    "Downloading vulnerability DB",
    "Updating vulnerability DB",
)


@dataclass
class TrivyVersion:
    version: str | None = None
    """trivy's own version."""
    db: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(DB_KEYS))
    """`Facts.trivy_db`: version, updated_at, next_update, downloaded_at (None if unknown)."""
    error: str | None = None


def version_argv(trivy: str, cache_dir: str) -> list[str]:
    return [trivy, "version", "--format", "json", "--config", "", "--cache-dir", cache_dir]


def read_metadata(cache_dir: str) -> TrivyVersion | None:
    """The DB facts from `CACHE/db/metadata.json`, or None when it cannot be read."""
    try:
        data = json.loads((Path(cache_dir) / "db" / "metadata.json").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("UpdatedAt"), str):
        return None
    return TrivyVersion(db={key: data.get(src) for key, src in DB_KEYS.items()})


def parse_version(rc: int | None, stdout: bytes, stderr: str) -> TrivyVersion:
    """Read `trivy version --format json` output; an unusable answer is recorded, not raised."""
    if rc is None:
        return TrivyVersion(error="`trivy version` did not finish")
    if rc != 0:
        last = (stderr.strip().splitlines() or [""])[-1]
        return TrivyVersion(error=f"`trivy version` exited {rc}: {last}".rstrip(": "))
    try:
        data = json.loads(stdout)
    except ValueError:
        return TrivyVersion(error="`trivy version --format json` printed no JSON")
    if not isinstance(data, Mapping):
        return TrivyVersion(error="`trivy version --format json` printed no JSON object")
    out = TrivyVersion(
        version=data.get("Version") if isinstance(data.get("Version"), str) else None
    )
    db = data.get("VulnerabilityDB")
    if isinstance(db, Mapping):
        out.db = {key: db.get(src) for key, src in DB_KEYS.items()}
    else:
        out.error = "trivy reports no vulnerability DB metadata in its cache directory"
    return out


def facts(version: TrivyVersion) -> TrivyDbFacts:
    out = TrivyDbFacts.model_validate(version.db)
    if version.error:
        out = out.model_copy(update={"error": version.error})
    return out
