"""`python -m gate`."""

from __future__ import annotations


def _run() -> None:
    from gate.cli import main

    main()


if __name__ == "__main__":
    _run()
