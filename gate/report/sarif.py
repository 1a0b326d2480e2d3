"""The verdict as one SARIF 2.1.0 file for GitHub code scanning (`upload-sarif`).

Layout:
- one run per input category, each with its own `automationDetails.id`
  (`gate/<kind>/<image repository or input path>/`; `category` replaces the `gate`
  prefix). GitHub rejects several runs of one category in one upload, and re-uploading
  a category replaces its alerts: a clean input still gets an (empty) run so its old
  alerts close, and an input gate could not read gets none, so its alerts stay;
- vulnerabilities, secrets, misconfigurations and branch protection go under gate's
  own tool (`driver.name = "gate"`), rule id = the finding id, one run per source kind
  and subject;
- code-scanning results keep their original tool name and rule ids (one run per
  tool), so alerts uploaded before keep their identity; gate is a tool extension;
- findings with no file in the repository (image findings, npm audit, pip-audit,
  branch protection) point at `location` (default: `Dockerfile` for images, the
  lockfile for npm/pip when present, else `.gate/<kind>`), line 1, with gate's own
  `partialFingerprints` (rule + package name + ecosystem + image repository; never
  a tag, digest or version) so one vulnerability keeps one alert across builds;
- every result says what gate decided and why; excepted results carry an accepted
  `suppressions` entry with the reason.

Limits are enforced by `gate.report.sarif_limits`; what they cut is returned as notes
and written into each run (`properties["gate/notes"]`, tool notifications).

Length (over ~400 lines): one idea, the SARIF document gate writes; rules, results and size
limits are already `sarif_rules`, `sarif_results` and `sarif_limits`, and the Action's work
on SARIF is under way in parallel, so it is left whole for now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate import __version__
from gate._fastmodel import gc_paused
from gate.common import sanitize
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
from gate.report.sarif_results import ResultBuilder, is_image_input

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/gate-dev/gate"
UNKNOWN_TOOL = "unknown tool"

_MANIFESTS = {
    "npm-audit": ("package-lock.json", "npm-shrinkwrap.json", "package.json"),
    "pip-audit": ("requirements.txt", "pyproject.toml", "poetry.lock", "uv.lock", "Pipfile.lock"),
}
_CATEGORY_UNSAFE = re.compile(r"[^A-Za-z0-9._@:+/-]+")


@dataclass
class _Run:
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


def _group(verdict: Verdict, category: str | None) -> list[_Run]:
    runs: dict[tuple[str, str], _Run] = {}
    by_input: dict[tuple[InputKind, str], tuple[str, str]] = {}
    for inp in verdict.inputs:
        if inp.status is not InputStatus.OK:
            continue
        if inp.kind is InputKind.SARIF:
            names = inp.facts.get("sarif_tools") or [t.name for t in inp.tools]
            for name in names:
                r = runs.setdefault(("sarif", name), _Run("sarif", name, tool=name))
                r.inputs.append(inp)
            continue
        key = (inp.kind.value, _sub(inp))
        image = inp.subject if _is_image(inp) else None
        r = runs.setdefault(key, _Run(key[0], key[1], image=image))
        r.inputs.append(inp)
        by_input[(inp.kind, inp.path)] = key
    code = FindingKind.CODE
    # checked in this pass, which reads every finding anyway: a pass of its own would cost
    # about as much again in cache misses (the findings do not fit in the CPU cache)
    in_order = limits.InOrder()
    for d in verdict.findings:
        in_order(d)
        f = d.finding
        if f.kind is code:
            name = f.tool or next((s.tool for s in f.sources if s.tool), None) or UNKNOWN_TOOL
            runs.setdefault(("sarif", name), _Run("sarif", name, tool=name)).add(d)
            continue
        found = None
        for src in f.sources:
            found = by_input.get((src.kind, src.path))
            if found is not None:
                break
        if found is None:
            label = f.sources[0].kind.value if f.sources else rules.KIND_TAG[f.kind]
            found = (label, "")
            runs.setdefault(found, _Run(label, ""))
        runs[found].add(d)
    if not runs:
        runs[("verdict", "")] = _Run("verdict", "")
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


def _fallback_path(run: _Run, location: str | None, root: Path) -> str:
    if location:
        return location
    if run.image is not None:
        return "Dockerfile" if (root / "Dockerfile").is_file() else ".gate/image"
    for name in _MANIFESTS.get(run.kind, ()):
        if (root / name).is_file():
            return name
    return f".gate/{run.kind}"


def _timestamp(verdict: Verdict) -> str:
    import datetime as dt

    return verdict.evaluated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_doc(
    run: _Run,
    verdict: Verdict,
    notes: list[str],
    location: str | None,
    root: Path,
    item: Callable[[dict[str, Any]], Any],
) -> tuple[dict[str, Any], list[str]]:
    """One SARIF run, and the notes about what its rules had cut.

    `item` is applied to each rule and result as it is made (see `_raw_encoder`).
    """
    occ = run.by_rule
    ids = sorted(occ)
    index = {rid: i for i, rid in enumerate(ids)}
    facts: dict[str, dict[str, Any]] = {}
    if run.tool is not None:
        for inp in run.inputs:
            for fr in inp.facts.get("sarif_runs") or []:
                if fr.get("tool") == run.tool:
                    for rid, rf in (fr.get("rules") or {}).items():
                        facts.setdefault(rid, rf)
    build = ResultBuilder(
        code=run.tool is not None,
        image=run.image,
        subject_key=run.sub,
        fallback=_fallback_path(run, location, root),
    )
    rule_docs: list[Any] = [None] * len(ids)
    cut_counts = {"tags": 0, "descriptions": 0, "names": 0}
    results = []
    for d in run.findings:
        rid = d.finding.id
        i = index[rid]
        # a rule is made at its first result, while that finding is in the CPU cache (a
        # second pass over 25,000 findings costs about as much again in memory stalls)
        if rule_docs[i] is None:
            if run.tool is not None:
                rule, cuts = rules.code_rule(rid, occ[rid], facts.get(rid, {}))
            else:
                rule, cuts = rules.gate_rule(rid, occ[rid])
            rule_docs[i] = item(rule)
            for c in cuts:
                cut_counts[c] += 1
        results.append(item(build(d, i)))
    run_notes = list(notes)
    own: list[str] = []
    for what, n in cut_counts.items():
        if n:
            limit = {"tags": "20 tags", "descriptions": "1,024 characters", "names": "255"}[what]
            own.append(f"run {run.category}: {what} of {n} rule(s) cut to GitHub's {limit}")
    run_notes += own
    gate_component = {
        "name": "gate",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
    }
    if run.tool is None:
        tool: dict[str, Any] = {"driver": {**gate_component, "rules": rule_docs}}
    else:
        meta: dict[str, Any] = next(
            (
                fr
                for inp in run.inputs
                for fr in inp.facts.get("sarif_runs") or []
                if fr.get("tool") == run.tool
            ),
            {},
        )
        driver: dict[str, Any] = {"name": sanitize.text(run.tool)}
        if meta.get("version"):
            driver["version"] = sanitize.text(meta["version"])
        info = sanitize.safe_url(meta.get("information_uri"))
        if info:
            driver["informationUri"] = info
        tool = {"driver": {**driver, "rules": rule_docs}, "extensions": [gate_component]}
    text, message = sanitize.text, sanitize.message
    props: dict[str, Any] = {
        "gate/kind": run.kind,
        "gate/result": verdict.result.value,
        "gate/policy": {"name": verdict.policy.name, "sha256": verdict.policy.sha256},
        "gate/inputs": [{"path": text(i.path), "sha256": i.sha256} for i in run.inputs],
    }
    if run.image is not None:
        s = run.image
        props |= {
            "imageName": s.name and text(s.name),
            "imageDigest": s.digest and text(s.digest),
            "imageID": s.image_id and text(s.image_id),
            "repoTags": [text(t) for t in s.repo_tags],
            "repoDigests": [text(t) for t in s.repo_digests],
        }
    run_notes = [message(n) for n in run_notes]
    if run_notes:
        props["gate/notes"] = run_notes
    notifications = [{"level": "warning", "message": {"text": n}} for n in run_notes]
    notifications += [{"level": "error", "message": {"text": message(e)}} for e in verdict.errors]
    notifications += [
        {"level": "note", "message": {"text": message(f"{i.path}: {w}")}}
        for i in run.inputs
        for w in i.warnings
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": _timestamp(verdict)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    doc = {
        "tool": tool,
        "automationDetails": {"id": run.category},
        "invocations": [invocation],
        "results": results,
        "properties": props,
    }
    return doc, own


def schema_path() -> Path:
    """The bundled official SARIF 2.1.0 (errata01, draft-04) JSON schema."""
    return Path(__file__).parent / "_schemas" / "sarif-schema-2.1.0.errata01-official.json"


def _encode(doc: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order (msgspec: about 8x faster than json)."""
    try:
        import msgspec
    except ImportError:  # pragma: no cover - msgspec is a dependency (the Trivy ingestor's)
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), check_circular=False)
        return text.encode("utf-8")
    return msgspec.json.encode(doc)


def _as_is(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _raw_encoder() -> Callable[[dict[str, Any]], Any]:
    """For `write_sarif`: encode each rule and result as soon as it is made.

    Its dicts are then freed while still in the CPU cache and their memory is reused for
    the next, instead of some 300,000 objects for 25,000 findings living until the end
    (cache misses, page faults, a long teardown). The bytes are the same as encoding the
    whole document at once: msgspec copies a `Raw` as it is.
    """
    try:
        import msgspec
    except ImportError:  # pragma: no cover - msgspec is a dependency (the Trivy ingestor's)
        return _as_is
    encode, raw = msgspec.json.Encoder().encode, msgspec.Raw
    return lambda item: raw(encode(item))


def _render(
    verdict: Verdict,
    location: str | None,
    category: str | None,
    root: Path | None,
    item: Callable[[dict[str, Any]], Any] = _as_is,
) -> tuple[dict[str, Any], bytes, list[str]]:
    base = root if root is not None else Path.cwd()
    runs = _group(verdict, category)
    notes: list[str] = []
    keep, cut = limits.cut_runs([(r.category, r.findings) for r in runs])
    runs, notes = [runs[i] for i in keep], notes + cut
    for r in runs:
        kept, cut = limits.cut_results(r.findings, r.category)
        r.replace(kept)
        notes += cut
    while True:
        docs, own = [], []
        for r in runs:
            d, o = _run_doc(r, verdict, notes, location, base, item)
            docs.append(d)
            own += o
        doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": docs}
        data = _encode(doc)
        size = limits.gzip_bound(data)
        if size <= limits.MAX_GZIP_BYTES or not any(r.findings for r in runs):
            return doc, data, notes + own
        shrunk, note = limits.shrink_to_fit([r.findings for r in runs], size)
        for r, fs in zip(runs, shrunk, strict=True):
            r.replace(fs)
        notes.append(note)


def render_sarif(
    verdict: Verdict,
    *,
    location: str | None = None,
    category: str | None = None,
    root: Path | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The SARIF document and notes about anything GitHub's limits cut.

    `location`: the repository file findings without one point at (default: see the
    module doc). `category`: replaces the `gate` prefix of every run's category.
    `root`: where to look for a Dockerfile or lockfile (default: the current directory).
    """
    with gc_paused():  # a dict per result while the verdict is alive
        doc, _, notes = _render(verdict, location, category, root)
    return doc, notes


def encode_sarif(
    verdict: Verdict,
    *,
    location: str | None = None,
    category: str | None = None,
    root: Path | None = None,
) -> tuple[bytes, list[str]]:
    """The SARIF file's bytes and the notes for stderr (arguments as for `render_sarif`)."""
    with gc_paused():  # a dict per result while the verdict is alive
        _, data, notes = _render(verdict, location, category, root, _raw_encoder())
    return data, notes


def write_sarif(
    verdict: Verdict,
    path: Path,
    *,
    location: str | None = None,
    category: str | None = None,
    root: Path | None = None,
) -> list[str]:
    """Write the SARIF file (atomically); return the notes for stderr. Raises OSError."""
    from gate.common.files import FileProblem, write_atomic

    data, notes = encode_sarif(verdict, location=location, category=category, root=root)
    try:
        write_atomic(path, lambda fh: fh.write(data))
    except FileProblem as e:
        raise OSError(f"{path}: {e}") from e
    return notes
