"""gate vouches for the trivy it runs: the verdict records the binary's path, version and
sha256; `--trivy-sha256` pins it; a known-malicious release (CVE-2026-33634) never starts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gate.scanners.trivy import vouch as trivy_vouch
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy]

ROOT = Path(__file__).resolve().parents[2]


def _gate(*args: str | Path, trivy: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATE_TRIVY": str(trivy)}
    return subprocess.run(
        [sys.executable, "-m", "gate", "check", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip


def _fake_trivy(tmp_path: Path, version: str) -> tuple[Path, Path]:
    """A program that leaves a mark if it ever runs, carrying Go build info like trivy's."""
    marker = tmp_path / "it-ran"
    fake = tmp_path / "trivy"
    script = f"#!/bin/sh\ntouch '{marker}'\nexit 1\n#".encode()
    script += b" " * (-len(script) % 16)  # Go aligns its build info header to 16 bytes
    body = (
        script
        + b"\xff Go buildinf:\x08\x02 path\tgithub.com/aquasecurity/trivy\n"
        + b'build\t-ldflags="-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver='
        + version.encode()
        + b'"\n'
    )
    fake.write_bytes(body)
    fake.chmod(0o755)
    return fake, marker


def test_the_real_binary_is_identified_without_running_it(trivy_bin: Path) -> None:
    found = trivy_vouch.identify(str(trivy_bin))
    assert found.version == "0.76.0"
    assert found.path == str(trivy_bin.resolve())
    assert found.sha256 == hashlib.sha256(trivy_bin.resolve().read_bytes()).hexdigest()


@pytest.mark.parametrize("version", ["0.69.4", "0.69.5", "v0.69.6"])
def test_a_known_malicious_release_is_refused_before_it_runs(
    tmp_path: Path, imgs: Images, version: str
) -> None:
    fake, marker = _fake_trivy(tmp_path, version)
    out = tmp_path / "verdict.json"
    proc = _gate("--input", imgs.alpine_tar.path, "--json", out, trivy=fake)
    assert proc.returncode == 3, proc.stderr
    assert not marker.exists(), "the malicious trivy was started"
    doc = json.loads(out.read_text())
    assert doc["result"] == "ERROR"
    error = doc["inputs"][0]["error"]
    assert "CVE-2026-33634" in error and "known-malicious" in error
    assert version.removeprefix("v") in error


def test_a_pin_that_does_not_match_refuses_the_binary(
    tmp_path: Path, imgs: Images, trivy_bin: Path
) -> None:
    fake, marker = _fake_trivy(tmp_path, "0.76.0")
    pin = hashlib.sha256(trivy_bin.resolve().read_bytes()).hexdigest()
    out = tmp_path / "verdict.json"
    proc = _gate("--input", imgs.alpine_tar.path, "--trivy-sha256", pin, "--json", out, trivy=fake)
    assert proc.returncode == 3, proc.stderr
    assert not marker.exists()
    error = json.loads(out.read_text())["inputs"][0]["error"]
    assert f"--trivy-sha256 pins {pin}" in error
    assert hashlib.sha256(fake.read_bytes()).hexdigest() in error


def test_the_verdict_records_the_pinned_binary(
    tmp_path: Path, imgs: Images, trivy_bin: Path
) -> None:
    pin = hashlib.sha256(trivy_bin.resolve().read_bytes()).hexdigest()
    out = tmp_path / "verdict.json"
    proc = _gate(
        "--input", imgs.alpine_tar.path, "--trivy-sha256", f"sha256:{pin.upper()}",
        "--json", out, trivy=trivy_bin,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    facts = json.loads(out.read_text())["inputs"][0]["facts"]
    assert facts["trivy_binary"] == {
        "path": str(trivy_bin.resolve()),
        "version": "0.76.0",
        "sha256": pin,
    }


@pytest.mark.parametrize("pin", ["abc", "0" * 63, "g" * 64, ""])
def test_a_malformed_pin_is_a_usage_error(tmp_path: Path, imgs: Images, pin: str) -> None:
    proc = _gate("--input", imgs.alpine_tar.path, "--trivy-sha256", pin, trivy=tmp_path / "x")
    assert proc.returncode == 2
    assert "--trivy-sha256" in proc.stderr and "Traceback" not in proc.stderr


def test_the_list_names_its_sources() -> None:
    for bad in trivy_vouch.known_bad():
        assert "CVE-2026-33634" in bad.advisory and bad.sources
        assert all(s.startswith("https://") for s in bad.sources)
    listed = {v for bad in trivy_vouch.known_bad() for v in bad.versions}
    assert {"0.69.4", "0.69.5", "0.69.6"} <= listed
