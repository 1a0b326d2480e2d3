"""Strict JSON: one reader for every JSON input, so that no report can mean two things.

Two parsers can read the same bytes differently, and a report can exploit that: with a key
twice (`"Results"` a second time, empty), most parsers keep the last value, some the first;
with `results` beside `Results`, gate's models would read one and drop the other. gate
refuses both, whatever the format (Trivy, npm audit, pip-audit, SARIF, GitHub responses):

- **a duplicate key** in any object, at any depth, is an `InputError` naming the JSON path
  of its second occurrence (`Results[2].Vulnerabilities`);
- **a key that equals a known key apart from case** (`results`, `vulnerabilities` in a
  Trivy Result) is an `InputError` naming its path. "Known" means a field of the raw model
  gate reads that object with: the `Shape` of a format is derived from its raw models
  (`shape_of`), so a field added to a model is checked without touching this module.

`load_strict(raw, path, shape)` decodes with the standard library's C decoder plus an
`object_pairs_hook` that only compares two lengths per object; the JSON path is worked out
only when something is wrong. `check_shape` walks decoded data against a `Shape`. The
Trivy reader decodes with msgspec for speed and runs `load_strict` beside it, or
`check_keys_lean` first above 16 MiB (`gate.ingest._trivy_raw.check_strict`); the GitHub
client decodes its answers with `strict_loads` and the branch-protection readers check
their shape.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gate.errors import InputError

_NONE_TYPE = type(None)


@dataclass
class Shape:
    """The keys gate knows at one place of a document.

    `keys`: an object's known keys and the shape of each value (None: not walked further);
    `values`: a map (`dict[str, T]`) whose keys are data, each value of this shape;
    `items`: an array, each item of this shape.
    """

    keys: dict[str, Shape | None] = field(default_factory=dict)
    values: Shape | None = None
    items: Shape | None = None
    folded: dict[str, str] = field(default_factory=dict)


def _union(a: Shape | None, b: Shape | None, memo: dict[tuple[int, int], Shape]) -> Shape | None:
    """The keys known in either shape, as a new shape: neither input is changed (shapes of
    a model are shared by every field that has that model's type)."""
    if a is None or a is b:
        return b
    if b is None:
        return a
    done = memo.get((id(a), id(b)))
    if done is not None:
        return done
    out = memo[(id(a), id(b))] = Shape()
    out.keys = dict(a.keys)
    for k, v in b.keys.items():
        out.keys[k] = _union(out.keys.get(k), v, memo) if k in out.keys else v
    out.values = _union(a.values, b.values, memo)
    out.items = _union(a.items, b.items, memo)
    out.folded = {k.casefold(): k for k in out.keys}
    return out


def _model_fields(tp: type) -> dict[str, Any] | None:
    """{JSON key: annotation} of a pydantic model or msgspec Struct, else None."""
    import msgspec
    from pydantic import BaseModel

    if issubclass(tp, BaseModel):
        out: dict[str, Any] = {}
        for name, info in tp.model_fields.items():
            marks = [m for m in info.metadata if isinstance(m, ReadAs)]
            out[info.alias or name] = marks[0] if marks else info.annotation
        return out
    if issubclass(tp, msgspec.Struct):
        return {f.encode_name: f.type for f in msgspec.structs.fields(tp)}
    return None


def shape_of(tp: Any, _seen: dict[Any, Shape] | None = None) -> Shape | None:
    """The `Shape` of a raw model type (pydantic, msgspec, list/dict/union of them)."""
    seen = {} if _seen is None else _seen
    if isinstance(tp, ReadAs):
        return shape_of(tp.model, seen)
    if tp in seen:
        return seen[tp]
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        marks = [m for m in tp.__metadata__ if isinstance(m, ReadAs)]
        return shape_of(marks[0] if marks else typing.get_args(tp)[0], seen)
    if origin in (typing.Union, types.UnionType):
        merged: Shape | None = None
        memo: dict[tuple[int, int], Shape] = {}
        for arg in typing.get_args(tp):
            if arg is not _NONE_TYPE:
                merged = _union(merged, shape_of(arg, seen), memo)
        return merged
    if origin is list or origin is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        item = shape_of(args[0], seen) if args else None
        return Shape(items=item) if item is not None else None
    if origin is dict:
        pair = typing.get_args(tp)
        value = shape_of(pair[1], seen) if len(pair) == 2 else None
        return Shape(values=value) if value is not None else None
    if not isinstance(tp, type):
        return None
    fields = _model_fields(tp)
    if fields is None:
        return None
    shape = Shape()
    seen[tp] = shape  # before the children: a recursive model refers to itself
    shape.keys = {key: shape_of(ann, seen) for key, ann in fields.items()}
    shape.folded = {k.casefold(): k for k in shape.keys}
    return shape


@dataclass(frozen=True)
class ReadAs:
    """`Annotated` marker for a field whose model keeps it free-form (`dict[str, Any]`,
    `msgspec.Raw`) although gate reads some of its keys later: the case-variant check
    walks it with the shape of `model`, e.g.
    `parameters: Annotated[dict[str, Any] | None, ReadAs(_PullRequest | _StatusCheckRule)]`."""

    model: Any


class _Dup(dict[str, Any]):
    """An object that had a key twice (only ever built for a bad input)."""

    dup_key: str = ""


def _pairs_hook(flag: list[bool]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        dup = _Dup(obj)
        for key, _ in pairs:
            if key in seen:
                dup.dup_key = key
                break
            seen.add(key)
        flag.append(True)
        return dup

    return hook


def _step(pointer: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{pointer}[{key}]"
    if key.isidentifier():
        return f"{pointer}.{key}" if pointer else key
    return f"{pointer}[{json.dumps(key)}]"


def _walk(data: Any) -> Iterator[tuple[str, Any]]:
    """(JSON path, value) of every object and array, in document order, without recursion."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        pointer, value = stack.pop()
        yield pointer, value
        if isinstance(value, dict):
            children = [(_step(pointer, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(_step(pointer, i), v) for i, v in enumerate(value)]
        else:
            continue
        stack += [c for c in reversed(children) if isinstance(c[1], dict | list)]


def _duplicate_error(data: Any, path: str) -> InputError:
    for pointer, value in _walk(data):
        if isinstance(value, _Dup):
            return InputError(
                path,
                f"the key {json.dumps(value.dup_key)} appears twice in one object: the report "
                "is ambiguous (parsers disagree on which value counts)",
                _step(pointer, value.dup_key),
            )
    raise AssertionError("a duplicate key was flagged but not found")  # pragma: no cover


# A place being checked: (value, its shape, the parent's place, the key or index in it).
_Place = tuple[Any, Shape, "_Place | None", str | int]


def _pointer(place: _Place | None, root: str) -> str:
    """The JSON path of a place, built only when there is an error to report."""
    keys: list[str | int] = []
    while place is not None:
        keys.append(place[3])
        place = place[2]
    out = root
    for key in reversed(keys[:-1]):  # the last one is the root's own placeholder
        out = _step(out, key)
    return out


def check_shape(data: Any, shape: Shape | None, path: str, pointer: str = "") -> None:
    """Raise `InputError` for a key that differs from a known key of its object only in case.

    Walks only where the shape knows keys. Per object, the unknown keys are one set
    difference, and each distinct unknown key is folded once per shape, so a 15 MB report
    costs a few tens of milliseconds."""
    if shape is None:
        return
    cleared: dict[int, set[str]] = {}  # per shape: unknown keys already found harmless
    children: dict[int, list[tuple[str, Shape]]] = {}  # per shape: keys with a shape
    stack: list[_Place] = [(data, shape, None, "")]
    while stack:
        place = stack.pop()
        value, sh = place[0], place[1]
        if isinstance(value, dict):
            if sh.keys:
                extra = value.keys() - sh.keys.keys()
                if extra:
                    ok = cleared.setdefault(id(sh), set())
                    for key in extra - ok:
                        twin = sh.folded.get(key.casefold())
                        if twin is not None:
                            raise InputError(
                                path,
                                f"unknown key {json.dumps(key)} differs from the key "
                                f"{json.dumps(twin)} only in case: the report is ambiguous",
                                _step(_pointer(place, pointer), key),
                            )
                        ok.add(key)
                subs = children.get(id(sh))
                if subs is None:
                    subs = children[id(sh)] = [(k, v) for k, v in sh.keys.items() if v is not None]
                for key, sub in subs:
                    child = value.get(key)
                    if isinstance(child, dict | list):
                        stack.append((child, sub, place, key))
            if sh.values is not None:
                vs = sh.values
                stack += [(v, vs, place, k) for k, v in value.items() if isinstance(v, dict | list)]
        elif isinstance(value, list) and sh.items is not None:
            it = sh.items
            stack += [(v, it, place, i) for i, v in enumerate(value) if isinstance(v, dict | list)]


class _ObjectKeys:
    """The keys of one or more equal-shaped objects, and the signatures of their container
    values (`check_keys_lean`); interned, so a report of 50,000 alike findings holds a few
    thousand of these, not 50,000 dicts."""

    __slots__ = ("children", "keys")

    def __init__(self, keys: frozenset[str], children: tuple[tuple[str, object], ...]) -> None:
        self.keys = keys
        self.children = children


class _ArrayItems:
    """The distinct signatures of an array's objects and arrays (scalars carry no keys)."""

    __slots__ = ("items",)

    def __init__(self, items: frozenset[object]) -> None:
        self.items = items


class _Ambiguous(Exception):
    """A key twice in one object, seen by the lean check (the precise one names its path)."""


def _lean_fits(root: object, shape: Shape) -> bool:
    """True unless some object of `root` has a key that a known key of its shape equals
    apart from case; each (signature, shape) pair is looked at once."""
    done: set[tuple[int, int]] = set()
    stack: list[tuple[object, Shape]] = [(root, shape)]
    while stack:
        sig, sh = stack.pop()
        if (id(sig), id(sh)) in done:
            continue
        done.add((id(sig), id(sh)))
        if isinstance(sig, _ArrayItems):
            if sh.items is not None:
                stack += [(item, sh.items) for item in sig.items]
            continue
        if not isinstance(sig, _ObjectKeys):
            continue
        if sh.keys:
            if any(sh.folded.get(k.casefold()) for k in sig.keys - sh.keys.keys()):
                return False
            for key, child in sig.children:
                sub = sh.keys.get(key)
                if sub is not None and child is not None:
                    stack.append((child, sub))
        if sh.values is not None:
            stack += [(child, sh.values) for _, child in sig.children if child is not None]
    return True


def check_keys_lean(raw: bytes, shape: Shape | None) -> bool:
    """The strict checks of `load_strict` for a document too large to decode twice whole:
    True when no object has a key twice and no key differs from a known one only in case.

    The standard library's decoder hands each object to a hook that keeps only its key set
    and the interned signatures of its container values (no values, no per-finding dicts),
    so memory stays near the raw bytes' size. False means: something is wrong, and
    `load_strict` on the same bytes says what and where (invalid JSON is left to it too)."""
    objects: dict[tuple[frozenset[str], tuple[tuple[str, object], ...]], _ObjectKeys] = {}
    arrays: dict[frozenset[object], _ArrayItems] = {}

    def of_array(value: Any) -> _ArrayItems | None:  # a list (Any: see the callers)
        items = frozenset(
            v if v.__class__ is _ObjectKeys else of_array(v)
            for v in value
            if v.__class__ is _ObjectKeys or v.__class__ is list
        )
        if not items:
            return None
        sig = arrays.get(items)
        if sig is None:
            sig = arrays[items] = _ArrayItems(items)
        return sig

    def hook(pairs: list[tuple[str, Any]]) -> _ObjectKeys:
        keys = frozenset([k for k, _ in pairs])
        if len(keys) != len(pairs):
            raise _Ambiguous
        children = tuple(
            [
                (k, v if v.__class__ is _ObjectKeys else of_array(v))
                for k, v in pairs
                if v.__class__ is _ObjectKeys or v.__class__ is list
            ]
        )
        sig = objects.get((keys, children))
        if sig is None:
            sig = objects[(keys, children)] = _ObjectKeys(keys, children)
        return sig

    try:
        root = json.loads(raw, object_pairs_hook=hook)
    except (_Ambiguous, ValueError, RecursionError):
        return False
    if isinstance(root, list):
        root = of_array(root)
    return shape is None or _lean_fits(root, shape)


def decode_text(raw: bytes, path: str) -> str:
    """The report's text: UTF-8 (a BOM is allowed), not empty."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text (byte {e.start})") from e
    if not text.strip():
        raise InputError(path, "the file is empty")
    return text


def strict_loads(text: str, path: str) -> Any:
    """`json.loads` that raises `InputError` for a duplicate key (with its JSON path);
    invalid JSON raises `json.JSONDecodeError` as `json.loads` does."""
    flag: list[bool] = []
    data = json.loads(text, object_pairs_hook=_pairs_hook(flag))
    if flag:
        raise _duplicate_error(data, path)
    return data


def load_strict(raw: bytes, path: str, shape: Shape | None = None) -> Any:
    """Decode JSON strictly (module docstring): duplicate keys and case-variant keys of
    `shape` are `InputError`s, as are invalid or truncated JSON and a literal `null`."""
    text = decode_text(raw, path)
    try:
        data = strict_loads(text, path)
    except json.JSONDecodeError as e:
        hint = " (truncated?)" if e.pos >= len(text.rstrip()) - 1 else ""
        raise InputError(
            path, f"not valid JSON{hint}: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from e
    except RecursionError as e:
        raise InputError(path, "JSON nested too deeply to be a report") from e
    if data is None:
        raise InputError(path, "the report is a literal `null`, not a scan result")
    check_shape(data, shape, path)
    return data
