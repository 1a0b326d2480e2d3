"""A realistic Debian image for benches: N of this machine's own installed packages, real files.

    .venv/bin/python bench/real_image.py OUT.tar [--packages 500] [--tag bench-real:1]

`debian_host_image(out, packages)` writes a `docker save` archive (config JSON, one
`layer.tar`, `manifest.json` with `RepoTags`), the layout of `tests/helpers/images.py`, whose
single layer is taken from the host's Debian installation, offline:

- `etc/os-release`, `usr/lib/os-release`, `etc/debian_version`: the host's, as regular files,
  so trivy detects the host's Debian release;
- `var/lib/dpkg/status`: the stanzas of the first N packages "install ok installed", sorted by
  (name, architecture), as they are; `var/lib/dpkg/info/<pkg>[:<arch>].{list,md5sums}`;
- every regular file and symlink those packages own (from their `.list`), read from the host.
  Paths are made canonical through the host's directory symlinks (`/bin/sh` on a merged-/usr
  system is stored as `usr/bin/sh`, and `bin` as the symlink it is); a path already stored is
  skipped, a second name for a stored inode becomes a hard link, and directories, missing or
  unreadable files are left out, as are Java archives (`*.jar`, ...): trivy cannot analyse
  them offline without its Java DB, and fails the whole scan instead.

Unlike the synthetic images, trivy's analyzers and secret scanner read real content here: on
the project's dev machine 500 packages are ~73,000 files, 2.7 GB (google-cloud-cli and kubectl
are 1.7 GB of it), and trivy takes ~5 s. What the image holds depends on the host. The layer
is streamed to a file next to `out`, then hashed and copied into the archive. Owners are root
and mtimes fixed; modes and content are the host's, so the same host gives the same ImageID.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MTIME = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"
DPKG = Path("/var/lib/dpkg")
OS_FILES = ("etc/os-release", "usr/lib/os-release", "etc/debian_version")
JAVA_ARCHIVES = (".jar", ".war", ".ear", ".par")
"""Left out: trivy needs its Java DB for them, which no offline scan has on its first run."""


@dataclass(frozen=True)
class RealImage:
    path: Path
    image_id: str
    """The config digest (trivy's `ImageID`)."""
    packages: int
    files: int
    """Regular files, symlinks and hard links in the layer, dpkg's own files included."""
    bytes: int
    """The regular files' content, in bytes (the archive adds tar headers and padding)."""


def installed_stanzas(limit: int) -> list[tuple[str, str, str]]:
    """(name, arch, stanza) of the first `limit` installed packages, sorted by (name, arch)."""
    found = []
    for stanza in (DPKG / "status").read_text().split("\n\n"):
        heads = (line for line in stanza.splitlines() if line[:1] not in " \t")
        fields = dict(line.split(": ", 1) for line in heads if ": " in line)
        if fields.get("Status") == "install ok installed" and "Package" in fields:
            found.append((fields["Package"], fields.get("Architecture", ""), stanza.strip("\n")))
    return sorted(found)[:limit]


class _Layer:
    """A tar being written to disk, with the bookkeeping that keeps its paths unique."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar, self.files, self.bytes = tar, 0, 0
        self.names: set[str] = set()
        self.inodes: dict[tuple[int, int], str] = {}
        self.dirs: dict[str, str] = {}

    def add_bytes(self, name: str, data: bytes) -> None:
        _add_bytes(self.tar, name, data)
        self.names.add(name)
        self.files, self.bytes = self.files + 1, self.bytes + len(data)

    def canonical(self, host_path: str) -> str:
        """The path relative to `/`, its parent directory resolved through host symlinks."""
        parent, base = os.path.split(host_path)
        if parent not in self.dirs:
            self.dirs[parent] = os.path.realpath(parent)
        return os.path.join(self.dirs[parent], base).lstrip("/")

    def add_host(self, host_path: str) -> None:
        """Store a host file or symlink; skip directories, specials, missing and unreadable."""
        name = self.canonical(host_path)
        if not name or name in self.names or name.endswith(JAVA_ARCHIVES):
            return
        f: BinaryIO | None = None
        try:
            st = os.lstat(host_path)
            kind, key = stat.S_IFMT(st.st_mode), (st.st_dev, st.st_ino)
            info = _member(name, stat.S_IMODE(st.st_mode))
            if kind == stat.S_IFLNK:
                info.type, info.linkname = tarfile.SYMTYPE, os.readlink(host_path)
            elif kind == stat.S_IFREG and key in self.inodes:
                info.type, info.linkname = tarfile.LNKTYPE, self.inodes[key]
            elif kind == stat.S_IFREG:
                f = open(host_path, "rb")
            else:
                return
        except OSError:
            return
        if f is None:
            self.tar.addfile(info)
        else:
            with f:  # past here a read error is fatal: the member's header is written
                info.size = os.fstat(f.fileno()).st_size
                self.tar.addfile(info, f)
            self.inodes[key] = name
            self.bytes += info.size
        self.names.add(name)
        self.files += 1


def _member(name: str, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode, info.size, info.mtime = mode, size, MTIME
    info.uid, info.gid, info.uname, info.gname = 0, 0, "root", "root"
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, 0o644, len(data)), io.BytesIO(data))


def _sha_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def debian_host_image(out: Path, packages: int = 500, *, tag: str = "bench-real:1") -> RealImage:
    """Write a docker-archive of the host's first `packages` Debian packages to `out`."""
    chosen = installed_stanzas(packages)
    layer_path = out.with_name(f".{out.name}.layer")
    try:
        with tarfile.open(layer_path, "w", format=tarfile.GNU_FORMAT) as tar:
            layer = _Layer(tar)
            for name in OS_FILES:  # regular files, whatever the host has as symlinks
                layer.add_bytes(name, (Path("/") / name).read_bytes())
            status = "".join(stanza + "\n\n" for _, _, stanza in chosen)
            layer.add_bytes("var/lib/dpkg/status", status.encode())
            for name, arch, _ in chosen:
                lists = [DPKG / "info" / f"{name}:{arch}.list", DPKG / "info" / f"{name}.list"]
                listing = next((p for p in lists if p.is_file()), None)
                if listing is None:
                    continue
                for meta in (listing, listing.with_suffix(".md5sums")):
                    layer.add_host(str(meta))
                for line in listing.read_text(errors="surrogateescape").splitlines():
                    if line.startswith("/") and line != "/":
                        layer.add_host(line)
        diff_id = _sha_file(layer_path)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": CREATED,
                "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/bash"]},
                "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
                "history": [{"created": CREATED, "created_by": "bench/real_image.py"}],
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        config_id = hashlib.sha256(config).hexdigest()
        manifest = [
            {"Config": f"{config_id}.json", "RepoTags": [tag], "Layers": [f"{diff_id}/layer.tar"]}
        ]
        with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as archive:
            _add_bytes(archive, f"{config_id}.json", config)
            with layer_path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                archive.addfile(_member(f"{diff_id}/layer.tar", 0o644, size), f)
            _add_bytes(archive, "manifest.json", json.dumps(manifest).encode())
    finally:
        layer_path.unlink(missing_ok=True)
    return RealImage(out, f"sha256:{config_id}", len(chosen), layer.files, layer.bytes)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--tag", default="bench-real:1")
    args = parser.parse_args(argv)
    image = debian_host_image(args.out, args.packages, tag=args.tag)
    size = image.path.stat().st_size / 1e6
    print(
        f"{image.path}: {image.packages} packages, {image.files} files, "
        f"{image.bytes / 1e6:.1f} MB of content, archive {size:.1f} MB, {image.image_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
