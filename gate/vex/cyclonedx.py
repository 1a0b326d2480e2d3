"""CycloneDX VEX (`vulnerabilities[].analysis`, `affects[].ref`) into `VexStatement`s.

States map onto OpenVEX's: `not_affected` and `false_positive` → not_affected, `resolved`
and `resolved_with_pedigree` → fixed, `exploitable` → affected, `in_triage` →
under_investigation. A vulnerability without `analysis` says nothing and is skipped.
`affects[].ref` is a bom-ref of this document's components (their purl is used), a BOM-Link
`urn:cdx:<serial>/<version>#<bom-ref>` (the fragment), or a purl itself."""

from __future__ import annotations

from typing import Any

from gate.common import json_fields as f
from gate.errors import InputError
from gate.vex.model import Product, VexStatement, VexStatus

_STATES = {
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}


def _components(data: dict[str, Any], path: str, prefix: str) -> dict[str, str]:
    """bom-ref → purl, for every component (nested too) and the metadata component."""
    refs: dict[str, str] = {}

    def walk(items: list[Any], at: str) -> None:
        for i, c in enumerate(items):
            c = f.obj(c, path, f"{at}[{i}]")
            ref = f.string(c.get("bom-ref"), path, f"{at}[{i}].bom-ref")
            purl = f.string(c.get("purl"), path, f"{at}[{i}].purl")
            if ref and purl:
                refs[ref] = purl
            walk(
                f.array(c.get("components"), path, f"{at}[{i}].components"), f"{at}[{i}].components"
            )

    walk(f.array(data.get("components"), path, f"{prefix}components"), f"{prefix}components")
    meta = data.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        walk([meta["component"]], f"{prefix}metadata.component")
    return refs


def _resolve(ref: str, refs: dict[str, str]) -> str:
    if ref in refs:
        return refs[ref]
    if ref.startswith("urn:cdx:") and "#" in ref:
        fragment = ref.split("#", 1)[1]
        return refs.get(fragment, fragment)
    return ref


def _versions(product: str, versions: Any, excepting: bool, path: str, at: str) -> list[Product]:
    """`affects[].versions` narrows a product to versions: an excepting analysis applies to
    each exact version marked `unaffected`, never to one marked `affected`. A `range` gate
    does not evaluate: it becomes a product that matches nothing (with a warning), so the
    statement never excepts more than it says."""
    items = f.array(versions, path, f"{at}.versions")
    if not items:
        return [Product(product)]
    from packageurl import PackageURL

    try:
        purl = PackageURL.from_string(product)
    except ValueError:
        return [Product(product)]  # not a purl: it matches nothing anyway
    out = []
    for k, raw in enumerate(items):
        where = f"{at}.versions[{k}]"
        v = f.obj(raw, path, where)
        status = f.string(v.get("status"), path, f"{where}.status") or "affected"
        if excepting and status != "unaffected":
            continue
        exact = f.string(v.get("version"), path, f"{where}.version")
        if exact is None:
            span = f.string(v.get("range"), path, f"{where}.range")
            out.append(Product(f"version range {span} of {product}"))
            continue
        out.append(Product(str(purl._replace(version=exact))))
    return out


def parse_cyclonedx(data: dict[str, Any], path: str, prefix: str = "") -> tuple[VexStatement, ...]:
    refs = _components(data, path, prefix)
    vulns = f.array(data.get("vulnerabilities"), path, f"{prefix}vulnerabilities", required=True)
    if not vulns:
        raise InputError(
            path, "has no vulnerabilities: not a VEX document", f"{prefix}vulnerabilities"
        )
    out = []
    for i, raw in enumerate(vulns):
        at = f"{prefix}vulnerabilities[{i}]"
        v = f.obj(raw, path, at)
        vid = f.string(v.get("id"), path, f"{at}.id", required=True)
        assert vid is not None
        if v.get("analysis") is None:
            continue
        a = f.obj(v.get("analysis"), path, f"{at}.analysis")
        state = f.string(a.get("state"), path, f"{at}.analysis.state", required=True)
        if state not in _STATES:
            raise InputError(
                path,
                f"unknown analysis state {state!r} ({', '.join(_STATES)})",
                f"{at}.analysis.state",
            )
        aliases = []
        for j, r in enumerate(f.array(v.get("references"), path, f"{at}.references")):
            alias = f.string(
                f.obj(r, path, f"{at}.references[{j}]").get("id"), path, f"{at}.references[{j}].id"
            )
            if alias:
                aliases.append(alias)
        products = []
        for j, target in enumerate(f.array(v.get("affects"), path, f"{at}.affects")):
            where = f"{at}.affects[{j}]"
            ref = f.string(
                f.obj(target, path, where).get("ref"), path, f"{where}.ref", required=True
            )
            assert ref is not None
            products += _versions(
                _resolve(ref, refs), target.get("versions"), _STATES[state].excepts, path, where
            )
        justification = f.string(a.get("justification"), path, f"{at}.analysis.justification")
        if state == "false_positive" and justification is None:
            justification = "false_positive"
        out.append(
            VexStatement(
                document=path,
                pointer=at,
                vulnerability=vid,
                aliases=tuple(aliases),
                products=tuple(products),
                status=_STATES[state],
                justification=justification,
                impact=f.string(a.get("detail"), path, f"{at}.analysis.detail"),
                response=f.strings(a.get("response"), path, f"{at}.analysis.response"),
                timestamp=f.timestamp(a.get("lastUpdated"), path, f"{at}.analysis.lastUpdated"),
            )
        )
    return tuple(out)
