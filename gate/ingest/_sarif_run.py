"""Inside one SARIF run: finding a result's rule, and turning its location into a path.

Private to `gate.ingest.sarif`.
"""

from __future__ import annotations

import re

from gate.ingest import _sarif_raw as sr
from gate.models import Location

_DRIVE = re.compile(r"^/[A-Za-z]:/")


def clean_path(uri: str, working_dir: str | None) -> str:
    """A SARIF URI → a path: `file://` stripped, percent-decoded, relative to the working dir."""
    from urllib.parse import unquote, urlsplit

    text = uri.strip().replace("\\", "/")
    if text.lower().startswith("file:"):
        path = unquote(urlsplit(text).path)
        if path.startswith("/"):
            path = "/" + path.lstrip("/")
        if _DRIVE.match(path):
            path = path[1:]
    elif "://" in text:
        return text
    else:
        path = unquote(text)
    while path.startswith("./"):
        path = path[2:]
    if working_dir and path.startswith(working_dir.rstrip("/") + "/"):
        path = path[len(working_dir.rstrip("/")) + 1 :]
    return path


def _base_prefix(
    base: str | None, bases: dict[str, sr.ArtifactLocation], seen: frozenset[str] = frozenset()
) -> str:
    """The relative prefix a `uriBaseId` stands for; absolute bases resolve to the repo root."""
    if not base or base in seen or base not in bases:
        return ""
    loc = bases[base]
    parent = _base_prefix(loc.uriBaseId, bases, seen | {base})
    uri = (loc.uri or "").strip().replace("\\", "/")
    if not uri or uri.startswith("/") or ":" in uri.split("/")[0]:
        return "" if uri else parent
    return parent + (uri if uri.endswith("/") else uri + "/")


class RunContext:
    """Rule lookup and path resolution for one run."""

    def __init__(self, run: sr.Run) -> None:
        self.run = run
        self.components = [run.tool.driver, *(run.tool.extensions or [])]
        self.by_id: dict[str, sr.Rule] = {}
        for comp in self.components:
            for rule in comp.rules or []:
                if rule.id:
                    self.by_id.setdefault(rule.id, rule)
        self.bases = run.originalUriBaseIds or {}
        wd = None
        for inv in run.invocations or []:
            if inv.workingDirectory and inv.workingDirectory.uri:
                wd = clean_path(inv.workingDirectory.uri, None)
                break
        self.working_dir = wd

    def _indexed(self, comp: sr.ComponentRef | None, index: int) -> sr.Rule | None:
        component = self.components[0]
        if comp is not None and comp.index is not None:
            if not 0 <= comp.index < len(self.components) - 1:
                return None
            component = self.components[comp.index + 1]
        elif comp is not None and comp.name:
            named = [c for c in self.components if c.name == comp.name]
            component = named[0] if named else component
        rules = component.rules or []
        return rules[index] if 0 <= index < len(rules) else None

    def rule_for(self, res: sr.Result) -> tuple[str | None, sr.Rule | None]:
        ref = res.rule
        comp = ref.toolComponent if ref else None
        rule: sr.Rule | None = None
        if ref is not None and ref.index is not None:
            rule = self._indexed(comp, ref.index)
        if rule is None and res.ruleIndex is not None:
            rule = self._indexed(comp, res.ruleIndex)
        rule_id = res.ruleId or (ref.id if ref else None) or (rule.id if rule else None)
        if rule_id and (rule is None or (rule.id and rule.id != rule_id)):
            rule = self.by_id.get(rule_id, rule)
        if rule is None and rule_id and "/" in rule_id:
            # a hierarchical id (SARIF §3.27.5): `CA1704/namespace` is a child of `CA1704`
            parent = rule_id
            while rule is None and "/" in parent:
                parent = parent.rsplit("/", 1)[0]
                rule = self.by_id.get(parent)
        return rule_id, rule

    def rule_from_message(self, text: str) -> str | None:
        """Gitleaks 7 writes no ruleId; its message starts with the rule id."""
        hits = [rid for rid in self.by_id if text.startswith(rid)]
        return max(hits, key=len) if hits else None

    def location(self, res: sr.Result) -> Location | None:
        fingerprints = {
            str(k): str(v)
            for fp in (res.partialFingerprints, res.fingerprints)
            for k, v in (fp or {}).items()
            if v is not None
        }
        for loc in res.locations or []:
            phys = loc.physicalLocation
            if phys is None or phys.artifactLocation is None:
                continue
            art = phys.artifactLocation
            uri, base = art.uri, art.uriBaseId
            arts = self.run.artifacts or []
            if uri is None and art.index is not None and 0 <= art.index < len(arts):
                target = arts[art.index].location
                uri, base = (target.uri, target.uriBaseId) if target else (None, None)
            if uri is None:
                continue
            path = clean_path(uri, self.working_dir)
            if "://" not in path and not path.startswith("/"):
                path = _base_prefix(base, self.bases) + path
            r = phys.region
            return Location(
                path=path,
                start_line=r.startLine if r else None,
                end_line=r.endLine if r else None,
                start_column=r.startColumn if r else None,
                end_column=r.endColumn if r else None,
                fingerprints=fingerprints,
            )
        return Location(fingerprints=fingerprints) if fingerprints else None
