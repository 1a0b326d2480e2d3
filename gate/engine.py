"""The engine: `evaluate(runs, policy, now) -> Verdict`. Pure: no files, no network, no clock.

Order of work:
1. input checks: inputs that failed, required inputs that are missing, stale inputs,
   inputs about different images, and each rule's own `check_inputs` → `errors`;
2. findings from every usable input, plus findings rules derive from facts
   (branch protection), merged across scanners;
3. one decision per finding by the rule that owns its kind, then exceptions;
4. the result: ERROR if any error, else FAIL if any finding fails, else PASS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence

from gate import __version__
from gate._fastmodel import fields_of, gc_paused, maker
from gate.facts import VerdictFacts
from gate.merge import merge_findings
from gate.models import (
    DecidedFinding,
    Decision,
    Finding,
    FindingKind,
    InputKind,
    InputStatus,
    PolicyRef,
    Result,
    Severity,
    SourceRun,
    Subject,
    Verdict,
)
from gate.policy.model import Policy, format_duration
from gate.rules import Assessment, Rule, RuleDecision, default_rules
from gate.rules.exceptions import ExceptionLedger


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def check_inputs(runs: Sequence[SourceRun], policy: Policy, now: dt.datetime) -> list[str]:
    """Errors about the inputs as a whole (rules add their own)."""
    errors: list[str] = [
        run.error or f"{run.kind.value} input {run.path}: unreadable"
        for run in runs
        if run.status is InputStatus.ERROR
    ]
    present = {r.kind for r in runs}
    errors += [
        f"required input `{kind.value}` is missing (the policy's `require` lists it)"
        for kind in policy.require
        if kind not in present
    ]
    limit = policy.max_input_age
    if limit is not None:
        for run in runs:
            if run.status is InputStatus.ERROR:
                continue
            when = run.freshness or run.created_at
            if when is None:
                errors.append(
                    f"{run.path}: has no timestamp to check against max_input_age "
                    f"{format_duration(limit)}"
                )
            elif now - when > limit:
                errors.append(
                    f"{run.path}: is {_age(now - when)} old ({run.freshness_source or 'report'} "
                    f"time {when.isoformat()}), older than max_input_age {format_duration(limit)}"
                )
    digests: dict[str, str] = {}
    for run in runs:
        if run.status is InputStatus.OK and run.subject and run.subject.digest:
            # the platforms of one multi-platform index (--all-platforms) are one image
            plat = run.facts.platform
            index = plat.index if plat is not None else None
            digests.setdefault(index if index is not None else run.subject.digest, run.path)
    if len(digests) > 1:
        listed = ", ".join(f"{p} → {d}" for d, p in digests.items())
        errors.append(f"the inputs are about different images: {listed}")
    return errors


def _subject(runs: Sequence[SourceRun]) -> Subject | None:
    subjects = [r.subject for r in runs if r.status is InputStatus.OK and r.subject is not None]
    with_digest = [s for s in subjects if s.digest]
    if with_digest:
        return with_digest[0]
    return subjects[0] if subjects else None


# The verdict lists findings by decision in this order, then by severity, most severe first.
_DECISION_ORDER = (Decision.FAIL, Decision.WARN, Decision.EXCEPTED, Decision.PASS, Decision.IGNORED)
_SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: -s.rank))
# Hot paths key enum members by id(): an Enum's __hash__ is a Python-level call in 3.11.
_ORDER = {id(d): i for i, d in enumerate(_DECISION_ORDER)}
_SEVERITY_PLACE = {id(s): i for i, s in enumerate(_SEVERITY_ORDER)}

# One finding waiting for its place in the verdict: (id, package name, index, finding, decision)
_Entry = tuple[str, str, int, Finding, RuleDecision]


def _counts(
    buckets: list[list[list[_Entry]]], kinds: list[int], sources: list[int]
) -> dict[str, dict[str, int]]:
    """`by_decision`, `by_severity`, `by_kind`, `by_source`: the first two from the sizes of
    the (decision, severity) buckets, the others from the members' ids gathered in the
    decision loop (counting there would touch 50,000 findings once more); keys in each
    enum's order."""
    decisions: Counter[int] = Counter()
    severities: Counter[int] = Counter()
    for decision, by_severity in zip(_DECISION_ORDER, buckets, strict=True):
        for severity, bucket in zip(_SEVERITY_ORDER, by_severity, strict=True):
            if bucket:
                decisions[id(decision)] += len(bucket)
                severities[id(severity)] += len(bucket)
    counted = (
        ("by_decision", Decision, decisions),
        ("by_severity", Severity, severities),
        ("by_kind", FindingKind, Counter(kinds)),
        ("by_source", InputKind, Counter(sources)),
    )
    # plain str keys keep the verdict JSON-clean
    return {
        name: {m.value: counter[id(m)] for m in members if id(m) in counter}
        for name, members, counter in counted
    }


def _apply_exceptions(
    finding: Finding,
    decided: RuleDecision,
    ledger: ExceptionLedger,
    labels: Sequence[str],
) -> RuleDecision:
    hits = ledger.match(finding)
    if not hits:
        return decided
    active = [i for i in hits if not ledger.is_expired(i)]
    if active and decided.decision in (Decision.FAIL, Decision.WARN, Decision.PASS):
        i = active[0]
        e = ledger.exceptions[i]
        by = f" by {e.owner}" if e.owner else ""
        return RuleDecision(
            Decision.EXCEPTED,
            labels[i],
            f"excepted until {e.expires.isoformat()}{by}: {e.reason} "
            f"(otherwise {decided.decision.value}: {decided.reason})",
        )
    expired = [i for i in hits if ledger.is_expired(i)]
    if expired:
        e = ledger.exceptions[expired[0]]
        return decided._replace(
            reason=f"{decided.reason}; exception {labels[expired[0]]} "
            f"expired on {e.expires.isoformat()} and no longer applies"
        )
    return decided


def _policy_ref(policy: Policy) -> PolicyRef:
    raw = policy.model_dump_json(by_alias=True).encode()
    return PolicyRef(path="<in memory>", sha256=hashlib.sha256(raw).hexdigest(), name=policy.name)


def evaluate(
    runs: Sequence[SourceRun],
    policy: Policy,
    now: dt.datetime,
    *,
    policy_ref: PolicyRef | None = None,
    rules: Sequence[Rule] | None = None,
) -> Verdict:
    """Judge the inputs against the policy at time `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rules = list(default_rules() if rules is None else rules)
    assessments = [rule.assess(runs, policy, now) for rule in rules]
    errors = check_inputs(runs, policy, now)
    for a in assessments:
        errors += a.errors

    usable = [r for r in runs if r.status is InputStatus.OK]
    raw_findings: list[Finding] = [f for r in usable for f in r.findings]
    for a in assessments:
        raw_findings += a.findings
    with gc_paused():  # 50,000 acyclic findings would set the cyclic GC off again and again
        findings = merge_findings(raw_findings)
        return _judge(runs, findings, errors, policy, now, policy_ref, rules, assessments)


def _judge(
    runs: Sequence[SourceRun],
    findings: list[Finding],
    errors: list[str],
    policy: Policy,
    now: dt.datetime,
    policy_ref: PolicyRef | None,
    rules: Sequence[Rule],
    assessments: Sequence[Assessment],
) -> Verdict:

    by_kind = {id(kind): rule for rule in rules for kind in rule.kinds}
    exceptions = policy.all_exceptions()
    top_level = len(policy.exceptions)
    ledger = ExceptionLedger(
        exceptions,
        now.date(),
        expiring_days=policy.exception_rules.expiring_days,
        code_only_from=top_level,  # code_scanning.exceptions judge code findings only
    )
    make = maker(
        DecidedFinding, ("finding", "decision", "rule", "reason")
    )  # values below are already typed: no re-validation
    # Findings are sorted by decision, severity, id, package name and their order: one
    # bucket per (decision, severity), each sorted on its own, costs a third of one sort
    # of 50,000 five-part keys.
    buckets: list[list[list[_Entry]]] = [[[] for _ in _SEVERITY_ORDER] for _ in _DECISION_ORDER]
    kinds: list[int] = []
    sources: list[int] = []
    ref = policy_ref or _policy_ref(policy)
    labels = [ref.exception_label(i, top_level) for i in range(len(exceptions))]
    for i, f in enumerate(findings):
        fd = fields_of(f)  # a frozen model's fields: plain dict reads on this hot path
        kind, seen_by = fd["kind"], fd["sources"]
        kinds.append(id(kind))
        if len(seen_by) == 1:
            sources.append(id(seen_by[0].kind))
        else:
            sources += {id(s.kind): None for s in seen_by}
        owner = by_kind.get(id(kind))
        if owner is None:
            d = RuleDecision(Decision.IGNORED, str(f.kind), f"no rule judges {f.kind}")
        else:
            d = owner.decide(f, policy)
        if exceptions:
            d = _apply_exceptions(f, d, ledger, labels)
        pkg = fd["package"]
        buckets[_ORDER[id(d[0])]][_SEVERITY_PLACE[id(fd["severity"])]].append(
            # the index keeps equal keys in their order and never lets a finding be compared
            (fd["id"], pkg.name if pkg is not None else "", i, f, d)
        )
    for by_severity in buckets:
        for bucket in by_severity:
            bucket.sort()
    # made in the verdict's order, so reporters walking it read neighbouring memory
    decided = [
        make({"finding": f, "decision": decision, "rule": rule, "reason": reason})
        for by_severity in buckets
        for bucket in by_severity
        for _, _, _, f, (decision, rule, reason) in bucket
    ]

    report = ledger.report(labels)
    failures: list[str] = []
    # a VEX document speaks of many products: its statements that match nothing are
    # reported as unused, but do not make `fail_on_unused` fail
    vex = ref.vex_indexes()
    stale = [u for u in report.unused if u.index not in vex]
    if policy.exception_rules.fail_on_unused and stale:
        ids = ", ".join(u.id for u in stale)
        failures.append(f"exceptions matched nothing (exception_rules.fail_on_unused): {ids}")
    notes = list(failures)
    facts = VerdictFacts()
    for a in assessments:
        notes += a.notes
        facts = facts.merged(a.facts)

    if errors:
        result = Result.ERROR
    elif failures or any(buckets[_ORDER[id(Decision.FAIL)]]):
        result = Result.FAIL
    else:
        result = Result.PASS

    tool_versions = {"gate": __version__}
    for r in runs:
        for t in r.tools:
            if t.version:
                tool_versions.setdefault(t.name, t.version)

    counts = _counts(buckets, kinds, sources)
    return Verdict(
        result=result,
        policy=ref,
        evaluated_at=now,
        inputs=tuple(runs),
        findings=tuple(decided),
        exceptions=report,
        errors=tuple(errors),
        notes=tuple(notes),
        counts=counts,
        subject=_subject(runs),
        tool_versions=tool_versions,
        facts=facts,
    )
