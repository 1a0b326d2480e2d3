"""The strict YAML reader on its own: what it still accepts, and where its caps sit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from gate.errors import PolicyError
from gate.policy import strict_yaml
from gate.policy.strict_yaml import MAX_ALIASES, MAX_DEPTH, MAX_NODES, load_yaml, parse


def test_plain_yaml_reads_as_pyyaml_reads_it(repo_root: Path) -> None:
    for name in ("default", "strict"):
        raw = (repo_root / "policies" / f"{name}.yaml").read_bytes()
        assert parse(raw) == yaml.safe_load(raw)


def test_anchors_and_aliases_within_the_caps_are_fine() -> None:
    data = parse(b"a: &s [no_fix, wont_fix]\nb: *s\nc: {d: *s}\nwhen: 2026-12-31\n")
    assert data == {
        "a": ["no_fix", "wont_fix"],
        "b": ["no_fix", "wont_fix"],
        "c": {"d": ["no_fix", "wont_fix"]},
        "when": dt.date(2026, 12, 31),
    }


def test_an_empty_document_is_none() -> None:
    assert parse(b"") is None
    assert parse(b"# only a comment\n") is None


@pytest.mark.parametrize(("n", "ok"), [(MAX_NODES - 10, True), (MAX_NODES + 1, False)])
def test_the_node_cap(n: int, ok: bool) -> None:
    doc = ("[" + ", ".join(["1"] * n) + "]").encode()
    if ok:
        assert len(parse(doc)) == n
    else:
        with pytest.raises(yaml.YAMLError, match="more than 20,000 values"):
            parse(doc)


def test_alias_and_depth_caps() -> None:
    ok_aliases = b"a: &a 1\nb: [" + b", ".join([b"*a"] * MAX_ALIASES) + b"]\n"
    assert len(parse(ok_aliases)["b"]) == MAX_ALIASES
    with pytest.raises(yaml.YAMLError, match="aliases"):
        parse(ok_aliases.replace(b"]\n", b", *a]\n"))
    deep = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    parse(deep)
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        parse(b"[" + deep + b"]")


def test_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("a: 1\na: 2\n")
    with pytest.raises(PolicyError) as e:
        load_yaml(p)
    assert e.value.path == str(p)
    assert e.value.problems == [
        "duplicate key a (line 2; first at line 1): YAML would silently keep only the last one"
    ]
    with pytest.raises(PolicyError, match="file not found"):
        load_yaml(tmp_path / "absent.yaml")


def test_libyaml_is_used_when_present() -> None:
    """The fast path the caps were measured on (tests run where libyaml is installed)."""
    assert yaml.__with_libyaml__
    assert issubclass(strict_yaml._Loader, yaml.CSafeLoader)
