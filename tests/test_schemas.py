"""The JSON verdict schema shipped in `schemas/` matches the code."""

from __future__ import annotations

from gate.report.json_schema import verdict_json_schema


def test_verdict_schema_is_up_to_date(repo_root):
    on_disk = (repo_root / "schemas" / "verdict.schema.json").read_text()
    assert on_disk == verdict_json_schema(), "regenerate: gate schema > schemas/verdict.schema.json"
