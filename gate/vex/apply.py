"""VEX statements → exceptions for the ledger.

- A `not_affected` statement must carry a justification or an impact statement (OpenVEX
  requires one); without either it is an `InputError`, never a silent exception.
- For each vulnerability and product the latest statement wins (the statement's
  timestamp, else its document's; equal times: the later in the file), so an `affected`
  statement followed by a `not_affected` one excepts, and the reverse does not. A later
  `affected` or `under_investigation` statement overrides an exception whenever the two
  could name the same package: the vulnerability by id or alias, the package as a parsed
  purl (one without a version covers every version; a whole image covers its packages,
  when it is strictly newer: at the same time, "the image is affected" and "this package of
  it is not" agree).
- Only `not_affected` and `fixed` become exceptions; `affected` and `under_investigation`
  leave the finding to the policy.
- Products: an image (`pkg:oci/…@sha256:…`) applies only when its digest is the judged
  image's, to its `subcomponents` or, with none, to every package of the image; a package
  purl (with or without version and qualifiers) scopes to that package, or to its
  `subcomponents` when it lists some. A product gate cannot match (a CycloneDX bom-ref, a
  CSAF product id without purl, an image with another digest, `pkg:oci` or `pkg:docker`)
  matches nothing, its subcomponents included, with a warning.
- An exception from VEX excepts vulnerabilities only.
- An exception from VEX has no expiry (VEX states a fact, not an accepted risk): it shows as
  `9999-12-31` in the verdict, and `exception_rules` (`max_days`, `require_owner`) do not
  apply to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from gate.errors import InputError
from gate.policy.load import format_validation_error
from gate.policy.model import PolicyException
from gate.vex.model import Product, VexDocument, VexStatement

NO_EXPIRY = dt.date(9999, 12, 31)
_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class VexExceptions:
    exceptions: list[PolicyException]
    labels: list[str]
    """Where each exception's statement is: `FILE: statements[3]`."""
    counts: list[int]
    """How many exceptions each document gave, in order."""
    warnings: list[str]


_IMAGE_TYPES = frozenset({"oci", "docker"})


@dataclass(frozen=True)
class _Pkg:
    """A purl compared as gate compares packages: type, namespace and name normalised."""

    type: str
    namespace: str | None
    name: str
    version: str | None


def _purl(text: str) -> _Pkg | None:
    """The parsed purl, or None when it is not one."""
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    name = p.name.lower()
    if p.type == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    return _Pkg(p.type.lower(), (p.namespace or "").lower() or None, name, p.version)


def _reason(s: VexStatement) -> str:
    why = ", ".join(x for x in (s.justification, s.impact) if x)
    if s.status.value == "fixed":
        why = why or s.action or "the product is fixed"
    return f"VEX {s.status.value}: {why}"


def _scopes(
    s: VexStatement, product: Product, digests: set[str], warn: list[str] | None = None
) -> list[str | None] | None:
    """The purl scopes (None: every package) a product gives, or None if it matches nothing.

    Only an image named by a judged digest, or a package purl, names something in the judged
    image: any other product (another image, a CSAF product id, a bom-ref) matches nothing,
    its subcomponents included (they are packages of that other product)."""
    notes: list[str] = [] if warn is None else warn
    parsed = _purl(product.id) if product.id else None
    if parsed is None:
        notes.append(
            f"{s.label}: product {product.id!r} is not a package URL or an image digest; "
            "it matches nothing" + (", its subcomponents included" if product.subcomponents else "")
        )
        return None
    image = parsed.type in _IMAGE_TYPES
    if image:
        digest = parsed.version
        if not digest or not digest.startswith("sha256:"):
            notes.append(
                f"{s.label}: image {product.id} names no sha256 digest; it matches nothing"
            )
            return None
        if digest not in digests:
            notes.append(
                f"{s.label}: about image {digest}, not the image judged; it matches nothing"
            )
            return None
    if not product.subcomponents:
        return [None] if image else [product.id]
    scopes: list[str | None] = []
    for sub in product.subcomponents:
        if _purl(sub) is None:
            notes.append(
                f"{s.label}: subcomponent {sub!r} is not a package URL; it matches nothing"
            )
        else:
            scopes.append(sub)
    return scopes or None


def _overlap(a: str | None, b: str | None) -> bool:
    """Whether two scopes (None: the whole image) can name the same package."""
    if a is None or b is None:
        return True
    pa, pb = _purl(a), _purl(b)
    if pa is None or pb is None:
        return False
    if (pa.type, pa.namespace, pa.name) != (pb.type, pb.namespace, pb.name):
        return False
    return pa.version is None or pb.version is None or pa.version == pb.version


def _ids(s: VexStatement) -> set[str]:
    return {s.vulnerability.upper(), *(a.upper() for a in s.aliases)}


_Order = tuple[dt.datetime, int, int]


def _contradicted(
    docs: Sequence[VexDocument], digests: set[str]
) -> list[tuple[_Order, set[str], str | None, str]]:
    """Every scope an `affected` or `under_investigation` statement gives: its order,
    vulnerability ids, scope and label. A later one overrides an excepting statement about
    an overlapping scope, however either spells the package or the vulnerability."""
    out: list[tuple[_Order, set[str], str | None, str]] = []
    for d, doc in enumerate(docs):
        for i, s in enumerate(doc.statements):
            if s.status.excepts:
                continue
            order, ids = (s.timestamp or _EPOCH, d, i), _ids(s)
            for product in s.products:
                out.extend(
                    (order, ids, scope, s.label) for scope in _scopes(s, product, digests) or ()
                )
    return out


def _latest(docs: Sequence[VexDocument]) -> set[tuple[int, int, str, str]]:
    """(document, statement, product, subcomponent) keys that are the latest word on their
    vulnerability and product."""
    best: dict[tuple[str, str, str], tuple[_Order, tuple[int, int, str, str]]] = {}
    for d, doc in enumerate(docs):
        for i, s in enumerate(doc.statements):
            for p in s.products:
                for sub in p.subcomponents or ("",):
                    key = (s.vulnerability.upper(), p.id, sub)
                    order = (s.timestamp or _EPOCH, d, i)
                    if key not in best or best[key][0] <= order:
                        best[key] = (order, (d, i, p.id, sub))
    return {v[1] for v in best.values()}


def check_statement(s: VexStatement) -> None:
    """Refuse a statement gate must not apply (before any scan: it needs no digest)."""
    if s.status.value == "not_affected" and not (s.justification or s.impact):
        raise InputError(
            s.document,
            "a not_affected statement needs a justification or an impact statement",
            s.pointer,
        )
    if s.status.excepts and not s.products:
        raise InputError(
            s.document,
            f"a {s.status.value} statement names no product; gate will not apply it to "
            "every package",
            s.pointer,
        )


def vex_exceptions(docs: Sequence[VexDocument], digests: Iterable[str]) -> VexExceptions:
    """The exceptions the documents' `not_affected` and `fixed` statements make."""
    wanted = set(digests)
    latest = _latest(docs)
    against = _contradicted(docs, wanted)
    out = VexExceptions([], [], [], [])
    for d, doc in enumerate(docs):
        before = len(out.exceptions)
        for i, s in enumerate(doc.statements):
            check_statement(s)
            if not s.status.excepts:
                continue
            for k, product in enumerate(s.products):
                subs = product.subcomponents or ("",)
                if not any((d, i, product.id, sub) in latest for sub in subs):
                    out.warnings.append(f"{s.label}: a later statement overrides it")
                    continue
                scopes = _scopes(s, product, wanted, out.warnings)
                order = (s.timestamp or _EPOCH, d, i)
                ids = _ids(s)
                for scope in scopes or ():
                    later = next(
                        (
                            label
                            for when, other, theirs, label in against
                            if when > order
                            and ids & other
                            and _overlap(scope, theirs)
                            # at the same time, "the image is affected" and "this package
                            # of it is not" agree (CSAF's usual shape): the narrower wins
                            and (when[0] > order[0] or theirs is not None or scope is None)
                        ),
                        None,
                    )
                    if later is not None:
                        out.warnings.append(
                            f"{s.label}: the later statement {later} says the package may be "
                            "affected; it overrides it"
                        )
                        continue
                    fields: dict[str, object] = {
                        "id": s.vulnerability,
                        "aliases": list(s.aliases),
                        "reason": _reason(s),
                        "expires": NO_EXPIRY,
                    }
                    if scope is not None:
                        fields["package"] = scope
                    if s.author:
                        fields["owner"] = s.author
                    try:
                        made = PolicyException.made(
                            fields,
                            kinds=frozenset({"vulnerability"}),
                            vex=(s.status.value, s.justification, s.impact),
                        )
                    except ValidationError as err:
                        # `InputError` prints the text escaped, on one line
                        why = "; ".join(format_validation_error(err))
                        raise InputError(
                            s.document, f"not a valid exception: {why}", s.pointer
                        ) from err
                    out.exceptions.append(made)
                    where = f".products[{k}]" if len(s.products) > 1 else ""
                    out.labels.append(f"{s.label}{where}")
        out.counts.append(len(out.exceptions) - before)
    return out
