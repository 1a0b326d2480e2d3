"""`--ignore-file`: every corpus ignore file is read into exceptions or refused clearly, and
the traps (a typo'd key, an absolute path, duplicate ids, no trailing newline) behave as
issue 12 says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gate.engine import evaluate
from gate.errors import InputError, PolicyError
from gate.ignore_files.apply import NO_EXPIRY, ignore_exceptions
from gate.ignore_files.read import read_ignore_file
from gate.models import Finding, FindingKind, InputKind, Location, Package, SourceRef
from gate.policy.model import ExceptionRules
from tests.engine.builders import NOW, policy, run

DATA = Path(__file__).resolve().parents[1] / "data" / "ignore-files"
WARN = ExceptionRules(unknown_keys="warn")

# file → (format, exceptions made with unknown_keys: warn, read under the default `error`)
READS = {
    "grype-config-ignore-reason.yaml": ("grype", 1, True),
    "grype-config-profiles.grype.yaml": ("grype", 2, True),
    "realworld-firmware-action-misconfig.trivyignore": ("trivyignore", 3, True),
    "realworld-formsflow-no-trailing-newline.trivyignore.yaml": ("trivyignore-yaml", 2, True),
    "trivy-docs-example.trivyignore": ("trivyignore", 8, False),  # `WITH LLVM-exception`
    "trivy-docs-example.trivyignore.yaml": (
        "trivyignore-yaml",
        9,
        True,
    ),  # its 4 `licenses:` entries except nothing
    "trivy-testdata.trivyignore": ("trivyignore", 9, False),  # `key2:value2`
    "trivy-testdata.trivyignore.yaml": (
        "trivyignore-yaml",
        15,
        True,
    ),  # two purls: two; 5 licenses: none
}
REFUSED = {
    "grype-readme-v0.80-ignore-full.yaml": "ignore[0].fix-state: gate cannot apply a rule",
    "grype-readme-v0.80-ignore-vex.yaml": "ignore[0].vex-status: gate cannot apply a rule",
    "trivy-ignore-policy-advanced.rego": "a Rego ignore policy is a program",
    "trivy-ignore-policy-basic.rego": "a Rego ignore policy is a program",
}


def test_the_table_covers_every_corpus_file() -> None:
    names = {p.name for p in DATA.iterdir() if p.name != "PROVENANCE.tsv"}
    assert names == set(READS) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READS))
def test_reads(name: str) -> None:
    fmt, count, strict_ok = READS[name]
    f = read_ignore_file(DATA / name)
    assert f.format == fmt
    made = ignore_exceptions([f], WARN)
    assert len(made.exceptions) == count
    assert made.labels[0].startswith(f"{DATA / name}: ")
    if strict_ok:
        assert len(ignore_exceptions([f], ExceptionRules()).exceptions) == count
    else:
        with pytest.raises(InputError, match="exception_rules.unknown_keys: error"):
            ignore_exceptions([f], ExceptionRules())


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused(name: str) -> None:
    with pytest.raises(InputError) as info:
        read_ignore_file(DATA / name)
    assert info.value.path == str(DATA / name)
    assert REFUSED[name] in str(info.value)


def test_trivyignore_entries_dates_and_a_last_line_without_newline() -> None:
    f = read_ignore_file(DATA / "trivy-testdata.trivyignore")
    assert not (DATA / "trivy-testdata.trivyignore").read_bytes().endswith(b"\n")
    got = {e.id: (e.where, e.expires) for e in f.entries}
    assert got["CVE-2019-0004"] == ("line 4", dt.date(2020, 1, 1))
    assert got["CVE-2019-0001"] == ("line 2", None)
    assert got["GPL-3.0"][1] is None  # the last line, with no newline after it
    made = ignore_exceptions([f], WARN)
    assert {e.id: e.expires for e in made.exceptions}["CVE-2019-0001"] == NO_EXPIRY


def test_no_trailing_newline_yaml_and_an_absolute_path_warns() -> None:
    name = DATA / "realworld-formsflow-no-trailing-newline.trivyignore.yaml"
    assert not name.read_bytes().endswith(b"\n")
    made = ignore_exceptions([read_ignore_file(name)], ExceptionRules())
    assert [(e.id, e.paths) for e in made.exceptions] == [
        ("CVE-2023-45853", []),
        ("private-key", ["/venv/lib/python3.13/site-packages/seleniumwire/ca.key"]),
    ]
    assert made.exceptions[0].reason == "Not considered a vulnerability by upstream Debian"
    assert any("secrets[0].paths[0]" in w and "is absolute" in w for w in made.warnings)


TYPO = """\
vulnerabilities:
  - id: CVE-2023-1111
    expires: 2024-01-01
    statement: a typo'd key that Trivy skips, so this entry would never expire
"""


def test_a_typod_key_is_an_error_by_default(tmp_path: Path) -> None:
    p = tmp_path / ".trivyignore.yaml"
    p.write_text(TYPO)
    with pytest.raises(InputError) as info:
        ignore_exceptions([read_ignore_file(p)], ExceptionRules())
    assert "vulnerabilities[0].expires: unknown key" in str(info.value)


def test_a_typod_key_warns_when_the_policy_says_so(tmp_path: Path) -> None:
    p = tmp_path / ".trivyignore.yaml"
    p.write_text(TYPO)
    made = ignore_exceptions([read_ignore_file(p)], WARN)
    assert made.exceptions[0].expires == NO_EXPIRY
    assert [w for w in made.warnings if "vulnerabilities[0].expires: unknown key" in w]
    # …and under require_expiry the entry it left without an expiry is refused
    with pytest.raises(PolicyError) as info:
        ignore_exceptions(
            [read_ignore_file(p)], ExceptionRules(unknown_keys="warn", require_expiry=True)
        )
    assert "vulnerabilities[0] (CVE-2023-1111): no expiry" in info.value.diagnostics()


def test_strict_policy_requires_an_expiry(repo_root: Path) -> None:
    from gate.policy.load import load_policy

    strict, _ = load_policy(repo_root / "policies" / "strict.yaml")
    assert strict.exception_rules.require_expiry
    with pytest.raises(PolicyError, match=r"line 2 \(CVE-2019-0001\): no expiry"):
        ignore_exceptions(
            [read_ignore_file(DATA / "trivy-testdata.trivyignore")],
            strict.exception_rules.model_copy(update={"unknown_keys": "warn"}),
        )


def test_duplicate_ids_with_conflicting_dates_earliest_wins(tmp_path: Path) -> None:
    a = tmp_path / ".trivyignore"
    a.write_text("CVE-2024-0001 exp:2027-06-01\nCVE-2024-0002\nCVE-2024-0002\n")
    b = tmp_path / ".trivyignore.yaml"
    b.write_text("vulnerabilities:\n  - id: cve-2024-0001\n    expired_at: 2026-12-31\n")
    made = ignore_exceptions([read_ignore_file(a), read_ignore_file(b)], ExceptionRules())
    assert [(e.id, e.expires) for e in made.exceptions] == [
        ("CVE-2024-0002", NO_EXPIRY),  # an exact duplicate is kept once, silently
        ("cve-2024-0001", dt.date(2026, 12, 31)),
    ]
    assert made.labels == [f"{a}: line 2", f"{b}: vulnerabilities[0]"]
    (warning,) = made.warnings
    assert "cve-2024-0001" in warning and "the earliest, 2026-12-31" in warning
    assert "wins over 2027-06-01" in warning


def _secret(rule: str, path: str) -> Finding:
    return Finding(
        kind=FindingKind.SECRET,
        id=rule,
        location=Location(path=path),
        sources=(SourceRef(kind=InputKind.TRIVY, path="t.json", pointer="x"),),
    )


def _vuln(vid: str, purl: str, path: str | None = None) -> Finding:
    return Finding(
        kind=FindingKind.VULNERABILITY,
        id=vid,
        package=Package(name=purl.split("/")[-1].split("@")[0], purl=purl),
        location=Location(path=path) if path else None,
        sources=(SourceRef(kind=InputKind.TRIVY, path="t.json", pointer="x"),),
    )


def test_paths_and_purls_scope_the_exception() -> None:
    made = ignore_exceptions([read_ignore_file(DATA / "trivy-testdata.trivyignore.yaml")], WARN)
    pol = policy(
        vulnerabilities={"fail_on": "LOW", "unknown_severity": "fail"},
        secrets={"fail_on": "LOW", "unknown_severity": "fail"},
        exceptions=[e.model_dump(exclude_none=True) for e in made.exceptions],
    )
    findings = [
        _vuln("CVE-2019-0001", "pkg:npm/a@1.0.0", "app/package-lock.json"),  # **/*-lock.json
        _vuln("CVE-2019-0001", "pkg:npm/a@1.0.0", "app/package.json"),
        _vuln("CVE-2019-0002", "pkg:npm/a@1.0.0", "bar/package.json"),
        _vuln("CVE-2019-0002", "pkg:npm/a@1.0.0", "foo/bar/package.json"),  # not a glob
        _vuln("CVE-2019-0007", "pkg:golang/github.com/aquasecurity/bar@1.2.3"),
        _vuln("CVE-2019-0007", "pkg:golang/github.com/aquasecurity/baz@1.2.3"),
        _secret("generic-unwanted-rule2", "a/b/config.yaml"),
        _secret("generic-unwanted-rule2", "a/b/config.yml"),
    ]
    v = evaluate([run(InputKind.TRIVY, *findings)], pol, NOW)
    got = sorted(
        (d.finding.id, d.finding.location.path if d.finding.location else d.finding.package.purl)  # type: ignore[union-attr]
        for d in v.findings
        if d.decision.value == "excepted"
    )
    assert got == [
        ("CVE-2019-0001", "app/package-lock.json"),
        ("CVE-2019-0002", "bar/package.json"),
        ("CVE-2019-0007", "pkg:golang/github.com/aquasecurity/bar@1.2.3"),
        ("generic-unwanted-rule2", "a/b/config.yaml"),
    ]


def test_the_verdict_names_each_exceptions_path_scope() -> None:
    made = ignore_exceptions([read_ignore_file(DATA / "trivy-testdata.trivyignore.yaml")], WARN)
    pol = policy(
        vulnerabilities={"fail_on": "LOW", "unknown_severity": "fail"},
        exceptions=[e.model_dump(exclude_none=True) for e in made.exceptions],
    )
    v = evaluate(
        [run(InputKind.TRIVY, _vuln("CVE-2019-0002", "pkg:npm/a@1.0.0", "bar/package.json"))],
        pol,
        NOW,
    )
    assert [(u.id, u.paths) for u in v.exceptions.used] == [
        ("CVE-2019-0002", ("bar/package.json",))
    ]
