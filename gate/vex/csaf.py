"""CSAF 2.0 VEX (`product_status`) into `VexStatement`s.

Product ids resolve through the product tree to their `product_identification_helper.purl`;
a relationship (`X` installed on `Y`) resolves to product `Y` with subcomponent `X`.
`known_not_affected` takes its justification from the `flags` naming the product and its
impact statement from `threats` of category `impact`; `fixed` and `first_fixed` are fixed,
`known_affected`/`first_affected`/`last_affected` affected, `under_investigation` itself."""

from __future__ import annotations

from typing import Any

from gate.common import json_fields as f
from gate.errors import InputError
from gate.vex.model import Product, VexStatement, VexStatus

_STATUS = {
    "known_not_affected": VexStatus.NOT_AFFECTED,
    "fixed": VexStatus.FIXED,
    "first_fixed": VexStatus.FIXED,
    "known_affected": VexStatus.AFFECTED,
    "first_affected": VexStatus.AFFECTED,
    "last_affected": VexStatus.AFFECTED,
    "under_investigation": VexStatus.UNDER_INVESTIGATION,
}


def _tree(data: dict[str, Any], path: str, prefix: str) -> dict[str, Product]:
    tree = data.get("product_tree")
    if tree is None:
        return {}
    tree = f.obj(tree, path, f"{prefix}product_tree")
    found: dict[str, Product] = {}

    def product(p: Any, at: str) -> None:
        p = f.obj(p, path, at)
        pid = f.string(p.get("product_id"), path, f"{at}.product_id", required=True)
        assert pid is not None
        helper = p.get("product_identification_helper")
        purl = None
        if helper is not None:
            purl = f.string(
                f.obj(helper, path, f"{at}.product_identification_helper").get("purl"),
                path,
                f"{at}.product_identification_helper.purl",
            )
        found[pid] = Product(purl or pid)

    def branches(items: list[Any], at: str) -> None:
        for i, b in enumerate(items):
            b = f.obj(b, path, f"{at}[{i}]")
            if b.get("product") is not None:
                product(b["product"], f"{at}[{i}].product")
            branches(f.array(b.get("branches"), path, f"{at}[{i}].branches"), f"{at}[{i}].branches")

    base = f"{prefix}product_tree"
    branches(f.array(tree.get("branches"), path, f"{base}.branches"), f"{base}.branches")
    for i, p in enumerate(
        f.array(tree.get("full_product_names"), path, f"{base}.full_product_names")
    ):
        product(p, f"{base}.full_product_names[{i}]")
    for i, r in enumerate(f.array(tree.get("relationships"), path, f"{base}.relationships")):
        at = f"{base}.relationships[{i}]"
        r = f.obj(r, path, at)
        inner = f.string(r.get("product_reference"), path, f"{at}.product_reference", required=True)
        outer = f.string(
            r.get("relates_to_product_reference"),
            path,
            f"{at}.relates_to_product_reference",
            required=True,
        )
        full = f.obj(r.get("full_product_name"), path, f"{at}.full_product_name")
        pid = f.string(
            full.get("product_id"), path, f"{at}.full_product_name.product_id", required=True
        )
        assert inner and outer and pid
        sub = found.get(inner, Product(inner)).id
        found[pid] = Product(found.get(outer, Product(outer)).id, (sub,))
    return found


def _by_product(items: list[Any], key: str, path: str, at: str) -> dict[str, str]:
    """product id → the text of the flag (`label`) or threat (`details`) naming it."""
    out: dict[str, str] = {}
    for i, item in enumerate(items):
        item = f.obj(item, path, f"{at}[{i}]")
        if key == "details" and item.get("category") != "impact":
            continue
        text = f.string(item.get(key), path, f"{at}[{i}].{key}")
        ids = f.strings(item.get("product_ids"), path, f"{at}[{i}].product_ids")
        for pid in ids or ("*",):  # a threat without product_ids is about every product
            if text:
                out.setdefault(pid, text)
    return out


def parse_csaf(data: dict[str, Any], path: str, prefix: str = "") -> tuple[VexStatement, ...]:
    products = _tree(data, path, prefix)
    doc = f.obj(data.get("document"), path, f"{prefix}document")
    publisher = doc.get("publisher")
    author = (
        f.string(publisher.get("name"), path, f"{prefix}document.publisher.name")
        if isinstance(publisher, dict)
        else None
    )
    tracking = doc.get("tracking")
    when = (
        f.timestamp(
            tracking.get("current_release_date"),
            path,
            f"{prefix}document.tracking.current_release_date",
        )
        if isinstance(tracking, dict)
        else None
    )
    vulns = f.array(data.get("vulnerabilities"), path, f"{prefix}vulnerabilities", required=True)
    if not vulns:
        raise InputError(path, "has no vulnerabilities", f"{prefix}vulnerabilities")
    out = []
    for i, raw in enumerate(vulns):
        at = f"{prefix}vulnerabilities[{i}]"
        v = f.obj(raw, path, at)
        cve = f.string(v.get("cve"), path, f"{at}.cve")
        ids = [
            f.string(
                f.obj(x, path, f"{at}.ids[{j}]").get("text"),
                path,
                f"{at}.ids[{j}].text",
                required=True,
            )
            for j, x in enumerate(f.array(v.get("ids"), path, f"{at}.ids"))
        ]
        names = [n for n in (cve, *ids) if n]
        if not names:
            raise InputError(path, "a vulnerability has neither `cve` nor `ids`", at)
        flags = _by_product(
            f.array(v.get("flags"), path, f"{at}.flags"), "label", path, f"{at}.flags"
        )
        threats = _by_product(
            f.array(v.get("threats"), path, f"{at}.threats"), "details", path, f"{at}.threats"
        )
        status = f.obj(v.get("product_status"), path, f"{at}.product_status")
        for key, pids in status.items():
            if key not in _STATUS:
                continue  # `recommended` names products, not a status
            where = f"{at}.product_status.{key}"
            for j, pid in enumerate(f.strings(pids, path, where)):
                out.append(
                    VexStatement(
                        document=path,
                        pointer=f"{where}[{j}]",
                        vulnerability=names[0],
                        aliases=tuple(names[1:]),
                        products=(products.get(pid, Product(pid)),),
                        status=_STATUS[key],
                        justification=flags.get(pid) or flags.get("*"),
                        impact=threats.get(pid) or threats.get("*"),
                        author=author,
                        timestamp=when,
                    )
                )
    return tuple(out)
