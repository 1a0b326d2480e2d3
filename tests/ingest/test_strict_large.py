"""Strict reading of Trivy reports too large to decode twice whole (over `STRICT_MAX_BYTES`):
the lean pass (`check_keys_lean`) catches what the precise one does, which then names the
path; a clean large report is read as the same report small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.common.strict_json import check_keys_lean
from gate.errors import InputError
from gate.ingest._trivy_raw import STRICT_MAX_BYTES, check_strict, report_shape
from gate.ingest.trivy import TrivyIngestor

REPORT = Path(__file__).parents[1] / "data" / "reports" / "trivy" / "dd-all-statuses.json"


def _padded(doc: dict[str, Any]) -> dict[str, Any]:
    """The report with an unknown top-level field that takes it over the size limit."""
    return {**doc, "Padding": "x" * (STRICT_MAX_BYTES + 1024)}


def _large(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) > STRICT_MAX_BYTES
    return raw


def _base() -> dict[str, Any]:
    doc = json.loads(REPORT.read_bytes())
    assert doc["Results"][0]["Vulnerabilities"], "the fixture has findings"
    return doc


def test_a_clean_large_report_reads_as_the_same_report_small() -> None:
    small = TrivyIngestor().parse(REPORT.read_bytes(), str(REPORT))
    large = TrivyIngestor().parse(_large(json.dumps(_padded(_base()))), str(REPORT))
    assert len(large.findings) == len(small.findings) > 0
    assert not [w for w in large.warnings if "duplicate" in w or "case" in w]


def test_a_duplicate_key_deep_in_a_large_report_is_an_error_naming_its_path() -> None:
    text = json.dumps(_padded(_base()))
    # the first vulnerability's Severity a second time, "LOW": msgspec would keep the last
    text = text.replace('"Severity": ', '"Severity": "LOW", "Severity": ', 1)
    with pytest.raises(InputError) as info:
        check_strict(_large(text), "big.json")
    assert "appears twice" in info.value.message
    assert info.value.pointer is not None
    assert info.value.pointer.startswith("Results[0].Vulnerabilities[")
    assert info.value.pointer.endswith(".Severity")


@pytest.mark.parametrize(
    ("where", "key"),
    [("top", "results"), ("result", "vulnerabilities"), ("vulnerability", "severity")],
)
def test_a_case_variant_key_in_a_large_report_is_an_error_naming_its_path(
    where: str, key: str
) -> None:
    doc = _padded(_base())
    target = {
        "top": doc,
        "result": doc["Results"][-1],
        "vulnerability": doc["Results"][0]["Vulnerabilities"][-1],
    }[where]
    target[key] = []
    with pytest.raises(InputError) as info:
        check_strict(_large(json.dumps(doc)), "big.json")
    assert "only in case" in info.value.message
    assert info.value.pointer is not None and info.value.pointer.endswith(key)


def test_the_lean_pass_agrees_with_the_shape_on_a_legacy_array_report() -> None:
    results = _base()["Results"]
    assert check_keys_lean(json.dumps(results).encode(), report_shape())
    results[0]["vulnerabilities"] = []
    assert not check_keys_lean(json.dumps(results).encode(), report_shape())


def test_the_lean_pass_leaves_invalid_json_to_the_precise_one() -> None:
    assert not check_keys_lean(b'{"Results": [', report_shape())
    with pytest.raises(InputError, match="not valid JSON"):
        check_strict(b'{"Results": [' + b" " * (STRICT_MAX_BYTES + 1), "big.json")
