"""The console script (`gate`) and `python -m gate`.

A scan (`gate check IMAGE` or `--input`) starts trivy first (`gate.scanners.early`), so that
loading the CLI, pydantic and the policy happens while trivy runs, not before.
"""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> NoReturn:
    from gate.scanners import early

    early.start(sys.argv[1:])
    from gate.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
