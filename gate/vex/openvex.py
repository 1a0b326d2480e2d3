"""OpenVEX v0.0.1 (string vulnerability and products) and v0.2.0 (objects), and the
pre-OpenVEX `vex_attestation` YAML, into `VexStatement`s."""

from __future__ import annotations

from typing import Any

from gate.common import json_fields as f
from gate.errors import InputError
from gate.vex.model import Product, VexStatement, VexStatus


def _vulnerability(value: Any, path: str, at: str) -> tuple[str, tuple[str, ...]]:
    if isinstance(value, str):  # v0.0.1
        name = f.string(value, path, at, required=True)
        assert name is not None
        return name, ()
    v = f.obj(value, path, at)
    name = f.string(v.get("name"), path, f"{at}.name") or f.string(v.get("@id"), path, f"{at}.@id")
    if not name:
        raise InputError(path, "the vulnerability has neither `name` nor `@id`", at)
    return name, f.strings(v.get("aliases"), path, f"{at}.aliases")


def _component(value: Any, path: str, at: str) -> str:
    if isinstance(value, str):  # v0.0.1
        s = f.string(value, path, at, required=True)
        assert s is not None
        return s
    c = f.obj(value, path, at)
    ident = f.string(c.get("@id"), path, f"{at}.@id")
    ids = c.get("identifiers")
    purl = f.string(f.obj(ids, path, f"{at}.identifiers").get("purl"), path, at) if ids else None
    found = purl or ident
    if not found:
        raise InputError(path, "a product has neither `@id` nor `identifiers.purl`", at)
    return found


def _products(s: dict[str, Any], path: str, at: str) -> tuple[Product, ...]:
    out = []
    for i, p in enumerate(f.array(s.get("products"), path, f"{at}.products")):
        where = f"{at}.products[{i}]"
        subs: tuple[str, ...] = ()
        if isinstance(p, dict):
            items = f.array(p.get("subcomponents"), path, f"{where}.subcomponents")
            subs = tuple(
                _component(c, path, f"{where}.subcomponents[{j}]") for j, c in enumerate(items)
            )
        out.append(Product(_component(p, path, where), subs))
    # v0.0.1 and the attestation format also allow subcomponents beside the products
    loose = f.array(s.get("subcomponents"), path, f"{at}.subcomponents")
    if loose:
        subs = tuple(_component(c, path, f"{at}.subcomponents[{j}]") for j, c in enumerate(loose))
        out = [Product(p.id, p.subcomponents + subs) for p in out] or [Product("", subs)]
    return tuple(out)


def parse_openvex(data: dict[str, Any], path: str, prefix: str = "") -> tuple[VexStatement, ...]:
    author = f.string(data.get("author"), path, f"{prefix}author")
    when = f.timestamp(data.get("timestamp"), path, f"{prefix}timestamp")
    statements = f.array(data.get("statements"), path, f"{prefix}statements", required=True)
    if not statements:
        raise InputError(path, "has no statements", f"{prefix}statements")
    out = []
    for i, raw in enumerate(statements):
        at = f"{prefix}statements[{i}]"
        s = f.obj(raw, path, at)
        name, aliases = _vulnerability(s.get("vulnerability"), path, f"{at}.vulnerability")
        status_text = f.string(s.get("status"), path, f"{at}.status", required=True) or ""
        try:
            status = VexStatus(status_text)
        except ValueError:
            raise InputError(
                path,
                f"unknown status {status_text!r} (not_affected, affected, fixed, "
                "under_investigation)",
                f"{at}.status",
            ) from None
        justification = f.string(s.get("justification"), path, f"{at}.justification")
        impact = f.string(s.get("impact_statement"), path, f"{at}.impact_statement")
        out.append(
            VexStatement(
                document=path,
                pointer=at,
                vulnerability=name,
                aliases=aliases,
                products=_products(s, path, at),
                status=status,
                justification=justification,
                impact=impact,
                action=f.string(s.get("action_statement"), path, f"{at}.action_statement"),
                author=author,
                timestamp=f.timestamp(s.get("timestamp"), path, f"{at}.timestamp") or when,
            )
        )
    return tuple(out)
