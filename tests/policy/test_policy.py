"""The policy file: strict validation with key paths, bundled policies, generated schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gate.errors import PolicyError
from gate.policy.load import load_exceptions, load_policy, policy_json_schema
from gate.policy.model import Threshold, parse_duration

TODAY = dt.date(2026, 11, 26)


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", ["default", "strict"])
def test_bundled_policies_are_valid(repo_root, name):
    policy, ref = load_policy(repo_root / "policies" / f"{name}.yaml", today=TODAY)
    assert policy.name == name
    assert len(ref.sha256) == 64


def test_default_policy_encodes_the_common_pipeline(repo_root):
    p, _ = load_policy(repo_root / "policies" / "default.yaml", today=TODAY)
    assert p.vulnerabilities is not None and p.secrets is not None
    assert p.vulnerabilities.fail_on is Threshold.HIGH
    assert p.vulnerabilities.ignore_unfixed is True
    assert p.secrets.fail_on is Threshold.LOW
    assert p.vulnerabilities.max_db_age == dt.timedelta(hours=48)


def test_schema_json_is_up_to_date(repo_root):
    on_disk = (repo_root / "policies" / "schema.json").read_text()
    assert on_disk == policy_json_schema(), "regenerate: gate policy schema > policies/schema.json"


def test_schema_validates_the_bundled_policies(repo_root):
    import jsonschema
    import yaml

    schema = json.loads(policy_json_schema())
    for name in ("default", "strict"):
        data = yaml.safe_load((repo_root / "policies" / f"{name}.yaml").read_text())
        jsonschema.validate(data, schema)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: gate/v2\n", "apiVersion: Input should be 'gate/v1'"),
        ("vulnerabilities: {}\n", "apiVersion: Field required"),
        ("apiVersion: gate/v1\nvulnerabilites: {}\n", "vulnerabilites: unknown key"),
        ("apiVersion: gate/v1\nvulnerabilities: {fail_on: HGH}\n", "vulnerabilities.fail_on"),
        (
            "apiVersion: gate/v1\nexceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n",
            "exceptions[0].reason: Field required",
        ),
        (
            "apiVersion: gate/v1\nexceptions:\n  - {id: CVE-1, reason: x}\n",
            "exceptions[0].expires: Field required",
        ),
        (
            "apiVersion: gate/v1\nexceptions:\n  - {id: CVE-1, reason: x, expires: 2027-01-01, package: lodash}\n",
            "exceptions[0].package",
        ),
        ("apiVersion: gate/v1\nmax_input_age: soon\n", "max_input_age"),
        ("apiVersion: gate/v1\nrequire: [trivvy]\n", "require[0]"),
        ("apiVersion: gate/v1\nvulnerabilities: {unfixed_states: [fixable]}\n", "fixable"),
        ("apiVersion: gate/v1\n  bad: [indent\n", "not valid YAML: line"),
        # an empty value would read as "none" and switch the check off
        (
            "apiVersion: gate/v1\nvulnerabilities:\n  fail_on:\n",
            "vulnerabilities: fail_on: no value",
        ),
        ("apiVersion: gate/v1\nvulnerabilities:\n", "vulnerabilities: no value given"),
        ("apiVersion: gate/v1\nmax_input_age:\n", "max_input_age: no value given"),
        (
            "apiVersion: gate/v1\nvulnerabilities:\n  sources:\n    npm-audit: {fail_on: null}\n",
            "vulnerabilities.sources.npm-audit: fail_on: no value",
        ),
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_invalid_policies_name_the_key_path(tmp_path, text, expected):
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text), today=TODAY)
    assert expected in info.value.diagnostics()
    assert str(tmp_path) in info.value.diagnostics()


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")


def test_exception_horizon(tmp_path):
    text = (
        "apiVersion: gate/v1\nexception_rules: {max_days: 30}\n"
        "exceptions:\n  - {id: CVE-1, reason: x, expires: 2027-06-01}\n"
    )
    with pytest.raises(PolicyError, match="more than exception_rules.max_days=30"):
        load_policy(write(tmp_path, text), today=TODAY)


def test_require_owner(tmp_path):
    text = (
        "apiVersion: gate/v1\nexception_rules: {require_owner: true}\n"
        "exceptions:\n  - {id: CVE-1, reason: x, expires: 2027-01-01}\n"
    )
    with pytest.raises(PolicyError, match="owner is required"):
        load_policy(write(tmp_path, text), today=TODAY)


def test_exceptions_file(tmp_path):
    good = write(
        tmp_path, "exceptions:\n  - {id: CVE-1, reason: x, expires: 2027-01-01}\n", "e.yaml"
    )
    assert [e.id for e in load_exceptions(good)] == ["CVE-1"]
    bad = write(tmp_path, "exceptions:\n  - {id: CVE-1, expires: 2027-01-01}\n", "bad.yaml")
    with pytest.raises(PolicyError, match=r"exceptions\[0\]\.reason"):
        load_exceptions(bad)


@pytest.mark.parametrize(
    ("rules", "entry", "expected"),
    [
        (
            "{require_owner: true}",
            "{id: CVE-9, reason: x, expires: 2027-01-01}",
            "owner is required",
        ),
        ("{max_days: 30}", "{id: CVE-9, reason: x, expires: 2027-06-01, owner: a}", "max_days=30"),
    ],
)
def test_exception_rules_hold_for_exceptions_files(tmp_path, rules, entry, expected):
    """An exception an `--exceptions` file adds obeys `exception_rules` as an inline one does,
    and the error names the file it is written in."""
    from gate.wiring import load_policy_and_exceptions

    policy = write(tmp_path, f"apiVersion: gate/v1\nexception_rules: {rules}\n")
    extra = write(tmp_path, f"exceptions:\n  - {entry}\n", "extra.yaml")
    now = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    with pytest.raises(PolicyError) as info:
        load_policy_and_exceptions(policy, [extra], now)
    assert expected in info.value.diagnostics()
    assert f"{extra}: exceptions[0] (CVE-9)" in info.value.diagnostics()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("2w", 1209600)],
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds
