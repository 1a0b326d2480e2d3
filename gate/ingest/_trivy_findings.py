"""Trivy's results → gate's findings: the per-finding half of `gate.ingest.trivy`.

`Builder.result` turns one raw result (`gate.ingest._trivy_raw.Result`) into findings:
vulnerabilities (fix state, severity, aliases, CVSS), secrets (never their matched text),
failed misconfigurations, and `ExperimentalModifiedFindings`; license results are only
counted. It shares repeated packages, locations and strings, and builds the models without
validating them again (`gate._fastmodel`), which keeps 50,000 findings small and fast.
The decisions behind the mapping are listed in `gate.ingest.trivy`.

Length (over ~400 lines): one idea, Trivy's result classes (vulnerabilities, secrets,
misconfigurations, licenses) made into findings on the hot path of a 100 MB report;
splitting it per class would spread one builder table over four files.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import msgspec

from gate._fastmodel import maker
from gate.errors import InputError
from gate.facts import SuppressedFacts
from gate.ingest._trivy_raw import (
    Cvss,
    Misconfiguration,
    ModifiedFinding,
    Result,
    Secret,
    Vulnerability,
)
from gate.models import (
    Finding,
    FindingKind,
    FixState,
    InputKind,
    Location,
    Package,
    Severity,
    SourceRef,
    Suppression,
)

_STATUS_FIX = {
    "affected": FixState.NO_FIX,
    "will_not_fix": FixState.WONT_FIX,
    "fix_deferred": FixState.FIX_DEFERRED,
    "end_of_life": FixState.END_OF_LIFE,
    "fixed": FixState.FIXABLE,
}
# Enum member access is a descriptor call in Python 3.11: hoist the hot ones.
_SEVERITY = {s.value: s for s in Severity}
_SEV_UNKNOWN = Severity.UNKNOWN
_FIXABLE, _NO_FIX, _UNKNOWN_FIX = FixState.FIXABLE, FixState.NO_FIX, FixState.UNKNOWN
_VULN, _TRIVY = FindingKind.VULNERABILITY, InputKind.TRIVY
_VENDOR_SEVERITY = (
    Severity.UNKNOWN,
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)
_ECOSYSTEMS = {
    "node-pkg": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "bun": "npm",
    "pip": "pypi",
    "python-pkg": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "gomod": "golang",
    "gobinary": "golang",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "rust-binary": "cargo",
    "composer-vendor": "composer",
    "bundler": "gem",
    "gemspec": "gem",
    "dotnet-core": "nuget",
    "packages-props": "nuget",
    "mix-lock": "hex",
}
_PURL_ECOSYSTEMS = {"pypi": "pypi", "npm": "npm", "golang": "golang", "maven": "maven"}
UNIDENTIFIED = "UNIDENTIFIED-VULNERABILITY"
"""The id of a vulnerability entry that names no VulnerabilityID."""
_GHSA_PREFIX = "https://github.com/advisories/GHSA-"
_GHSA_URL = re.compile(
    r"^https://github\.com/advisories/(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})/?$"
)
_VEX_NOT_AFFECTED = frozenset({"not_affected", "fixed"})


# The hot path builds these two from complete dicts written in field order (the order is
# checked against the models at import).
_new_finding = maker(
    Finding,
    (
        *("kind", "id", "aliases", "title", "url", "severity", "severity_origin", "package"),
        "fix_state",
        *("fixed_versions", "fix_in_tree", "status", "not_affected", "location"),
        *("suppressions", "baseline_state", "tool", "sources", "details"),
    ),
    # what a validated `Finding(...)` call with the same keywords would record as set
    given=(
        *("kind", "id", "aliases", "title", "url", "severity", "package", "fix_state"),
        *("fixed_versions", "status", "not_affected", "location", "sources", "details"),
    ),
)
_new_source_ref = maker(
    SourceRef, ("kind", "path", "pointer", "tool"), given=("kind", "path", "pointer")
)
_new_package = maker(Package, ("name", "version", "ecosystem", "purl"))


def _ecosystem(result_type: str | None, purl: str | None) -> str | None:
    if result_type:
        t = result_type.lower()
        return _ECOSYSTEMS.get(t, t)
    if purl and purl.startswith("pkg:"):
        kind, _, rest = purl[4:].partition("/")
        if kind in ("deb", "rpm", "apk"):
            return rest.partition("/")[0].lower() or kind  # the distro namespace
        return _PURL_ECOSYSTEMS.get(kind, kind)
    return None


def _fixed_versions(value: str | None) -> tuple[str, ...]:
    """`"3.1.0, 2.6.9"` → `("3.1.0", "2.6.9")`; absent or empty → `()`."""
    if not value:
        return ()
    if "," not in value:
        value = value.strip()
        return (value,) if value else ()
    return tuple(v for v in (part.strip() for part in value.split(",")) if v)


def _fix_state(status: str | None, fixed: tuple[str, ...]) -> FixState:
    if fixed:
        return _FIXABLE
    if status is None:
        return _NO_FIX
    return _STATUS_FIX.get(status) or _STATUS_FIX.get(status.lower(), _UNKNOWN_FIX)


def _best_cvss(cvss: dict[str, Cvss], source: str | None) -> tuple[float, str] | None:
    """The score of the severity source's vendor, else NVD's, else the first vendor's."""
    c = cvss.get(source or "nvd") or cvss.get("nvd") or next(iter(cvss.values()))
    if c.V40Score:
        return c.V40Score, c.V40Vector or ""
    if c.V3Score:
        return c.V3Score, c.V3Vector or ""
    if c.V2Score:
        return c.V2Score, c.V2Vector or ""
    return None


def _aliases(v: Vulnerability) -> tuple[str, ...]:
    aliases = [a for a in v.VendorIDs or () if a and a != v.VulnerabilityID]
    url = v.PrimaryURL
    if v.DataSource and v.DataSource.ID == "ghsa" and url and url.startswith(_GHSA_PREFIX):
        m = _GHSA_URL.match(url)
        if m and m.group(1) != v.VulnerabilityID and m.group(1) not in aliases:
            aliases.append(m.group(1))
    return tuple(aliases)


_CLASS_KINDS = {
    "os-pkgs": FindingKind.VULNERABILITY,
    "lang-pkgs": FindingKind.VULNERABILITY,
    "secret": FindingKind.SECRET,
    "config": FindingKind.MISCONFIGURATION,
}


def examined_kinds(r: Result) -> set[str]:
    """What a Result says trivy examined, as finding kinds: its `Class` (`os-pkgs` and
    `lang-pkgs` → vulnerability, `secret`, `config` → misconfiguration; licenses are no
    finding kind gate judges), and the kinds of the lists it carries (legacy reports have
    no Class: a Result with a `Type` and no licenses is a package scan)."""
    kind = _CLASS_KINDS.get(r.Class or "")
    out = set() if kind is None else {kind.value}
    if r.Vulnerabilities or (r.Class is None and r.Type and not r.Licenses):
        out.add(FindingKind.VULNERABILITY.value)
    if r.Secrets:
        out.add(FindingKind.SECRET.value)
    if r.Misconfigurations:
        out.add(FindingKind.MISCONFIGURATION.value)
    return out


class Builder:
    """Turns raw results into findings, sharing repeated values to keep 50k findings small."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.warnings: list[str] = []
        self.suppressed: list[SuppressedFacts] = []
        self.licenses = 0
        self.examined: set[str] = set()
        """The finding kinds whose scan produced a Result (`examined_kinds`)."""
        self._strings: dict[str, str] = {}
        self._packages: dict[tuple[str, str | None, str | None, str | None], Package] = {}
        self._fixed: dict[str, tuple[str, ...]] = {}
        self._last_key: tuple[str, str | None, str | None, str | None] | None = None
        self._last_package: Package | None = None
        self._locations: dict[tuple[str | None, str | None], Location | None] = {}

    def _intern(self, value: str | None) -> str | None:
        return None if value is None else self._strings.setdefault(value, value)

    def _ref(self, pointer: str) -> tuple[SourceRef, ...]:
        return (SourceRef(kind=InputKind.TRIVY, path=self.path, pointer=pointer),)

    def result(self, r: Result, pointer: str) -> None:
        target = self._intern(r.Target)
        eco = self._intern(r.Type.lower()) if r.Type else None
        is_lang = r.Class == "lang-pkgs"
        vulns = r.Vulnerabilities
        self.examined.update(examined_kinds(r))
        r.Vulnerabilities = None  # free each raw item as its finding is built
        for vi, v in enumerate(vulns or ()):
            self.findings.append(
                self.vulnerability(v, f"{pointer}.Vulnerabilities[{vi}]", target, eco, is_lang)
            )
        for si, s in enumerate(r.Secrets or ()):
            self.findings.append(self.secret(s, f"{pointer}.Secrets[{si}]", target))
        for mi, m in enumerate(r.Misconfigurations or ()):
            if (m.Status or "FAIL").upper() == "FAIL":
                self.findings.append(
                    self.misconfiguration(m, f"{pointer}.Misconfigurations[{mi}]", target)
                )
        self.licenses += len(r.Licenses or ())
        for fi, mod in enumerate(r.ExperimentalModifiedFindings or ()):
            self.modified(
                mod, f"{pointer}.ExperimentalModifiedFindings[{fi}]", target, eco, is_lang
            )

    def vulnerability(
        self, v: Vulnerability, pointer: str, target: str | None, rtype: str | None, is_lang: bool
    ) -> Finding:
        # The hot path of a 50,000-vulnerability report: keep it lean.
        vid = v.VulnerabilityID
        if not vid:
            # Still a sighting of something vulnerable in a package: judge it (its severity
            # is UNKNOWN unless given, so `unknown_severity` decides) rather than drop it.
            vid = UNIDENTIFIED
            self.warnings.append(
                f"{pointer}: a vulnerability without VulnerabilityID "
                f"(package {v.PkgName or '?'}); judged as {UNIDENTIFIED}"
            )
        purl = v.PkgIdentifier.PURL if v.PkgIdentifier else None
        package = None
        if v.PkgName:
            key = (v.PkgName, v.InstalledVersion, rtype, purl)
            if key == self._last_key:  # Trivy lists a package's vulnerabilities together
                package = self._last_package
            else:
                package = self._packages.get(key)
                if package is None:
                    package = self._packages[key] = _new_package(
                        {
                            "name": v.PkgName,
                            "version": v.InstalledVersion or None,
                            "ecosystem": _ecosystem(rtype, purl),
                            "purl": purl or None,
                        }
                    )
                self._last_key, self._last_package = key, package
        layer = v.Layer.DiffID if v.Layer else None
        loc_key = (v.PkgPath or (target if is_lang else None), layer or None)
        location = self._locations.get(loc_key, False)
        if location is False:
            location = self._locations[loc_key] = (
                Location(path=loc_key[0], layer=loc_key[1]) if any(loc_key) else None
            )
        fixed: tuple[str, ...] = ()
        if fv := v.FixedVersion:
            # one shared tuple per spelling: decisions memoize on it, and it is small
            fixed = self._fixed.get(fv) or self._fixed.setdefault(fv, _fixed_versions(fv))
        status = self._strings.setdefault(v.Status, v.Status) if v.Status else v.Status
        details: dict[str, Any] = {"target": target}
        severity = _SEVERITY.get(v.Severity) or Severity.parse(v.Severity)  # type: ignore[arg-type]
        source = v.SeveritySource
        if v.VendorSeverity:
            details["vendor_severity"] = v.VendorSeverity
            if severity is _SEV_UNKNOWN:
                vendor = source if source in v.VendorSeverity else None
                level = v.VendorSeverity[vendor] if vendor else max(v.VendorSeverity.values())
                severity = _VENDOR_SEVERITY[level] if 0 <= level <= 4 else Severity.UNKNOWN
                details["severity_from"] = f"VendorSeverity.{vendor or 'max'}"
        if source:
            details["severity_source"] = self._strings.setdefault(source, source)
        if v.CVSS:
            score = _best_cvss(v.CVSS, source)
            if score:
                details["cvss_score"] = score[0]
                details["cvss_vector"] = self._strings.setdefault(score[1], score[1])
        aliases: tuple[str, ...] = ()
        url = v.PrimaryURL
        if v.VendorIDs or (url and url.startswith(_GHSA_PREFIX)):  # else `_aliases` finds none
            aliases = _aliases(v)
        return _new_finding(
            {
                "kind": _VULN,
                "id": vid,
                "aliases": aliases,
                "title": v.Title or None,
                "url": url or None,
                "severity": severity,
                "severity_origin": None,
                "package": package,
                "fix_state": _FIXABLE if fixed else _fix_state(status, fixed),
                "fixed_versions": fixed,
                "fix_in_tree": None,
                "status": status,
                "not_affected": status == "not_affected",
                "location": location,
                "suppressions": (),
                "baseline_state": None,
                "tool": None,
                "sources": (
                    _new_source_ref(
                        {"kind": _TRIVY, "path": self.path, "pointer": pointer, "tool": None}
                    ),
                ),
                "details": details,
            }
        )

    def secret(self, s: Secret, pointer: str, target: str | None) -> Finding:
        return Finding(
            kind=FindingKind.SECRET,
            id=s.RuleID or "secret",
            title=s.Title or None,
            severity=Severity.parse(s.Severity),
            location=Location(path=target, start_line=s.StartLine, end_line=s.EndLine),
            sources=self._ref(pointer),
            details={"category": s.Category} if s.Category else {},
        )

    def misconfiguration(self, m: Misconfiguration, pointer: str, target: str | None) -> Finding:
        ident = m.ID or m.AVDID
        if not ident:
            raise InputError(self.path, "a misconfiguration without ID or AVDID", pointer)
        cause = m.CauseMetadata
        details = {
            key: value
            for key, value in (
                ("message", m.Message),
                ("resolution", m.Resolution),
                ("resource", cause.Resource if cause else None),
                ("check_type", m.Type),
            )
            if value
        }
        return Finding(
            kind=FindingKind.MISCONFIGURATION,
            id=ident,
            aliases=(m.AVDID,) if m.AVDID and m.AVDID != ident else (),
            title=m.Title or None,
            url=m.PrimaryURL or None,
            severity=Severity.parse(m.Severity),
            status=m.Status,
            location=Location(
                path=target,
                start_line=cause.StartLine if cause else None,
                end_line=cause.EndLine if cause else None,
            ),
            sources=self._ref(pointer),
            details=details,
        )

    def modified(
        self,
        mod: ModifiedFinding,
        pointer: str,
        target: str | None,
        rtype: str | None,
        is_lang: bool,
    ) -> None:
        status = (mod.Status or "").lower()
        inner = mod.Finding
        if mod.Type == "vulnerability" and status in _VEX_NOT_AFFECTED and inner:
            try:
                v = msgspec.json.decode(inner, type=Vulnerability)
            except msgspec.ValidationError as e:
                raise InputError(self.path, str(e), f"{pointer}.Finding") from e
            f = self.vulnerability(v, f"{pointer}.Finding", target, rtype, is_lang)
            vex = Suppression(kind="vex", status=status, justification=mod.Statement or None)
            self.findings.append(
                f.model_copy(update={"not_affected": True, "suppressions": (vex,)})
            )
            return
        ident = None
        if inner:
            with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                ident = msgspec.json.decode(inner, type=Vulnerability).VulnerabilityID
        self.suppressed.append(
            SuppressedFacts(
                pointer=pointer,
                type=mod.Type,
                id=ident,
                status=mod.Status,
                source=mod.Source,
                statement=mod.Statement,
            )
        )
