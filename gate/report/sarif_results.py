"""SARIF results: what gate says about one finding, where, and under which fingerprint.

Used by `gate.report.sarif`; the rules the results point at are `gate.report.sarif_rules`.
Messages, rule ids and URIs from inputs are shown through `gate.common.sanitize` (controls escaped).
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any
from urllib.parse import quote

from gate.common import sanitize
from gate.models import DecidedFinding, Decision, Finding, SourceRun, Subject

_LEVEL_BY_DECISION = {Decision.FAIL: "error", Decision.WARN: "warning"}
_RELATED_LINK = re.compile(r"\[([^\]\n]*)\]\(\d+\)")
_SAFE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE_PATH = re.compile(r"^[A-Za-z]:/")


def is_image_input(run: SourceRun) -> bool:
    """Whether an input is about a container image (its paths are not repository files)."""
    s = run.subject
    return bool(s and (s.digest or s.image_id or s.repo_digests or s.repo_tags))


def image_text(s: Subject | None) -> str | None:
    if s is None or not s.name:
        return None
    return f"{s.name}@{s.digest}" if s.digest and s.digest not in s.name else s.name


_DECISION_PREFIX = {
    Decision.FAIL: "fails the policy: ",
    Decision.WARN: "warns: ",
    Decision.PASS: "passes the policy: ",
    Decision.IGNORED: "ignored by the policy: ",
    Decision.EXCEPTED: "",
}


def decision_text(d: DecidedFinding) -> str:
    """`fails the policy: HIGH ≥ fail_on HIGH, …`; an excepted finding's reason says it all."""
    return _DECISION_PREFIX[d.decision] + d.reason


@functools.lru_cache(maxsize=4096)
def uri_for(path: str) -> str:
    """A repository path as a SARIF `uri`: percent-encoded; absolute paths as `file://`."""
    if _SAFE_URI.match(path):
        return quote(path, safe="/:@!$&'()*+,;=?#%~[]")  # controls and spaces encoded
    if path.startswith("/"):
        return "file://" + quote(path, safe="/")
    if _DRIVE_PATH.match(path):
        return "file:///" + path[:2] + quote(path[2:], safe="/")
    return quote(path, safe="/")


def physical_location(path: str, f: Finding | None) -> dict[str, Any]:
    """One location; the finding's region when it has a sane one, else line 1."""
    loc = f.location if f is not None else None
    region: dict[str, int] = {"startLine": 1}
    if loc is not None and loc.start_line and loc.start_line >= 1:
        region = {"startLine": loc.start_line}
        if loc.start_column and loc.start_column >= 1:
            region["startColumn"] = loc.start_column
        if loc.end_line and loc.end_line >= loc.start_line:
            region["endLine"] = loc.end_line
        end_line = region.get("endLine", loc.start_line)
        if loc.end_column and loc.end_column >= 1:
            same = end_line == loc.start_line
            if not same or loc.end_column >= region.get("startColumn", 1):
                region["endColumn"] = loc.end_column
    return {"physicalLocation": {"artifactLocation": {"uri": uri_for(path)}, "region": region}}


def gate_fingerprints(
    rule_id: str, f: Finding, subject_key: str, occurrence: int = 0
) -> dict[str, str]:
    """One alert per finding, the same one for the same finding in every build: rule +
    package name, version and ecosystem + where it sits (its path in the image or the
    repository) + image repository (never a tag or digest). `occurrence` tells apart
    findings that share all of these (the second is 1, …: results come in a fixed order)."""
    pkg = f.package
    path = f.location.path if f.location and f.location.path else ""
    name, version, eco = (pkg.name, pkg.version or "", pkg.ecosystem or "") if pkg else ("", "", "")
    parts = [rule_id, name, version, eco, path, subject_key]
    if occurrence:
        parts.append(str(occurrence))
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return {"gate/v2": digest, "primaryLocationLineHash": f"{digest[:16]}:1"}


def result_level(d: DecidedFinding) -> str:
    return _LEVEL_BY_DECISION.get(d.decision, "note")


def code_message(d: DecidedFinding) -> str:
    """gate's decision, then the tool's own message (related-location links unlinked)."""
    original = d.finding.details.get("message")
    text = f"gate {decision_text(d)}."
    if isinstance(original, str) and original.strip():
        text += "\n" + _RELATED_LINK.sub(r"\1", original.strip())
    return sanitize.message(text)


@functools.lru_cache(maxsize=4096)
def _reason_text(reason: str) -> str:
    """A decision's reason, escaped: reasons repeat across findings, and most hold a `≥`
    (not ASCII: no fast path in `sanitize.text`)."""
    return sanitize.text(reason)


def gate_message(d: DecidedFinding, image: str | None) -> str:
    """`<id> in <package or path> <decision>: <reason>. Image: <image>.`, every part escaped."""
    head = sanitize.text(_head(d.finding))
    tail = f" Image: {sanitize.text(image)}." if image else ""
    return f"{head} {_DECISION_PREFIX[d.decision]}{_reason_text(d.reason)}.{tail}"


def _head(f: Finding) -> str:
    """`<id> in <package or path>`, as the finding has them (not escaped)."""
    pkg = f.package
    if pkg is not None:
        what = f"{pkg.name}@{pkg.version}" if pkg.version else pkg.name
        if pkg.ecosystem:
            what = f"{what} ({pkg.ecosystem})"
    elif f.location is not None and f.location.path:
        line = f.location.start_line
        what = f"{f.location.path}:{line}" if line else f.location.path
    else:
        what = f.title or ""
    return f"{f.id} in {what}" if what else f.id


def suppressions(d: DecidedFinding) -> list[dict[str, str]]:
    """SARIF suppressions for an excepted result (accepted; the reason as justification)."""
    if d.decision is not Decision.EXCEPTED:
        return []
    kind = "external"
    if d.rule == "sarif.suppressions" and d.finding.suppressions:
        original = d.finding.suppressions[0].kind
        kind = original if original in {"inSource", "external"} else "external"
    return [{"kind": kind, "status": "accepted", "justification": sanitize.text(d.reason)}]


class ResultBuilder:
    """Builds a run's results; shares the identical parts (location, properties) between them."""

    def __init__(
        self, *, code: bool, image: Subject | None, subject_key: str, fallback: str
    ) -> None:
        self.code = code
        """Results of an original code-scanning tool (else gate's own)."""
        self.has_image = image is not None
        self.image = image_text(image)
        self.image_tail = f" Image: {sanitize.text(self.image)}." if self.image else ""
        self.subject_key = subject_key
        """The image repository or input path that gate's fingerprints include."""
        self.fallback = [physical_location(fallback, None)]
        """The location of findings without a repository file (shared: it is only serialized)."""
        self.fallback_used = 0
        """How many results point at `fallback`."""
        self.props: dict[tuple[Decision, str], dict[str, str]] = {}
        self.fingerprints: set[str] = set()
        """gate's fingerprints given so far in this run: no two results share one."""

    def _fingerprints(self, rule_id: str, f: Finding) -> dict[str, str]:
        found = gate_fingerprints(rule_id, f, self.subject_key)
        n = 0
        while found["primaryLocationLineHash"] in self.fingerprints:
            n += 1
            found = gate_fingerprints(rule_id, f, self.subject_key, n)
        self.fingerprints.add(found["primaryLocationLineHash"])
        return found

    def _where(self, path: str | None, f: Finding) -> list[dict[str, Any]]:
        if path:
            return [physical_location(path, f)]
        self.fallback_used += 1
        return self.fallback

    def __call__(self, d: DecidedFinding, index: int) -> dict[str, Any]:
        if not self.code:
            return self.gate(d, index)
        f = d.finding
        loc = f.location
        path = loc.path if loc is not None else None
        res: dict[str, Any] = {"ruleId": sanitize.text(f.id), "ruleIndex": index}
        if f.status and f.status != "fail":
            res["kind"] = f.status
            res["level"] = "none"
        else:
            res["level"] = result_level(d)
        res["message"] = {"text": code_message(d)}
        res["locations"] = self._where(path, f)
        text = sanitize.text
        fingerprints = {text(k): text(v) for k, v in loc.fingerprints.items()} if loc else {}
        if not path:  # gate's stand-in location: gate's own fingerprints
            fingerprints.update(self._fingerprints(f.id, f))
        if fingerprints:
            res["partialFingerprints"] = fingerprints
        if d.decision is Decision.EXCEPTED:
            res["suppressions"] = suppressions(d)
        res["properties"] = self._props(d)
        return res

    def _props(self, d: DecidedFinding) -> dict[str, str]:
        key = (d.decision, d.rule)
        props = self.props.get(key)
        if props is None:
            props = self.props[key] = {"gate/decision": str(d.decision), "gate/rule": d.rule}
        return props

    def gate(self, d: DecidedFinding, index: int) -> dict[str, Any]:
        """A result of gate's own runs (the hot path: tens of thousands per image)."""
        f = d.finding
        loc = f.location
        path = loc.path if loc is not None else None
        if path and (self.has_image or path.startswith("/")):
            path = None  # a path inside an image, or outside the repository
        raw = _head(f)
        head = sanitize.text(raw)  # the same object when there is nothing to escape
        message = f"{head} {_DECISION_PREFIX[d.decision]}{_reason_text(d.reason)}.{self.image_tail}"
        res: dict[str, Any] = {
            "ruleId": f.id if head is raw else sanitize.text(f.id),
            "ruleIndex": index,
            "level": result_level(d),
            "message": {"text": message},
            "locations": self._where(path, f),
            "partialFingerprints": self._fingerprints(f.id, f),
        }
        if d.decision is Decision.EXCEPTED:
            res["suppressions"] = suppressions(d)
        res["properties"] = self._props(d)
        return res
