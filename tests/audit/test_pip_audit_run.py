"""`gate check --python-project`: the real pip-audit against a local OSV service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import (
    GHSA_OF_PYSEC,
    GHSA_RECORD,
    PYSEC_RECORD,
    UNRATED_RECORD,
    gate,
)
from tests.helpers.audit_servers import OsvServer, dead_url

RECORDS = [GHSA_RECORD, PYSEC_RECORD, GHSA_OF_PYSEC, UNRATED_RECORD]


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def _check(tmp_path: Path, osv_url: str, req: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, verdict, _ = gate(
        tmp_path, "--python-project", str(req), "--python-no-deps", "--osv-url", osv_url, *extra
    )
    return code, verdict


def _by_id(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["package"]: f for f in verdict["findings"]}


def test_findings_get_severities_from_the_same_osv_service(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\ncryptography==3.2\nidna==3.6\nsix==1.16.0\n")
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 1, verdict.get("errors")
    found = _by_id(verdict)
    assert set(found) == {"requests", "cryptography", "idna"}
    # CVSS v3 vector of the GHSA record pip-audit's PYSEC id is an alias of: base score 7.5
    assert found["requests"]["severity"] == "HIGH"
    assert found["requests"]["severity_origin"] == "osv:GHSA-j8r2-6x86-q33q:CVSS_V3"
    # a PYSEC record without severity: its GHSA alias's database_specific word
    assert found["cryptography"]["severity"] == "MEDIUM"
    assert found["cryptography"]["severity_origin"] == "osv:GHSA-8q59-q68h-6hv4:database_specific"
    # nothing rates it: UNKNOWN, for unknown_severity
    assert found["idna"]["severity"] == "UNKNOWN"
    assert found["idna"]["severity_origin"] is None
    assert found["idna"]["rule"] == "vulnerabilities.unknown_severity"
    run = verdict["inputs"][0]
    assert run["kind"] == "pip-audit" and run["status"] == "ok"
    assert run["tools"][0]["name"] == "pip-audit" and run["tools"][0]["version"]
    assert run["facts"]["osv_records_read"] == 5  # each record once, whatever asks for it again
    assert "REPORT" in run["facts"]["argv"]  # the temporary report path is not in the verdict


def test_a_clean_audit_passes(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "six==1.16.0\nrequests==2.31.0\n")
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req)
        assert osv.hits("/v1/query") == 2
        assert osv.hits("/v1/vulns/") == 0
    assert code == 0, verdict.get("errors")
    assert verdict["result"] == "PASS"


def test_pip_audit_osv_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        monkeypatch.setenv("PIP_AUDIT_OSV_URL", osv.query_url)
        code, verdict, _ = gate(tmp_path, "--python-project", str(req), "--python-no-deps")
        assert osv.hits("/v1/query") == 1
    assert code == 1
    assert verdict["findings"][0]["severity"] == "HIGH"


def test_a_pylock_file_is_audited_as_locked(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n'
        '[[packages]]\nname = "requests"\nversion = "2.19.0"\n\n'
        '[[packages]]\nname = "six"\nversion = "1.16.0"\n'
    )
    with OsvServer(RECORDS) as osv:
        code, verdict, _ = gate(
            tmp_path, "--python-project", str(project), "--osv-url", osv.query_url
        )
    assert code == 1, verdict.get("errors")
    assert "--locked" in verdict["inputs"][0]["facts"]["argv"]
    assert [f["package"] for f in verdict["findings"]] == ["requests"]


def test_the_environment_gate_runs_in(tmp_path: Path) -> None:
    with OsvServer([]) as osv:
        code, verdict, _ = gate(tmp_path, "--python-env", "--osv-url", osv.query_url)
        asked = osv.hits("/v1/query")
    assert code == 0, verdict.get("errors")
    assert asked >= 10  # gate's own dependencies, each asked about
    assert verdict["inputs"][0]["facts"]["dependencies"] == asked


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("5xx", "503"),
        ("malformed", "pip-audit"),
    ],
)
def test_the_osv_query_failing_is_an_error(tmp_path: Path, fault: str, words: str) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        osv.fault("/v1/query", fault)
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 3
    assert verdict["result"] == "ERROR"
    error = verdict["inputs"][0]["error"]
    assert error.startswith("pip-audit: ")
    assert "last stderr lines" in error and words in error


def test_the_osv_service_down_is_an_error_and_the_password_is_not_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    url = dead_url().replace("http://", "http://gate:s3cretpassw0rd@") + "/v1/query"
    code, verdict = _check(tmp_path, url, req)
    assert code == 3
    error = verdict["inputs"][0]["error"]
    assert error.startswith("pip-audit: ") and "last stderr lines" in error
    printed = capsys.readouterr()
    assert "s3cretpassw0rd" not in error + printed.out + printed.err
    assert "s3cretpassw0rd" not in str(verdict)


def test_a_slow_osv_service_is_killed_at_the_deadline(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        osv.fault("/v1/query", "slow")
        code, verdict = _check(tmp_path, osv.query_url, req, "--scan-timeout", "4")
    assert code == 3
    assert "and was killed" in verdict["inputs"][0]["error"]


@pytest.mark.parametrize("fault", ["5xx", "malformed", "slow"])
def test_the_severity_lookup_failing_is_an_error(tmp_path: Path, fault: str) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        osv.fault("/v1/vulns/", fault)
        code, verdict = _check(tmp_path, osv.query_url, req, "--scan-timeout", "5")
    assert code == 3
    error = verdict["inputs"][0]["error"]
    # PYSEC-2018-28 has no record of its own here (404: nothing to rate it by); its alias has
    assert "OSV" in error and ("PYSEC-2018-28" in error or "GHSA-j8r2-6x86-q33q" in error)


def test_a_record_about_another_vulnerability_is_an_error(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        osv.records["PYSEC-2018-28"] = {**UNRATED_RECORD, "id": "PYSEC-2000-1"}
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 3
    assert "not 'PYSEC-2018-28'" in verdict["inputs"][0]["error"]


def test_pip_audit_failing_names_it_and_its_last_stderr_lines(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "requests>=2\n")  # not pinned: --no-deps cannot audit it
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 3
    error = verdict["inputs"][0]["error"]
    assert error.startswith("pip-audit: exited 1 and wrote no report; its last stderr lines:")
    assert "requests" in error


def test_an_empty_requirements_file_examined_nothing(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "# nothing pinned here\n")
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 3
    assert "examined nothing" in verdict["inputs"][0]["error"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--python-project", "missing.txt"], "no such file"),
        (["--python-env", "--python-no-deps"], "apply to a requirements file"),
        (["--osv-url", "http://127.0.0.1:9/v1/query", "--trivy", "x.json"], "--osv-url"),
        (["--index-url", "http://127.0.0.1:9/simple", "--trivy", "x.json"], "--index-url"),
        (
            ["--python-project", "r.txt", "--vulnerability-service", "nvd"],
            "--vulnerability-service",
        ),
    ],
)
def test_usage_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.txt").write_text("six==1.16.0\n")
    (tmp_path / "x.json").write_text("{}")
    code, _, _ = gate(tmp_path, *args)
    assert code == 2
    assert words in capsys.readouterr().err


def test_what_a_path_audits(tmp_path: Path) -> None:
    from gate.audit.pip_audit import source_args
    from gate.errors import UsageError

    req = _requirements(tmp_path, "six==1.16.0\n")
    assert source_args(req, no_deps=True, index_url="http://127.0.0.1:9/simple") == [
        *("-r", str(req), "--no-deps", "--disable-pip"),
        *("--index-url", "http://127.0.0.1:9/simple"),
    ]
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert source_args(project, no_deps=False, index_url=None) == [str(project)]
    assert source_args(project / "pyproject.toml", no_deps=False, index_url=None) == [str(project)]
    (project / "pylock.dev.toml").write_text('lock-version = "1.0"\n')
    assert source_args(project, no_deps=False, index_url=None) == [str(project), "--locked"]
    assert source_args(None, no_deps=False, index_url=None) == []
    for path, no_deps, index in [
        (project, True, None),
        (project / "pyproject.toml", False, "http://127.0.0.1:9/simple"),
        (None, True, None),
        (tmp_path / "empty-dir", False, None),
        (tmp_path / "missing.txt", False, None),
    ]:
        (tmp_path / "empty-dir").mkdir(exist_ok=True)
        with pytest.raises(UsageError):
            source_args(path, no_deps=no_deps, index_url=index)


def test_a_report_over_the_size_limit_is_an_error(tmp_path: Path) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req, "--max-input-bytes", "64")
    assert code == 3
    assert "pip-audit: its report is" in verdict["inputs"][0]["error"]


def _saved(tmp_path: Path) -> Path:
    report = tmp_path / "pip-audit.json"
    report.write_text(
        json.dumps(
            {
                "dependencies": [
                    {
                        "name": "requests",
                        "version": "2.19.0",
                        "vulns": [
                            {
                                "id": "PYSEC-2018-28",
                                "fix_versions": ["2.20.0"],
                                "aliases": ["GHSA-j8r2-6x86-q33q", "CVE-2018-18074"],
                                "description": "Requests sends credentials over a redirect",
                            }
                        ],
                    },
                    {"name": "six", "version": "1.16.0", "vulns": []},
                ],
                "fixes": [],
            }
        )
    )
    return report


def test_a_saved_report_is_rated_from_the_osv_url_given(tmp_path: Path) -> None:
    report = _saved(tmp_path)
    code, verdict, _ = gate(tmp_path, "--pip-audit", str(report))
    assert code == 1
    assert verdict["findings"][0]["severity"] == "UNKNOWN"  # no service named: as it is
    with OsvServer(RECORDS) as osv:
        code, verdict, _ = gate(tmp_path, "--pip-audit", str(report), "--osv-url", osv.url)
    assert code == 1
    [finding] = verdict["findings"]
    assert finding["severity"] == "HIGH"
    assert finding["severity_origin"] == "osv:GHSA-j8r2-6x86-q33q:CVSS_V3"


def test_a_saved_report_with_the_osv_service_failing_is_an_error(tmp_path: Path) -> None:
    report = _saved(tmp_path)
    with OsvServer(RECORDS) as osv:
        osv.fault("/v1/vulns/", "5xx")
        code, verdict, _ = gate(tmp_path, "--pip-audit", str(report), "--osv-url", osv.url)
    assert code == 3
    assert "HTTP 503" in verdict["inputs"][0]["error"]


def test_pythonpath_cannot_put_another_pip_audit_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip-audit runs under gate's interpreter in isolated mode (`-I`): a `pip_audit` on
    PYTHONPATH that would report a clean result is never run."""
    fake = tmp_path / "shadow" / "pip_audit"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        "import sys\n"
        "out = sys.argv[sys.argv.index('--output') + 1]\n"
        'open(out, \'w\').write(\'{"dependencies": [{"name": "requests", '
        '"version": "2.19.0", "vulns": []}], "fixes": []}\')\n'
    )
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    req = _requirements(tmp_path, "requests==2.19.0\n")
    with OsvServer(RECORDS) as osv:
        code, verdict = _check(tmp_path, osv.query_url, req)
    assert code == 1, verdict.get("errors")
    assert [f["package"] for f in verdict["findings"]] == ["requests"]


def test_a_local_build_backend_runs_without_the_callers_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving `./evil` runs its build backend (pip prepares a source tree's metadata even
    with wheels only): it gets no CI token, cloud credential or gate key."""
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran.txt"
    (evil / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (evil / "backend.py").write_text(
        "import os\n"
        f"open({str(marker)!r}, 'w').write(repr(sorted(os.environ.items())))\n"
        "def get_requires_for_build_wheel(config_settings=None): return []\n"
        "def build_wheel(*a, **k): raise RuntimeError('no')\n"
    )
    secrets = {
        "GITHUB_TOKEN": "ghp_" + "F" * 36,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token-value",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-value",
        "GATE_KEY_PASSWORD": "signing-key-passphrase",
        "TRIVY_PASSWORD": "trivy-registry-password",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    req = _requirements(tmp_path, "./evil\n")
    monkeypatch.chdir(tmp_path)
    with OsvServer(RECORDS) as osv:
        gate(tmp_path, "--python-project", str(req), "--osv-url", osv.query_url)
    ran = marker.read_text()  # pip-audit did reach the backend: the test means something
    assert "PIP_ONLY_BINARY" in ran
    for name, value in secrets.items():
        assert name not in ran and value not in ran


@pytest.mark.parametrize(
    "userinfo", ["alice:S3cretPassw0rdXYZ", "S3cretPassw0rdXYZ", "alice:S3cret%50assw0rdXYZ"]
)
def test_osv_url_credentials_are_never_shown_for_a_saved_report(
    tmp_path: Path, userinfo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _saved(tmp_path)
    url = dead_url().replace("http://", f"http://{userinfo}@")
    code, verdict, _ = gate(tmp_path, "--pip-audit", str(report), "--osv-url", url)
    assert code == 3
    error = verdict["inputs"][0]["error"]
    assert error.startswith("OSV service http://***@127.0.0.1:")
    printed = capsys.readouterr()
    for shown in (json.dumps(verdict), printed.out, printed.err):
        assert "S3cret" not in shown


def test_index_url_credentials_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    req = _requirements(tmp_path, "requests==2.19.0\n")
    index = dead_url().replace("http://", "http://user:PaSsW0rdSECRET99@") + "/simple"
    summary = tmp_path / "summary.md"
    code, verdict, _ = gate(
        tmp_path,
        *("--python-project", str(req), "--index-url", index),
        *("--osv-url", dead_url() + "/v1/query", "--summary", str(summary)),
    )
    assert code == 3
    assert "--index-url http://***@127.0.0.1:" in verdict["inputs"][0]["path"]
    printed = capsys.readouterr()
    for shown in (json.dumps(verdict), printed.out, printed.err, summary.read_text()):
        assert "PaSsW0rdSECRET99" not in shown
