"""The one YAML reader for policy and `--exceptions` files (and the early trivy start).

YAML has ways to say one thing twice or to say a lot with little; a policy must mean one
thing and load at once, so this reader refuses, naming the key path and the line:

- a duplicate key at any level (`vulnerabilities.fail_on` twice, `vulnerabilities:` twice);
  PyYAML would silently keep the last one;
- merge keys (`<<: *base`), whose later keys silently override merged ones;
- any tag outside YAML's core schema (`!!python/object`, `!!binary`, `!!set`, `!custom`);
- a key that is not a plain value (`? [a, b]`);
- a document over `MAX_BYTES`, deeper than `MAX_DEPTH`, with more than `MAX_ALIASES`
  aliases or more than `MAX_NODES` nodes counting each alias as the nodes it stands for.
  A "billion laughs" file stops at the node cap while it is being parsed, in milliseconds.

It imports neither pydantic nor the policy model: `gate.scanners.trivy.early` reads the `trivy:`
block with it before the CLI is loaded. Errors are `PolicyError`s (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gate.common.files import FileProblem, read_regular
from gate.errors import PolicyError

MAX_BYTES = 1 << 20
"""1 MiB: the bundled policies are 2-3 KB; an exceptions file of 5,000 entries fits."""
MAX_NODES = 20_000
"""Nodes after alias expansion: room for 2,800 exceptions of 7 nodes (the bundled policies
have about 60 nodes); composing 20,000 takes about 0.1 s."""
MAX_ALIASES = 1_000
MAX_DEPTH = 64

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + t for t in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map")
)

if TYPE_CHECKING or not hasattr(yaml, "CSafeLoader"):
    _Base = yaml.SafeLoader
else:

    class _Base(Composer, yaml.CSafeLoader):
        """libyaml's scanner and parser, PyYAML's composer (which `_Loader` hooks)."""

        def __init__(self, stream: bytes) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            Composer.__init__(self)


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, node: Node | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


class _Loader(_Base):
    """A safe loader whose composer counts nodes as it builds them, so the caps stop a
    hostile file before it is all built (libyaml parses, when it is installed)."""

    def __init__(self, stream: bytes) -> None:
        super().__init__(stream)
        self.nodes = 0
        self.aliases = 0
        self.depth = 0
        self.expanded: dict[int, int] = {}  # id(node) -> its node count, aliases expanded

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES:,} aliases")
            alias = super().compose_node(parent, index)
            if alias is not None:
                self._count(self.expanded.get(id(alias), 1), alias)
            return alias
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep")
        node = super().compose_node(parent, index)
        self.depth -= 1
        if node is None:
            return None
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self.expanded.get(id(c), 1) for c in node.value)
        elif isinstance(node, MappingNode):
            size += sum(
                self.expanded.get(id(k), 1) + self.expanded.get(id(v), 1) for k, v in node.value
            )
        self.expanded[id(node)] = size
        self._count(1, node)
        return node

    def _count(self, n: int, node: Node) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise _Refused(
                f"more than {MAX_NODES:,} values (aliases counted as what they repeat)", node
            )


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _path(parent: str, key: object) -> str:
    return f"{parent}.{key}" if parent else str(key)


def _check(loader: _Loader, node: Node, where: str) -> None:
    """Refuse tags outside the core schema, merge keys, complex and duplicate keys."""
    label = where or "(top level)"
    if node.tag not in _ALLOWED_TAGS:
        if node.tag == _CORE + "merge":
            raise _Refused(f"{label}: merge keys (<<) are not allowed: write the keys out", node)
        raise _Refused(f"{label}: the tag {node.tag} is not allowed in a policy", node)
    if isinstance(node, SequenceNode):
        for i, child in enumerate(node.value):
            _check(loader, child, f"{where}[{i}]")
    elif isinstance(node, MappingNode):
        seen: dict[object, Node] = {}
        for key_node, value in node.value:
            if key_node.tag == _CORE + "merge":
                raise _Refused(
                    f"{label}: merge keys (<<) are not allowed: write the keys out", key_node
                )
            if not isinstance(key_node, ScalarNode):
                raise _Refused(f"{label}: a key must be a plain value", key_node)
            _check(loader, key_node, where)
            key = loader.construct_object(key_node, deep=True)
            path = _path(where, key)
            try:
                first = seen.get(key)
            except TypeError as e:  # unhashable: cannot happen for a scalar, but never guess
                raise _Refused(f"{label}: a key must be a plain value", key_node) from e
            if first is not None:
                raise _Refused(
                    f"duplicate key {path} (line {_line(key_node)}; first at line "
                    f"{_line(first)}): YAML would silently keep only the last one",
                    key_node,
                )
            seen[key] = key_node
            _check(loader, value, path)


def parse(raw: bytes) -> Any:
    """The data of one YAML document, after the checks above. Raises `yaml.YAMLError`
    (a `_Refused` for what these checks refuse); an empty document is None."""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(loader, node, "")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def describe(e: yaml.YAMLError) -> str:
    """One line for a YAML error: where, then what."""
    if isinstance(e, _Refused):
        where = f"line {_line(e.node)}: " if e.node is not None else ""
        if e.message.startswith("duplicate key"):
            where = ""  # it names its lines itself
        return f"{where}{e.message}"
    mark = getattr(e, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    return f"not valid YAML: {where}{context + ', ' if context else ''}{problem}"


def load_yaml(path: Path) -> tuple[bytes, Any]:
    """The bytes (for the sha256) and the data of a policy or exceptions file.
    Raises `PolicyError` naming `path`."""
    try:
        raw = read_regular(path, MAX_BYTES, "a policy file is at most 1 MiB")
    except FileProblem as e:
        raise PolicyError(str(path), [str(e)]) from e
    try:
        return raw, parse(raw)
    except RecursionError as e:
        raise PolicyError(str(path), [f"nested more than {MAX_DEPTH} levels deep"]) from e
    except yaml.YAMLError as e:
        raise PolicyError(str(path), [describe(e)]) from e
