"""One deadline for gate's registry and token calls (inside `--scan-timeout`).

`Deadline(seconds)` is the point in time; each request's timeout is what is left of it, and
`within(deadline, what, call)` runs a whole resolution on a worker thread that is abandoned
(an ERROR) when the deadline passes, so no answer, however slowly its headers or body
trickle, holds gate longer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from gate.oci.errors import RegistryError

_T = TypeVar("_T")


class Deadline:
    """One point in time by which all of gate's registry calls must be done."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self, what: str) -> RegistryError:
        return RegistryError(
            f"{what}: the registry did not answer within --scan-timeout ({self.seconds:g}s)"
        )

    def check(self, what: str) -> float:
        """The time left, or `RegistryError` when there is none."""
        left = self.remaining()
        if left <= 0:
            raise self.expired(what)
        return left


def within(deadline: Deadline, what: str, call: Callable[[], _T]) -> _T:
    """`call()` on a worker thread, abandoned (an ERROR) if it is not done by `deadline`:
    no registry answer, however slow its headers or body, holds gate longer."""
    if deadline.remaining() <= 0:
        raise deadline.expired(what)
    done: list[_T] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            done.append(call())
        except BaseException as e:  # handed to the caller's thread as it is
            failed.append(e)

    worker = threading.Thread(target=work, name="gate-registry", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.remaining()))
    if worker.is_alive():
        raise deadline.expired(what)
    if failed:
        raise failed[0]
    return done[0]
