"""Fixtures for the audit runs: OSV records and npm advisories the tests write."""

from __future__ import annotations

from typing import Any

GHSA_RECORD: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "GHSA-j8r2-6x86-q33q",
    "modified": "2024-05-20T00:00:00Z",
    "published": "2018-06-15T00:00:00Z",
    "aliases": ["CVE-2018-18074", "PYSEC-2018-28"],
    "summary": "Requests sends credentials over a downgraded redirect",
    "details": "A redirect from https to http keeps the Authorization header.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"name": "requests", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
            "versions": ["2.19.0", "2.19.1"],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}

PYSEC_RECORD: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "PYSEC-2021-59",
    "modified": "2024-05-20T00:00:00Z",
    "aliases": ["GHSA-8q59-q68h-6hv4", "CVE-2020-25659"],
    "details": "python-cryptography 3.2 is vulnerable to Bleichenbacher timing attacks.",
    "affected": [
        {
            "package": {"name": "cryptography", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.3"}]}],
            "versions": ["3.2"],
        }
    ],
}

GHSA_OF_PYSEC: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "GHSA-8q59-q68h-6hv4",
    "modified": "2024-05-20T00:00:00Z",
    "aliases": ["CVE-2020-25659", "PYSEC-2021-59"],
    "summary": "Bleichenbacher timing oracle attack against RSA decryption",
    "affected": [],
    "database_specific": {"severity": "MODERATE"},
}

UNRATED_RECORD: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "PYSEC-2099-1",
    "modified": "2024-05-20T00:00:00Z",
    "details": "An advisory no one rated.",
    "affected": [
        {
            "package": {"name": "idna", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}],
            "versions": ["3.6"],
        }
    ],
}


import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from gate.cli import main  # noqa: E402
from tests.helpers.audit_servers import dead_url  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No audit in these tests may reach the internet: every proxy variable points at a port
    nothing listens on, and only 127.0.0.1 bypasses it (pip and npm honour both)."""
    dead = dead_url()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, dead)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("PIP_INDEX_URL", dead + "/simple")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def gate(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """Run `gate check ARGS --json FILE` in process: (exit code, JSON verdict, stderr+stdout)."""
    out = tmp_path / "verdict.json"
    with pytest.raises(SystemExit) as info:
        main(["check", *args, "--json", str(out)])
    code = info.value.code
    assert isinstance(code, int)
    verdict = json.loads(out.read_text()) if out.exists() else {}
    return code, verdict, ""
