"""Fixes from the security review of VEX and ignore files, each on the reviewer's own
reproduction files (`tests/data/review/`, written by the project; see its PROVENANCE.tsv)
through the real command line: a statement about another product, a later `affected`
spelled differently, ignore-file sections, the origin of exported statements, SARIF
justifications, a lone surrogate and trailing junk after a date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.ignore_files.read import read_ignore_file
from gate.models import Finding
from gate.rules.exceptions import exception_matches
from gate.vex.apply import vex_exceptions
from gate.vex.read import read_vex

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "review"
REPORT = DATA / "jinja2-pysec-2021-66.json"
JUDGED = "sha256:" + "a" * 64
POLICY = "apiVersion: gate/v1\nvulnerabilities:\n  fail_on: HIGH\n  unknown_severity: fail\n"


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    p = tmp_path / "gate.yaml"
    p.write_text(POLICY)
    return p


def gate(policy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", "check", "--policy", str(policy)]
        + ["--pip-audit", str(REPORT), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def _lodash() -> Finding:
    return Finding.model_validate(
        {
            "id": "CVE-2024-0001",
            "kind": "vulnerability",
            "severity": "CRITICAL",
            "title": "t",
            "package": {
                "name": "lodash",
                "version": "4.17.20",
                "purl": "pkg:npm/lodash@4.17.20",
                "ecosystem": "npm",
            },
        }
    )


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        # finding 1: a product that does not name the judged image, subcomponents included
        ("other-image-subcomponent.openvex.json", "not the image judged"),
        ("non-purl-product-subcomponent.openvex.json", "its subcomponents included"),
        # finding 2: a later `affected` overrides, however it spells the package
        ("later-affected-with-version.openvex.json", "statements[1] says the package may"),
        ("later-affected-subcomponent.openvex.json", "statements[1] says the package may"),
    ],
)
def test_vex_statement_that_does_not_apply_excepts_nothing(name: str, warning: str) -> None:
    made = vex_exceptions([read_vex(DATA / name)], {JUDGED})
    assert not [e for e in made.exceptions if exception_matches(e, _lodash())]
    assert any(warning in w for w in made.warnings), made.warnings


def test_csaf_about_another_vendors_product_does_not_pass(policy: Path) -> None:
    run = gate(policy, "--vex", str(DATA / "csaf-other-product.json"))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "OTHER-APPLIANCE-7" in run.stdout and "its subcomponents included" in run.stdout


def test_ignore_file_sections_except_their_own_kind_only(policy: Path) -> None:
    run = gate(policy, "--ignore-file", str(DATA / "wrong-sections.trivyignore.yaml"))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "0 excepted" in run.stdout
    assert "licenses[0] (PYSEC-2021-66): gate judges no license findings" in run.stdout


def test_exports_and_sarif_do_not_read_the_origin_from_reason_text(
    policy: Path, tmp_path: Path
) -> None:
    ov, cdx, sarif, verdict = (tmp_path / n for n in ("v.json", "c.json", "s.sarif", "j.json"))
    run = gate(
        policy,
        "--ignore-file",
        str(DATA / "vex-looking-reason.trivyignore.yaml"),
        *("--openvex", str(ov), "--cyclonedx", str(cdx)),
        *("--sarif-output", str(sarif), "--sarif-include", "all", "--json", str(verdict)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # finding 7: an accepted risk, not a VEX statement, whatever its reason says
    (statement,) = json.loads(ov.read_text())["statements"]
    assert "justification" not in statement
    assert statement["impact_statement"].startswith("gate exception ")
    (vuln,) = json.loads(cdx.read_text())["vulnerabilities"]
    assert vuln["analysis"]["state"] == "exploitable"
    assert vuln["analysis"]["response"] == ["will_not_fix"]
    (used,) = json.loads(verdict.read_text())["exceptions"]["used"]
    assert used["vex_status"] is None and used["kinds"] == ["vulnerability"]
    # finding 9: the SARIF justification is one line (the newline escaped)
    (result,) = json.loads(sarif.read_text())["runs"][0]["results"]
    justification = result["suppressions"][0]["justification"]
    assert "\n" not in justification and "::error::second line" in justification


def test_vex_exception_origin_is_exported_from_the_statement(policy: Path, tmp_path: Path) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "x",
                "author": "vendor",
                "timestamp": "2024-01-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "PYSEC-2021-66"},
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                        "impact_statement": "the template engine never sees user input",
                        "products": [{"@id": "pkg:pypi/jinja2"}],
                    }
                ],
            }
        )
    )
    ov = tmp_path / "v.json"
    run = gate(policy, "--vex", str(vex), "--openvex", str(ov))
    assert run.returncode == 0, run.stdout + run.stderr
    (statement,) = json.loads(ov.read_text())["statements"]
    assert statement["justification"] == "vulnerable_code_not_in_execute_path"
    assert statement["impact_statement"] == "the template engine never sees user input"


def test_lone_surrogate_in_a_vex_id_is_a_one_line_input_error(policy: Path) -> None:
    run = gate(policy, "--vex", str(DATA / "lone-surrogate.openvex.json"))
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert "lone-surrogate.openvex.json: statements[0]: not a valid exception: id:" in line


def test_ignore_file_date_with_trailing_text_is_refused() -> None:
    with pytest.raises(InputError, match=r"vulnerabilities\[0\]\.expired_at: expected a date"):
        read_ignore_file(DATA / "date-with-junk.trivyignore.yaml")
