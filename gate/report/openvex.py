"""`--openvex PATH`: gate's excepted and not-affected vulnerability decisions as an OpenVEX
v0.2.0 document, so that `trivy image --vex` (or grype, or any VEX consumer) suppresses
exactly what gate excepted.

- One statement per excepted vulnerability finding, in the verdict's order. A finding a VEX
  document excepted keeps that document's status (`fixed` or `not_affected`) and
  justification; a policy or ignore-file exception is a risk decision, not a proof, so it is
  `not_affected` with an `impact_statement` that says so (exception, reason, owner, expiry)
  rather than one of OpenVEX's justifications.
- Product: the image by digest (`pkg:oci/<name>@sha256:…`) with the finding's package as the
  subcomponent; with no image digest (a docker-archive), the package itself.
- Secrets and misconfigurations have no place in VEX and are left out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gate import __version__
from gate.models import DecidedFinding, Decision, FindingKind, Verdict

CONTEXT = "https://openvex.dev/ns/v0.2.0"
_JUSTIFICATIONS = frozenset(
    {
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
    }
)


def package_purl(d: DecidedFinding) -> str | None:
    pkg = d.finding.package
    if pkg is None:
        return None
    if pkg.purl:
        return pkg.purl
    if not pkg.ecosystem:
        return None
    from packageurl import PackageURL

    namespace, _, name = (
        pkg.name.rpartition("/") if pkg.ecosystem in ("npm", "golang") else ("", "", pkg.name)
    )
    return str(
        PackageURL(type=pkg.ecosystem, namespace=namespace or None, name=name, version=pkg.version)
    )


def image_purl(verdict: Verdict) -> str | None:
    """`pkg:oci/<last path segment>@sha256:…` for the verdict's image, when it has a digest."""
    s = verdict.subject
    if s is None or not s.digest:
        return None
    from packageurl import PackageURL

    name = (s.name or "image").split("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        last = last.split(":")[0]
    return str(PackageURL(type="oci", name=last.lower() or "image", version=s.digest))


def _statement(
    d: DecidedFinding, image: str | None, by_label: dict[str, Any]
) -> dict[str, Any] | None:
    if d.decision is not Decision.EXCEPTED and not d.finding.not_affected:
        return None
    if d.finding.kind is not FindingKind.VULNERABILITY:
        return None
    purl = package_purl(d)
    if purl is None:
        return None
    product: dict[str, Any] = (
        {"@id": image, "subcomponents": [{"@id": purl}]} if image else {"@id": purl}
    )
    vuln: dict[str, Any] = {"name": d.finding.id}
    if d.finding.aliases:
        vuln["aliases"] = list(d.finding.aliases)
    out: dict[str, Any] = {"vulnerability": vuln, "products": [product]}
    use = by_label.get(d.rule)
    # the exception's source decides (a structured field), never the text of a reason
    status = use.vex_status if use is not None else None
    if status == "fixed":
        out["status"] = "fixed"
        return out
    out["status"] = "not_affected"
    if use is not None and status == "not_affected":
        if use.vex_justification in _JUSTIFICATIONS:
            out["justification"] = use.vex_justification
            if use.vex_impact:
                out["impact_statement"] = use.vex_impact
            return out
        if use.vex_impact:
            out["impact_statement"] = use.vex_impact
            return out
    if use is not None:
        owner = f", owner {use.owner}" if use.owner else ""
        out["impact_statement"] = (
            f"gate exception {use.label} until {use.expires}{owner}: {use.reason}"
        )
    else:
        out["impact_statement"] = f"gate: {d.reason}"
    return out


def render_openvex(verdict: Verdict) -> bytes:
    """The OpenVEX document, as UTF-8 JSON (strings verbatim: it is data, not a display)."""
    image = image_purl(verdict)
    by_label = {u.label: u for u in verdict.exceptions.used}
    statements = [s for d in verdict.findings if (s := _statement(d, image, by_label)) is not None]
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "author": f"gate {__version__}",
        "timestamp": verdict.evaluated_at.isoformat(),
        "version": 1,
        "tooling": f"gate {__version__}",
        "statements": statements,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    doc = {"@id": f"https://openvex.dev/docs/public/vex-{digest}", **body}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
