"""Say what a JSON document looks like, so a report passed under the wrong flag gets a
helpful error ("this is a SARIF file; pass it with --sarif") instead of zero findings."""

from __future__ import annotations

from typing import Any

from gate.models import InputKind

_FLAGS = {
    InputKind.TRIVY: "--trivy",
    InputKind.NPM_AUDIT: "--npm-audit",
    InputKind.PIP_AUDIT: "--pip-audit",
    InputKind.SARIF: "--sarif",
    InputKind.BRANCH_PROTECTION: "--branch-protection",
}


def _first(data: list[Any]) -> dict[str, Any]:
    return data[0] if data and isinstance(data[0], dict) else {}


def sniff(data: Any) -> tuple[InputKind | None, str]:
    """(the input kind it looks like, a short description) of decoded JSON."""
    if isinstance(data, list):
        first = _first(data)
        if "Target" in first:
            return InputKind.TRIVY, "a legacy Trivy JSON report (top-level array)"
        if "name" in first and ("vulns" in first or "skip_reason" in first):
            return InputKind.PIP_AUDIT, "a pip-audit JSON report (legacy top-level array)"
        if not data:
            return None, "an empty JSON array"
        return None, "a JSON array of unknown items"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__}, not an object"
    if "runs" in data and ("$schema" in data or "version" in data):
        return InputKind.SARIF, "a SARIF file"
    if "ClusterName" in data:
        return None, "a trivy k8s cluster report"
    if "SchemaVersion" in data or "ArtifactName" in data or "Results" in data:
        return InputKind.TRIVY, "a Trivy JSON report"
    if "auditReportVersion" in data or ("advisories" in data and "actions" in data):
        return InputKind.NPM_AUDIT, "an npm audit report"
    if isinstance(data.get("error"), dict) and "code" in data["error"]:
        return InputKind.NPM_AUDIT, "an npm error body (npm audit failed and wrote no report)"
    if isinstance(data.get("dependencies"), list):
        return InputKind.PIP_AUDIT, "a pip-audit JSON report"
    if data.get("bomFormat") == "CycloneDX":
        return None, "a CycloneDX document"
    if "spdxVersion" in data:
        return None, "an SPDX document"
    if "required_status_checks" in data or "enforce_admins" in data:
        return InputKind.BRANCH_PROTECTION, "a GitHub branch protection response"
    keys = ", ".join(sorted(data)[:6]) or "no keys"
    return None, f"a JSON object with unknown keys ({keys})"


def wrong_kind(data: Any, expected: InputKind) -> str | None:
    """The error message when `data` is not of the `expected` kind, else None."""
    kind, what = sniff(data)
    if kind is expected:
        return None
    if what == "a trivy k8s cluster report":
        return "a trivy k8s cluster report is not supported; scan each image"
    name = {
        InputKind.TRIVY: "a Trivy JSON report",
        InputKind.NPM_AUDIT: "an npm audit report",
        InputKind.PIP_AUDIT: "a pip-audit report",
    }.get(expected, expected.value)
    hint = f"; pass it with {_FLAGS[kind]}" if kind is not None else ""
    return f"this is {what}, not {name}{hint}"
