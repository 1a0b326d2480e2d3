"""The console script (`gate`) and `python -m gate`.

A scan (`gate check IMAGE` or `--input`) starts trivy first (`gate.scanners.trivy.early`), so that
loading the CLI, pydantic and the policy happens while trivy runs, not before. Ctrl-C and
SIGTERM stop gate with exit 130 / 143, and trivy with it.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import NoReturn


def _stop(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM (a cancelled CI job): unwind, so that trivy's process group is
    killed on the way out, and exit 128 + the signal (130, 143): never 1, which is FAIL.
    (Left to itself, the CLI would turn Ctrl-C into "Aborted!" and exit 1.)"""
    sys.stderr.write(f"\ngate: stopped by {signal.Signals(signum).name}\n")
    raise SystemExit(128 + signum)


def main() -> NoReturn:
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    from gate.scanners.trivy import early, process

    try:
        early.start(sys.argv[1:])
        from gate.cli import main as cli_main
    except BaseException:  # stopped while loading: the early trivy must not linger
        early.discard()
        process.kill_all()
        raise
    cli_main()


if __name__ == "__main__":
    main()
