"""Trivy JSON ingest: real reports (tests/data/reports/trivy) and crafted edge cases."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.ingest import load_report
from gate.ingest.trivy import TrivyIngestor
from gate.models import (
    Finding,
    FindingKind,
    FixState,
    InputKind,
    InputStatus,
    Severity,
    SourceRun,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "reports"
TRIVY = DATA / "trivy"


def parse(name: str) -> SourceRun:
    return TrivyIngestor().parse_file(TRIVY / name)


def parse_doc(doc: Any, path: str = "crafted-trivy.json") -> SourceRun:
    return TrivyIngestor().parse(json.dumps(doc).encode(), path)


def report(*vulns: dict[str, Any], **top: Any) -> dict[str, Any]:
    result = {"Target": "app (debian 12)", "Class": "os-pkgs", "Type": "debian"}
    return {
        "SchemaVersion": 2,
        "CreatedAt": "2026-01-02T03:04:05.123456789Z",
        "ArtifactName": "app:1",
        "ArtifactType": "container_image",
        "Results": [{**result, "Vulnerabilities": list(vulns)}],
        **top,
    }


def vuln(vid: str = "CVE-2024-0001", **kw: Any) -> dict[str, Any]:
    return {"VulnerabilityID": vid, "PkgName": "pkg", "InstalledVersion": "1.0", **kw}


def summary(f: Finding) -> tuple[Any, ...]:
    return (
        f.id,
        f.package.name if f.package else None,
        f.severity,
        f.fix_state,
        f.fixed_versions,
        f.status,
    )


# --- real reports, expectations read from the files by hand -------------------------


def test_all_eight_statuses() -> None:
    run = parse("dd-all-statuses.json")
    L = Severity.LOW
    assert [summary(f) for f in run.findings] == [
        ("CVE-2011-3374", "apt", L, FixState.UNKNOWN, (), "unknown"),
        ("CVE-2019-18276", "bash", L, FixState.UNKNOWN, (), "not_affected"),
        ("TEMP-0841856-B18BAF", "bash", L, FixState.NO_FIX, (), "affected"),
        # `fixed` with no FixedVersion: Trivy says a fix exists, so it is not "unfixed"
        ("CVE-2018-1000876", "binutils", L, FixState.FIXABLE, (), "fixed"),
        ("CVE-2018-12697", "binutils", L, FixState.UNKNOWN, (), "under_investigation"),
        ("CVE-2018-12698", "binutils", L, FixState.WONT_FIX, (), "will_not_fix"),
        ("CVE-2018-12699", "binutils", L, FixState.FIX_DEFERRED, (), "fix_deferred"),
        ("CVE-2018-12934", "binutils", L, FixState.END_OF_LIFE, (), "end_of_life"),
    ]
    assert [f.not_affected for f in run.findings] == [False, True] + [False] * 6
    assert run.findings[0].package is not None
    assert run.findings[0].package.ecosystem == "debian"
    assert run.findings[0].sources[0].pointer == "Results[0].Vulnerabilities[0]"
    assert run.findings[0].location is not None
    assert run.findings[0].location.layer == (
        "sha256:b2dba74777543b60e1a5be6da44e67659f51b8df1e96922205a5dde6b92dda3c"
    )
    # RepoTags/RepoDigests are [""], ArtifactName "": only the image id is known
    assert run.subject is not None
    assert run.subject.digest is None and run.subject.repo_digests == ()
    assert run.subject.image_id == (
        "sha256:22ae3921bdaac434bb4cb92dbbc209e46b1f3f70e9fa0b5fbbb43ce7d452c72d"
    )
    assert run.created_at == dt.datetime(2024, 1, 15, 8, 58, 29, 827537, tzinfo=dt.UTC)
    assert run.freshness == run.created_at and run.freshness_source == "report"
    assert run.sha256 is not None and len(run.sha256) == 64
    assert run.kind is InputKind.TRIVY


def test_real_image_nothing_fixable_with_digest_and_offset_timestamp() -> None:
    run = parse("realworld-prometheus-mcp-image.json")
    assert len(run.findings) == 11
    states = [f.fix_state for f in run.findings]
    assert states == [FixState.NO_FIX] * 10 + [FixState.WONT_FIX]
    assert [f.severity for f in run.findings].count(Severity.CRITICAL) == 3
    last = run.findings[-1]
    assert (last.id, last.status) == ("CVE-2023-45853", "will_not_fix")
    assert last.package is not None
    assert last.package.purl == (
        "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=arm64&distro=debian-12.11&epoch=1"
    )
    assert run.subject is not None
    assert run.subject.name == "prometheus-mcp-server-security-scan:latest"
    assert run.subject.digest == (
        "sha256:4c389e242d23009303f3b01ba2a2adb4c847294e70efa1cfc84f8221146cd497"
    )
    # CreatedAt "2025-08-28T11:02:06.73238+03:00"
    assert run.created_at == dt.datetime(2025, 8, 28, 8, 2, 6, 732380, tzinfo=dt.UTC)


def test_comma_fixed_versions_vendor_ids_and_gem_ecosystem() -> None:
    run = parse("trivy-golden-fluentd-gems.json")
    deb, gem = run.findings
    assert (deb.id, deb.aliases, deb.fixed_versions) == (
        "CVE-2019-18224",
        ("DSA-4613-1",),
        ("2.0.5-1+deb10u1",),
    )
    assert gem.fixed_versions == ("6.0.3.1", "5.2.4.3")
    assert gem.fix_state is FixState.FIXABLE and gem.severity is Severity.HIGH
    assert gem.package is not None and gem.package.ecosystem == "gem"
    assert gem.location is not None
    assert gem.location.path == "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec"
    assert run.tools[0].name == "Trivy" and run.tools[0].version == "dev"


def test_vendor_and_nvd_disagree_end_of_life() -> None:
    (ubi,) = parse("trivy-golden-ubi-7.json").findings
    assert (ubi.severity, ubi.fix_state) == (Severity.LOW, FixState.WONT_FIX)
    assert ubi.details["severity_source"] == "redhat"
    assert ubi.details["vendor_severity"]["nvd"] == 3
    assert ubi.details["cvss_score"] == 7.8
    eol, fixed = parse("trivy-golden-centos-6.json").findings
    assert (eol.id, eol.fix_state, eol.severity) == (
        "CVE-2020-29573",
        FixState.END_OF_LIFE,
        Severity.MEDIUM,
    )
    assert (fixed.fix_state, fixed.fixed_versions) == (FixState.FIXABLE, ("1.0.1e-58.el6_10",))


def test_secrets_are_redacted() -> None:
    run = parse("trivy-golden-secrets.json")
    assert [
        (f.kind, f.id, f.severity, f.location.start_line if f.location else None)
        for f in run.findings
    ] == [
        (FindingKind.SECRET, "aws-access-key-id", Severity.CRITICAL, 3),
        (FindingKind.SECRET, "mysecret", Severity.HIGH, 7),
    ]
    assert run.findings[0].location is not None and run.findings[0].location.path == "deploy.sh"
    dumped = run.model_dump_json()
    # the file's Code.Lines hold a real-looking token; Match holds the masked line
    assert "ghp_0123456789" not in dumped
    assert "AWS_ACCESS_KEY_ID" not in dumped and "echo ****" not in dumped


def test_misconfigurations_and_secrets_in_a_filesystem_scan() -> None:
    run = parse("dd-misconfigs-and-secrets.json")
    kinds = [(f.kind, f.id) for f in run.findings]
    assert kinds == [
        (FindingKind.VULNERABILITY, "CVE-2021-33503"),
        (FindingKind.VULNERABILITY, "CVE-2021-28363"),
        (FindingKind.MISCONFIGURATION, "DS002"),
        (FindingKind.SECRET, "github-pat"),
        (FindingKind.SECRET, "github-pat"),
    ]
    misconf = run.findings[2]
    assert misconf.severity is Severity.HIGH and misconf.status == "FAIL"
    assert misconf.location is not None and misconf.location.path == "Dockerfile"
    assert misconf.sources[0].pointer == "Results[1].Misconfigurations[0]"
    assert "GITHUB_PAT" not in run.model_dump_json()
    assert run.findings[0].package is not None and run.findings[0].package.ecosystem == "pypi"
    assert run.freshness_source == "file-mtime"  # no CreatedAt in this older report


def test_legacy_array_and_transitional_object() -> None:
    for name in ("trivy-legacy-old-format.json", "trivy-report-new-minimal.json"):
        run = parse(name)
        assert [summary(f) for f in run.findings] == [
            ("CVE-2020-0001", "foo", Severity.HIGH, FixState.FIXABLE, ("3.4.5",), None)
        ]
        assert run.freshness_source == "file-mtime" and run.created_at is None
    assert parse("trivy-legacy-old-format.json").findings[0].sources[0].pointer == (
        "[0].Vulnerabilities[0]"
    )
    subject = parse("trivy-report-new-minimal.json").subject
    assert subject is not None and subject.repo_tags == ("test:latest",)
    assert (
        subject.digest == "sha256:0bd0e9e03a022c3b0226667621da84fc9bf562a9056130424b5bfbd8bcb0397f"
    )


def test_clean_scans_licenses_and_missing_results() -> None:
    skip = parse("trivy-golden-alpine-39-skip.json")
    assert skip.findings == () and any("no Results" in w for w in skip.warnings)
    lic = parse("dd-license-scheme.json")
    assert lic.findings == ()
    assert any("license findings ignored" in w for w in lic.warnings)
    assert parse_doc(report()).findings == ()
    doc = report()
    doc["Results"][0]["Vulnerabilities"] = None
    assert parse_doc(doc).findings == ()


# --- crafted edge cases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "state", "fixed"),
    [
        (
            {"FixedVersion": "3.1.0, 2.6.9", "Status": "affected"},
            FixState.FIXABLE,
            ("3.1.0", "2.6.9"),
        ),
        ({"FixedVersion": ""}, FixState.NO_FIX, ()),
        ({}, FixState.NO_FIX, ()),
        ({"Status": "unknown"}, FixState.UNKNOWN, ()),
        ({"Status": "something_new"}, FixState.UNKNOWN, ()),
        ({"Status": "fix_deferred", "FixedVersion": " "}, FixState.FIX_DEFERRED, ()),
    ],
)
def test_fix_state_mapping(fields: dict[str, Any], state: FixState, fixed: tuple[str, ...]) -> None:
    (f,) = parse_doc(report(vuln(**fields))).findings
    assert (f.fix_state, f.fixed_versions) == (state, fixed)


def test_vendor_severity_only_when_severity_is_missing() -> None:
    run = parse_doc(
        report(
            vuln(
                "CVE-1",
                Severity="UNKNOWN",
                SeveritySource="redhat",
                VendorSeverity={"nvd": 4, "redhat": 2},
            ),
            vuln("CVE-2", VendorSeverity={"nvd": 1, "ghsa": 3}),
            vuln("CVE-3", Severity="LOW", VendorSeverity={"nvd": 4}),
            vuln("CVE-4"),
        )
    )
    assert [f.severity for f in run.findings] == [
        Severity.MEDIUM,  # the severity source's vendor
        Severity.HIGH,  # no source: the highest vendor rating
        Severity.LOW,  # Severity given: vendor ratings only recorded
        Severity.UNKNOWN,
    ]
    assert run.findings[0].details["severity_from"] == "VendorSeverity.redhat"
    assert "severity_from" not in run.findings[2].details


def test_ghsa_alias_from_primary_url_only_for_ghsa_source() -> None:
    url = "https://github.com/advisories/GHSA-35jh-r3h4-6jhm"
    run = parse_doc(
        report(
            vuln("CVE-2021-23337", PrimaryURL=url, DataSource={"ID": "ghsa"}),
            vuln("CVE-2021-23338", PrimaryURL=url, DataSource={"ID": "nvd"}),
            vuln("GHSA-35jh-r3h4-6jhm", PrimaryURL=url, DataSource={"ID": "ghsa"}),
        )
    )
    assert [f.aliases for f in run.findings] == [("GHSA-35jh-r3h4-6jhm",), (), ()]


def test_subject_uses_first_non_empty_repo_digest() -> None:
    meta = {
        "ImageID": "sha256:aaa",
        "RepoTags": ["", "app:1"],
        "RepoDigests": ["", "reg.example/app@sha256:bbb", "other@sha256:ccc"],
    }
    s = parse_doc(report(Metadata=meta)).subject
    assert s is not None
    assert (s.digest, s.repo_tags, s.name) == ("sha256:bbb", ("app:1",), "app:1")


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2026-01-02T03:04:05.123456789Z", dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)),
        ("2026-01-02T08:34:05+05:30", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
    ],
)
def test_created_at(created: str, expected: dt.datetime) -> None:
    run = parse_doc(report(CreatedAt=created))
    assert run.created_at == expected and run.freshness_source == "report"


def test_unreadable_created_at_is_an_error_and_absent_falls_back_to_file_time(
    tmp_path: Path,
) -> None:
    # An unreadable timestamp no longer falls back to the file's mtime: a copied stale
    # report would look fresh. A report without CreatedAt (older trivy) still does.
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report(CreatedAt="yesterday")))
    with pytest.raises(InputError, match="CreatedAt 'yesterday'") as e:
        TrivyIngestor().parse_file(path)
    assert e.value.pointer == "CreatedAt"
    doc = report()
    doc.pop("CreatedAt", None)
    path.write_text(json.dumps(doc))
    run = TrivyIngestor().parse_file(path)
    assert run.created_at is None and run.freshness_source == "file-mtime"


def test_misconfiguration_pass_and_exception_are_not_findings() -> None:
    doc = report()
    doc["Results"].append(
        {
            "Target": "Dockerfile",
            "Class": "config",
            "Misconfigurations": [
                {"ID": "DS-0001", "AVDID": "AVD-DS-0001", "Severity": "LOW", "Status": "PASS"},
                {
                    "ID": "DS-0002",
                    "AVDID": "AVD-DS-0002",
                    "Severity": "HIGH",
                    "Status": "FAIL",
                    "CauseMetadata": {"StartLine": 4, "EndLine": 6},
                },
                {"ID": "DS-0003", "Severity": "HIGH", "Status": "EXCEPTION"},
            ],
        }
    )
    (f,) = parse_doc(doc).findings
    assert (f.id, f.aliases, f.severity) == ("DS-0002", ("AVD-DS-0002",), Severity.HIGH)
    assert f.location is not None and (f.location.start_line, f.location.end_line) == (4, 6)


def test_modified_findings_vex_not_affected_and_trivyignore() -> None:
    doc = report()
    doc["Results"][0]["ExperimentalModifiedFindings"] = [
        {
            "Type": "vulnerability",
            "Status": "not_affected",
            "Statement": "vulnerable_code_not_present",
            "Source": "openvex.json",
            "Finding": vuln("CVE-2024-9", Severity="CRITICAL", FixedVersion="2.0"),
        },
        {
            "Type": "vulnerability",
            "Status": "ignored",
            "Statement": "no fix in debian",
            "Source": ".trivyignore.yaml",
            "Finding": vuln("CVE-2024-8", Severity="HIGH"),
        },
    ]
    run = parse_doc(doc)
    (f,) = run.findings
    assert (f.id, f.not_affected, f.severity) == ("CVE-2024-9", True, Severity.CRITICAL)
    assert f.suppressions[0].kind == "vex"
    assert f.suppressions[0].justification == "vulnerable_code_not_present"
    assert f.sources[0].pointer == "Results[0].ExperimentalModifiedFindings[0].Finding"
    assert run.facts.as_json()["suppressed"] == [
        {
            "pointer": "Results[0].ExperimentalModifiedFindings[1]",
            "type": "vulnerability",
            "id": "CVE-2024-8",
            "status": "ignored",
            "source": ".trivyignore.yaml",
            "statement": "no fix in debian",
        }
    ]
    assert any(
        "1 findings were suppressed by trivy itself (.trivyignore.yaml" in w for w in run.warnings
    )


def test_fast_constructed_findings_equal_validated_ones() -> None:
    for path in sorted(TRIVY.iterdir()):
        try:
            run = TrivyIngestor().parse_file(path)
        except InputError:
            continue
        for f in run.findings:
            validated = Finding.model_validate(f.model_dump())
            assert validated == f
            assert validated.model_dump_json() == f.model_dump_json() and repr(validated) == repr(f)
        assert SourceRun.model_validate_json(run.model_dump_json()) == run
    f = parse("dd-all-statuses.json").findings[0]
    copy = f.model_copy(update={"severity": Severity.HIGH})
    assert copy.severity is Severity.HIGH and f.severity is Severity.LOW
    assert "severity" in copy.model_fields_set


# --- inputs gate cannot judge: one per failure mode ------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "trivy.json"
    path.write_bytes(content)
    run = load_report(InputKind.TRIVY, path)
    assert run.status is InputStatus.ERROR and run.error is not None and "empty" in run.error
    with pytest.raises(InputError, match="empty"):
        TrivyIngestor().parse(content, str(path))  # a caller that skipped read_input


@pytest.mark.parametrize("cut", [1, 100, 0.5, -8])
def test_truncated_real_report(cut: float) -> None:
    raw = (TRIVY / "dd-all-statuses.json").read_bytes()
    n = int(len(raw) * cut) if isinstance(cut, float) else cut
    with pytest.raises(InputError, match="not valid JSON"):
        TrivyIngestor().parse(raw[:n], "cut.json")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("dd-legacy-no-vuln.json", r"literal `null`"),
        ("realworld-moj-trivy-results.json-is-sarif.json", r"SARIF file.*pass it with --sarif"),
        (
            "dd-kubernetes-cluster.json",
            r"trivy k8s cluster report is not supported; scan each image",
        ),
        ("../npm-audit/v1-npm6-dd-error-enoaudit.json", r"npm error body"),
        ("../npm-audit/v2-nar-all-severity-levels.json", r"npm audit report.*--npm-audit"),
        ("../npm-audit/v1-npm6-nar-one-vuln.json", r"npm audit report.*--npm-audit"),
        ("../pip-audit/realworld-vulnflask-unfixed-no-aliases.json", r"pip-audit.*--pip-audit"),
        ("../pip-audit/readme-example-legacy-list.json", r"pip-audit.*--pip-audit"),
    ],
)
def test_wrong_kind_files(name: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as e:
        parse(name)
    assert str(TRIVY / name) in str(e.value)


@pytest.mark.parametrize(
    ("doc", "match", "pointer"),
    [
        ({"foo": 1, "bar": []}, r"unknown keys \(bar, foo\)", None),
        ([], r"empty JSON array", None),
        ([{"Vulnerabilities": []}], r"array of unknown items", "[0]"),
        ("a string", r"JSON str", None),
        ({"SchemaVersion": 3, "Results": []}, r"unsupported SchemaVersion 3", "SchemaVersion"),
        (
            report(vuln(Severity=5)),
            r"Expected `str \| null`, got `int`",
            "Results[0].Vulnerabilities[0].Severity",
        ),
        ({"SchemaVersion": 2, "runs": []}, r"not a Trivy report", None),
        ({"SchemaVersion": 2}, r"names no artifact and holds no Results", None),
        # trivy leaves an empty Results out and always names the artifact
        ({"SchemaVersion": 2, "Results": []}, r"names no artifact and holds no Results", None),
        ({"Metadata": {}, "Results": []}, r"names no artifact and holds no Results", None),
        (
            report(vuln(), CreatedAt="yesterday"),
            r"CreatedAt 'yesterday' is not an RFC 3339 timestamp",
            "CreatedAt",
        ),
    ],
)
def test_malformed_documents(doc: Any, match: str, pointer: str | None) -> None:
    with pytest.raises(InputError, match=match) as e:
        parse_doc(doc)
    assert e.value.pointer == pointer


def test_a_vulnerability_without_id_is_judged_not_dropped() -> None:
    run = parse_doc(report({"PkgName": "only-a-name"}))
    (f,) = run.findings
    assert f.id == "UNIDENTIFIED-VULNERABILITY"
    assert f.severity is Severity.UNKNOWN
    assert f.package is not None and f.package.name == "only-a-name"
    assert any("Results[0].Vulnerabilities[0]" in w for w in run.warnings)


def test_utf8_bom_is_accepted() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(report(vuln())).encode()
    assert len(TrivyIngestor().parse(raw, "bom.json").findings) == 1


def test_benchmark_generator_output_parses(tmp_path: Path) -> None:
    out = tmp_path / "gen.json"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_trivy_report.py"), "300", str(out)],
        check=True,
        capture_output=True,
    )
    run = TrivyIngestor().parse_file(out)
    assert len(run.findings) == 300
    assert run.subject is not None and run.subject.digest is not None
    assert {f.fix_state for f in run.findings} >= {FixState.FIXABLE, FixState.NO_FIX}
