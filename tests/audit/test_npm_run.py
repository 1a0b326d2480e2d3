"""`gate check --npm-project`: the machine's npm audit against a local registry, and
installed versions from the lockfile (`--npm-project`, `--npm-lockfile`)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import gate
from tests.helpers.audit_servers import NpmRegistry, dead_url

NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(
    NPM is None and not os.environ.get("CI"),
    reason="npm is not installed (`make test` installs it: see the Makefile's npm target)",
)

ATOB = {
    "id": 1091435,
    "url": "https://github.com/advisories/GHSA-g5vw-3h65-2q3v",
    "title": "Access of Resource Using Incompatible Type in atob",
    "severity": "high",
    "vulnerable_versions": "<2.1.0",
    "cwe": ["CWE-704"],
    "cvss": {"score": 7.5, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
}
PUBLISHED = {"atob": ["2.0.3", "2.1.0", "2.1.2"], "left": ["1.0.0"], "right": ["1.0.0"]}


def _project(tmp_path: Path, *, lockfile: bool = True) -> Path:
    """A project whose lockfile installs atob twice: 2.0.3 under left and under right, and
    2.1.0 at the top (not vulnerable)."""
    project = tmp_path / "app"
    project.mkdir()
    deps = {"atob": "2.1.0", "left": "1.0.0", "right": "1.0.0"}
    (project / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "dependencies": deps})
    )
    if not lockfile:
        return project

    def node(name: str, version: str, **extra: Any) -> dict[str, Any]:
        return {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
            **extra,
        }

    packages = {
        "": {"name": "app", "version": "1.0.0", "dependencies": deps},
        "node_modules/atob": node("atob", "2.1.0"),
        "node_modules/left": node("left", "1.0.0", dependencies={"atob": "2.0.3"}),
        "node_modules/left/node_modules/atob": node("atob", "2.0.3"),
        "node_modules/right": node("right", "1.0.0", dependencies={"atob": "2.0.3"}),
        "node_modules/right/node_modules/atob": node("atob", "2.0.3"),
    }
    (project / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": packages,
            },
            indent=2,
        )
    )
    return project


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-npm"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@needs_npm
def test_findings_get_the_installed_versions_from_the_lockfile(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with NpmRegistry({"atob": [ATOB]}, PUBLISHED) as registry:
        code, verdict, _ = gate(
            tmp_path, "--npm-project", str(project), "--npm-registry", registry.url
        )
        assert registry.hits("/-/npm/v1/security/advisories/bulk") == 1
    assert code == 1, verdict.get("errors")
    [finding] = verdict["findings"]
    assert finding["id"] == "GHSA-g5vw-3h65-2q3v"
    assert finding["severity"] == "HIGH" and finding["severity_origin"] is None
    assert finding["version"] == "2.0.3"
    assert finding["purl"] == "pkg:npm/atob@2.0.3"
    assert finding["details"]["nodes"] == [
        "node_modules/left/node_modules/atob",
        "node_modules/right/node_modules/atob",
    ]
    run = verdict["inputs"][0]
    assert run["status"] == "ok" and run["tools"][0]["name"] == "npm audit"
    assert run["facts"]["lockfile"].endswith("package-lock.json")
    assert f"--registry={registry.url}" in run["facts"]["argv"]


@needs_npm
def test_a_version_scoped_exception_matches_with_the_lockfile(tmp_path: Path) -> None:
    project = _project(tmp_path)
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        "  - id: GHSA-g5vw-3h65-2q3v\n"
        "    package: pkg:npm/atob@2.0.3\n"
        "    reason: the decoder is never given untrusted input\n"
        "    expires: 2099-01-01\n"
        "    owner: '@web'\n"
    )
    with NpmRegistry({"atob": [ATOB]}, PUBLISHED) as registry:
        code, verdict, _ = gate(
            tmp_path,
            "--npm-project",
            str(project),
            "--npm-registry",
            registry.url,
            "--exceptions",
            str(exceptions),
            "--now",
            "2026-12-01T00:00:00Z",
        )
    assert code == 0, verdict.get("errors")
    assert [f["decision"] for f in verdict["findings"]] == ["excepted"]


def _saved_report() -> dict[str, Any]:
    """What npm 11 writes for `_project` (its shape; the advisory as the registry gave it)."""
    via = {
        "source": 1091435,
        "name": "atob",
        "dependency": "atob",
        "title": ATOB["title"],
        "url": ATOB["url"],
        "severity": "high",
        "cwe": ATOB["cwe"],
        "cvss": ATOB["cvss"],
        "range": "<2.1.0",
    }
    return {
        "auditReportVersion": 2,
        "vulnerabilities": {
            "atob": {
                "name": "atob",
                "severity": "high",
                "isDirect": False,
                "via": [via],
                "effects": [],
                "range": "<2.1.0",
                "nodes": [
                    "node_modules/left/node_modules/atob",
                    "node_modules/right/node_modules/atob",
                ],
                "fixAvailable": True,
            }
        },
        "metadata": {
            "vulnerabilities": {
                "info": 0,
                "low": 0,
                "moderate": 0,
                "high": 1,
                "critical": 0,
                "total": 1,
            },
            "dependencies": {"prod": 4, "dev": 0, "optional": 0, "peer": 0, "total": 3},
        },
    }


def test_npm_lockfile_beside_a_saved_report(tmp_path: Path) -> None:
    project = _project(tmp_path)
    report = tmp_path / "npm-audit.json"
    report.write_text(json.dumps(_saved_report()))
    code, verdict, _ = gate(
        tmp_path,
        "--npm-audit",
        str(report),
        "--npm-lockfile",
        str(project / "package-lock.json"),
    )
    assert code == 1, verdict.get("errors")
    assert [(f["package"], f["version"]) for f in verdict["findings"]] == [("atob", "2.0.3")]


def test_without_a_lockfile_a_version_scoped_exception_warns_why_it_cannot_match(
    tmp_path: Path,
) -> None:
    report = tmp_path / "npm-audit.json"
    report.write_text(json.dumps(_saved_report()))
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        "  - id: GHSA-g5vw-3h65-2q3v\n"
        "    package: pkg:npm/atob@2.0.3\n"
        "    reason: the decoder is never given untrusted input\n"
        "    expires: 2099-01-01\n"
        "    owner: '@web'\n"
    )
    code, verdict, _ = gate(
        tmp_path,
        "--npm-audit",
        str(report),
        "--exceptions",
        str(exceptions),
        "--now",
        "2026-12-01T00:00:00Z",
    )
    assert code == 1
    [warning] = verdict["inputs"][0]["warnings"]
    assert "pkg:npm/atob@2.0.3" in warning and "--npm-lockfile" in warning


def test_a_lockfile_that_does_not_hold_the_reported_nodes_is_an_error(tmp_path: Path) -> None:
    report = tmp_path / "npm-audit.json"
    report.write_text(json.dumps(_saved_report()))
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {"name": "other"}}}))
    code, verdict, _ = gate(tmp_path, "--npm-audit", str(report), "--npm-lockfile", str(lock))
    assert code == 3
    assert "is not in" in verdict["inputs"][0]["error"]


def test_an_npm6_lockfile_cannot_give_versions(tmp_path: Path) -> None:
    report = tmp_path / "npm-audit.json"
    report.write_text(json.dumps(_saved_report()))
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"lockfileVersion": 1, "dependencies": {}}))
    code, verdict, _ = gate(tmp_path, "--npm-audit", str(report), "--npm-lockfile", str(lock))
    assert code == 3
    assert "lockfileVersion 1" in verdict["inputs"][0]["error"]


def test_npm_lockfile_without_one_saved_report_is_a_usage_error(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text("{}")
    report = tmp_path / "r.json"
    report.write_text(json.dumps(_saved_report()))
    code, _, _ = gate(tmp_path, "--trivy", str(report), "--npm-lockfile", str(lock))
    assert code == 2


def test_a_missing_lockfile_is_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, lockfile=False)
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project), "--npm-registry", dead_url())
    assert code == 3
    assert "needs a lockfile" in verdict["inputs"][0]["error"]


@needs_npm
@pytest.mark.parametrize(
    ("fault", "words"),
    [("down", "ECONNREFUSED"), ("5xx", "503"), ("malformed", "invalid json")],
)
def test_the_registry_failing_is_an_error(tmp_path: Path, fault: str, words: str) -> None:
    project = _project(tmp_path)
    with NpmRegistry({"atob": [ATOB]}, PUBLISHED) as registry:
        url = registry.url
        if fault == "down":
            url = dead_url()
        else:
            registry.fault("/-/npm/v1/security/advisories", fault)
        code, verdict, _ = gate(tmp_path, "--npm-project", str(project), "--npm-registry", url)
    assert code == 3
    error = verdict["inputs"][0]["error"]
    assert error.startswith("npm audit: ") and "npm audit failed" in error
    assert words in error  # from npm's last stderr lines


@needs_npm
def test_a_slow_registry_is_killed_at_the_deadline(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with NpmRegistry({"atob": [ATOB]}, PUBLISHED) as registry:
        registry.fault("/-/npm/v1/security/advisories", "slow")
        code, verdict, _ = gate(
            tmp_path,
            "--npm-project",
            str(project),
            "--npm-registry",
            registry.url,
            "--scan-timeout",
            "3",
        )
    assert code == 3
    assert "ran longer than 3 s and was killed" in verdict["inputs"][0]["error"]


def test_the_registry_password_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    fake = _script(tmp_path, 'echo "npm error 401 from $3" >&2; echo "{}"; exit 1')
    monkeypatch.setenv("GATE_NPM", fake)
    registry = "http://ci:hunter2hunter2@127.0.0.1:9/"
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project), "--npm-registry", registry)
    assert code == 3
    printed = capsys.readouterr()
    assert "hunter2hunter2" not in json.dumps(verdict) + printed.out + printed.err
    assert "npm error 401" in verdict["inputs"][0]["error"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("echo 'not json at all'; exit 1", "not valid JSON"),
        ("echo '{\"foo\": 1}'; exit 0", "not an npm audit report"),
        ("echo 'npm crashed' >&2; kill -SEGV $$", "killed by signal 11"),
        ("exit 7", "exited with code 7"),
        (
            'echo \'{"error": {"code": "ENOAUDIT", "summary": "Your configured '
            'registry does not support audit requests.", "detail": ""}}\'; exit 1',
            "npm audit failed (ENOAUDIT)",
        ),
        ("echo 'nothing to say' >&2; exit 1", "wrote no report"),
    ],
)
def test_npm_answering_badly_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, words: str
) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, body))
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project))
    assert code == 3
    error = verdict["inputs"][0]["error"]
    assert error.startswith("npm audit: ") and words in error


def test_a_report_that_contradicts_the_exit_code_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(_saved_report()))
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, f"cat {saved}; exit 0"))
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project))
    assert code == 3
    assert "contradicts itself" in verdict["inputs"][0]["error"]


def test_npm_missing_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("GATE_NPM", str(tmp_path / "no-such-npm"))
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project))
    assert code == 3
    assert "cannot find" in verdict["inputs"][0]["error"]
    assert "apt-get install npm" in verdict["inputs"][0]["error"]


def test_the_environment_cannot_narrow_the_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`npm_config_omit=dev` or `NODE_ENV=production` would hide dev dependencies' findings:
    gate removes them, and asks for every dependency type on argv."""
    project = _project(tmp_path)
    seen = tmp_path / "seen"
    monkeypatch.setenv("npm_config_omit", "dev")
    monkeypatch.setenv("NODE_ENV", "production")
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, f'env > {seen}; echo "$@" >> {seen}; exit 7'))
    gate(tmp_path, "--npm-project", str(project))
    text = seen.read_text()
    assert "npm_config_omit" not in text and "NODE_ENV" not in text
    assert "--include=dev" in text


def test_hostile_stderr_is_shown_defused_and_kept_verbatim_in_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    body = "printf '\\033[2J\\033]0;owned\\007\\n::error::forged annotation\\n' >&2; exit 1"
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, body))
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project))
    assert code == 3
    assert "\x1b[2J" in verdict["inputs"][0]["error"]  # verbatim in the JSON verdict
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert "forged annotation" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert not any(line.lstrip().startswith("::error::") for line in shown.splitlines())


def test_a_report_over_the_size_limit_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(_saved_report()) + " " * 200_000)  # the lockfile is far smaller
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, f"cat {saved}; exit 1"))
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project), "--max-input-bytes", "100K")
    assert code == 3
    assert "npm audit: wrote 20" in verdict["inputs"][0]["error"]
    assert "over the limit of 102,400 bytes" in verdict["inputs"][0]["error"]


@needs_npm
def test_the_projects_npmrc_cannot_choose_the_registry(tmp_path: Path) -> None:
    """A project's `.npmrc` naming a registry that knows no advisory: npm audit still asks
    the public registry (unreachable here, so an ERROR), never the project's."""
    project = _project(tmp_path)
    with NpmRegistry({}, PUBLISHED) as clean:
        (project / ".npmrc").write_text(f"registry={clean.url}\n")
        code, verdict, _ = gate(tmp_path, "--npm-project", str(project))
        assert clean.hits("/") == 0
    assert code == 3, verdict.get("errors")
    facts = verdict["inputs"][0]["facts"]
    assert facts["registry"] == "https://registry.npmjs.org/"
    assert "--registry=https://registry.npmjs.org/" in facts["argv"]
    assert "--workspaces=false" in facts["argv"]


def test_npm_gets_empty_user_and_global_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    seen = tmp_path / "seen"
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, f'echo "$@" > {seen}; exit 7'))
    gate(tmp_path, "--npm-project", str(project))
    args = seen.read_text().split()
    for flag in ("--userconfig=", "--globalconfig="):
        [config] = [a.removeprefix(flag) for a in args if a.startswith(flag)]
        assert config.startswith(tempfile.gettempdir())
    assert "--include-workspace-root" in args


CREDENTIALS = {
    "GITHUB_TOKEN": "ghp_" + "F" * 36,
    "GH_TOKEN": "gho_" + "G" * 36,
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/oidc",
    "ACTIONS_RUNTIME_TOKEN": "runtime-token-value-1234",
    "GATE_KEY_PASSWORD": "signing-key-passphrase",
    "TRIVY_PASSWORD": "trivy-registry-password",
    "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE1234",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-value",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/gcp.json",
    "AZURE_CLIENT_SECRET": "azure-client-secret-value",
    "NPM_TOKEN": "npm_" + "N" * 36,
}


def test_npm_runs_without_the_callers_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm runs in the audited project (its lifecycle of config, its .npmrc): it gets no CI
    token, cloud credential or gate key."""
    project = _project(tmp_path)
    seen = tmp_path / "seen"
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATE_NPM", _script(tmp_path, f"env > {seen}; exit 7"))
    gate(tmp_path, "--npm-project", str(project))
    text = seen.read_text()
    assert "PATH=" in text
    for name, value in CREDENTIALS.items():
        assert name not in text and value not in text


def test_a_token_as_the_registry_username_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`https://TOKEN@host/`: the user name is the secret; npm echoing it bare is masked."""
    project = _project(tmp_path)
    fake = _script(
        tmp_path,
        'for a in "$@"; do case $a in --registry=*) t=${a#*//}; t=${t%%@*};; esac; done\n'
        'echo "npm error 401 bad token $t" >&2; echo "{}"; exit 1',
    )
    monkeypatch.setenv("GATE_NPM", fake)
    registry = "http://npmtok3nAbCdEf0123456789@127.0.0.1:9/"
    code, verdict, _ = gate(tmp_path, "--npm-project", str(project), "--npm-registry", registry)
    assert code == 3
    printed = capsys.readouterr()
    assert "npmtok3nAbCdEf0123456789" not in json.dumps(verdict) + printed.out + printed.err
    assert "npm error 401 bad token ***" in verdict["inputs"][0]["error"]
