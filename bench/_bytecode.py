"""Benchmarks time gate as installed: with its modules byte-compiled.

`pip install` of a wheel writes `.pyc` files; an editable install under
`PYTHONDONTWRITEBYTECODE=1` (as on this project's machines) never does, so every run
would recompile about 30 modules (~35 ms) that no real installation pays for.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gate"


def compile_gate() -> None:
    if not compileall.compile_dir(str(PACKAGE), quiet=1):
        raise SystemExit(f"could not byte-compile {PACKAGE}")
