"""Which trivy gate is about to run, and whether it may: the binary's path, version and sha256.

Before any trivy process starts, `vouch(path, pinned)` reads the binary once: its sha256 and
the version that trivy's release build writes into the Go build info
(`-X …/pkg/version/app.ver=0.76.0` in the `-ldflags` it records). Running the binary to ask is
what a malicious release would want, so it is not asked. gate refuses (a `ScannerError`, so
the verdict is ERROR) a binary whose sha256 is not the `--trivy-sha256` pin, and any release
listed in `known_bad.json` (the March 2026 compromise, CVE-2026-33634) by version or
digest. `check_reported_version` repeats the version check with the version trivy's own
report gives, for a build whose build info says nothing.

The result is cached per file identity (device, inode, size, mtime), so the speculative early
start and the scan itself hash the binary once.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from gate.errors import ScannerError, UsageError
from gate.facts import BinaryFacts

SHA256 = re.compile(r"[0-9a-f]{64}")
_MAGIC = b"\xff Go buildinf:"
_LDFLAGS_VERSION = re.compile(
    rb"-X github\.com/aquasecurity/trivy/pkg/version/app\.ver=v?([0-9A-Za-z.+-]{1,64})"
)
_MODINFO_WINDOW = 64 * 1024


@dataclass(frozen=True)
class TrivyBinary:
    path: str
    """The resolved file that runs."""
    sha256: str
    version: str | None
    """From the binary's build info; None when it records none."""

    def facts(self) -> BinaryFacts:
        return BinaryFacts(path=self.path, version=self.version, sha256=self.sha256)


@dataclass(frozen=True)
class KnownBad:
    versions: frozenset[str]
    sha256: frozenset[str]
    advisory: str
    summary: str
    sources: tuple[str, ...]


def parse_pin(value: str | None) -> str | None:
    """`--trivy-sha256`: 64 hex digits (an optional `sha256:` prefix), or a usage error."""
    if value is None:
        return None
    pin = value.strip().lower().removeprefix("sha256:")
    if not SHA256.fullmatch(pin):
        raise UsageError(f"--trivy-sha256: expected 64 hex digits, got {value!r}")
    return pin


@cache
def known_bad() -> tuple[KnownBad, ...]:
    raw = json.loads(resources.files("gate.scanners.trivy").joinpath("known_bad.json").read_bytes())
    return tuple(
        KnownBad(
            versions=frozenset(r["versions"]),
            sha256=frozenset(r["sha256"]),
            advisory=r["advisory"],
            summary=r["summary"],
            sources=tuple(r["sources"]),
        )
        for r in raw["releases"]
    )


def _refusal(binary_path: str, what: str, bad: KnownBad) -> ScannerError:
    return ScannerError(
        f"refusing to run trivy at {binary_path}: {what} is a known-malicious release, "
        f"{bad.advisory}: {bad.summary}; see {bad.sources[0]}"
    )


def _read(path: Path) -> tuple[str, str | None]:
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return hashlib.sha256(b"").hexdigest(), None
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            digest = hashlib.sha256(data).hexdigest()
            # The build info header sits 16-byte aligned; the same bytes can also occur
            # as a literal elsewhere (Go's debug/buildinfo), so every aligned one is tried.
            version = None
            at = data.find(_MAGIC)
            while at >= 0 and version is None:
                if at % 16 == 0:
                    found = _LDFLAGS_VERSION.search(data, at, min(size, at + _MODINFO_WINDOW))
                    if found is not None:
                        version = found.group(1).decode("ascii")
                at = data.find(_MAGIC, at + 1)
    return digest, version


_seen: dict[tuple[int, int, int, int], tuple[str, str | None]] = {}


def identify(trivy: str) -> TrivyBinary:
    """The binary at `trivy` (a path `find_trivy` returned): resolved path, sha256, version."""
    path = Path(trivy).resolve()
    try:
        st = path.stat()
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _seen:
            _seen.clear()
            _seen[key] = _read(path)
    except (OSError, ValueError) as e:
        raise ScannerError(f"cannot read the trivy binary {path}: {e}") from e
    digest, version = _seen[key]
    return TrivyBinary(path=str(path), sha256=digest, version=version)


def check_version(binary_path: str, version: str | None) -> None:
    """A `ScannerError` naming the advisory if `version` is a known-malicious release."""
    if version is None:
        return
    bare = version.strip().removeprefix("v")
    for bad in known_bad():
        if bare in bad.versions:
            raise _refusal(binary_path, f"version {bare}", bad)


def vouch(trivy: str, pin: str | None) -> TrivyBinary:
    """Identify the binary and refuse it if it is not the pinned one or is known-malicious."""
    binary = identify(trivy)
    if pin is not None and binary.sha256 != pin:
        raise ScannerError(
            f"refusing to run trivy at {binary.path}: its sha256 is {binary.sha256}, "
            f"but --trivy-sha256 pins {pin}"
        )
    for bad in known_bad():
        if binary.sha256 in bad.sha256:
            raise _refusal(binary.path, f"sha256 {binary.sha256}", bad)
    check_version(binary.path, binary.version)
    return binary
