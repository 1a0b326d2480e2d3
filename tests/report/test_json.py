"""The JSON verdict: same content as the document, valid against the bundled schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gate.models import Decision, Severity
from gate.report.json import render_json, verdict_document, verdict_json_schema

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


def test_render_json_is_indented_consistently():
    text = render_json(_verdict(3)).decode()
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text
