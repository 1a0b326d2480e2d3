"""The rules of gate's SARIF: descriptions, help with the fix, tags and security-severity.

Used by `gate.report.sarif`. Two families:
- gate's own rules (vulnerabilities, secrets, misconfigurations, branch protection),
  keyed by the finding id (CVE/GHSA/…), with Trivy-style security-severity;
- code-scanning rules re-emitted under their original tool and rule id, so alerts
  uploaded before keep their identity.

Every string from an input is shown through `gate.common.sanitize`: controls escaped in text
fields, `md_text` in `help.markdown`, and a `helpUri` only for a well-formed `https://` URL.
A code-scanning tool's own `help.markdown` is not carried over (it could link or embed
anything): its help text is, as escaped markdown.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from gate.common import sanitize
from gate.facts import SarifRuleFacts
from gate.models import DecidedFinding, Finding, FindingKind, Severity
from gate.report.sarif_limits import (
    MAX_DESCRIPTION,
    MAX_RULE_NAME,
    MAX_TAGS_PER_RULE,
    truncate,
)

TRIVY_SCORE = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.0,
}
"""Trivy's `severityToScore`: clear of GitHub's ambiguous 9.0 boundary."""

_LEVEL_BY_SEVERITY = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "warning",
}
KIND_TAG = {
    FindingKind.VULNERABILITY: "vulnerability",
    FindingKind.SECRET: "secret",
    FindingKind.MISCONFIGURATION: "misconfiguration",
    FindingKind.CODE: "code",
    FindingKind.BRANCH_PROTECTION: "branch-protection",
}
_FIX = {
    FindingKind.SECRET: "Remove the secret from the image or repository and rotate it.",
    FindingKind.MISCONFIGURATION: "Change the configuration as the check describes.",
    FindingKind.BRANCH_PROTECTION: "Change the branch protection or ruleset settings.",
}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        x = float(value)
    except ValueError:
        return None
    return x if 0.0 < x <= 10.0 else None


def cvss(f: Finding) -> float | None:
    """The highest CVSS score an ingestor recorded (`details.cvss_score` or `details.cvss`)."""
    details = f.details
    if not details or "cvss" not in details:
        value = details.get("cvss_score") if details else None
        if type(value) is float:  # the usual one score (Trivy, npm audit): no list, no calls
            return value if 0.0 < value <= 10.0 else None
        if value is None:
            return None
    scores: list[float] = []
    for key in ("cvss_score", "cvss"):
        value = details.get(key)
        if isinstance(value, dict):
            for v in value.values():
                if isinstance(v, dict):
                    for k in ("V40Score", "V3Score", "score", "V2Score"):
                        if (x := _number(v.get(k))) is not None:
                            scores.append(x)
                            break
                elif (x := _number(v)) is not None:
                    scores.append(x)
        elif (x := _number(value)) is not None:
            scores.append(x)
    return max(scores) if scores else None


_from_score = functools.lru_cache(maxsize=1024)(Severity.from_score)
"""`Severity.from_score`, cached: a hundred or so distinct scores, thousands of findings."""


def score(f: Finding) -> float | None:
    """The security-severity of one finding: its CVSS when it agrees with the severity."""
    c = cvss(f)
    sev = f.severity
    if sev is Severity.UNKNOWN:
        return c
    if c is not None and _from_score(c) is sev:
        return c
    if f.kind is FindingKind.CODE:
        original = _number(f.details.get("security_severity"))
        if original is not None and _from_score(original) is sev:
            return original
    return TRIVY_SCORE[sev]


@functools.lru_cache(maxsize=1024)  # CVSS scores are a hundred or so values, rules thousands
def _score_text(x: float) -> str:
    return f"{x:.1f}"


def max_score(occ: Sequence[DecidedFinding]) -> str | None:
    if len(occ) == 1:
        one = score(occ[0].finding)
        return None if one is None else _score_text(one)
    scores = [s for d in occ if (s := score(d.finding)) is not None]
    return _score_text(max(scores)) if scores else None


@functools.lru_cache(maxsize=1024)
def _tag_list(
    first: tuple[str, ...], kind: FindingKind, ecos: tuple[str, ...]
) -> tuple[list[str], bool]:
    tags = list(dict.fromkeys(["security", *first, KIND_TAG[kind], *ecos]))
    return tags[:MAX_TAGS_PER_RULE], len(tags) > MAX_TAGS_PER_RULE


def _tags(first: Sequence[str], occ: Sequence[DecidedFinding]) -> tuple[list[str], bool]:
    """Tags: the tool's own, `security`, the finding kind, the ecosystems (at most 20).

    The list is shared between rules with the same tags (it is only serialized)."""
    if len(occ) == 1:
        p = occ[0].finding.package
        ecos: tuple[str, ...] = (p.ecosystem,) if p is not None and p.ecosystem else ()
    else:
        ecos = tuple(sorted({p.ecosystem for d in occ if (p := d.finding.package) and p.ecosystem}))
    return _tag_list(tuple(first), occ[0].finding.kind, ecos)


_RANK = {s: s.rank for s in Severity}


def _severity(occ: Sequence[DecidedFinding]) -> Severity:
    if len(occ) == 1:
        return occ[0].finding.severity
    return max((d.finding.severity for d in occ), key=_RANK.__getitem__)


_cell = sanitize.md_text
"""A help-markdown table cell: plain text, no link, no table break."""


def _cell_or_dash(text: str | None) -> str:
    return _cell(text) if text else "-"  # gate's own dash: not escaped


_VULN_HEADER = (
    "| Package | Installed | Fixed in | Fix state | Decision |\n| --- | --- | --- | --- | --- |"
)
_OTHER_HEADER = "| Where | Decision |\n| --- | --- |"
_MAX_HELP_ROWS = 20


def _fix_text(occ: Sequence[DecidedFinding]) -> str:
    first = occ[0].finding
    if first.kind is not FindingKind.VULNERABILITY:
        resolution = first.details.get("resolution")
        if isinstance(resolution, str) and resolution:
            return resolution
        return _FIX.get(first.kind, "See the rule's reference.")
    upgrades: dict[str, tuple[str, ...]] = {}
    for d in occ:
        f = d.finding
        if f.package is not None and f.fixed_versions:
            upgrades.setdefault(f.package.name, f.fixed_versions)
    if not upgrades:
        return f"No fixed version is known ({first.fix_state})."
    steps = "; ".join(f"{name} to {', '.join(vs)}" for name, vs in list(upgrades.items())[:10])
    more = f" (and {len(upgrades) - 10} more packages)" if len(upgrades) > 10 else ""
    return f"Upgrade {steps}{more}."


def _gate_help(
    rule_id: str, occ: Sequence[DecidedFinding], sev: Severity, title: str
) -> tuple[str, str]:
    """help.text (short) and help.markdown (a table of occurrences, the fix, the links)."""
    first = occ[0].finding
    vulnerability = first.kind is FindingKind.VULNERABILITY
    rows = []
    for d in occ[:_MAX_HELP_ROWS]:
        f = d.finding
        pkg = f.package
        if vulnerability and pkg is not None:
            eco = f" ({_cell(pkg.ecosystem)})" if pkg.ecosystem else ""
            rows.append(
                f"| {_cell(pkg.name)}{eco} | {_cell_or_dash(pkg.version)} | "
                f"{_cell_or_dash(', '.join(f.fixed_versions))} | {f.fix_state} | {d.decision} |"
            )
        else:
            where = pkg.name if pkg else (f.location.path if f.location else None)
            rows.append(f"| {_cell_or_dash(where)} | {d.decision} |")
    if len(occ) > _MAX_HELP_ROWS:
        rows.append(f"\n… and {len(occ) - _MAX_HELP_ROWS} more occurrences.")
    fix = _fix_text(occ)
    aliases = ", ".join(sorted({a for d in occ for a in d.finding.aliases})[:20])
    text, md_tail = _tails(aliases, first.url, sanitize.safe_url(first.url) is not None)
    header = _VULN_HEADER if vulnerability else _OTHER_HEADER
    body = "\n".join(rows)
    markdown = (
        f"**{_cell(rule_id)}** · {sev}\n\n{_cell(title)}\n\n{header}\n{body}\n\n"
        f"**Fix:** {sanitize.md_lines(fix, ' ')}{md_tail}"
    )
    text = (
        f"{sanitize.text(rule_id)} ({sev}): {sanitize.text(title)}\n"
        f"Fix: {sanitize.message(fix)}{text}"
    )
    return text, markdown


def _tails(aliases: str, url: str | None, safe: bool) -> tuple[str, str]:
    """The `Aliases:` and `More:` paragraphs of the help, as (text, markdown); `safe`:
    whether `url` is a `sanitize.safe_url`."""
    text = markdown = ""
    if aliases:
        text += f"\n\nAliases: {sanitize.text(aliases)}"
        markdown += f"\n\nAliases: {_cell(aliases)}"
    if url:
        if safe:  # printable ASCII, no space: nothing to escape
            text += f"\n\nMore: {url}"
            markdown += f"\n\nMore: <{url}>"
        else:
            text += f"\n\nMore: {sanitize.text(url)}"
            markdown += f"\n\nMore: {_cell(url)}"
    return text, markdown


def _single_vulnerability_rule(d: DecidedFinding) -> tuple[dict[str, Any], set[str]] | None:
    """`gate_rule` for the common case (one occurrence of a vulnerability), without the
    generality: at 25,000 rules the general path's calls are most of the SARIF's cost."""
    f = d.finding
    pkg = f.package
    title = f.title or f.id
    description = f.details.get("description") or title
    if pkg is None or not isinstance(description, str):
        return None
    if len(title) > MAX_DESCRIPTION or len(description) > MAX_DESCRIPTION:
        return None
    sev = f.severity
    fixed = ", ".join(f.fixed_versions)
    eco = pkg.ecosystem
    aliases = ", ".join(sorted(set(f.aliases))[:20]) if f.aliases else ""
    plain = sanitize.plain(f.id, title, pkg.name, pkg.version or "", fixed, eco or "", aliases)
    if not plain:
        return None  # something to escape: the general path does it
    fix = (
        f"Upgrade {pkg.name} to {fixed}."
        if fixed
        else f"No fixed version is known ({f.fix_state})."
    )
    url_ok = f.url is not None and sanitize.safe_url(f.url) is not None
    more, md_more = _tails(aliases, f.url, url_ok) if aliases or f.url else ("", "")
    row = (
        f"| {pkg.name}{f' ({eco})' if eco else ''} | {pkg.version or '-'} | "
        f"{fixed or '-'} | {f.fix_state} | {d.decision} |"
    )
    tags, _ = _tag_list((), f.kind, (eco,) if eco else ())
    props: dict[str, Any] = {"tags": tags, "precision": "very-high"}
    s = score(f)
    if s is not None:
        props["security-severity"] = _score_text(s)
    rule: dict[str, Any] = {
        "id": f.id,
        "name": "vulnerability",
        "shortDescription": {"text": title},
        "fullDescription": {"text": sanitize.message(description)},
        "defaultConfiguration": {"level": _LEVEL_BY_SEVERITY[sev]},
        "help": {
            "text": f"{f.id} ({sev}): {title}\nFix: {fix}{more}",
            "markdown": (
                f"**{f.id}** · {sev}\n\n{title}\n\n{_VULN_HEADER}\n{row}\n\n**Fix:** {fix}{md_more}"
            ),
        },
        "properties": props,
    }
    if url_ok:
        rule["helpUri"] = f.url
    return rule, set()


def gate_rule(rule_id: str, occ: Sequence[DecidedFinding]) -> tuple[dict[str, Any], set[str]]:
    """A rule of gate's own tool component; `occ` in priority order. Returns (rule, cuts)."""
    if len(occ) == 1 and occ[0].finding.kind is FindingKind.VULNERABILITY:
        fast = _single_vulnerability_rule(occ[0])
        if fast is not None:
            return fast
    first = occ[0].finding
    title = first.title
    description = first.details.get("description")
    url = first.url
    if len(occ) > 1:
        title = title or next((d.finding.title for d in occ if d.finding.title), None)
        url = url or next((d.finding.url for d in occ if d.finding.url), None)
        if not description:
            description = next((d.finding.details.get("description") for d in occ), None)
    title = title or rule_id
    if not isinstance(description, str) or not description:
        description = title
    sev = _severity(occ)
    text, markdown = _gate_help(rule_id, occ, sev, title)
    tags, tag_cut = _tags((), occ)
    props: dict[str, Any] = {"tags": tags, "precision": "very-high"}
    s = max_score(occ)
    if s is not None:
        props["security-severity"] = s
    cuts: set[str] = {"tags"} if tag_cut else set()
    title, description = sanitize.text(title), sanitize.message(description)
    if len(title) > MAX_DESCRIPTION or len(description) > MAX_DESCRIPTION:
        cuts.add("descriptions")
        title, description = (
            truncate(title, MAX_DESCRIPTION),
            truncate(description, MAX_DESCRIPTION),
        )
    rule: dict[str, Any] = {
        "id": sanitize.text(rule_id),
        "name": KIND_TAG[first.kind],
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": _LEVEL_BY_SEVERITY[sev]},
        "help": {"text": text, "markdown": markdown},
        "properties": props,
    }
    url = sanitize.safe_url(url)
    if url:
        rule["helpUri"] = url
    return rule, cuts


def code_rule(
    rule_id: str, occ: Sequence[DecidedFinding], kept: SarifRuleFacts | None
) -> tuple[dict[str, Any], set[str]]:
    """A code-scanning rule under its original id, from what the SARIF ingestor kept."""
    facts = kept if kept is not None else SarifRuleFacts(id=rule_id)
    first = occ[0].finding
    sev = _severity(occ)
    short = sanitize.message(facts.short or first.title or rule_id)
    full = sanitize.message(facts.full or short)
    raw_text = facts.help_text or facts.full or short
    text = sanitize.message(raw_text)
    # the tool's own markdown is not carried over; its text is, in one paragraph (a line of
    # it starting with `1.` or `#` must not become a list or a heading)
    markdown = sanitize.md_lines(raw_text, "<br>")
    original_tags = [sanitize.text(t) for t in facts.tags]
    tags, tag_cut = _tags(original_tags, occ)
    props: dict[str, Any] = {"tags": tags}
    s = max_score(occ)
    if s is not None:
        props["security-severity"] = s
    if facts.precision in {"very-high", "high", "medium", "low"}:
        props["precision"] = facts.precision
    level = facts.level
    if level not in {"note", "warning", "error"}:
        level = _LEVEL_BY_SEVERITY[sev]
    rule: dict[str, Any] = {"id": sanitize.text(rule_id)}
    name = facts.name
    if name:
        name = sanitize.text(name)
        rule["name"] = truncate(name, MAX_RULE_NAME)
    rule |= {
        "shortDescription": {"text": truncate(short, MAX_DESCRIPTION)},
        "fullDescription": {"text": truncate(full, MAX_DESCRIPTION)},
        "defaultConfiguration": {"level": level},
        "help": {"text": text, "markdown": markdown},
        "properties": props,
    }
    help_uri = sanitize.safe_url(facts.help_uri)
    if help_uri:
        rule["helpUri"] = help_uri
    cuts = {"tags"} if tag_cut else set()
    if len(short) > MAX_DESCRIPTION or len(full) > MAX_DESCRIPTION:
        cuts.add("descriptions")
    if isinstance(name, str) and len(name) > MAX_RULE_NAME:
        cuts.add("names")
    return rule, cuts
