"""`gate exceptions`: the command's options; the listing is `gate.exception_list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gate import wiring
from gate.errors import UsageError


def exceptions_cmd(
    policy: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Policy file. Default: ./gate.yaml if present, else the bundled default.",
        ),
    ] = None,
    exceptions: Annotated[
        list[Path],
        typer.Option("--exceptions", metavar="PATH", help="An exceptions file (YAML) to add."),
    ] = [],  # noqa: B006
    vex: Annotated[
        list[Path], typer.Option("--vex", metavar="PATH", help="A VEX document to list.")
    ] = [],  # noqa: B006
    ignore_file: Annotated[
        list[Path],
        typer.Option("--ignore-file", metavar="PATH", help="An ignore file to list."),
    ] = [],  # noqa: B006
    verdict: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="The last JSON verdict: its unused exceptions are `unused`."
        ),
    ] = None,
    expiring_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            metavar="DAYS",
            help="`expiring` within this many days (default: exception_rules.expiring_days).",
        ),
    ] = None,
    fail_on: Annotated[
        list[str],
        typer.Option(
            "--fail-on",
            metavar="STATE",
            help="Exit 1 if any exception is in this state: expired, expiring or unused.",
        ),
    ] = [],  # noqa: B006
    now: Annotated[
        str | None,
        typer.Option(hidden=True, help="List as of this RFC 3339 time (reproducible runs)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """List every exception and VEX statement with its origin, scope, owner, expiry and state."""
    from gate.exception_list import list_exceptions, render

    wrong = sorted(set(fail_on) - {"expired", "expiring", "unused"})
    if wrong:
        raise UsageError(f"--fail-on: expected expired, expiring or unused, got {wrong[0]!r}")
    when = wiring.parse_now(now)
    items, warnings = list_exceptions(
        policy_path=policy,
        exceptions=exceptions,
        vex=vex,
        ignore_files=ignore_file,
        verdict=verdict,
        today=when.date(),
        expiring_days=expiring_days,
    )
    from gate.common.sanitize import github_block

    typer.echo(github_block(render(items, warnings)), nl=False)
    raise typer.Exit(1 if any(it.state in fail_on for it in items) else 0)
