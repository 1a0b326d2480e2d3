"""How an OSV record rates a finding: CVSS v3, then CVSS v4, then database_specific."""

from __future__ import annotations

from typing import Any

import pytest

from gate.audit.osv import OsvRecord as Record
from gate.audit.osv import query_url, rate
from gate.models import Severity

V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V3_LOW = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"  # 1.6
V4_HIGH = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"  # 8.7


def _record(**fields: Any) -> Record:
    return Record.model_validate({"id": "GHSA-xxxx-xxxx-xxxx", **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"severity": [{"type": "CVSS_V3", "score": V3_CRITICAL}]}, (Severity.CRITICAL, "CVSS_V3")),
        ({"severity": [{"type": "CVSS_V3", "score": V3_LOW}]}, (Severity.LOW, "CVSS_V3")),
        ({"severity": [{"type": "CVSS_V4", "score": V4_HIGH}]}, (Severity.HIGH, "CVSS_V4")),
        (
            {
                "severity": [
                    {"type": "CVSS_V4", "score": V4_HIGH},
                    {"type": "CVSS_V3", "score": V3_LOW},
                ],
                "database_specific": {"severity": "CRITICAL"},
            },
            (Severity.LOW, "CVSS_V3"),
        ),
        # a malformed vector rates nothing: the next source does
        (
            {
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:X"}],
                "database_specific": {"severity": "MODERATE"},
            },
            (Severity.MEDIUM, "database_specific"),
        ),
        ({"database_specific": {"severity": "nonsense"}}, None),
        ({"severity": [{"type": "Ubuntu", "score": "high"}]}, None),
        ({}, None),
    ],
)
def test_rate(fields: dict[str, Any], expected: tuple[Severity, str] | None) -> None:
    assert rate(_record(**fields)) == expected


def test_query_url() -> None:
    assert query_url("https://osv.example/v1/query") == "https://osv.example/v1/query"
    assert query_url("https://osv.example/") == "https://osv.example/v1/query"
