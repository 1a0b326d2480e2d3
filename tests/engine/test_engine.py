"""The engine's decisions, one behaviour per test, on real model instances."""

from __future__ import annotations

import datetime as dt

import pytest

from gate.engine import evaluate
from gate.models import Decision, FindingKind, FixState, InputKind, InputStatus, Result, Severity
from gate.rules.severity import MisconfigurationRule, SecretRule, VulnerabilityRule

from .builders import NOW, POLICY_A, POLICY_B, policy, run, vuln

RULES = [VulnerabilityRule(), SecretRule(), MisconfigurationRule()]


def judge(p, *runs):
    return evaluate(list(runs), p, NOW, rules=RULES)


def only(verdict):
    assert len(verdict.findings) == 1
    return verdict.findings[0]


def test_fixable_high_fails_with_reason():
    v = judge(policy(**POLICY_A), run(InputKind.TRIVY, vuln()))
    assert v.result is Result.FAIL
    d = only(v)
    assert d.decision is Decision.FAIL
    assert d.rule == "vulnerabilities.fail_on"
    assert "HIGH ≥ fail_on HIGH" in d.reason and "fixed in 1.2.3" in d.reason


def test_unfixed_high_ignored_by_a_but_fails_b():
    f = vuln(fix=FixState.NO_FIX)
    a = judge(policy(**POLICY_A), run(InputKind.TRIVY, f))
    b = judge(policy(**POLICY_B), run(InputKind.TRIVY, f))
    assert a.result is Result.PASS and only(a).decision is Decision.IGNORED
    assert only(a).rule == "vulnerabilities.ignore_unfixed"
    assert b.result is Result.FAIL


def test_unknown_fix_state_is_not_ignored_by_ignore_unfixed():
    v = judge(policy(**POLICY_A), run(InputKind.TRIVY, vuln(fix=FixState.UNKNOWN)))
    assert only(v).decision is Decision.FAIL


@pytest.mark.parametrize(
    ("pol", "expected", "result"),
    [(POLICY_A, Decision.WARN, Result.PASS), (POLICY_B, Decision.FAIL, Result.FAIL)],
)
def test_unknown_severity(pol, expected, result):
    v = judge(
        policy(**pol),
        run(InputKind.PIP_AUDIT, vuln(severity=Severity.UNKNOWN, source=InputKind.PIP_AUDIT)),
    )
    assert only(v).decision is expected
    assert only(v).rule == "vulnerabilities.unknown_severity"
    assert v.result is result


def test_medium_passes_and_warns_with_warn_on():
    f = vuln(severity=Severity.MEDIUM)
    assert only(judge(policy(**POLICY_A), run(InputKind.TRIVY, f))).decision is Decision.PASS
    p = policy(vulnerabilities={"fail_on": "HIGH", "warn_on": "MEDIUM"})
    assert only(judge(p, run(InputKind.TRIVY, f))).decision is Decision.WARN


def test_not_affected_never_fails():
    v = judge(
        policy(**POLICY_B),
        run(InputKind.TRIVY, vuln(severity=Severity.CRITICAL, not_affected=True)),
    )
    assert v.result is Result.PASS
    assert only(v).rule == "not_affected"


def test_absent_section_judges_nothing():
    v = judge(policy(), run(InputKind.TRIVY, vuln(severity=Severity.CRITICAL)))
    assert v.result is Result.PASS
    assert only(v).decision is Decision.IGNORED


def test_per_source_override():
    p = policy(
        vulnerabilities={"fail_on": "HIGH", "sources": {"npm-audit": {"fail_on": "CRITICAL"}}}
    )
    npm = judge(p, run(InputKind.NPM_AUDIT, vuln(source=InputKind.NPM_AUDIT)))
    trivy = judge(p, run(InputKind.TRIVY, vuln()))
    assert only(npm).decision is Decision.PASS
    assert only(npm).rule == "vulnerabilities.sources.npm-audit.fail_on"
    assert only(trivy).decision is Decision.FAIL


def test_merged_finding_is_judged_by_the_strictest_source():
    p = policy(
        vulnerabilities={"fail_on": "HIGH", "sources": {"npm-audit": {"fail_on": "CRITICAL"}}}
    )
    t = vuln("CVE-2021-23337")
    n = vuln(
        "GHSA-35jh-r3h4-6jhm", aliases=("CVE-2021-23337",), version=None, source=InputKind.NPM_AUDIT
    )
    v = judge(p, run(InputKind.TRIVY, t), run(InputKind.NPM_AUDIT, n))
    d = only(v)
    assert {s.kind for s in d.finding.sources} == {InputKind.TRIVY, InputKind.NPM_AUDIT}
    assert d.finding.id == "CVE-2021-23337"
    assert "GHSA-35jh-r3h4-6jhm" in d.finding.aliases
    assert d.decision is Decision.FAIL


def test_secret_fails_under_secrets_section():
    s = vuln("aws-access-key-id", kind=FindingKind.SECRET, severity=Severity.CRITICAL)
    v = judge(policy(secrets={"fail_on": "LOW"}), run(InputKind.TRIVY, s))
    assert only(v).decision is Decision.FAIL and only(v).rule == "secrets.fail_on"


# --- exceptions ---------------------------------------------------------------


def exc(id="CVE-2024-0001", expires="2026-12-31", **kw):
    return {"id": id, "reason": "not reachable", "expires": expires, **kw}


def test_exception_excepts_and_is_used():
    p = policy(**POLICY_A, exceptions=[exc(owner="@team")])
    v = judge(p, run(InputKind.TRIVY, vuln()))
    d = only(v)
    assert v.result is Result.PASS
    assert d.decision is Decision.EXCEPTED and d.rule == "exceptions[0]"
    assert "until 2026-12-31 by @team: not reachable" in d.reason
    assert "otherwise fail" in d.reason
    assert [u.id for u in v.exceptions.used] == ["CVE-2024-0001"]


def test_expired_exception_does_not_apply_and_is_reported():
    p = policy(**POLICY_A, exceptions=[exc(expires="2026-11-25")])
    v = judge(p, run(InputKind.TRIVY, vuln()))
    assert v.result is Result.FAIL
    assert "expired on 2026-11-25" in only(v).reason
    assert [u.id for u in v.exceptions.expired] == ["CVE-2024-0001"]


def test_unused_and_expiring_exceptions_are_reported():
    p = policy(
        **POLICY_A,
        exceptions=[exc("CVE-2000-0001", expires="2026-12-05"), exc(expires="2027-06-01")],
    )
    v = judge(p, run(InputKind.TRIVY, vuln()))
    assert [u.id for u in v.exceptions.unused] == ["CVE-2000-0001"]
    assert [u.id for u in v.exceptions.expiring] == ["CVE-2000-0001"]
    assert v.exceptions.expiring[0].days_left == 9


def test_the_console_says_the_policys_expiring_horizon():
    from gate.report.console import render_console

    p = policy(
        **POLICY_A,
        exceptions=[exc(expires="2026-12-20")],
        exception_rules={"expiring_days": 30},
    )
    v = judge(p, run(InputKind.TRIVY, vuln()))
    assert [u.days_left for u in v.exceptions.expiring] == [24]
    assert "1 expiring within 30 days" in render_console(v, color=False)


def test_fail_on_unused_exception_fails():
    p = policy(
        **POLICY_A, exceptions=[exc("CVE-2000-0001")], exception_rules={"fail_on_unused": True}
    )
    v = judge(p, run(InputKind.TRIVY, vuln(severity=Severity.LOW)))
    assert v.result is Result.FAIL and v.notes


def test_code_scanning_exception_does_not_count_a_vulnerability_as_its_match():
    """A `code_scanning.exceptions` entry judges code findings only: a vulnerability with its
    id neither is excepted by it nor makes it "used" (so `fail_on_unused` still sees it)."""
    p = policy(
        **POLICY_A,
        code_scanning={"fail_on": "HIGH", "exceptions": [exc("CVE-2024-0001")]},
        exception_rules={"fail_on_unused": True},
    )
    v = judge(p, run(InputKind.TRIVY, vuln("CVE-2024-0001")))
    (d,) = v.findings
    assert d.decision is Decision.FAIL
    assert [u.label for u in v.exceptions.unused] == ["code_scanning.exceptions[0]"]
    assert not v.exceptions.used


def test_exception_matches_alias_and_purl_scope():
    f = vuln("GHSA-35jh-r3h4-6jhm", aliases=("CVE-2021-23337",))
    scoped = policy(**POLICY_A, exceptions=[exc("cve-2021-23337", package="pkg:npm/lodash")])
    other = policy(**POLICY_A, exceptions=[exc("CVE-2021-23337", package="pkg:npm/underscore")])
    wrong_version = policy(
        **POLICY_A, exceptions=[exc("CVE-2021-23337", package="pkg:npm/lodash@4.17.21")]
    )
    assert only(judge(scoped, run(InputKind.TRIVY, f))).decision is Decision.EXCEPTED
    assert only(judge(other, run(InputKind.TRIVY, f))).decision is Decision.FAIL
    assert only(judge(wrong_version, run(InputKind.TRIVY, f))).decision is Decision.FAIL


# --- fail closed ---------------------------------------------------------------


def test_error_input_is_error_even_with_failures():
    bad = run(InputKind.NPM_AUDIT, status=InputStatus.ERROR, error="npm.json: ENOAUDIT")
    v = judge(policy(**POLICY_A), run(InputKind.TRIVY, vuln()), bad)
    assert v.result is Result.ERROR
    assert v.errors == ("npm.json: ENOAUDIT",)


def test_required_input_missing_is_error():
    v = judge(policy(**POLICY_A, require=["trivy", "pip-audit"]), run(InputKind.TRIVY))
    assert v.result is Result.ERROR
    assert "`pip-audit` is missing" in v.errors[0]


def test_stale_input_is_error():
    old = run(InputKind.TRIVY, freshness=NOW - dt.timedelta(hours=30), freshness_source="report")
    v = judge(policy(**POLICY_A, max_input_age="24h"), old)
    assert v.result is Result.ERROR
    assert "older than max_input_age 1d" in v.errors[0]


def test_input_without_timestamp_is_error_under_max_input_age():
    v = judge(policy(**POLICY_A, max_input_age="24h"), run(InputKind.TRIVY, freshness=None))
    assert v.result is Result.ERROR


def test_inputs_about_different_images_are_error():
    from gate.models import Subject

    a = run(InputKind.TRIVY, subject=Subject(name="app", digest="sha256:" + "a" * 64))
    b = run(InputKind.TRIVY, subject=Subject(name="app", digest="sha256:" + "b" * 64))
    v = judge(policy(**POLICY_A), a, b)
    assert v.result is Result.ERROR and "different images" in v.errors[0]


def test_clean_input_passes_and_counts():
    v = judge(policy(**POLICY_A), run(InputKind.TRIVY, vuln(severity=Severity.LOW)))
    assert v.result is Result.PASS
    assert v.counts["by_decision"] == {"pass": 1}
    assert v.counts["by_source"] == {"trivy": 1}


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([], policy(), dt.datetime(2026, 1, 1), rules=RULES)


def test_merge_keeps_the_most_visible_fix_state():
    # found by hypothesis: a second sighting saying "no fix" must not hide an "unknown" one
    a = vuln(fix=FixState.UNKNOWN, severity=Severity.CRITICAL)
    b = vuln(fix=FixState.NO_FIX, severity=Severity.CRITICAL, source=InputKind.NPM_AUDIT)
    v = judge(policy(**POLICY_A), run(InputKind.TRIVY, a), run(InputKind.NPM_AUDIT, b))
    assert only(v).finding.fix_state is FixState.UNKNOWN
    assert v.result is Result.FAIL


def test_effective_branch_protection_is_a_verdict_fact_and_unjudged_inputs_are_errors(repo_root):
    from gate.ingest import load_report

    saved = repo_root / "tests/data/github/realworld-2026-personal-repo-protection.json"
    bp = load_report(InputKind.BRANCH_PROTECTION, saved)
    judged = evaluate([bp], policy(branch_protection={"required_approving_reviews": 1}), NOW)
    assert judged.facts.as_json()["branch_protection"]["branch"] == "main"
    assert not judged.notes
    # issue 9: an input no section judges is an ERROR naming the section (was a note, PASS)
    unjudged = evaluate([bp], policy(), NOW)
    assert unjudged.result is Result.ERROR
    assert any("no `branch_protection:` section" in e for e in unjudged.errors)


def test_exceptions_from_an_exceptions_file_are_labelled_with_it():
    from gate.models import ExceptionsFile, PolicyRef

    p = policy(**POLICY_A, exceptions=[exc("CVE-2000-0001"), exc()])
    ref = PolicyRef(
        path="gate.yaml",
        sha256="0" * 64,
        exception_files=(ExceptionsFile(path="accepted.yaml", sha256="1" * 64, first=1, count=1),),
    )
    v = evaluate([run(InputKind.TRIVY, vuln())], p, NOW, rules=RULES, policy_ref=ref)
    assert only(v).rule == "accepted.yaml: exceptions[0]"
    assert [u.label for u in v.exceptions.used] == ["accepted.yaml: exceptions[0]"]
    assert [u.label for u in v.exceptions.unused] == ["exceptions[0]"]
