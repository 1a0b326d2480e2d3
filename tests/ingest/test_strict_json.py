"""The one strict JSON reader: duplicate keys and case-variant keys, with their JSON path."""

from __future__ import annotations

import json

import msgspec
import pytest
from pydantic import BaseModel, Field

from gate.common.strict_json import check_shape, load_strict, shape_of
from gate.errors import InputError


class _Leaf(msgspec.Struct):
    Severity: str | None = None


class _Mid(msgspec.Struct):
    Vulnerabilities: list[_Leaf] | None = None


class _Top(msgspec.Struct):
    Results: list[_Mid] | None = None


class _PydLeaf(BaseModel):
    severity: str | None = None


class _Pyd(BaseModel):
    links: dict[str, str] | None = Field(default=None, alias="_links")
    items: dict[str, _PydLeaf] = {}


def _error(raw: bytes, shape: object = None) -> InputError:
    with pytest.raises(InputError) as info:
        load_strict(raw, "r.json", shape_of(shape) if shape is not None else None)
    return info.value


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        (b'{"a": 1, "a": 2}', "a"),
        (b'{"Results": [{"x": 1}, {"x": 1, "y": {"k": 1, "k": null}}]}', "Results[1].y.k"),
        (b'[{"Target": "t", "Target": "u"}]', "[0].Target"),
        (b'{"m": {"odd key": 1, "odd key": 1}}', 'm["odd key"]'),
        # equal values are still two keys: another parser may not agree they are equal
        (b'{"n": 1, "n": 1}', "n"),
        # a key spelt with an escape is the same key once decoded
        (b'{"Results": [1], "\\u0052esults": []}', "Results"),
    ],
)
def test_a_duplicate_key_anywhere_is_an_error_naming_its_path(doc, pointer):
    err = _error(doc)
    assert err.path == "r.json"
    assert err.pointer == pointer
    assert "appears twice" in err.message


@pytest.mark.parametrize(
    ("doc", "pointer", "twin"),
    [
        (b'{"results": []}', "results", "Results"),
        (
            b'{"Results": [{"vulnerabilities": []}]}',
            "Results[0].vulnerabilities",
            "Vulnerabilities",
        ),
        (
            b'{"Results": [{}, {"Vulnerabilities": [{"SEVERITY": "LOW"}]}]}',
            "Results[1].Vulnerabilities[0].SEVERITY",
            "Severity",
        ),
    ],
)
def test_a_key_equal_to_a_known_key_apart_from_case_is_an_error(doc, pointer, twin):
    err = _error(doc, _Top)
    assert err.pointer == pointer
    assert f'"{twin}"' in err.message


def test_unknown_keys_of_another_spelling_and_known_keys_pass():
    data = load_strict(
        b'{"Results": [{"Vulnerabilities": [{"Severity": "LOW", "Title": "t"}], "Class": "x"}],'
        b' "ArtifactName": "a"}',
        "r.json",
        shape_of(_Top),
    )
    assert data["ArtifactName"] == "a"


def test_pydantic_aliases_and_maps_of_models_are_walked():
    shape = shape_of(_Pyd | list[_Pyd])
    assert shape is not None
    assert set(shape.keys) == {"_links", "items"}
    assert shape.items is not None
    with pytest.raises(InputError) as info:
        check_shape({"items": {"k": {"Severity": "x"}}}, shape, "r.json")
    assert info.value.pointer == "items.k.Severity"
    with pytest.raises(InputError) as info:
        check_shape([{"_LINKS": {}}], shape, "r.json")
    assert info.value.pointer == "[0]._LINKS"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"null", "literal `null`"),
        (b'{"a": ', "truncated"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"  \n", "empty"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_json_stays_an_error(raw, message):
    assert message in _error(raw).message


def _format_error(kind: str, doc: object) -> InputError:
    from gate.ingest import ingestor_for
    from gate.models import InputKind

    with pytest.raises(InputError) as info:
        ingestor_for(InputKind(kind)).parse(json.dumps(doc).encode(), "r.json")
    return info.value


@pytest.mark.parametrize(
    ("kind", "doc", "pointer"),
    [
        # free-form fields whose keys gate reads by hand are walked too (`ReadAs`)
        (
            "sarif",
            {
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": "x"}},
                        "results": [{"ruleId": "r", "properties": {"Security-Severity": "1"}}],
                    }
                ],
            },
            'runs[0].results[0].properties["Security-Severity"]',
        ),
        (
            "branch-protection",
            [{"type": "pull_request", "parameters": {"Required_Approving_Review_Count": 0}}],
            "[0].parameters.Required_Approving_Review_Count",
        ),
        (
            "branch-protection",
            {
                "id": 1,
                "enforcement": "active",
                "rules": [],
                "conditions": {"ref_name": {"Include": ["~ALL"], "include": []}},
            },
            "conditions.ref_name.Include",
        ),
        (
            "trivy",
            {
                "SchemaVersion": 2,
                "ArtifactName": "a",
                "Results": [
                    {
                        "Target": "t",
                        "ExperimentalModifiedFindings": [
                            {"Type": "vulnerability", "Finding": {"severity": "LOW"}}
                        ],
                    }
                ],
            },
            "Results[0].ExperimentalModifiedFindings[0].Finding.severity",
        ),
    ],
)
def test_keys_read_by_hand_are_checked_in_every_format(kind, doc, pointer):
    assert _format_error(kind, doc).pointer == pointer


class _Other(msgspec.Struct):
    Results: list[_Leaf] | None = None
    Extra: _Leaf | None = None


def test_a_union_knows_the_keys_of_each_member_and_changes_neither():
    alone = shape_of(_Top)
    assert alone is not None and set(alone.keys) == {"Results"}
    both = shape_of(_Top | _Other)
    assert both is not None and set(both.keys) == {"Results", "Extra"}
    again = shape_of(_Top)
    assert again is not None and set(again.keys) == {"Results"}
    results = both.keys["Results"]
    assert results is not None and results.items is not None
    assert set(results.items.keys) == {"Vulnerabilities", "Severity"}
