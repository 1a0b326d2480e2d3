"""Run the `gate` CLI in this process (so coverage sees it), as a subprocess test would:
`run(*args, env={...})` returns the exit code and what was printed on stdout and stderr."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gate.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environ(env: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _stream() -> io.TextIOWrapper:
    """A text stream with a `.buffer`, as `sys.stdout` has (reporters write bytes to it)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8")


def run(*args: str | Path, env: dict[str, str] | None = None) -> Ran:
    out, err = _stream(), _stream()
    with _environ(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
        else:  # pragma: no cover - main always exits
            code = None
    assert isinstance(code, int), code
    stdout, stderr = _text(out), _text(err)
    assert "Traceback" not in stderr, stderr
    return Ran(code, stdout, stderr)
