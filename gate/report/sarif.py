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
- code-scanning results keep their original tool name and rule ids, one run per run of
  each SARIF input (its tool version and category kept), so alerts uploaded before keep
  their identity; gate is a tool extension;
- findings with no file in the repository (image findings, npm audit, pip-audit,
  branch protection) point at `location` (default: `Dockerfile` for images, the
  lockfile for npm/pip when present, else `.gate/<kind>`, which is announced in the notes),
  line 1, with gate's own `partialFingerprints` (one per finding: rule + package name,
  version and ecosystem + its path + image repository; never a tag or digest);
- every result says what gate decided and why; excepted results carry an accepted
  `suppressions` entry with the reason.

Limits are enforced by `gate.report.sarif_limits`; what they cut is returned as notes
and written into each run (`properties["gate/notes"]`, tool notifications).

Which runs there are and which findings go in each is `gate.report.sarif_runs` (with
`sarif_select`: only what needs attention, by default); rules, results and size limits are
`sarif_rules`, `sarif_results` and `sarif_limits`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gate import __version__
from gate._fastmodel import gc_paused
from gate.common import sanitize
from gate.facts import SarifRuleFacts
from gate.models import (
    Verdict,
)
from gate.report import sarif_limits as limits
from gate.report import sarif_rules as rules
from gate.report.sarif_results import ResultBuilder
from gate.report.sarif_runs import SarifRun, group_runs
from gate.report.sarif_select import Include

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/gate-dev/gate"

_MANIFESTS = {
    "npm-audit": ("package-lock.json", "npm-shrinkwrap.json", "package.json"),
    "pip-audit": ("requirements.txt", "pyproject.toml", "poetry.lock", "uv.lock", "Pipfile.lock"),
}


def _fallback_path(run: SarifRun, location: str | None, root: Path) -> str:
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
    run: SarifRun,
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
    facts: dict[str, SarifRuleFacts] = {}
    if run.meta is not None:
        facts = dict(run.meta.rules)
    elif run.tool is not None:
        for inp in run.inputs:
            for fr in inp.facts.sarif_runs or ():
                if fr.tool == run.tool:
                    for rid, rf in fr.rules.items():
                        facts.setdefault(rid, rf)
    fallback = _fallback_path(run, location, root)
    build = ResultBuilder(
        code=run.tool is not None,
        image=run.image,
        subject_key=run.sub,
        fallback=fallback,
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
                rule, cuts = rules.code_rule(rid, occ[rid], facts.get(rid))
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
    if fallback.startswith(".gate/") and build.fallback_used:
        own.append(
            f"run {run.category}: {build.fallback_used} result(s) have no file in the "
            f"repository and point at {fallback} (no ./Dockerfile or lockfile found): "
            "give --sarif-location PATH for a real one"
        )
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
        meta = run.meta or next(
            (fr for inp in run.inputs for fr in inp.facts.sarif_runs or () if fr.tool == run.tool),
            None,
        )
        driver: dict[str, Any] = {"name": sanitize.text(run.tool)}
        if meta is not None and meta.version:
            driver["version"] = sanitize.text(meta.version)
        info = sanitize.safe_url(meta.information_uri if meta is not None else None)
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
    include: Include = "attention",
) -> tuple[dict[str, Any], bytes, list[str]]:
    base = root if root is not None else Path.cwd()
    runs = group_runs(verdict, category, include)
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
    include: Include = "attention",
) -> tuple[dict[str, Any], list[str]]:
    """The SARIF document and notes about anything GitHub's limits cut.

    `location`: the repository file findings without one point at (default: see the
    module doc). `category`: replaces the `gate` prefix of every run's category.
    `root`: where to look for a Dockerfile or lockfile (default: the current directory).
    `include`: `attention` (findings that fail, warn or are excepted) or `all`.
    """
    with gc_paused():  # a dict per result while the verdict is alive
        doc, _, notes = _render(verdict, location, category, root, include=include)
    return doc, notes


def encode_sarif(
    verdict: Verdict,
    *,
    location: str | None = None,
    category: str | None = None,
    root: Path | None = None,
    include: Include = "attention",
) -> tuple[bytes, list[str]]:
    """The SARIF file's bytes and the notes for stderr (arguments as for `render_sarif`)."""
    with gc_paused():  # a dict per result while the verdict is alive
        _, data, notes = _render(verdict, location, category, root, _raw_encoder(), include)
    return data, notes


def write_sarif(
    verdict: Verdict,
    path: Path,
    *,
    location: str | None = None,
    category: str | None = None,
    root: Path | None = None,
    include: Include = "attention",
) -> list[str]:
    """Write the SARIF file (atomically); return the notes for stderr. Raises OSError."""
    from gate.common.files import FileProblem, write_atomic

    data, notes = encode_sarif(
        verdict, location=location, category=category, root=root, include=include
    )
    try:
        write_atomic(path, lambda fh: fh.write(data))
    except FileProblem as e:
        raise OSError(f"{path}: {e}") from e
    return notes
