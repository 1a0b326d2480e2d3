"""Build small, reproducible container images without a container engine (stdlib only).

- `docker_archive(out, ...)`: a `docker save` tar (manifest.json + config + layer.tar),
  optionally gzipped as a whole (trivy reads both);
- `oci_layout(out_dir, ...)`: an OCI image-layout directory (oci-layout, index.json,
  blobs/sha256/...). trivy reads OCI layouts only as a directory, never as a tar.

One uncompressed layer with fixed mtimes and owners, so the same arguments give the same
bytes (and the same ImageID). It holds only what trivy reads, matching the advisories of
`tests/helpers/trivydb.py`:

    alpine: etc/alpine-release, etc/os-release (3.22.1), lib/apk/db/installed
    debian: etc/debian_version, etc/os-release (12), var/lib/dpkg/status
    both:   usr/lib/python3.12/site-packages/*.dist-info/METADATA (requests, PyYAML, flask)
            usr/local/lib/node_modules/*/package.json (lodash, minimist)

`extra_packages=N` adds N harmless packages (half OS packages, half Python dists) for benches;
`extra_files` adds files, e.g. `PLANTED_SECRET` for the secret scanner.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Literal, NamedTuple

Distro = Literal["alpine", "debian"]

MTIME = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"

APK = [  # name, version, origin (the source package trivy looks up)
    ("musl", "1.2.5-r10", "musl"),
    ("busybox", "1.37.0-r18", "busybox"),
    ("libcrypto3", "3.5.0-r0", "openssl"),
    ("zlib", "1.3.1-r2", "zlib"),
]
DPKG = [  # name, version, source
    ("libssl3", "3.0.15-1~deb12u1", "openssl"),
    ("bash", "5.2.15-2+b7", "bash"),
    ("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
]
PYPI = [("requests", "2.31.0"), ("PyYAML", "6.0.1"), ("flask", "3.0.3")]
NPM = [("lodash", "4.17.20"), ("minimist", "1.2.8")]


# A GitHub token shape trivy's secret scanner knows (rule `github-pat`); built at run time
# so the source holds no token-shaped literal.
PLANTED_SECRET = {
    "app/.env": "GITHUB_TOKEN=" + "ghp" + "_" + "0123456789abcdefghij" + "KLMNOPQRSTUVWXYZ\n"
}


class Image(NamedTuple):
    path: Path
    image_id: str
    """The config digest (trivy's `ImageID`)."""
    manifest_digest: str | None
    """The manifest digest the layout records (OCI layout only)."""
    tag: str


def _os_files(distro: Distro, extra: int) -> dict[str, str]:
    if distro == "alpine":
        apk = list(APK) + [
            (f"extra-os-{i:04d}", "1.0.0-r0", f"extra-os-{i:04d}") for i in range(extra)
        ]
        installed = "\n".join(
            f"P:{n}\nV:{v}\nA:x86_64\nT:{n} (test fixture)\nL:MIT\no:{o}\n" for n, v, o in apk
        )
        return {
            "etc/alpine-release": "3.22.1\n",
            "etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.1\n'
            'PRETTY_NAME="Alpine Linux v3.22"\n',
            "lib/apk/db/installed": installed + "\n",
        }
    dpkg = list(DPKG) + [
        (f"extra-os-{i:04d}", "1.0.0-1", f"extra-os-{i:04d}") for i in range(extra)
    ]
    status = "\n".join(
        f"Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nSource: {src}\n"
        f"Version: {v}\nMaintainer: test <test@example.invalid>\nDescription: {n} (test fixture)\n"
        for n, v, src in dpkg
    )
    return {
        "etc/debian_version": "12.8\n",
        "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
        "var/lib/dpkg/status": status + "\n",
    }


def files(
    distro: Distro = "alpine",
    extra_packages: int = 0,
    extra_files: dict[str, str] | None = None,
) -> dict[str, str]:
    """The layer's files, `{path: text}`; `extra_files` are added as given."""
    extra_os = extra_packages // 2
    out = _os_files(distro, extra_os)
    pypi = PYPI + [(f"extra-py-{i:04d}", "1.0.0") for i in range(extra_packages - extra_os)]
    for name, ver in pypi:
        out[f"usr/lib/python3.12/site-packages/{name}-{ver}.dist-info/METADATA"] = (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\nSummary: test fixture\n"
            "License: MIT\n"
        )
    for name, ver in NPM:
        out[f"usr/local/lib/node_modules/{name}/package.json"] = (
            json.dumps({"name": name, "version": ver, "license": "MIT"}, indent=2) + "\n"
        )
    out.update(extra_files or {})
    return out


def layer_tar(content: dict[str, str]) -> bytes:
    """An uncompressed, deterministic tar of `content`, parent directories included."""
    dirs = {"/".join(p.split("/")[:i]) for p in content for i in range(1, p.count("/") + 1)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path in sorted(dirs | set(content)):
            info = tarfile.TarInfo(path)
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "root", "root"
            if path in content:
                data = content[path].encode()
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
            else:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _config(layer: bytes, title: str, arch: str = "amd64") -> bytes:
    config = {
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "Labels": {"org.opencontainers.image.title": title},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + _sha(layer)]},
        "history": [{"created": CREATED, "created_by": "tests/helpers/images.py"}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _manifest(config: bytes, layer: bytes) -> bytes:
    """An OCI image manifest for one config and one uncompressed layer."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + _sha(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + _sha(layer),
                    "size": len(layer),
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, 0o644
    t.addfile(info, io.BytesIO(data))


def docker_archive(
    out: Path,
    distro: Distro = "alpine",
    *,
    tag: str = "gate-fixture:1",
    gzipped: bool = False,
    extra_packages: int = 0,
    extra_files: dict[str, str] | None = None,
) -> Image:
    """Write a `docker save` archive; `gzipped` compresses the whole tar."""
    layer = layer_tar(files(distro, extra_packages, extra_files))
    config = _config(layer, tag)
    manifest = [
        {
            "Config": f"{_sha(config)}.json",
            "RepoTags": [tag],
            "Layers": [f"{_sha(layer)}/layer.tar"],
        }
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        _add(t, f"{_sha(config)}.json", config)
        _add(t, f"{_sha(layer)}/layer.tar", layer)
        _add(t, "manifest.json", json.dumps(manifest).encode())
    data = buf.getvalue()
    if gzipped:
        data = gzip.compress(data, mtime=0)
    out.write_bytes(data)
    return Image(out, "sha256:" + _sha(config), None, tag)


def oci_layout(
    out_dir: Path,
    distro: Distro = "alpine",
    *,
    tag: str = "gate-fixture:1",
    extra_packages: int = 0,
    extra_files: dict[str, str] | None = None,
) -> Image:
    """Write an OCI image-layout directory with one manifest, its ref name the tag's tag part."""
    layer = layer_tar(files(distro, extra_packages, extra_files))
    config = _config(layer, tag)
    manifest = _manifest(config, layer)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": MANIFEST_TYPE,
                "digest": "sha256:" + _sha(manifest),
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag.rsplit(":", 1)[-1]},
            }
        ],
    }
    blobs = out_dir / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (out_dir / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (out_dir / "index.json").write_text(json.dumps(index))
    for blob in (config, layer, manifest):
        (blobs / _sha(blob)).write_bytes(blob)
    return Image(out_dir, "sha256:" + _sha(config), "sha256:" + _sha(manifest), tag)


INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


class MultiArch(NamedTuple):
    """A multi-platform image: the index, and each platform's manifest and config."""

    path: Path
    index_digest: str
    manifests: dict[str, str]
    """Architecture → that platform's manifest digest."""
    configs: dict[str, str]
    """Architecture → that platform's config digest (trivy's ImageID)."""
    tag: str


def oci_index_layout(
    out_dir: Path,
    distro: Distro = "alpine",
    *,
    tag: str = "gate-fixture:1",
    archs: tuple[str, ...] = ("amd64", "arm64"),
) -> MultiArch:
    """Write an OCI layout whose tag names an image index of one image per architecture
    (linux), as `docker buildx --platform` pushes: the same files, a config per platform."""
    layer = layer_tar(files(distro, 0, None))
    blobs = out_dir / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / _sha(layer)).write_bytes(layer)
    children, manifests, configs = [], {}, {}
    for arch in archs:
        config = _config(layer, tag, arch)
        manifest = _manifest(config, layer)
        for blob in (config, manifest):
            (blobs / _sha(blob)).write_bytes(blob)
        manifests[arch], configs[arch] = "sha256:" + _sha(manifest), "sha256:" + _sha(config)
        children.append(
            {
                "mediaType": MANIFEST_TYPE,
                "digest": manifests[arch],
                "size": len(manifest),
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": children},
        separators=(",", ":"),
    ).encode()
    (blobs / _sha(index)).write_bytes(index)
    top = {
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [
            {
                "mediaType": INDEX_TYPE,
                "digest": "sha256:" + _sha(index),
                "size": len(index),
                "annotations": {"org.opencontainers.image.ref.name": tag.rsplit(":", 1)[-1]},
            }
        ],
    }
    (out_dir / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (out_dir / "index.json").write_text(json.dumps(top))
    return MultiArch(out_dir, "sha256:" + _sha(index), manifests, configs, tag)
