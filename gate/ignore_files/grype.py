"""grype's `ignore:` rules (`.grype.yaml`).

A rule becomes an exception only when gate can apply it exactly: it must name a
`vulnerability`; `package` narrows it to a purl (`type` and `name`, optional `version`) and
`location` to a path glob. Conditions gate cannot check (`fix-state`, `vex-status`,
`vex-justification`, a package without `type` and `name`) would widen the rule if dropped,
so they are an error. Other grype settings are not gate's business; rules under `profiles:`
apply only to a grype `--profile` and are not read (a warning)."""

from __future__ import annotations

from typing import Any

from gate.common import json_fields as f
from gate.errors import InputError
from gate.ignore_files.model import IgnoreEntry, IgnoreFile

_RULE_KEYS = {"vulnerability", "fix-state", "vex-status", "vex-justification", "reason", "package"}
_PACKAGE_KEYS = {"name", "version", "type", "location", "upstream-name"}
_UNSUPPORTED = ("fix-state", "vex-status", "vex-justification")
# grype package types → purl types
_TYPES = {
    "apk": "apk",
    "deb": "deb",
    "rpm": "rpm",
    "npm": "npm",
    "gem": "gem",
    "python": "pypi",
    "java-archive": "maven",
    "jenkins-plugin": "maven",
    "go-module": "golang",
    "rust-crate": "cargo",
    "dotnet": "nuget",
    "php-composer": "composer",
    "conan": "conan",
    "hex": "hex",
    "pub": "pub",
    "swift": "swift",
    "cocoapods": "cocoapods",
}


def _purl(pkg: dict[str, Any], path: str, at: str) -> str | None:
    from packageurl import PackageURL

    name = f.string(pkg.get("name"), path, f"{at}.name")
    kind = f.string(pkg.get("type"), path, f"{at}.type")
    version = f.string(pkg.get("version"), path, f"{at}.version")
    if pkg.get("upstream-name") is not None:
        raise InputError(
            path, "gate cannot scope an exception by upstream-name", f"{at}.upstream-name"
        )
    if name is None and kind is None and version is None:
        return None
    if name is None or kind is None:
        raise InputError(
            path,
            "gate scopes by package URL: a package needs both `type` and `name` "
            "(a rule by type or name alone would except more than it says)",
            at,
        )
    purl_type = _TYPES.get(kind)
    if purl_type is None:
        raise InputError(path, f"unknown grype package type {kind!r}", f"{at}.type")
    namespace, _, short = name.rpartition("/") if purl_type in ("npm", "golang") else ("", "", name)
    if purl_type == "maven" and ":" in name:
        namespace, _, short = name.partition(":")
    return str(PackageURL(type=purl_type, namespace=namespace or None, name=short, version=version))


def parse_grype(data: dict[str, Any], into: IgnoreFile) -> None:
    path = into.path
    if "profiles" in data:
        into.notes.append("profiles: rules under a grype profile are not read by gate")
    for i, raw in enumerate(f.array(data.get("ignore"), path, "ignore", required=True)):
        at = f"ignore[{i}]"
        rule = f.obj(raw, path, at)
        into.unknown += [
            f"{at}.{k}: unknown key ({', '.join(sorted(_RULE_KEYS))})"
            for k in rule
            if k not in _RULE_KEYS
        ]
        for key in _UNSUPPORTED:
            if key in rule:
                raise InputError(
                    path,
                    f"gate cannot apply a rule conditioned on `{key}` (dropping the condition "
                    "would except more); use --vex or the policy",
                    f"{at}.{key}",
                )
        vuln = f.string(rule.get("vulnerability"), path, f"{at}.vulnerability")
        if vuln is None:
            raise InputError(path, "a rule without `vulnerability` would except whole packages", at)
        purls: tuple[str, ...] = ()
        paths: tuple[str, ...] = ()
        if rule.get("package") is not None:
            pkg = f.obj(rule["package"], path, f"{at}.package")
            into.unknown += [
                f"{at}.package.{k}: unknown key ({', '.join(sorted(_PACKAGE_KEYS))})"
                for k in pkg
                if k not in _PACKAGE_KEYS
            ]
            purl = _purl(pkg, path, f"{at}.package")
            purls = (purl,) if purl else ()
            location = f.string(pkg.get("location"), path, f"{at}.package.location")
            paths = (location.lstrip("/"),) if location else ()
        into.entries.append(
            IgnoreEntry(
                id=vuln,
                where=at,
                purls=purls,
                paths=paths,
                statement=f.string(rule.get("reason"), path, f"{at}.reason"),
                kind="vulnerability",
            )
        )
