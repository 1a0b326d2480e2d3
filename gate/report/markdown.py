"""The GitHub step summary: the verdict in Markdown, for every finding kind.

Length (over ~400 lines): one idea, the summary's sections in their order; each is a short
function over the verdict.

Order: headline, errors, notes, counts per source, failing findings (with their fix
and location), warnings, exceptions, code scanning, inputs. GitHub refuses a step
summary over 1 MiB, so the finding tables stop at a byte budget (and a row cap, for
readability) with a note saying how many were left out; the JSON verdict has them all.

Every string from an input is shown through `gate.common.sanitize`: as text (`cell`, `prose`) or
code (`code`) that can make no link, image, HTML or table break; a finding's URL becomes a
link only when it is a well-formed `https://` URL (`sanitize.safe_url`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from gate import __version__
from gate.common.sanitize import md_code, md_lines, md_link, md_text
from gate.models import (
    DecidedFinding,
    Decision,
    ExceptionUse,
    Finding,
    FindingKind,
    InputKind,
    InputStatus,
    Result,
    Severity,
    Verdict,
    fix_phrase,
)
from gate.report import review

MAX_BYTES = 1_000_000
"""Under GitHub's 1 MiB (1,048,576 bytes) step-summary limit, with room to spare."""
MAX_FAIL_ROWS = 1000
MAX_WARN_ROWS = 300
MAX_ROWS = 200
MAX_CELL = 300

_HEAD = {Result.PASS: "✅", Result.FAIL: "❌", Result.ERROR: "🛑"}
_SEV = {
    Severity.CRITICAL: "🟥 CRITICAL",
    Severity.HIGH: "🟧 HIGH",
    Severity.MEDIUM: "🟨 MEDIUM",
    Severity.LOW: "🟦 LOW",
    Severity.UNKNOWN: "⬜ UNKNOWN",
}
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.UNKNOWN)
_FINDING_HEADER = (
    "| Severity | ID | Package / location | Fix | Source | Why |",
    "| --- | --- | --- | --- | --- | --- |",
)


def _cut(text: object, limit: int) -> str:
    s = text if isinstance(text, str) else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def cell(text: object, limit: int = MAX_CELL) -> str:
    """One field as table-cell text: plain text on one line, long text cut."""
    return md_text(_cut(text, limit))


def prose(text: object, limit: int = MAX_CELL) -> str:
    """A message as table-cell text: each of its lines as `cell`, joined by `<br>`."""
    return md_lines(_cut(text, limit))


def code(text: object, limit: int = MAX_CELL) -> str:
    """One field as inline code (also in a table cell), long text cut."""
    return md_code(_cut(text, limit))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _where(f: Finding) -> str:
    if f.package is not None:
        p = f.package
        text = code(p.name + (f"@{p.version}" if p.version else ""))
        return text + (f" ({cell(p.ecosystem)})" if p.ecosystem else "")
    loc = f.location
    if loc is not None and loc.path:
        return code(loc.path + (f":{loc.start_line}" if loc.start_line else ""))
    return "-"


def _id(f: Finding) -> str:
    if f.url:
        return md_link(cell(f.id, 120), f.url)  # plain text when the URL is not safe https
    return code(f.id, 120)


def _source(f: Finding) -> str:
    names = sorted({s.tool or s.kind.value for s in f.sources}) or [f.tool or f.kind.value]
    return cell(", ".join(names))


def _fix(f: Finding) -> str:
    if f.kind is FindingKind.VULNERABILITY:
        return cell(fix_phrase(f))
    return "-"


def _row(d: DecidedFinding) -> str:
    f = d.finding
    ident = _id(f) + (f"<br>{cell(f.title, 120)}" if f.title and f.title != f.id else "")
    return (
        f"| {_SEV[f.severity]} | {ident} | {_where(f)} | {_fix(f)} | {_source(f)} | "
        f"{prose(d.reason)} |"
    )


def _table(
    title: str, findings: Sequence[DecidedFinding], max_rows: int, budget: int
) -> tuple[list[str], int]:
    """A findings table within `budget` bytes; returns (lines, bytes used)."""
    if not findings:
        return [], 0
    lines = [f"### {title} ({len(findings):,})", "", *_FINDING_HEADER]
    used = sum(len(x.encode()) + 1 for x in lines)
    shown = 0
    for d in findings[:max_rows]:
        row = _row(d)
        size = len(row.encode()) + 1
        if used + size > budget - 300:
            break
        lines.append(row)
        used += size
        shown += 1
    if shown < len(findings):
        why = (
            "GitHub's 1 MiB step-summary limit"
            if shown < min(max_rows, len(findings))
            else (f"at most {max_rows:,} rows are shown")
        )
        note = f"\n… and {len(findings) - shown:,} more not shown ({why}); see the JSON verdict."
        lines.append(note)
        used += len(note.encode()) + 1
    lines.append("")
    return lines, used + 1


def _source_label(f: Finding) -> tuple[str, ...]:
    if len(f.sources) == 1:
        return (f.sources[0].kind.value,)
    kinds = tuple(sorted({s.kind.value for s in f.sources}))
    if kinds:
        return kinds
    return ("branch-protection" if f.kind is FindingKind.BRANCH_PROTECTION else f.kind.value,)


def _counts(findings: Sequence[DecidedFinding]) -> list[str]:
    if not findings:
        return ["No findings.", ""]
    pairs: Counter[tuple[tuple[str, ...], Severity, Decision]] = Counter(
        (_source_label(d.finding), d.finding.severity, d.decision) for d in findings
    )
    sev: dict[str, Counter[Severity]] = {}
    dec: dict[str, Counter[Decision]] = {}
    for (labels, severity, decision), n in pairs.items():
        for label in labels:
            if label not in sev:
                sev[label], dec[label] = Counter(), Counter()
            sev[label][severity] += n
            dec[label][decision] += n
    head = " | ".join(s.value.title() for s in _SEVERITIES)
    lines = [
        "### Findings by source",
        "",
        f"| Source | {head} | ❌ Fail | ⚠️ Warn | Excepted | Pass | Ignored |",
        "| --- |" + " ---: |" * (len(_SEVERITIES) + 5),
    ]
    for label in sorted(sev):
        s, c = sev[label], dec[label]
        nums = [s[x] for x in _SEVERITIES] + [
            c[x]
            for x in (
                Decision.FAIL,
                Decision.WARN,
                Decision.EXCEPTED,
                Decision.PASS,
                Decision.IGNORED,
            )
        ]
        lines.append(f"| {cell(label)} | " + " | ".join(f"{n:,}" for n in nums) + " |")
    return [*lines, ""]


def _exceptions(verdict: Verdict) -> list[str]:
    ex = verdict.exceptions
    expiring = {e.index for e in ex.expiring}
    rows: list[tuple[str, ExceptionUse]] = [("🛑 expired", e) for e in ex.expired]
    rows += [("✅ used" + (" (expiring)" if e.index in expiring else ""), e) for e in ex.used]
    rows += [("💤 unused" + (" (expiring)" if e.index in expiring else ""), e) for e in ex.unused]
    if not rows:
        return []
    lines = [
        "### Exceptions",
        "",
        f"{len(ex.used)} used · {len(ex.unused)} unused · {len(ex.expired)} expired · "
        f"{len(ex.expiring)} expiring soon",
        "",
        "| Status | ID | Package | Owner | Expires | Matched | Reason |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for status, e in rows[:MAX_ROWS]:
        left = f" ({e.days_left} days left)" if e.days_left >= 0 else ""
        lines.append(
            f"| {status} | {code(e.id, 120)} | {code(e.package) if e.package else '-'} | "
            f"{(cell(e.owner) if e.owner else '-')} | {cell(e.expires)}{left} | {e.matched:,} | "
            f"{prose(e.reason)} |"
        )
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS:,} more exceptions; see the JSON verdict.")
    return [*lines, ""]


def _code_scanning(verdict: Verdict) -> list[str]:
    sarif = [i for i in verdict.inputs if i.kind is InputKind.SARIF]
    code_findings = [d for d in verdict.findings if d.finding.kind is FindingKind.CODE]
    if not sarif and not code_findings:
        return []
    versions: dict[str, str] = {}
    for i in sarif:
        for t in i.tools:
            versions.setdefault(t.name, t.version or "")
    counts: dict[str, Counter[Decision]] = {name: Counter() for name in versions}
    suppressed: Counter[str] = Counter()
    for d in code_findings:
        tool = d.finding.tool or "unknown tool"
        counts.setdefault(tool, Counter())[d.decision] += 1
        if d.rule == "sarif.suppressions":
            suppressed[tool] += 1
    lines = [
        "### Code scanning",
        "",
        "| Tool | Version | Results | ❌ Fail | ⚠️ Warn | Suppressed in SARIF | Other excepted |"
        " Pass / ignored |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tool in sorted(counts)[:MAX_ROWS]:
        c = counts[tool]
        nums = [
            sum(c.values()),
            c[Decision.FAIL],
            c[Decision.WARN],
            suppressed[tool],
            c[Decision.EXCEPTED] - suppressed[tool],
            c[Decision.PASS] + c[Decision.IGNORED],
        ]
        lines.append(
            f"| {cell(tool)} | {(cell(versions[tool]) if versions.get(tool) else '-')} | "
            + " | ".join(f"{n:,}" for n in nums)
            + " |"
        )
    if not counts:
        lines.append("| (no runs) | - | 0 | 0 | 0 | 0 | 0 | 0 |")
    return [*lines, ""]


def _accept(verdict: Verdict) -> list[str]:
    """How to accept a failing finding's risk: the exceptions file, and the exact entry."""
    failing = review.to_accept(verdict)
    if not failing:
        return []
    today = verdict.evaluated_at.date()
    return [
        "### How to accept a risk",
        "",
        "Fix it, or accept it in an exceptions file (`apiVersion: gate/v1`, then "
        "`exceptions:`; give it with `gate check --exceptions FILE` or the action's "
        "`exceptions` input), reviewed like code. The entries for the first failing findings, "
        "to complete with your reason and owner:",
        "",
        *(f"- {code(review.exception_entry(d, today), 2000)}" for d in failing),
        "",
    ]


def _not_audited(verdict: Verdict) -> list[str]:
    found = review.not_audited(verdict)
    if not found:
        return []
    total = sum(len(deps) for _, deps in found)
    lines = [
        f"### ⚠️ Not audited ({total:,})",
        "",
        "pip-audit could not audit these dependencies:",
        "",
    ]
    for path, deps in found[:MAX_ROWS]:
        lines.append(f"- {code(path)}: {prose(', '.join(deps[:MAX_ROWS]), 2000)}")
        if len(deps) > MAX_ROWS:
            lines.append(f"  … and {len(deps) - MAX_ROWS:,} more; see the JSON verdict")
    return [*lines, ""]


def _ignored(verdict: Verdict) -> list[str]:
    rows = review.ignored_by_reason(verdict)
    if not rows:
        return []
    total = sum(n for _, _, n in rows)
    lines = [
        f"### Ignored ({total:,})",
        "",
        "| Count | Rule | Why (the first one's reason) |",
        "| ---: | --- | --- |",
    ]
    lines += [f"| {n:,} | {code(rule, 120)} | {prose(why)} |" for rule, why, n in rows[:MAX_ROWS]]
    return [*lines, ""]


def _inputs(verdict: Verdict) -> list[str]:
    if not verdict.inputs:
        return ["### Inputs", "", "No inputs were read.", ""]
    merged = review.merged_counts(verdict)
    lines = [
        "### Inputs",
        "",
        "Findings: after merging the same finding from several inputs; entries: as the input "
        "lists them.",
        "",
        "| Kind | Path | sha256 | Status | Findings | Entries | Tools |",
        "| --- | --- | --- | --- | ---: | ---: | --- |",
    ]
    for i in verdict.inputs[:MAX_ROWS]:
        status = "✅ ok" if i.status is InputStatus.OK else f"🛑 error: {prose(i.error or '')}"
        if i.status is InputStatus.OK and i.warnings:
            status += f" ({_plural(len(i.warnings), 'warning')})"
        tools = ", ".join(f"{t.name} {t.version}" if t.version else t.name for t in i.tools)
        sha = code(i.sha256[:12]) if i.sha256 else "-"
        found = merged.get((i.kind.value, i.path), 0)
        lines.append(
            f"| {i.kind.value} | {code(i.path)} | {sha} | {status} | {found:,} | "
            f"{len(i.findings):,} | {(cell(tools) if tools else '-')} |"
        )
    if len(verdict.inputs) > MAX_ROWS:
        lines.append(f"\n… and {len(verdict.inputs) - MAX_ROWS:,} more inputs.")
    return [*lines, ""]


def _bullets(title: str, items: Iterable[str], cap: int = 50) -> list[str]:
    items = list(items)
    if not items:
        return []
    lines = [f"### {title}", ""] + [f"- {prose(x, 2000)}" for x in items[:cap]]
    if len(items) > cap:
        lines.append(f"- … and {len(items) - cap:,} more")
    return [*lines, ""]


def _headline(verdict: Verdict) -> list[str]:
    by = Counter(d.decision for d in verdict.findings)
    fail, warn = by[Decision.FAIL], by[Decision.WARN]
    if verdict.result is Result.ERROR:
        what = f"gate could not judge ({_plural(len(verdict.errors), 'problem')}); nothing passes"
    elif verdict.result is Result.FAIL:
        what = (
            f"{_plural(fail, 'finding')} {'fails' if fail == 1 else 'fail'} the policy"
            if fail
            else "the policy failed"
        )
    else:
        what = "every rule holds" + (f", with {_plural(warn, 'warning')}" if warn else "")
    summary = " · ".join(
        f"{by[d]:,} {d.value}"
        for d in (Decision.FAIL, Decision.WARN, Decision.EXCEPTED, Decision.PASS, Decision.IGNORED)
    )
    policy = verdict.policy
    ctx = [f"policy {code(policy.name or policy.path)} ({code(policy.sha256[:12])})"]
    s = verdict.subject
    if s is not None and (s.name or s.digest):
        ctx.append(f"image {code((s.name or '') + (f'@{s.digest}' if s.digest else ''))}")
    when = verdict.evaluated_at.strftime("%Y-%m-%d %H:%M UTC")
    ctx.append(f"{when} · gate {__version__}")
    return [
        f"## {_HEAD[verdict.result]} gate: {verdict.result.value}: {what}",
        "",
        f"**Findings:** {summary}  ",
        " · ".join(ctx),
        "",
    ]


def render_markdown(verdict: Verdict, *, max_bytes: int = MAX_BYTES) -> str:
    """The whole step summary, at most `max_bytes` UTF-8 bytes."""
    head = _headline(verdict)
    head += _bullets("🛑 Errors", verdict.errors)
    # each input's path once, its warnings under it
    input_warnings = ["\n".join([f"{i.path}:", *i.warnings]) for i in verdict.inputs if i.warnings]
    head += _bullets("Notes", [*verdict.notes, *input_warnings])
    head += _counts(verdict.findings)
    tail = _accept(verdict) + _not_audited(verdict) + _ignored(verdict)
    tail += _exceptions(verdict) + _code_scanning(verdict) + _inputs(verdict)
    fixed = "\n".join(head) + "\n" + "\n".join(tail) + "\n"
    budget = max(0, max_bytes - len(fixed.encode()) - 200)
    fails = [d for d in verdict.findings if d.decision is Decision.FAIL]
    warns = [d for d in verdict.findings if d.decision is Decision.WARN]
    from gate.report.sarif_limits import priority

    fails.sort(key=priority)
    warns.sort(key=priority)
    fail_lines, used = _table("❌ Failing", fails, MAX_FAIL_ROWS, budget)
    warn_lines, _ = _table("⚠️ Warnings", warns, MAX_WARN_ROWS, budget - used)
    text = "\n".join(head + fail_lines + warn_lines + tail).rstrip("\n") + "\n"
    data = text.encode()
    if len(data) > max_bytes:  # only when the fixed sections alone are too large
        note = "\n\n… the summary was cut at GitHub's size limit; see the JSON verdict.\n"
        keep = data[: max(0, max_bytes - len(note.encode()))].decode(errors="ignore")
        text = keep + note
    return text
