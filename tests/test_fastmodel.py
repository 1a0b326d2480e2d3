"""The one fence around pydantic's internals (`gate._fastmodel`): if a pydantic release
changes what it relies on, these fail loudly, before any verdict could be wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic
from packaging.specifiers import SpecifierSet
from pydantic import BaseModel

from gate import _fastmodel
from gate.models import Package

ROOT = Path(__file__).resolve().parents[1]


def test_pydantic_is_in_the_tested_range() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d.split("pydantic", 1)[1] for d in deps if d.startswith("pydantic ")]
    assert pydantic.VERSION in SpecifierSet(spec.replace(" ", ""))


def test_base_model_still_has_the_slots_the_builders_set() -> None:
    for name in _fastmodel.SLOTS:
        assert name in BaseModel.__slots__ or name == "__dict__", name
        assert hasattr(BaseModel.__dict__[name], "__set__"), name


def test_a_built_model_is_a_validated_one() -> None:
    build = _fastmodel.maker(Package, ("name", "version", "ecosystem", "purl"))
    data = {"name": "openssl", "version": "3.0.1", "ecosystem": "alpine", "purl": None}
    built, validated = build(dict(data)), Package(**data)
    assert built == validated and hash(built) == hash(validated)
    assert built.model_dump() == validated.model_dump()
    assert built.model_fields_set == validated.model_fields_set
    assert repr(built) == repr(validated)
    assert built.model_copy(update={"version": "3.0.2"}).version == "3.0.2"
    assert _fastmodel.fields_of(built) == data
