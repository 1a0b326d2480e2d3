"""The terminal report: the result, why, and a table of what failed or warned.

Every string from an input goes through `gate.common.sanitize` (`text` for a field, `lines` for a
message), and the whole report through `guard`: no raw control character, and no line a
CI runner would read as a workflow command.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.common.sanitize import guard, lines, text
from gate.models import DecidedFinding, Decision, Verdict, fix_phrase
from gate.report import review

_HEADERS = ("DECISION", "SEVERITY", "ID", "PACKAGE", "FIX", "SOURCE", "RULE")


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _row(d: DecidedFinding) -> tuple[str, ...]:
    f = d.finding
    if f.package:
        pkg = f.package.name + (f"@{f.package.version}" if f.package.version else "")
    elif f.kind == "branch_protection":
        found, wanted = f.details.get("found"), f.details.get("wanted")
        pkg = f"found {found}, wants {wanted}" if f.status == "unmet" else "cannot be read"
    elif f.location and f.location.path:
        pkg = f.location.path + (f":{f.location.start_line}" if f.location.start_line else "")
    else:
        pkg = "-"
    fix = fix_phrase(f) if f.kind.value == "vulnerability" else "-"
    sources = ",".join(sorted({s.tool or s.kind.value for s in f.sources})) or "-"
    return (
        d.decision.value.upper(),
        f.severity.value,
        text(f.id),
        text(pkg),
        text(fix),
        text(sources),
        text(d.rule),
    )


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    limits = (8, 8, 40, 40, 30, 16, 34)
    rows = [tuple(_cell(c, w) for c, w in zip(r, limits, strict=True)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADERS))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_console(verdict: Verdict, *, limit: int = 40, color: bool = False) -> str:
    """A human-readable report. Shows failing and warning findings (up to `limit`)."""
    out: list[str] = []
    fail, warn = Decision.FAIL, Decision.WARN  # hoisted: 50,000 findings are tested
    shown = [d for d in verdict.findings if d.decision is fail or d.decision is warn]
    if shown:
        rows = [_HEADERS, *(_row(d) for d in shown[:limit])]
        out += _table(rows)
        if len(shown) > limit:
            out.append(f"… and {len(shown) - limit} more failing or warning findings (see --json)")
        out.append("")
    by = verdict.counts.get("by_decision", {})
    summary = ", ".join(
        f"{by.get(k.value, 0)} {k.value}"
        for k in (Decision.FAIL, Decision.WARN, Decision.EXCEPTED, Decision.PASS, Decision.IGNORED)
    )
    out.append(f"findings: {summary} (after merging the same finding from several inputs)")
    ignored = review.ignored_by_reason(verdict)
    if ignored:
        why = "; ".join(
            f"{n} by {text(rule)} (e.g. {text(reason)})" for rule, reason, n in ignored[:5]
        )
        more = f"; … {len(ignored) - 5} more reasons" if len(ignored) > 5 else ""
        out.append(f"ignored: {why}{more}")
    merged = review.merged_counts(verdict)
    inputs = ", ".join(
        f"{r.kind.value} {text(r.path)} ("
        + (
            f"{merged.get((r.kind.value, r.path), 0)} findings"
            if r.status.value == "ok"
            else "ERROR"
        )
        + ")"
        for r in verdict.inputs
    )
    out.append(f"inputs: {inputs or 'none'}")
    ex = verdict.exceptions
    if ex.used or ex.unused or ex.expired or ex.expiring:
        out.append(
            f"exceptions: {len(ex.used)} used, {len(ex.unused)} unused, "
            f"{len(ex.expired)} expired, {len(ex.expiring)} expiring within {ex.expiring_days} days"
        )
        for u in ex.expired:
            out.append(f"  expired: {text(u.id)} ({text(u.label)}) on {text(u.expires)}")
        for u in ex.unused:
            out.append(f"  unused: {text(u.id)} ({text(u.label)}) matched nothing")
        for u in ex.expiring:
            out.append(f"  expiring: {text(u.id)} on {text(u.expires)} ({u.days_left} days left)")
    if verdict.subject and (verdict.subject.digest or verdict.subject.name):
        s = verdict.subject
        out.append(f"subject: {text(s.name or '?')}" + (f" @ {text(s.digest)}" if s.digest else ""))
    bp = verdict.facts.branch_protection
    if bp is not None and bp.branch:
        out.append(f"branch protection: `{text(bp.branch)}` judged (see --json facts)")
    for run in verdict.inputs:  # each input's path once, what it says under it
        if not run.warnings and not run.skipped:
            continue
        out.append(f"warning: {text(run.path)}:")
        out += [f"    {text(w)}" for w in run.warnings[:5]]
        if len(run.warnings) > 5:
            out.append(f"    … and {len(run.warnings) - 5} more warnings (see --json inputs)")
        if run.skipped:
            out.append(f"    not audited ({len(run.skipped)}; pip-audit could not):")
            out += [f"      {text(s)}" for s in run.skipped[:5]]
            if len(run.skipped) > 5:
                out.append(f"      … and {len(run.skipped) - 5} more (see --json inputs)")
    failing = review.to_accept(verdict, limit=1)
    if failing:
        entry = review.exception_entry(failing[0], verdict.evaluated_at.date())
        out.append(
            "to accept a risk: add to the exceptions: list of an exceptions file "
            "(--exceptions FILE), e.g.\n    " + entry
        )
    for e in verdict.errors:
        out.append("error: " + "\n    ".join(lines(e)))
    for n in verdict.notes:
        out.append("note: " + "\n    ".join(lines(n)))
    head = _headline(verdict)
    if color:
        import typer

        fg = {"PASS": "green", "FAIL": "red", "ERROR": "magenta"}[verdict.result.value]
        head = typer.style(head, fg=fg, bold=True)
    out.append(head)
    return guard("\n".join(out) + "\n")


def _headline(verdict: Verdict) -> str:
    by = verdict.counts.get("by_decision", {})
    match verdict.result.value:
        case "PASS":
            warn = by.get("warn", 0)
            return "PASS" + (f" with {warn} warning{'s' if warn != 1 else ''}" if warn else "")
        case "FAIL":
            n = by.get("fail", 0)
            extra = (
                f"{n} finding{'s fail' if n != 1 else ' fails'} the policy"
                if n
                else "policy failed"
            )
            return f"FAIL: {extra}"
        case _:
            n = len(verdict.errors)
            return (
                f"ERROR: gate could not judge ({n} problem{'s' if n != 1 else ''}); nothing passes"
            )
