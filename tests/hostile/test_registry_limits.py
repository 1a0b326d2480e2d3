"""gate's own registry calls end within `--scan-timeout` and read at most 4 MiB, and any
answer Python cannot parse is a clear ERROR, never a crash (issue 14).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.models import InputStatus
from gate.oci.client import MAX_DOCUMENT
from tests.helpers.scripted_registry import ScriptedRegistry, TokenService
from tests.hostile.test_registry_binding import SV, push_sv
from tests.scanners.conftest import offline, real_trivy, trivy_bin, trivy_cache  # noqa: F401
from tests.scanners.test_scan_image import scan

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("offline", "real_trivy")]
ROOT = Path(__file__).resolve().parents[2]
FLOOD = 300_000_000


@pytest.fixture
def reg() -> Iterator[ScriptedRegistry]:
    with ScriptedRegistry() as r:
        yield r


@pytest.fixture
def sv(reg: ScriptedRegistry) -> SV:
    return push_sv(reg)


@pytest.mark.parametrize("mode", ["trickle", "stall"])
def test_a_slow_registry_ends_within_the_scan_timeout(
    reg: ScriptedRegistry, sv: SV, mode: str
) -> None:
    """A manifest trickling one byte every 0.5 s, or no answer at all (not even headers)."""
    reg.manifest(sv.s, tag="slow", mode=mode, interval=0.5)
    began = time.monotonic()
    run = scan(f"{reg.netloc}/app:slow", timeout=1.5)
    took = time.monotonic() - began
    assert run.status is InputStatus.ERROR
    assert "did not answer within --scan-timeout (1.5s)" in (run.error or ""), run.error
    assert took < 2.5
    assert not reg.by_trivy()


def test_the_cli_waits_for_a_stalled_registry_once(reg: ScriptedRegistry, sv: SV) -> None:
    """`gate check`: the early path resolves (and times out), the scan takes that failure
    over instead of waiting again: the whole command ends soon after --scan-timeout."""
    reg.manifest(sv.s, tag="slow", mode="stall")
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "check", f"{reg.netloc}/app:slow",
         "--policy", str(ROOT / "policies" / "default.yaml"), "--scan-timeout", "1.5"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    took = time.monotonic() - began
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "did not answer within --scan-timeout (1.5s)" in proc.stdout + proc.stderr
    assert took < 4.0
    assert len([r for r in reg.log if r.path.endswith("/manifests/slow")]) == 1


@pytest.mark.parametrize("announce", [True, False])
def test_a_huge_manifest_is_refused_after_4_mib(
    reg: ScriptedRegistry, sv: SV, announce: bool
) -> None:
    reg.manifest(sv.s, tag="big", mode="flood", size=FLOOD, announce_length=announce)
    began = time.monotonic()
    run = scan(f"{reg.netloc}/app:big", timeout=30)
    assert run.status is InputStatus.ERROR
    said = f"announces {FLOOD} bytes" if announce else f"more than the {MAX_DOCUMENT} bytes"
    assert said in (run.error or ""), run.error
    assert time.monotonic() - began < 10
    assert not reg.by_trivy()


def test_a_300_mb_manifest_keeps_gate_under_256_mib(reg: ScriptedRegistry, sv: SV) -> None:
    """The whole CLI, in its own process: its peak RSS while refusing the flood."""
    reg.manifest(sv.s, tag="big", mode="flood", size=FLOOD, announce_length=False)
    probe = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(p.returncode, peak, p.stdout[-300:] + p.stderr[-300:])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "gate", "check",
         f"{reg.netloc}/app:big", "--policy", str(ROOT / "policies" / "default.yaml"),
         "--scan-timeout", "60"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    ).stdout  # fmt: skip
    code, peak_kib, said = out.split(" ", 2)
    assert code == "3", said
    assert "more than the" in said
    assert int(peak_kib) < 256 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB"
    print(f"peak RSS refusing a {FLOOD} byte manifest: {int(peak_kib) / 1024:.1f} MiB")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_a_manifest_nested_5000_deep_is_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    doc = sv.s[:-1] + b',"x":' + nested(5000) + b"}"
    reg.manifest(doc, tag="deep")
    run = scan(f"{reg.netloc}/app:deep")
    assert run.status is InputStatus.ERROR
    assert "JSON nested too deep for gate to read" in (run.error or ""), run.error
    assert not reg.by_trivy()


def test_a_token_answer_nested_100k_deep_is_an_error(reg: ScriptedRegistry, sv: SV) -> None:
    reg.manifest(sv.s, tag="t")
    with TokenService("127.0.0.1") as tokens:
        tokens.answer = b'{"token":' + nested(100_000) + b"}"
        reg.challenge = f'Bearer realm="http://localhost:{tokens.port}/token",service="s"'
        run = scan(f"{reg.netloc}/app:t")
    assert run.status is InputStatus.ERROR
    assert "answered JSON nested too deep to read" in (run.error or ""), run.error


def test_a_registry_error_body_is_not_repeated(reg: ScriptedRegistry) -> None:
    """Only the distribution error codes of an error answer are quoted, and only capitals."""
    reg.manifest(
        json.dumps({"errors": [{"code": "\x1b[31mEVIL", "message": "::error::x"}]}).encode(),
        tag="e",
        status=404,
    )
    run = scan(f"{reg.netloc}/app:e")
    assert run.status is InputStatus.ERROR
    assert "HTTP 404 to GET" in (run.error or "")
    assert "\x1b" not in (run.error or "") and "::error::" not in (run.error or "")
