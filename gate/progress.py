"""Progress on stderr for long steps: a spinner on a terminal, plain log lines in CI.

    with Progress("trivy", enabled=True) as p:
        p.phase("scanning registry.example/app:1")
        ...
        p.phase("verifying the digest")

On a terminal (stderr is a TTY, `CI` is not set, `TERM` is not `dumb`) a spinner line shows
the label, the phase and the elapsed time, redrawn ten times a second and cleared at the
end. Elsewhere each new phase is one line, `gate: trivy: scanning … (0.0s)`, so CI logs
stay readable. `enabled=False` prints nothing. Nothing here touches stdout. Labels and
phases may name an image: they are shown through `gate.common.sanitize`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from gate.common import sanitize

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ASCII_FRAMES = "|/-\\"


def interactive(stream: TextIO) -> bool:
    """True on a terminal outside CI: draw a spinner; False: write plain lines."""
    if (os.environ.get("CI") or "").strip().lower() not in ("", "0", "false", "no"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A context manager that reports phases of one step on stderr."""

    def __init__(
        self,
        label: str,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        spinner: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.label = sanitize.text(label)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.spinner = interactive(self.stream) if spinner is None else spinner
        self.interval = interval
        self._phase = ""
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        encoding = (getattr(self.stream, "encoding", None) or "ascii").lower()
        self._frames = _FRAMES if encoding.startswith("utf") else _ASCII_FRAMES

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def started_at(self, when: float) -> None:
        """Count the elapsed time from `when` (`time.monotonic()`): a step begun earlier."""
        self._start = when

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self.enabled and self.spinner:
            self._thread = threading.Thread(target=self._spin, name="gate-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def phase(self, text: str) -> None:
        """Start a new phase; repeated phases are not written twice."""
        text = sanitize.text(text)
        with self._lock:
            if text == self._phase:
                return
            self._phase = text
        if self.enabled and not self.spinner:
            line = f"gate: {self.label}: {text} ({self.elapsed:.1f}s)"
            self._write(sanitize.guard_line(line) + "\n")

    def close(self, final: str | None = None) -> None:
        """Stop the spinner and clear its line; write `final` as a last line if given."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self._write("\r\x1b[K")
        if self.enabled and final:
            line = f"gate: {self.label}: {sanitize.text(final)} ({self.elapsed:.1f}s)"
            self._write(sanitize.guard_line(line) + "\n")

    def _spin(self) -> None:
        i = 0
        while not self._stop.wait(self.interval if i else 0):
            with self._lock:
                phase = self._phase
            frame = self._frames[i % len(self._frames)]
            self._write(f"\r\x1b[K{frame} {self.label}: {phase} ({self.elapsed:.1f}s)")
            i += 1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the scan
            pass
