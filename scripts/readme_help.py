"""Keep the `gate check --help` block in README.md true: `--check` compares, else rewrites."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- BEGIN gate check --help -->", "<!-- END gate check --help -->"


def current_help() -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "gate", "check", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return "\n".join(line.rstrip() for line in out.strip().splitlines())


def expected_block() -> str:
    return f"{BEGIN}\n```text\n$ gate check --help\n{current_help()}\n```\n{END}"


def main() -> int:
    text = README.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    block = expected_block()
    if "--check" in sys.argv:
        if text[start:end] != block:
            print(
                "README.md: the `gate check --help` block is stale; run make readme",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(text[:start] + block + text[end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
