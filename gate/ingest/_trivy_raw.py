"""The raw shape of a Trivy JSON report, private to `gate.ingest.trivy`.

`msgspec.Struct`s rather than pydantic models, for speed on 100 MB reports (see the
`gate.ingest.trivy` docstring). Only the fields gate reads are declared; msgspec skips
the rest without building them (the equivalent of pydantic's `extra="ignore"`), so the
secret text of `Secrets[].Match`/`Code` is never even decoded. A field of the wrong type
is an `InputError` naming its JSON path.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import msgspec

from gate.common.strict_json import ReadAs, Shape, check_keys_lean, check_shape, shape_of
from gate.errors import InputError
from gate.ingest._sniff import wrong_kind
from gate.ingest.common import load_json
from gate.models import InputKind


class _Raw(msgspec.Struct, gc=False):
    """Base: untracked by the cyclic GC (raw reports hold no cycles)."""


class LayerInfo(_Raw):
    DiffID: str | None = None


class PkgIdentity(_Raw):
    PURL: str | None = None


class DataSourceInfo(_Raw):
    ID: str | None = None


class Cvss(_Raw):
    V2Score: float | None = None
    V2Vector: str | None = None
    V3Score: float | None = None
    V3Vector: str | None = None
    V40Score: float | None = None
    V40Vector: str | None = None


class Vulnerability(_Raw):
    VulnerabilityID: str | None = None
    VendorIDs: list[str] | None = None
    PkgName: str | None = None
    PkgPath: str | None = None
    PkgIdentifier: PkgIdentity | None = None
    InstalledVersion: str | None = None
    FixedVersion: str | None = None
    Status: str | None = None
    Layer: LayerInfo | None = None
    SeveritySource: str | None = None
    PrimaryURL: str | None = None
    DataSource: DataSourceInfo | None = None
    Title: str | None = None
    Severity: str | None = None
    VendorSeverity: dict[str, int] | None = None
    CVSS: dict[str, Cvss] | None = None


class Secret(_Raw):
    RuleID: str | None = None
    Category: str | None = None
    Severity: str | None = None
    Title: str | None = None
    StartLine: int | None = None
    EndLine: int | None = None


class Cause(_Raw):
    Resource: str | None = None
    StartLine: int | None = None
    EndLine: int | None = None


class Misconfiguration(_Raw):
    Type: str | None = None
    ID: str | None = None
    AVDID: str | None = None
    Title: str | None = None
    Message: str | None = None
    Resolution: str | None = None
    Severity: str | None = None
    PrimaryURL: str | None = None
    Status: str | None = None
    CauseMetadata: Cause | None = None


class ModifiedFinding(_Raw):
    Type: str | None = None
    Status: str | None = None
    Statement: str | None = None
    Source: str | None = None
    Finding: Annotated[msgspec.Raw, ReadAs(Vulnerability | Secret | Misconfiguration)] = (
        msgspec.Raw()
    )
    """Decoded only when used: its shape depends on `Type` (empty when absent)."""


class Result(_Raw):
    Target: str | None = None
    Class: str | None = None
    Type: str | None = None
    Vulnerabilities: list[Vulnerability] | None = None
    Secrets: list[Secret] | None = None
    Misconfigurations: list[Misconfiguration] | None = None
    ExperimentalModifiedFindings: list[ModifiedFinding] | None = None
    Licenses: list[msgspec.Raw] | None = None
    """Counted, not read: gate has no license policy."""


class OSInfo(_Raw):
    Family: str | None = None
    Name: str | None = None
    EOSL: bool | None = None


class ImageMetadata(_Raw):
    OS: OSInfo | None = None
    ImageID: str | None = None
    RepoTags: list[str] | None = None
    RepoDigests: list[str] | None = None


class TrivyVersion(_Raw):
    Version: str | None = None


class Report(_Raw):
    SchemaVersion: int | None = None
    Trivy: TrivyVersion | None = None
    ReportID: str | None = None
    CreatedAt: str | None = None
    ArtifactName: str | None = None
    ArtifactType: str | None = None
    Metadata: ImageMetadata | None = None
    Results: list[Result] | None = None
    # the transitional shape keeps image metadata at the top level
    ImageID: str | None = None
    RepoTags: list[str] | None = None
    RepoDigests: list[str] | None = None
    # keys of other formats, to reject them
    ClusterName: msgspec.Raw = msgspec.Raw()
    runs: msgspec.Raw = msgspec.Raw()


_BOM = b"\xef\xbb\xbf"


def _pointer(message: str) -> tuple[str, str | None]:
    """msgspec's `Expected … - at `$.Results[0].Severity`` → (message, pointer)."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return message, None
    where = where.rstrip("`")
    return text, where[2:] if where.startswith("$.") else where[1:] or "$"


def _reject(raw: bytes, path: str, fallback: str, pointer: str | None = None) -> InputError:
    """The error for an input that is not a Trivy report: say what it looks like."""
    data = load_json(raw, path)  # raises its own error for invalid JSON or `null`
    return InputError(path, wrong_kind(data, InputKind.TRIVY) or fallback, pointer)


# Built once at import (gate imports this while trivy scans): msgspec compiles a type's
# decoding plan on first use, 3 ms that would otherwise come after the scan.
_DECODER = msgspec.json.Decoder(Report | list[Result])


def decode(raw: bytes, path: str) -> tuple[Report | list[Result], bool]:
    """Decode and sanity-check a Trivy report: (report or legacy results, is_legacy)."""
    data = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
    try:
        report: Any = _DECODER.decode(data)
    except msgspec.ValidationError as e:  # a subclass of DecodeError: first
        message, pointer = _pointer(str(e))
        raise _reject(raw, path, message, pointer) from e
    except msgspec.DecodeError as e:
        raise _reject(raw, path, "not valid JSON") from e
    if isinstance(report, list):
        if not report:
            raise _reject(raw, path, "an empty JSON array is not a Trivy report")
        for i, result in enumerate(report):
            if result.Target is None:
                raise _reject(raw, path, "not a Trivy result: no Target", f"[{i}]")
        return report, True
    if report.ClusterName or report.runs:
        raise _reject(raw, path, "not a Trivy report")
    trivy_keys = (report.SchemaVersion, report.Results, report.ArtifactName, report.Metadata)
    if all(k is None for k in trivy_keys):
        raise _reject(raw, path, "none of the keys of a Trivy report (SchemaVersion, Results)")
    if report.SchemaVersion not in (None, 2):
        raise InputError(
            path,
            f"unsupported SchemaVersion {report.SchemaVersion} (gate reads 2)",
            "SchemaVersion",
        )
    for i, result in enumerate(report.Results or ()):
        if result.Target is None:
            raise InputError(path, "not a Trivy result: no Target", f"Results[{i}]")
    return report, False


STRICT_MAX_BYTES = 16 * 1024 * 1024
"""Above this size the strict check first runs lean (`gate.common.strict_json.check_keys_lean`).

NOTE: msgspec, which decodes a 100 MB report in 0.2 s, keeps the last of two equal keys
and skips unknown keys without a trace, so it cannot see either problem, and no
well-kept native decoder reports duplicate keys fast enough (jiter's check decodes the
whole document into Python objects). A second decode with the standard library that keeps
every value would hold the report twice in memory; the lean pass keeps only key sets, and
the precise pass (`load_strict`, with the JSON path of the problem) runs only on a report
the lean pass found wrong. The cost is measured in `bench/README.md`.
"""


@cache
def report_shape() -> Shape | None:
    """The keys gate reads from a Trivy report, for the case-variant check."""
    return shape_of(Report | list[Result])


def check_strict(raw: bytes, path: str) -> None:
    """Duplicate keys anywhere, and keys that differ from one gate reads only in case, are
    `InputError`s (`gate.common.strict_json`), whatever the report's size. Run before `decode`:
    with a key twice, msgspec's own checks would see only one of the values. The checked
    copy is dropped before `decode` builds its own, so the two never add up in memory."""
    if len(raw) > STRICT_MAX_BYTES and check_keys_lean(raw, report_shape()):
        return
    data = load_json(raw, path)
    if wrong_kind(data, InputKind.TRIVY) is None:  # else `decode` names the other kind
        check_shape(data, report_shape(), path)
