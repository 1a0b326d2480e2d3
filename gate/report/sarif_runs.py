"""Which SARIF runs gate writes, and which findings go in each (`gate.report.sarif`).

- gate's own runs: one per input kind and subject (image repository or input path);
- code-scanning runs: one per run of each SARIF input, so each keeps its tool, tool version
  and category (two CodeQL analyses stay two);
- each run's category: `<prefix>/<kind>/<subject>/`, unique in the file;
- findings in `sarif_limits.priority` order; with `include="attention"` only those that
  fail, warn or are excepted (`gate.report.sarif_select`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gate.facts import SarifRunFacts
from gate.models import (
    DecidedFinding,
    FindingKind,
    InputKind,
    InputStatus,
    SourceRun,
    Subject,
    Verdict,
)
from gate.report import sarif_limits as limits
from gate.report import sarif_rules as rules
from gate.report.sarif_results import is_image_input
from gate.report.sarif_select import Include, code_run_key, wanted

UNKNOWN_TOOL = "unknown tool"
_CATEGORY_UNSAFE = re.compile(r"[^A-Za-z0-9._@:+/-]+")


@dataclass
class SarifRun:
    kind: str
    """`trivy`, `npm-audit`, `pip-audit`, `branch-protection`, `sarif`, …"""
    sub: str
    """The image repository, input path or original tool name."""
    tool: str | None = None
    """The original tool of a code-scanning run; None for gate's own runs."""
    image: Subject | None = None
    inputs: list[SourceRun] = field(default_factory=list)
    findings: list[DecidedFinding] = field(default_factory=list)
    """In `sarif_limits.priority` order."""
    by_rule: dict[str, list[DecidedFinding]] = field(default_factory=dict)
    """The same findings by rule id (the finding id), each list in priority order."""
    category: str = ""
    meta: SarifRunFacts | None = None
    """The original run's facts (tool version, category, rules) of a code-scanning run."""

    def add(self, d: DecidedFinding) -> None:
        self.findings.append(d)
        self.by_rule.setdefault(d.finding.id, []).append(d)

    def replace(self, findings: list[DecidedFinding]) -> None:
        if findings is not self.findings:
            self.findings, self.by_rule = [], {}
            for d in findings:
                self.add(d)


def image_repository(name: str) -> str:
    """`ghcr.io/org/app:1.2@sha256:…` → `ghcr.io/org/app`; `docker.io/library/x` → `library/x`."""
    repo = name.split("@", 1)[0]
    slash = repo.rfind("/")
    colon = repo.rfind(":")
    if colon > slash:
        repo = repo[:colon]
    for prefix in ("docker.io/", "index.docker.io/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
    return repo


def _is_image(run: SourceRun) -> bool:
    return bool(run.subject and run.subject.name and is_image_input(run))


def _stable_path(path: str) -> str:
    """An input path for a category: as given when relative, else its file name."""
    p = path.replace("\\", "/")
    if "://" in p:
        p = p.split("://", 1)[1]
    elif p.startswith("/"):
        p = p.rsplit("/", 1)[-1]
    while p.startswith("./"):
        p = p[2:]
    return p or "input"


def _sub(run: SourceRun) -> str:
    if _is_image(run) and run.subject and run.subject.name:
        return image_repository(run.subject.name)
    if run.kind is InputKind.BRANCH_PROTECTION and run.subject and run.subject.name:
        return run.subject.name
    return _stable_path(run.path)


RunKey = tuple[str, str, str, int]
"""(kind, sub, SARIF input path, run index in it): gate's own runs have ("", -1)."""


def _sarif_runs(inp: SourceRun, runs: dict[RunKey, SarifRun]) -> dict[tuple[str, int], RunKey]:
    """One run per run of a SARIF input: its tool, version and category stay its own."""
    found: dict[tuple[str, int], RunKey] = {}
    metas = inp.facts.sarif_runs or [
        SarifRunFacts(index=i, tool=t.name, version=t.version) for i, t in enumerate(inp.tools)
    ]
    for meta in metas:
        name, index = meta.tool or UNKNOWN_TOOL, meta.index
        where = (meta.category or "").strip("/") or _stable_path(inp.path)
        key = ("sarif", f"{name}/{where}", inp.path, index)
        r = runs.setdefault(key, SarifRun("sarif", key[1], tool=name, meta=meta))
        r.inputs.append(inp)
        found[(inp.path, index)] = key
    return found


def group_runs(
    verdict: Verdict, category: str | None, include: Include = "attention"
) -> list[SarifRun]:
    runs: dict[RunKey, SarifRun] = {}
    by_input: dict[tuple[InputKind, str], RunKey] = {}
    by_sarif_run: dict[tuple[str, int], RunKey] = {}
    for inp in verdict.inputs:
        if inp.status is not InputStatus.OK:
            continue
        if inp.kind is InputKind.SARIF:
            by_sarif_run |= _sarif_runs(inp, runs)
            continue
        key = (inp.kind.value, _sub(inp), "", -1)
        image = inp.subject if _is_image(inp) else None
        r = runs.setdefault(key, SarifRun(key[0], key[1], image=image))
        r.inputs.append(inp)
        by_input[(inp.kind, inp.path)] = key
    code = FindingKind.CODE
    # checked in this pass, which reads every finding anyway: a pass of its own would cost
    # about as much again in cache misses (the findings do not fit in the CPU cache)
    in_order = limits.InOrder()
    for d in verdict.findings:
        in_order(d)
        if not wanted(d, include):
            continue
        f = d.finding
        if f.kind is code:
            name = f.tool or next((s.tool for s in f.sources if s.tool), None) or UNKNOWN_TOOL
            where = code_run_key(d)
            found_key = by_sarif_run.get(where) if where is not None else None
            if found_key is None or runs[found_key].tool != name:
                found_key = next(
                    (k for k, r in runs.items() if r.tool == name),
                    ("sarif", name, "", -1),
                )
            runs.setdefault(found_key, SarifRun("sarif", name, tool=name)).add(d)
            continue
        found = None
        for src in f.sources:
            found = by_input.get((src.kind, src.path))
            if found is not None:
                break
        if found is None:
            label = f.sources[0].kind.value if f.sources else rules.KIND_TAG[f.kind]
            found = (label, "", "", -1)
            runs.setdefault(found, SarifRun(label, ""))
        runs[found].add(d)
    if not runs:
        runs[("verdict", "", "", -1)] = SarifRun("verdict", "")
    prefix = (category or "gate").strip().strip("/") or "gate"
    seen: set[str] = set()
    out = [runs[k] for k in sorted(runs)]
    for r in out:
        sub = _CATEGORY_UNSAFE.sub("-", r.sub.lower() if r.tool else r.sub).strip("-/")
        base = f"{prefix}/{r.kind}/{sub}/" if sub else f"{prefix}/{r.kind}/"
        cat, n = base, 2
        while cat in seen:
            cat, n = f"{base.rstrip('/')}-{n}/", n + 1
        seen.add(cat)
        r.category = cat
        if not in_order.ok:
            r.replace(sorted(r.findings, key=limits.priority))
    return out
