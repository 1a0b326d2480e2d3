"""The JSON verdict: same content as the document, valid against the bundled schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gate.models import Decision, Severity
from gate.report.json import render_json, verdict_document
from gate.report.json_schema import verdict_json_schema

from .builders import broken_input, code_finding, decided, image_input, verdict, vuln


def _verdict(n: int):
    fs = [
        vuln(f"CVE-2024-{i:05d}", severity=Severity.HIGH if i % 2 else Severity.LOW)
        for i in range(n)
    ]
    ds = [decided(f, Decision.FAIL if i % 2 else Decision.PASS) for i, f in enumerate(fs)]
    ds.append(decided(code_finding(), Decision.WARN, "code_scanning.warn_on", "MEDIUM ≥ warn_on"))
    return verdict([image_input(fs), broken_input()], ds, errors=["npm.json: not valid JSON"])


@pytest.mark.parametrize("n", [0, 1, 1999, 2000, 4501])
def test_render_json_equals_the_document_and_validates(n):
    v = _verdict(n)
    text = render_json(v)
    parsed = json.loads(text)
    expected = json.loads(json.dumps(verdict_document(v), default=str))
    assert parsed == expected
    assert len(parsed["findings"]) == n + 1
    jsonschema.validate(parsed, json.loads(verdict_json_schema()))


@pytest.mark.parametrize("n", [0, 3])
def test_render_json_is_indented_with_one_compact_finding_per_line(n):
    # The documented layout: the document indented by 2 (as `json.dumps(indent=2)`), each
    # finding compact on a line of its own.
    text = render_json(_verdict(n)).decode()
    parsed = json.loads(text)
    lines = text.split("\n")
    start = lines.index('  "findings": [')
    end = lines.index("  ],", start)
    rows = lines[start + 1 : end]
    assert len(rows) == len(parsed["findings"]) == n + 1
    for i, (row, finding) in enumerate(zip(rows, parsed["findings"], strict=True)):
        compact = json.dumps(finding, separators=(",", ":"), ensure_ascii=False)
        assert row == "    " + compact + ("," if i < n else "")
    rest = "\n".join([*lines[:start], '  "findings": [],', *lines[end + 1 :]])
    assert json.dumps({**parsed, "findings": []}, indent=2, ensure_ascii=False) + "\n" == rest


def test_render_json_without_findings_is_indented_like_json_dumps():
    text = render_json(verdict([broken_input()], [], errors=["npm.json: not valid JSON"])).decode()
    assert json.loads(text)["findings"] == []
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text
