"""Write a small, valid Trivy vulnerability DB (trivy-db schema 2) with advisories we choose.

Stdlib only. `write_db(cache_dir)` creates

    cache_dir/db/trivy.db        a bbolt file
    cache_dir/db/metadata.json   {"Version": 2, "UpdatedAt": ..., "NextUpdate": ..., "DownloadedAt": ...}

which trivy uses with `TRIVY_CACHE_DIR=cache_dir TRIVY_SKIP_DB_UPDATE=true`, fully offline.
Regenerate it per test session: trivy-db deletes a `trivy.db` it cannot open.

trivy-db layout (github.com/aquasecurity/trivy-db, pkg/db); every value is JSON:

    "alpine 3.22" / <origin pkg> / <vuln id>  -> {"FixedVersion": "..."} or {} (no fix)
    "debian 12"   / <source pkg> / <vuln id>  -> {"FixedVersion": "..."} or {"Status": N}
                  (N: 2 affected, 5 will_not_fix, 6 fix_deferred, 7 end_of_life)
    "pip::<name>" / <pkg> / <vuln id>  -> {"VulnerableVersions": [...], "PatchedVersions": [...]}
    "npm::<name>" / ...                   (names lower-case; pip `_` becomes `-`)
    "vulnerability" / <vuln id>  -> {"Title", "Severity", "VendorSeverity": {"nvd": 1-4}, ...}
                  (required: without the bucket trivy panics, exit 2)
    "data-source" / <bucket>     -> {"ID", "Name", "URL"}

bbolt file format (go.etcd.io/bbolt; little-endian): pages of PAGE_SIZE bytes, each with a
16-byte header {id u64 (= its index), flags u16, count u16, overflow u32}. Pages 0 and 1 are
meta pages {magic 0xED0CDAED, version 2, page size, flags, root bucket {pgid, seq}, freelist
pgid, page count, txid, FNV-1a-64 checksum of the 56 bytes before it}; page 2 is an empty
freelist. Each bucket is one leaf page (with overflow pages when large): elements
{flags u32, pos u32 (from the element), ksize u32, vsize u32}, then keys and values, keys
sorted bytewise; a sub-bucket has flag 0x01 and the 16-byte value {root pgid, sequence}.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path
from typing import Any, NamedTuple

PAGE_SIZE = 4096
_MAGIC, _FORMAT_VERSION = 0xED0CDAED, 2
_LEAF, _META, _FREELIST, _BUCKET_LEAF = 0x02, 0x04, 0x10, 0x01
SCHEMA_VERSION = 2
"""trivy-db schema (`metadata.json` `Version`), not the bbolt format version."""

_NVD = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

ALPINE = "alpine 3.22"
DEBIAN = "debian 12"
PIP = "pip::GitHub Security Advisory pip"
NPM = "npm::GitHub Security Advisory npm"


class Advisory(NamedTuple):
    bucket: str
    package: str
    vuln_id: str
    severity: str
    data: dict[str, Any]


# Fictitious ids (CVE-2099-*) so nobody mistakes them for real data. The images in
# tests/helpers/images.py install the versions these advisories are about.
ADVISORIES: tuple[Advisory, ...] = (
    Advisory(ALPINE, "openssl", "CVE-2099-0001", "CRITICAL", {"FixedVersion": "3.5.1-r0"}),
    Advisory(ALPINE, "busybox", "CVE-2099-0002", "HIGH", {}),  # no fix
    Advisory(ALPINE, "zlib", "CVE-2099-0003", "MEDIUM", {"FixedVersion": "1.3.1-r3"}),
    Advisory(ALPINE, "musl", "CVE-2099-0008", "LOW", {"FixedVersion": "1.2.5-r11"}),
    # installed zlib is newer than the fix: not reported
    Advisory(ALPINE, "zlib", "CVE-2099-0010", "CRITICAL", {"FixedVersion": "1.2.0-r0"}),
    Advisory(DEBIAN, "openssl", "CVE-2099-0101", "CRITICAL", {"FixedVersion": "3.0.16-1~deb12u1"}),
    Advisory(DEBIAN, "bash", "CVE-2099-0102", "HIGH", {"Status": 2}),  # affected, no fix
    Advisory(DEBIAN, "zlib", "CVE-2099-0103", "MEDIUM", {"FixedVersion": "1:1.2.11.dfsg-1"}),
    Advisory(DEBIAN, "openssl", "CVE-2099-0104", "LOW", {"Status": 5}),  # will_not_fix
    Advisory(
        PIP,
        "requests",
        "CVE-2099-0004",
        "HIGH",
        {"VulnerableVersions": ["<2.32.0"], "PatchedVersions": ["2.32.0"]},
    ),
    Advisory(PIP, "pyyaml", "CVE-2099-0005", "MEDIUM", {"VulnerableVersions": [">=5.1"]}),
    # installed flask 3.0.3 is patched: not reported
    Advisory(
        PIP,
        "flask",
        "CVE-2099-0011",
        "HIGH",
        {"VulnerableVersions": ["<2.2.5"], "PatchedVersions": ["2.2.5"]},
    ),
    Advisory(
        NPM,
        "lodash",
        "CVE-2099-0006",
        "CRITICAL",
        {"VulnerableVersions": ["<4.17.21"], "PatchedVersions": ["4.17.21"]},
    ),
    Advisory(NPM, "minimist", "CVE-2099-0007", "LOW", {"VulnerableVersions": ["<=1.2.8"]}),
)

# What trivy reports for each image of tests/helpers/images.py: id -> (severity, Status).
EXPECTED_LANG: dict[str, tuple[str, str]] = {
    "CVE-2099-0004": ("HIGH", "fixed"),
    "CVE-2099-0005": ("MEDIUM", "affected"),
    "CVE-2099-0006": ("CRITICAL", "fixed"),
    "CVE-2099-0007": ("LOW", "affected"),
}
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "alpine": {
        "CVE-2099-0001": ("CRITICAL", "fixed"),
        "CVE-2099-0002": ("HIGH", "affected"),
        "CVE-2099-0003": ("MEDIUM", "fixed"),
        "CVE-2099-0008": ("LOW", "fixed"),
        **EXPECTED_LANG,
    },
    "debian": {
        "CVE-2099-0101": ("CRITICAL", "fixed"),
        "CVE-2099-0102": ("HIGH", "affected"),
        "CVE-2099-0104": ("LOW", "will_not_fix"),
        **EXPECTED_LANG,
    },
}

_DATA_SOURCES = {
    ALPINE: {"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"},
    DEBIAN: {
        "ID": "debian",
        "Name": "Debian Security Tracker",
        "URL": "https://salsa.debian.org/security-tracker-team/security-tracker",
    },
    PIP: {
        "ID": "ghsa",
        "Name": "GitHub Security Advisory pip",
        "URL": "https://github.com/advisories",
    },
    NPM: {
        "ID": "ghsa",
        "Name": "GitHub Security Advisory npm",
        "URL": "https://github.com/advisories",
    },
}

Tree = dict[str, "Tree | bytes"]


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def build_tree(advisories: tuple[Advisory, ...] | list[Advisory] = ADVISORIES) -> Tree:
    """The bucket tree: name -> sub-bucket (dict) or JSON value (bytes)."""
    vulns: Tree = {}
    tree: Tree = {
        "vulnerability": vulns,
        "data-source": {k: _json(v) for k, v in _DATA_SOURCES.items()},
    }
    for adv in advisories:
        bucket = tree.setdefault(adv.bucket, {})
        assert isinstance(bucket, dict)
        pkg = bucket.setdefault(adv.package, {})
        assert isinstance(pkg, dict)
        pkg[adv.vuln_id] = _json(adv.data)
        vulns[adv.vuln_id] = _json(
            {
                "Title": f"{adv.package}: planted test vulnerability {adv.vuln_id}",
                "Description": f"Fictitious {adv.severity} advisory for {adv.package} (tests).",
                "Severity": adv.severity,
                "VendorSeverity": {"nvd": _NVD[adv.severity]},
                "References": [f"https://example.invalid/{adv.vuln_id}"],
                "PublishedDate": "2099-01-01T00:00:00Z",
                "LastModifiedDate": "2099-01-02T00:00:00Z",
            }
        )
    return tree


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _header(pgid: int, flags: int, count: int = 0, overflow: int = 0) -> bytes:
    return struct.pack("<QHHI", pgid, flags, count, overflow)


def _meta_page(pgid: int, root: int, npages: int, txid: int) -> bytes:
    meta = struct.pack(
        "<IIIIQQQQQ", _MAGIC, _FORMAT_VERSION, PAGE_SIZE, 0, root, 0, 2, npages, txid
    )
    page = _header(pgid, _META) + meta + struct.pack("<Q", _fnv1a64(meta))
    return page.ljust(PAGE_SIZE, b"\0")


def write_bbolt(path: Path, tree: Tree) -> None:
    """Write `tree` (the root bucket) as a bbolt file."""
    pages: list[bytes] = [b"", b"", _header(2, _FREELIST).ljust(PAGE_SIZE, b"\0")]
    next_page = 3

    def write_bucket(items: Tree) -> int:
        nonlocal next_page
        elems: list[tuple[int, bytes, bytes]] = []
        for key in sorted(items, key=str.encode):
            val = items[key]
            if isinstance(val, dict):
                elems.append((_BUCKET_LEAF, key.encode(), struct.pack("<QQ", write_bucket(val), 0)))
            else:
                elems.append((0, key.encode(), val))
        table, data = b"", b""
        start = 16 + 16 * len(elems)
        for i, (flags, k, v) in enumerate(elems):
            pos = start + len(data) - (16 + 16 * i)
            table += struct.pack("<IIII", flags, pos, len(k), len(v))
            data += k + v
        npg = -(-(start + len(data)) // PAGE_SIZE)
        pgid, next_page = next_page, next_page + npg
        page = _header(pgid, _LEAF, len(elems), npg - 1) + table + data
        pages.append(page.ljust(npg * PAGE_SIZE, b"\0"))
        return pgid

    root = write_bucket(tree)
    pages[0] = _meta_page(0, root, next_page, 0)
    pages[1] = _meta_page(1, root, next_page, 1)
    path.write_bytes(b"".join(pages))


def _ts(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_db(
    cache_dir: Path,
    advisories: tuple[Advisory, ...] | list[Advisory] = ADVISORIES,
    *,
    updated_at: dt.datetime | None = None,
    next_update: dt.datetime | None = None,
) -> Path:
    """Write `cache_dir/db/{trivy.db,metadata.json}`; returns the `db` directory.

    `updated_at` defaults to now; `next_update` to ten years after it, so trivy does not try
    to download even without `--skip-db-update`. Pass an old `updated_at` to test staleness.
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    updated = updated_at or now
    db_dir = cache_dir / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    write_bbolt(db_dir / "trivy.db", build_tree(advisories))
    metadata = {
        "Version": SCHEMA_VERSION,
        "NextUpdate": _ts(next_update or updated + dt.timedelta(days=3650)),
        "UpdatedAt": _ts(updated),
        "DownloadedAt": _ts(updated),
    }
    (db_dir / "metadata.json").write_text(json.dumps(metadata))
    return db_dir


def offline_env(cache_dir: Path) -> dict[str, str]:
    """The TRIVY_* environment for a fully offline scan with the DB in `cache_dir`."""
    return {
        "TRIVY_CACHE_DIR": str(cache_dir),
        "TRIVY_SKIP_DB_UPDATE": "true",
        "TRIVY_SKIP_JAVA_DB_UPDATE": "true",
        "TRIVY_OFFLINE_SCAN": "true",
        "TRIVY_SKIP_CHECK_UPDATE": "true",
        "TRIVY_SKIP_VEX_REPO_UPDATE": "true",
    }
