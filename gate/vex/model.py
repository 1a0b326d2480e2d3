"""One VEX statement, whatever the format it was read from."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class VexStatus(enum.StrEnum):
    """OpenVEX's four statuses; CycloneDX and CSAF map onto them."""

    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"

    @property
    def excepts(self) -> bool:
        """`not_affected` and `fixed` except a finding; the others leave it to the policy."""
        return self in (VexStatus.NOT_AFFECTED, VexStatus.FIXED)


@dataclass(frozen=True)
class Product:
    """A product a statement is about: a purl (`pkg:oci/…@sha256:…` for an image) or another
    identifier (a CycloneDX bom-ref, a CSAF product id) that gate cannot match, and the
    packages inside it the statement narrows to."""

    id: str
    subcomponents: tuple[str, ...] = ()


@dataclass(frozen=True)
class VexStatement:
    document: str
    """The file it was read from."""
    pointer: str
    """Where in the file: `statements[3]`, `vulnerabilities[0]`, …"""
    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[Product, ...]
    status: VexStatus
    justification: str | None = None
    impact: str | None = None
    """OpenVEX `impact_statement`, CycloneDX `analysis.detail`, CSAF impact threat."""
    action: str | None = None
    author: str | None = None
    timestamp: dt.datetime | None = None
    response: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.document}: {self.pointer}"


@dataclass(frozen=True)
class VexDocument:
    path: str
    sha256: str
    format: str
    """`openvex`, `cyclonedx` or `csaf`."""
    statements: tuple[VexStatement, ...]
