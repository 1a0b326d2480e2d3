"""Building tens of thousands of frozen models fast (a 50,000-vulnerability Trivy report).

Two measured costs dominate there, and both are avoidable for values a raw decoder has
already typed: pydantic re-validating every nested model, and the cyclic garbage collector
running hundreds of times while the (acyclic) models pile up.

This is the only module that touches pydantic's internals: the instance slots of
`BaseModel` (`SLOTS`, written by `maker`) and a model's `__dict__` (`fields_of`, read by the
JSON writer). `pyproject.toml` pins pydantic to the minor releases this was tested with (a
`NOTE:` says why), and `tests/test_fastmodel.py` fails loudly if a release changes them. Other
speed tricks, each in one module with its reason: enum members keyed by `id()` in
`gate.engine` (an Enum's `__hash__` is a Python-level call in 3.11), msgspec structs for raw
reports in `gate.ingest` and for rows in `gate.report.json`.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import VERSION, BaseModel

M = TypeVar("M", bound=BaseModel)
Builder = Callable[[dict[str, Any]], M]
_new = object.__new__
SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
"""The instance slots of a pydantic model that `maker` sets."""


def _setter(name: str) -> Callable[[object, object], None]:
    try:
        setter: Callable[[object, object], None] = BaseModel.__dict__[name].__set__
    except (KeyError, AttributeError) as e:
        raise ImportError(
            f"gate._fastmodel: pydantic {VERSION} has no {name} slot; gate supports the "
            "pydantic versions pinned in its pyproject.toml"
        ) from e
    return setter


# BaseModel's slots, set through their own descriptors: a quarter faster than
# `object.__setattr__`, which looks each name up on the class first (150,000 models a report)
_set_dict, _set_fields_set, _set_extra, _set_private = (_setter(name) for name in SLOTS)

fields_of: Callable[[BaseModel], dict[str, Any]] = operator.attrgetter("__dict__")
"""A model's fields, in declaration order, as pydantic stores them (do not modify)."""


def maker(cls: type[M], order: tuple[str, ...], given: tuple[str, ...] = ()) -> Builder[M]:
    """A builder of frozen `cls` models from values a raw decoder has already typed, without
    validating them again: pydantic's `model_construct` minus its per-field Python loop,
    which is slower than validation, and about twice as fast as `Finding(...)`.

    The builder takes a dict holding every field in declaration order, `order` (the caller
    writes its dicts that way; checked here once, not per call): no keyword packing, no
    defaults merged. `given` names the fields the caller sets on purpose
    (`model_fields_set`, as the keywords of a validated call would; default: all); the
    instances share that set, which pydantic copies before changing it (`model_copy`).
    `tests/ingest/test_trivy.py` checks that every finding made from the bundled reports
    equals, dumps and prints like a validated one.
    """
    fields = tuple(cls.model_fields)
    if order != fields or not set(given) <= set(order):
        raise TypeError(f"{cls.__name__}: fields are {fields}")
    fields_set = set(given or order)

    def build(data: dict[str, Any]) -> M:
        m = _new(cls)
        _set_dict(m, data)
        _set_fields_set(m, fields_set)
        _set_extra(m, None)
        _set_private(m, None)
        return m

    return build


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Building 50,000 acyclic frozen models triggers the cyclic GC hundreds of times
    (2/3 of the build time); none of them can form a cycle, so pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
