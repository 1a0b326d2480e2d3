"""`scan_image` with the real trivy, offline: archives, OCI layouts, settings, environment."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gate.errors import UsageError
from gate.models import FindingKind, FixState, InputKind, InputStatus, Severity, SourceRun
from gate.policy.model import Policy, TrivySettings
from gate.rules.trivy_db import TrivyDbRule
from gate.scanners.trivy.scan import scan_image
from tests.helpers import trivydb
from tests.scanners.conftest import Images

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

_FIX = {"fixed": FixState.FIXABLE, "affected": FixState.NO_FIX, "will_not_fix": FixState.WONT_FIX}


def scan(
    image: str | None = None,
    *,
    input_path: Path | None = None,
    settings: TrivySettings | None = None,
    trivy_bin: str | None = None,
    timeout: float = 120.0,
    verify_digest: bool = False,
    platform: str | None = None,
) -> SourceRun:
    return scan_image(
        image,
        input_path=input_path,
        settings=settings,
        trivy_bin=trivy_bin,
        timeout=timeout,
        verify_digest=verify_digest,
        progress=False,
        platform=platform,
    )


def vulns(run: SourceRun) -> dict[str, tuple[Severity, FixState]]:
    return {
        f.id: (f.severity, f.fix_state) for f in run.findings if f.kind is FindingKind.VULNERABILITY
    }


def expected(distro: str) -> dict[str, tuple[Severity, FixState]]:
    return {k: (Severity(s), _FIX[st]) for k, (s, st) in trivydb.EXPECTED[distro].items()}


@pytest.mark.parametrize(
    ("attr", "distro", "kind"),
    [
        ("alpine_tar", "alpine", "docker-archive"),
        ("alpine_tgz", "alpine", "docker-archive.gz"),
        ("debian_tar", "debian", "docker-archive"),
    ],
)
def test_docker_archive(imgs: Images, attr: str, distro: str, kind: str) -> None:
    image = getattr(imgs, attr)
    run = scan(input_path=image.path)
    assert run.status is InputStatus.OK, run.error
    assert run.kind is InputKind.TRIVY
    assert run.path == str(image.path)
    assert vulns(run) == expected(distro)
    assert run.subject is not None
    assert run.subject.image_id == image.image_id
    assert run.subject.digest is None  # a docker-archive records no manifest digest
    assert run.subject.name == "gate-fixture:1"
    assert any("cannot be signed" in w for w in run.warnings)
    assert run.facts.as_json()["archive"] == {"format": kind, "manifest_digest": None}
    assert run.facts.as_json()["scan"]["exit_code"] == 4  # findings
    assert run.facts.as_json()["scan"]["duration_s"] > 0
    assert "--exit-code=4" in run.facts.as_json()["scan"]["argv"]
    assert run.sha256 and len(run.sha256) == 64


@pytest.mark.parametrize(("attr", "distro"), [("alpine_oci", "alpine"), ("debian_oci", "debian")])
def test_oci_layout_binds_the_layout_manifest_digest(imgs: Images, attr: str, distro: str) -> None:
    image = getattr(imgs, attr)
    run = scan(input_path=image.path)
    assert run.status is InputStatus.OK, run.error
    assert vulns(run) == expected(distro)
    assert run.subject is not None
    assert run.subject.digest == image.manifest_digest
    assert run.subject.image_id == image.image_id
    assert not any("cannot be signed" in w for w in run.warnings)


def test_db_facts_are_the_db_trivy_used(imgs: Images, trivy_cache: Path) -> None:
    run = scan(input_path=imgs.alpine_tar.path)
    db = run.facts.as_json()["trivy_db"]
    assert set(db) == {"version", "updated_at", "next_update", "downloaded_at"}
    assert db["version"] == 2
    meta = json.loads((trivy_cache / "db" / "metadata.json").read_text())
    assert db["updated_at"] == meta["UpdatedAt"]
    assert f"--cache-dir={trivy_cache}" in run.facts.as_json()["scan"]["argv"]
    assert any(t.name == "Trivy" and t.version == "0.76.0" for t in run.tools)


def test_default_cache_dir_is_trivys(
    imgs: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without TRIVY_CACHE_DIR, gate passes (and reads) trivy's default: $XDG_CACHE_HOME/trivy."""
    monkeypatch.delenv("TRIVY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    trivydb.write_db(tmp_path / "xdg" / "trivy")
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.OK, run.error
    assert f"--cache-dir={tmp_path / 'xdg' / 'trivy'}" in run.facts.as_json()["scan"]["argv"]
    assert run.facts.as_json()["trivy_db"]["updated_at"]


def test_metadata_without_dates_asks_trivy_version(
    imgs: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trivy scans with a `{"Version": 2}`-only metadata.json; gate then asks `trivy version`,
    which reports no DB metadata: a DB of unknown age, which `max_db_age` rejects."""
    cache = tmp_path / "cache"
    trivydb.write_db(cache)
    (cache / "db" / "metadata.json").write_text('{"Version": 2}')
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(cache))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.OK, run.error
    db = run.facts.as_json()["trivy_db"]
    assert db["updated_at"] is None
    assert db["error"] == "trivy reports no vulnerability DB metadata in its cache directory"
    policy = Policy.model_validate(
        {"apiVersion": "gate/v1", "vulnerabilities": {"max_db_age": "48h"}}
    )
    (error,) = TrivyDbRule().check_inputs([run], policy, dt.datetime.now(dt.UTC))
    assert "is missing or has no UpdatedAt (trivy reports no vulnerability DB metadata" in error


def test_no_db_is_an_error(imgs: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "empty-cache"))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    assert "trivy failed" in (run.error or "")
    assert "--skip-db-update cannot be specified on the first run" in (run.error or "")


def test_corrupt_db_panic_is_an_error(
    imgs: Images, trivy_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    trivydb.write_db(cache)
    db = cache / "db" / "trivy.db"
    db.write_bytes(db.read_bytes()[: 4096 * 3 + 100])  # meta pages intact, buckets cut off
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(cache))
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.ERROR
    error = run.error or ""
    # bbolt on a cut file usually trips an assertion (a Go panic, exit 2); once in a
    # while the mmap read faults first ("unexpected fault address"), also a crash
    assert run.facts.as_json()["scan"]["exit_code"] != 0
    assert "panic" in error or "fault" in error, error
    assert "goroutine" not in error


def test_default_settings_scan_secrets(imgs: Images) -> None:
    run = scan(input_path=imgs.secret_tar.path)
    assert run.status is InputStatus.OK, run.error
    secrets = [f for f in run.findings if f.kind is FindingKind.SECRET]
    assert [s.id for s in secrets] == ["github-pat"]
    assert "--scanners=vuln,secret" in run.facts.as_json()["scan"]["argv"]


def test_settings_reach_trivy(imgs: Images) -> None:
    settings = TrivySettings(scanners=["vuln"], pkg_types=["os"], detection_priority="precise")
    run = scan(input_path=imgs.secret_tar.path, settings=settings)
    assert run.status is InputStatus.OK, run.error
    argv = run.facts.as_json()["scan"]["argv"]
    assert "--scanners=vuln" in argv
    assert "--pkg-types=os" in argv
    assert "--detection-priority=precise" in argv
    os_only = {k: v for k, v in expected("alpine").items() if k not in trivydb.EXPECTED_LANG}
    assert vulns(run) == os_only
    assert not [f for f in run.findings if f.kind is FindingKind.SECRET]


def test_user_filters_cannot_hide_findings(imgs: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIVY_* settings that would hide findings are overridden: gate filters itself."""
    monkeypatch.setenv("TRIVY_SEVERITY", "CRITICAL")
    monkeypatch.setenv("TRIVY_IGNORE_UNFIXED", "true")
    monkeypatch.setenv("TRIVY_SKIP_DIRS", "usr,lib")
    monkeypatch.setenv("TRIVY_PKG_TYPES", "os")
    monkeypatch.setenv("TRIVY_EXIT_CODE", "1")
    monkeypatch.setenv("TRIVY_EXIT_ON_EOL", "1")
    monkeypatch.setenv("TRIVY_IGNORE_STATUS", "fixed,affected")
    monkeypatch.setenv("TRIVY_QUIET", "true")
    run = scan(input_path=imgs.alpine_tar.path)
    assert run.status is InputStatus.OK, run.error
    assert vulns(run) == expected("alpine")


def test_trivy_yaml_and_trivyignore_in_cwd_are_ignored(
    imgs: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `scan.distro` is not among the flags gate sets: only `--config=` keeps it out
    (tmp_path / "trivy.yaml").write_text("severity: [CRITICAL]\nscan:\n  distro: alpine/3.0\n")
    (tmp_path / ".trivyignore").write_text("CVE-2099-0001\nCVE-2099-0006\n")
    monkeypatch.chdir(tmp_path)
    run = scan(input_path=imgs.alpine_tar.path)
    assert vulns(run) == expected("alpine")


def test_path_with_colon_is_scanned_through_a_link(imgs: Images, tmp_path: Path) -> None:
    odd = tmp_path / "team:app@1.tar"
    odd.write_bytes(imgs.alpine_tar.path.read_bytes())
    run = scan(input_path=odd)
    assert run.status is InputStatus.OK, run.error
    assert run.path == str(odd)
    assert vulns(run) == expected("alpine")


def test_relative_input_path(imgs: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(imgs.alpine_tar.path.parent)
    run = scan(input_path=Path(imgs.alpine_tar.path.name))
    assert run.status is InputStatus.OK, run.error
    assert run.path == "alpine.tar"


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    run = scan(input_path=tmp_path / "absent.tar")
    assert run.status is InputStatus.ERROR
    assert run.error == f"{tmp_path / 'absent.tar'}: no such file or directory"


def test_not_an_image_is_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    run = scan(input_path=junk)
    assert run.status is InputStatus.ERROR
    assert "unable to open" in (run.error or "")


def test_bad_calls_are_usage_errors(imgs: Images) -> None:
    with pytest.raises(UsageError):
        scan("app:1", input_path=imgs.alpine_tar.path)
    with pytest.raises(UsageError):
        scan(None)
    with pytest.raises(UsageError, match="not an image reference"):
        scan("Not An Image!")


def test_license_findings_are_counted_against_trivys_exit_code(imgs: Images) -> None:
    """trivy exits 4 for license findings too; gate has no license policy and judges none,
    but counts them, so the report still agrees with the exit code."""
    run = scan(input_path=imgs.alpine_tar.path, settings=TrivySettings(scanners=["license"]))
    assert run.status is InputStatus.OK, run.error
    assert run.facts.as_json()["scan"]["exit_code"] == 4
    assert run.facts.as_json()["licenses_ignored"] > 0
    assert run.findings == ()
