"""The JSON verdict: a documented, versioned document (`schemas/verdict.schema.json`).

Its schema is generated from the models in `gate.report.json_schema` (`gate schema`); a
test keeps the bundled file current and validates real outputs against it. The document
itself is built as plain dicts and msgspec structs, several times faster than model
instances for 50,000 findings.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import msgspec

from gate._fastmodel import fields_of, gc_paused
from gate.common.sanitize import json_lines
from gate.models import DecidedFinding, SourceRun, Subject, Verdict

SCHEMA_VERSION = 1
SCHEMA_ID = "https://github.com/gate-dev/gate/schemas/verdict-v1.json"


def _subject(s: Subject | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "name": s.name,
        "digest": s.digest,
        "image_id": s.image_id,
        "repo_digests": list(s.repo_digests),
        "repo_tags": list(s.repo_tags),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _input(run: SourceRun) -> dict[str, Any]:
    return {
        "kind": run.kind.value,
        "path": run.path,
        "sha256": run.sha256,
        "status": run.status.value,
        "error": run.error,
        "subject": _subject(run.subject),
        "created_at": _iso(run.created_at),
        "freshness": _iso(run.freshness),
        "freshness_source": run.freshness_source,
        "tools": [{"name": t.name, "version": t.version} for t in run.tools],
        "findings": len(run.findings),
        "skipped": list(run.skipped),
        "warnings": list(run.warnings),
        "facts": run.facts.as_json(),
    }


def _finding(d: DecidedFinding) -> dict[str, Any]:
    # Hot path (50,000 findings): enum members are StrEnums, encoded as their values.
    f = d.finding
    pkg = f.package
    loc = f.location
    return {
        "id": f.id,
        "kind": f.kind,
        "aliases": f.aliases,
        "title": f.title,
        "url": f.url,
        "package": pkg.name if pkg else None,
        "version": pkg.version if pkg else None,
        "ecosystem": pkg.ecosystem if pkg else None,
        "purl": pkg.purl if pkg else None,
        "severity": f.severity,
        "severity_origin": f.severity_origin,
        "fix_state": f.fix_state,
        "fixed_versions": f.fixed_versions,
        "fix_in_tree": f.fix_in_tree,
        "status": f.status,
        "not_affected": f.not_affected,
        "baseline_state": f.baseline_state,
        "tool": f.tool,
        "location": None
        if loc is None
        else {
            "path": loc.path,
            "start_line": loc.start_line,
            "end_line": loc.end_line,
            "start_column": loc.start_column,
            "end_column": loc.end_column,
            "layer": loc.layer,
            "fingerprints": loc.fingerprints,
        },
        "suppressions": [
            {"kind": s.kind, "status": s.status, "justification": s.justification}
            for s in f.suppressions
        ],
        "sources": [
            {"kind": s.kind, "path": s.path, "pointer": s.pointer, "tool": s.tool}
            for s in f.sources
        ],
        "decision": d.decision,
        "rule": d.rule,
        "reason": d.reason,
        "details": f.details,
    }


def verdict_document(verdict: Verdict, *, with_findings: bool = True) -> dict[str, Any]:
    """The JSON verdict as a dict (see `gate.report.json_schema.VerdictDoc`)."""
    ex = verdict.exceptions
    return {
        "schema_version": SCHEMA_VERSION,
        "result": verdict.result.value,
        "exit_code": verdict.result.exit_code,
        "evaluated_at": verdict.evaluated_at.isoformat(),
        "policy": {
            "path": verdict.policy.path,
            "sha256": verdict.policy.sha256,
            "name": verdict.policy.name,
            "exception_files": [f.model_dump() for f in verdict.policy.exception_files],
        },
        "subject": _subject(verdict.subject),
        "errors": list(verdict.errors),
        "notes": list(verdict.notes),
        "inputs": [_input(r) for r in verdict.inputs],
        "findings": [_finding(d) for d in verdict.findings] if with_findings else [],
        "exceptions": {
            name: [u.model_dump() for u in getattr(ex, name)]
            for name in ("used", "unused", "expired", "expiring")
        },
        "counts": verdict.counts,
        "tool_versions": verdict.tool_versions,
        "facts": verdict.facts.as_json(),
    }


_SPLICE = "\u0000gate:findings\u0000"
_CHUNK = 1 << 20  # bytes of findings buffered before each write


class _FindingRow(msgspec.Struct, gc=False):
    """One finding of the document, fields in `FindingDoc` order. A Struct built from
    positional values encodes with precomputed keys: faster than a dict per finding."""

    id: Any
    kind: Any
    aliases: Any
    title: Any
    url: Any
    package: Any
    version: Any
    ecosystem: Any
    purl: Any
    severity: Any
    severity_origin: Any
    fix_state: Any
    fixed_versions: Any
    fix_in_tree: Any
    status: Any
    not_affected: Any
    baseline_state: Any
    tool: Any
    location: Any
    suppressions: Any
    sources: Any
    decision: Any
    rule: Any
    reason: Any
    details: Any


def _row(d: DecidedFinding, locations: dict[int, msgspec.Raw]) -> _FindingRow:
    """`_finding(d)`, fast. A frozen model's `__dict__` holds exactly its fields in
    declaration order, which for `Location`, `Suppression` and `SourceRef` are the keys
    and order of their documents (the schema test catches a drift); enum members are
    StrEnums, which msgspec encodes as their values. `locations` holds the JSON of each
    `Location` (by id) already encoded: readers share one per file and layer."""
    dd = fields_of(d)
    f = fields_of(dd["finding"])
    pkg = f["package"]
    loc = f["location"]
    if loc is not None:
        encoded = locations.get(id(loc))
        if encoded is None:
            encoded = locations[id(loc)] = msgspec.Raw(msgspec.json.encode(fields_of(loc)))
        loc = encoded
    p = fields_of(pkg) if pkg is not None else _NO_PACKAGE
    sources, suppressions = f["sources"], f["suppressions"]
    return _FindingRow(
        f["id"],
        f["kind"],
        f["aliases"],
        f["title"],
        f["url"],
        p["name"],
        p["version"],
        p["ecosystem"],
        p["purl"],
        f["severity"],
        f["severity_origin"],
        f["fix_state"],
        f["fixed_versions"],
        f["fix_in_tree"],
        f["status"],
        f["not_affected"],
        f["baseline_state"],
        f["tool"],
        loc,
        # most findings have no suppression and one source: skip the comprehensions
        [fields_of(s) for s in suppressions] if suppressions else (),
        (fields_of(sources[0]),) if len(sources) == 1 else [fields_of(s) for s in sources],
        dd["decision"],
        dd["rule"],
        dd["reason"],
        f["details"],
    )


_NO_PACKAGE: dict[str, None] = {"name": None, "version": None, "ecosystem": None, "purl": None}


def write_json(verdict: Verdict, out: BinaryIO) -> None:
    """Write the JSON verdict to `out`, UTF-8: the document indented by 2, and each finding
    on one line of its own, compact (`{"id":"CVE-…","kind":"vulnerability",…}`), so a
    50,000-finding verdict stays greppable and about a third smaller.

    msgspec encodes it (`json.dumps` is 20 times slower on a large image's findings), and
    the findings stream out in chunks: neither their documents nor the whole text ever
    exist at once.
    """
    with gc_paused():  # tens of thousands of short-lived rows: keep the cyclic GC out
        _write_json(verdict, out)


def _write_json(verdict: Verdict, out: BinaryIO) -> None:
    encoder = msgspec.json.Encoder(enc_hook=str)
    doc = verdict_document(verdict, with_findings=False)
    doc["findings"] = _SPLICE
    head = msgspec.json.format(encoder.encode(doc), indent=2)
    before, found, after = head.partition(encoder.encode(_SPLICE))
    assert found, "the findings placeholder is missing"
    findings = verdict.findings
    if not findings:
        out.write(json_lines(before + b"[]" + after + b"\n"))
        return
    buf = bytearray(before)
    buf += b"[\n    "
    encode_into = encoder.encode_into
    # the findings (and the verdict) keep every location alive, so their ids stay unique
    locations: dict[int, msgspec.Raw] = {}
    for i, d in enumerate(findings):
        if i:
            buf += b",\n    "
            if len(buf) >= _CHUNK:  # (between two findings: never inside a string)
                out.write(json_lines(buf))
                buf.clear()
        encode_into(_row(d, locations), buf, -1)
    buf += b"\n  ]"
    buf += after
    buf += b"\n"
    out.write(json_lines(buf))


def render_json(verdict: Verdict) -> bytes:
    """The JSON verdict as bytes (see `write_json` for its layout)."""
    out = io.BytesIO()
    write_json(verdict, out)
    return out.getvalue()
