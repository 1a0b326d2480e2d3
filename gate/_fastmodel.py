"""Building tens of thousands of frozen models fast (a 50,000-vulnerability Trivy report).

Two measured costs dominate there, and both are avoidable for values a raw decoder has
already typed: pydantic re-validating every nested model, and the cyclic garbage collector
running hundreds of times while the (acyclic) models pile up.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
Builder = Callable[[dict[str, Any]], M]
_new = object.__new__
# BaseModel's slots, set through their own descriptors: a quarter faster than
# `object.__setattr__`, which looks each name up on the class first (150,000 models a report)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class Maker(Generic[M]):
    """Builds frozen models from values the raw decoder has already typed, without
    validating them again: pydantic's `model_construct` minus its per-field Python loop,
    which is slower than validation. About twice as fast as `Finding(...)`, and instances
    share one fields-set. `tests/ingest/test_trivy.py` checks that every finding made from
    the bundled reports equals, dumps and prints like a validated one.
    """

    def __init__(self, cls: type[M]) -> None:
        self.cls = cls
        # every field in declaration order (as validation makes `__dict__`), with defaults
        self.template: dict[str, Any] = {}
        self.required: set[str] = set()
        self.factories: dict[str, Callable[[], Any]] = {}
        for name, field in cls.model_fields.items():
            self.template[name] = None if field.is_required() else field.default
            if field.is_required():
                self.required.add(name)
            elif field.default_factory is not None:
                self.factories[name] = field.default_factory  # type: ignore[assignment]
        self._cache: dict[
            tuple[str, ...], tuple[set[str], list[tuple[str, Callable[[], Any]]]]
        ] = {}

    def _prepare(
        self, keys: tuple[str, ...]
    ) -> tuple[set[str], list[tuple[str, Callable[[], Any]]]]:
        if not self.required <= set(keys) <= set(self.template):
            raise TypeError(f"{self.cls.__name__}: bad fields {sorted(set(keys) ^ self.required)}")
        # The fields set is shared: pydantic copies it before changing it (`model_copy`).
        fresh = [(name, f) for name, f in self.factories.items() if name not in keys]
        return set(keys), fresh

    def __call__(self, **values: Any) -> M:
        keys = tuple(values)
        prepared = self._cache.get(keys)
        if prepared is None:
            prepared = self._cache[keys] = self._prepare(keys)
        fields_set, factories = prepared
        data = {**self.template, **values}
        for name, factory in factories:
            data[name] = factory()
        m = _new(self.cls)
        _set_dict(m, data)
        _set_fields_set(m, fields_set)
        _set_extra(m, None)
        _set_private(m, None)
        return m

    def complete(self, order: tuple[str, ...], given: tuple[str, ...] = ()) -> Builder[M]:
        """A builder from a dict that holds every field in declaration order, `order` (the
        caller writes its dicts that way; checked here once, not per call): no keyword
        packing and no template merge. `given` names the fields the caller sets on purpose
        (`model_fields_set`, as the keywords of a validated call would); default: all."""
        if order != tuple(self.template) or not set(given) <= set(order):
            raise TypeError(f"{self.cls.__name__}: fields are {tuple(self.template)}")
        cls, fields_set = self.cls, set(given or order)

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
