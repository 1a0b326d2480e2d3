"""`--cyclonedx PATH`: the verdict as a CycloneDX 1.6 JSON document, written with the
CycloneDX project's own library (imported only here).

- `metadata.component`: the image (`pkg:oci/…@sha256:…`) when the verdict has a digest;
- `components`: every package a vulnerability finding names, by purl (its bom-ref);
- `vulnerabilities`: one per finding and package, with the severity as a rating (and the
  CVSS score and vector the scanner gave), the scanner(s) that saw it as the source and
  references, and an `analysis` recording gate's decision:
  - excepted by a VEX `not_affected` → `not_affected` with the justification mapped to
    CycloneDX's; by a VEX `fixed` → `resolved`;
  - excepted by a policy or ignore-file exception (an accepted risk, not a proof) →
    `exploitable` with response `will_not_fix`, the detail naming the exception, its reason,
    owner and expiry;
  - a scanner's own not-affected status → `not_affected`;
  - any other decision → `in_triage` (gate judged the policy, not exploitability), the
    detail giving the decision, rule and reason, and response `update` when a fix exists.
  gate's decision and rule are also properties (`gate:decision`, `gate:rule`).
Strings are verbatim: this is data for tools, not a display.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from gate.models import DecidedFinding, Decision, FindingKind, FixState, Verdict
from gate.report.openvex import image_purl, package_purl

if TYPE_CHECKING:
    from cyclonedx.model.vulnerability import VulnerabilityAnalysis

# OpenVEX justification → CycloneDX justification
_JUSTIFICATION = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "protected_by_mitigating_control",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
_CDX_JUSTIFICATIONS = frozenset(
    {
        "code_not_present",
        "code_not_reachable",
        "requires_configuration",
        "requires_dependency",
        "requires_environment",
        "protected_by_compiler",
        "protected_at_runtime",
        "protected_at_perimeter",
        "protected_by_mitigating_control",
    }
)


def _analysis(d: DecidedFinding, by_label: dict[str, Any]) -> VulnerabilityAnalysis:
    from cyclonedx.model.impact_analysis import (
        ImpactAnalysisJustification,
        ImpactAnalysisResponse,
        ImpactAnalysisState,
    )
    from cyclonedx.model.vulnerability import VulnerabilityAnalysis

    use = by_label.get(d.rule)
    # the exception's source decides (a structured field), never the text of a reason
    status = use.vex_status if use is not None else None
    fixable = d.finding.fix_state is FixState.FIXABLE
    if d.decision is Decision.EXCEPTED and status == "fixed":
        return VulnerabilityAnalysis(state=ImpactAnalysisState.RESOLVED, detail=d.reason)
    if d.decision is Decision.EXCEPTED and use is not None and status == "not_affected":
        word = use.vex_justification or ""
        mapped = _JUSTIFICATION.get(word, word if word in _CDX_JUSTIFICATIONS else None)
        return VulnerabilityAnalysis(
            state=ImpactAnalysisState.NOT_AFFECTED,
            justification=ImpactAnalysisJustification(mapped) if mapped else None,
            detail=d.reason,
        )
    if d.decision is Decision.EXCEPTED:
        detail = d.reason
        if use is not None:
            owner = f", owner {use.owner}" if use.owner else ""
            detail = (
                f"accepted risk: exception {use.label} until {use.expires}{owner}: {use.reason}"
            )
        return VulnerabilityAnalysis(
            state=ImpactAnalysisState.EXPLOITABLE,
            responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
            detail=detail,
        )
    if d.finding.not_affected:
        return VulnerabilityAnalysis(state=ImpactAnalysisState.NOT_AFFECTED, detail=d.reason)
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.IN_TRIAGE,
        responses=[ImpactAnalysisResponse.UPDATE] if fixable else [],
        detail=f"gate: {d.decision.value} by {d.rule}: {d.reason}",
    )


def render_cyclonedx(verdict: Verdict) -> str:
    """The CycloneDX 1.6 JSON text."""
    from cyclonedx.model import Property, XsUri
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.timestamp = verdict.evaluated_at
    image = image_purl(verdict)
    if image is not None and verdict.subject is not None:
        bom.metadata.component = Component(
            type=ComponentType.CONTAINER,
            name=verdict.subject.name or "image",
            version=verdict.subject.digest,
            purl=PackageURL.from_string(image),
            bom_ref=image,
        )
    by_label = {u.label: u for u in verdict.exceptions.used}
    components: dict[str, Component] = {}
    refs: set[str] = set()
    for d in verdict.findings:
        f = d.finding
        if f.kind is not FindingKind.VULNERABILITY:
            continue
        purl = package_purl(d)
        pkg = f.package
        if purl is None or pkg is None:
            continue
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            continue  # a scanner's malformed purl: the vulnerability still goes in, unlinked
        if purl not in components:
            components[purl] = Component(
                type=ComponentType.LIBRARY,
                name=pkg.name,
                version=pkg.version,
                purl=parsed,
                bom_ref=purl,
            )
            bom.components.add(components[purl])
        sources = [s.tool or s.kind.value for s in f.sources] or ["gate"]
        source = VulnerabilitySource(
            name=sources[0], url=XsUri(f.url) if f.url and _uri_ok(f.url) else None
        )
        graded_by = f.details.get("severity_source")  # Trivy: the vendor whose grade it is
        rating_source = (
            VulnerabilitySource(name=graded_by) if isinstance(graded_by, str) else source
        )
        rating = VulnerabilityRating(
            source=rating_source, severity=VulnerabilitySeverity(f.severity.value.lower())
        )
        ratings = [rating]
        score, vector = f.details.get("cvss_score"), f.details.get("cvss_vector")
        if score is not None:
            try:
                value = Decimal(str(score))
            except InvalidOperation:
                value = None
            if value is not None:
                method = VulnerabilityScoreSource.get_from_vector(vector) if vector else None
                ratings.append(
                    VulnerabilityRating(
                        source=rating_source,
                        score=value,
                        severity=VulnerabilitySeverity(f.severity.value.lower()),
                        method=method,
                        vector=vector if method is not None else None,
                    )
                )
        ref = f"{f.id}@{purl}"
        n = 2
        while ref in refs:  # the same id and purl twice (two paths): each keeps its own entry
            ref, n = f"{f.id}@{purl}#{n}", n + 1
        refs.add(ref)
        bom.vulnerabilities.add(
            Vulnerability(
                bom_ref=ref,
                id=f.id,
                source=source,
                references=[
                    VulnerabilityReference(id=a, source=VulnerabilitySource(name=sources[0]))
                    for a in f.aliases
                ],
                ratings=ratings,
                description=f.title,
                analysis=_analysis(d, by_label),
                affects=[BomTarget(ref=purl)],
                properties=[
                    Property(name="gate:decision", value=d.decision.value),
                    Property(name="gate:rule", value=d.rule),
                    *(Property(name="gate:source", value=s) for s in sources[1:]),
                ],
            )
        )
    if bom.metadata.component is not None:
        # the image holds every package: the root's dependencies complete the graph
        bom.register_dependency(bom.metadata.component, components.values())
    return JsonV1Dot6(bom).output_as_string(indent=2)


def _uri_ok(url: str) -> bool:
    from gate.common.sanitize import safe_url

    return safe_url(url) is not None
