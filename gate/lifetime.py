"""How a `gate` process lives and ends: the speed tricks that only a short-lived command may
use, kept in one place.

- `pause_collector()`: `gate check` builds tens of thousands of acyclic frozen models (a
  large image's findings); the cyclic garbage collector would only walk them again and
  again, so it is off for the command.
- `keep(verdict)`: the last verdict stays referenced, so that it is not freed finding by
  finding as the command's frame unwinds (0.1 s for a large image) when the process is about
  to end anyway. Only the last one is kept, so in-process callers (tests) do not accumulate.
- `end(code, ...)`: the console script flushes its streams and ends with `os._exit`,
  skipping the teardown of every object (0.2 s for 50,000 findings); an in-process caller
  gets its collector back and a normal `SystemExit`.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

_kept: list[object] = []


def pause_collector() -> None:
    """Turn the cyclic collector off for the rest of the command (`end` restores it)."""
    gc.disable()


def collecting() -> bool:
    """Whether the collector runs now: what `end` restores for an in-process caller."""
    return gc.isenabled()


def keep(obj: object) -> None:
    """Keep `obj` (the verdict) alive until the process ends; forget the one kept before."""
    _kept[:] = [obj]


def end(code: int, *, whole_process: bool, collector_was_on: bool) -> NoReturn:
    """End the command with `code`: the whole process (the console script) at once, or,
    for an in-process caller, with `SystemExit` and the collector as it was."""
    if whole_process:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    if collector_was_on:
        gc.enable()
    sys.exit(code)
