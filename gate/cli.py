"""The command line: parses, wires, renders and picks the exit code. No policy logic here.

Exit codes: 0 PASS, 1 FAIL, 2 usage error or invalid policy, 3 ERROR (gate could not
judge, including any unexpected internal error).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

import typer

from gate import __version__
from gate.errors import GateError, OutputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from gate.models import PolicyRef, SourceRun, Verdict
    from gate.policy.model import Policy

app = typer.Typer(
    name="gate",
    help=(
        "One trustworthy verdict from Trivy, npm audit, pip-audit, SARIF and branch protection.\n\n"
        "Exit codes: 0 PASS, 1 FAIL, 2 usage error or invalid policy, 3 ERROR (could not judge)."
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policy_app = typer.Typer(help="Validate policy files and print their schema.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """One trustworthy verdict for a supply-chain security gate in CI/CD."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    from gate.ingest._common import parse_timestamp

    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(f"--now: not an RFC 3339 timestamp: {value!r}")
    return parsed


def _resolve_policy(path: Path | None) -> Path:
    from gate.policy.load import bundled_policy_path

    if path is not None:
        return path
    local = Path("gate.yaml")
    return local if local.is_file() else bundled_policy_path("default")


def _load_policy(
    path: Path | None, extra: list[Path], now: dt.datetime
) -> tuple[Policy, PolicyRef]:
    from gate.policy.load import check_exception_horizon, load_exceptions, load_policy

    policy, ref = load_policy(_resolve_policy(path), today=now.date())
    if extra:
        added = [e for p in extra for e in load_exceptions(p)]
        policy = policy.model_copy(update={"exceptions": [*policy.exceptions, *added]})
        check_exception_horizon(policy, now.date())
    return policy, ref


def _collect(
    *,
    image: str | None,
    input_path: Path | None,
    trivy: list[Path],
    npm_audit: list[Path],
    pip_audit: list[Path],
    sarif: list[Path],
    branch_protection: list[Path],
    github_repo: str | None,
    branch: str | None,
    policy: Policy,
    trivy_bin: str | None,
    scan_timeout: float,
    verify_digest: bool,
) -> list[SourceRun]:
    from gate.ingest import load_report
    from gate.models import InputKind

    runs: list[SourceRun] = []
    if image is not None or input_path is not None:
        from gate.scanners.trivy import scan_image

        runs.append(
            scan_image(
                image,
                input_path=input_path,
                settings=policy.trivy,
                trivy_bin=trivy_bin,
                timeout=scan_timeout,
                verify_digest=verify_digest,
                progress=True,  # gate.progress picks a spinner or plain lines itself
            )
        )
    for kind, paths in (
        (InputKind.TRIVY, trivy),
        (InputKind.NPM_AUDIT, npm_audit),
        (InputKind.PIP_AUDIT, pip_audit),
        (InputKind.SARIF, sarif),
        (InputKind.BRANCH_PROTECTION, branch_protection),
    ):
        runs += [load_report(kind, p) for p in paths]
    if github_repo is not None:
        from gate.github import fetch_branch_protection

        target = branch or (policy.branch_protection.branch if policy.branch_protection else None)
        if not target:
            raise UsageError(
                "--github-repo needs --branch (or branch_protection.branch in the policy)"
            )
        runs += fetch_branch_protection(github_repo, target)
    elif branch is not None:
        raise UsageError("--branch needs --github-repo OWNER/REPO")
    return runs


def _write(
    path: Path,
    content: str | bytes | Callable[[BinaryIO], None],
    what: str,
    *,
    append: bool = False,
) -> None:
    """Write `content` (text, bytes, or a function that streams into a binary file)."""
    if callable(content):
        write = content
    else:
        data = content.encode() if isinstance(content, str) else content

        def write(fh: BinaryIO) -> None:
            fh.write(data)

    try:
        if str(path) == "-":
            sys.stdout.flush()
            write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        with path.open("ab" if append else "wb") as fh:
            write(fh)
    except OSError as e:
        raise OutputError(f"cannot write the {what} to {path}: {e.strerror}") from None


def _outputs(
    verdict: Verdict,
    *,
    json_path: Path | None,
    summary: Path | None,
    sarif_output: Path | None,
    sarif_location: str | None,
    sarif_category: str | None,
) -> None:
    if json_path is not None:
        from gate.report.json import write_json

        _write(json_path, lambda fh: write_json(verdict, fh), "JSON verdict")
    if sarif_output is not None:
        from gate.report.sarif import write_sarif

        try:
            notes = write_sarif(
                verdict, sarif_output, location=sarif_location, category=sarif_category
            )
        except OSError as e:
            raise OutputError(f"cannot write SARIF to {sarif_output}: {e.strerror}") from None
        for note in notes:
            _err(f"gate: sarif: {note}")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    target = summary or (Path(step_summary) if step_summary else None)
    if target is not None:
        from gate.report.markdown import render_markdown

        # GitHub's step summary file is shared by the job's steps: append to it.
        _write(target, render_markdown(verdict), "summary", append=summary is None)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from gate.report.annotations import render_annotations

        for line in render_annotations(verdict):
            typer.echo(line)


def _import_judging() -> None:
    import gate.engine
    import gate.ingest.trivy
    import gate.report.console
    import gate.report.json  # noqa: F401


def _meanwhile(work: Callable[[], list[SourceRun]], other: Callable[[], None]) -> list[SourceRun]:
    """`work()` on a thread (it waits on trivy, without the GIL) while `other()` runs here;
    `work`'s result, or its exception raised here."""
    import threading

    result: list[list[SourceRun]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)

    worker = threading.Thread(target=run, name="gate-scan", daemon=True)
    worker.start()
    other()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


PathOpt = Annotated[list[Path], typer.Option(metavar="PATH")]


@app.command()
def check(
    image: Annotated[
        str | None,
        typer.Argument(
            metavar="IMAGE",
            help="Image to scan with trivy: repo:tag, repo@sha256:…, host:port/app:1.",
        ),
    ] = None,
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            metavar="PATH",
            help="Scan an image archive: docker-archive tar (gzipped or not) or OCI layout dir.",
        ),
    ] = None,
    trivy: Annotated[
        list[Path], typer.Option("--trivy", metavar="PATH", help="A saved Trivy JSON report.")
    ] = [],  # noqa: B006 (typer reads the default; it is never mutated)
    npm_audit: Annotated[
        list[Path], typer.Option("--npm-audit", metavar="PATH", help="`npm audit --json` output.")
    ] = [],  # noqa: B006
    pip_audit: Annotated[
        list[Path], typer.Option("--pip-audit", metavar="PATH", help="`pip-audit -f json` output.")
    ] = [],  # noqa: B006
    sarif: Annotated[
        list[Path], typer.Option("--sarif", metavar="PATH", help="SARIF 2.1.0 (CodeQL, …).")
    ] = [],  # noqa: B006
    branch_protection: Annotated[
        list[Path],
        typer.Option(
            "--branch-protection",
            metavar="PATH",
            help="A saved GitHub branch-protection or rules/branches API response.",
        ),
    ] = [],  # noqa: B006
    github_repo: Annotated[
        str | None,
        typer.Option(
            metavar="OWNER/REPO",
            help="OWNER/REPO: read branch protection and rulesets from the GitHub API.",
        ),
    ] = None,
    branch: Annotated[
        str | None, typer.Option(metavar="NAME", help="The branch to check (with --github-repo).")
    ] = None,
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
    json_out: Annotated[
        Path | None, typer.Option("--json", metavar="PATH", help="Write the JSON verdict here.")
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="Markdown summary. Default: $GITHUB_STEP_SUMMARY if set."
        ),
    ] = None,
    sarif_output: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Write SARIF 2.1.0 for code scanning.")
    ] = None,
    sarif_location: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Repository file that findings without one (image, npm, pip, branch) point at "
            "in SARIF (default: ./Dockerfile for images, the lockfile for npm and pip).",
        ),
    ] = None,
    sarif_category: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="SARIF automationDetails category (default: one per image)."
        ),
    ] = None,
    trivy_bin: Annotated[
        str | None,
        typer.Option(metavar="PATH", help="The trivy binary (default: $GATE_TRIVY, then PATH)."),
    ] = None,
    scan_timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", help="Seconds before a trivy scan is killed (an ERROR)."),
    ] = 600.0,
    verify_digest: Annotated[
        bool,
        typer.Option(help="Cross-check the scanned digest with a HEAD on the registry manifest."),
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(hidden=True, help="Evaluate as of this RFC 3339 time (reproducible runs)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """Judge an image and its reports against the policy; print and write the verdict."""
    import gc

    # A short-lived command that builds tens of thousands of acyclic frozen models (a large
    # image's findings): the cyclic collector would only walk them again and again.
    gc.disable()
    when = _parse_now(now)
    pol, ref = _load_policy(policy, exceptions, when)
    if not any(
        [image, input_path, trivy, npm_audit, pip_audit, sarif, branch_protection, github_repo]
    ):
        raise UsageError(
            "nothing to check: give an IMAGE, --input, or a report "
            "(--trivy, --npm-audit, --pip-audit, --sarif, --branch-protection, --github-repo)"
        )
    collect = functools.partial(
        _collect,
        image=image,
        input_path=input_path,
        trivy=trivy,
        npm_audit=npm_audit,
        pip_audit=pip_audit,
        sarif=sarif,
        branch_protection=branch_protection,
        github_repo=github_repo,
        branch=branch,
        policy=pol,
        trivy_bin=trivy_bin,
        scan_timeout=scan_timeout,
        verify_digest=verify_digest,
    )
    if image is None and input_path is None:
        runs = collect()
    else:
        # trivy scans for 0.1 s or more: import what judging needs while it runs
        import gate.scanners.trivy  # noqa: F401 (first: the scan's own imports, uncontended)

        runs = _meanwhile(collect, _import_judging)
    from gate.engine import evaluate
    from gate.report.console import render_console

    verdict = evaluate(runs, pol, when, policy_ref=ref)
    _outputs(
        verdict,
        json_path=json_out,
        summary=summary,
        sarif_output=sarif_output,
        sarif_location=sarif_location,
        sarif_category=sarif_category,
    )
    typer.echo(render_console(verdict, color=sys.stdout.isatty()), nl=False)
    raise typer.Exit({"PASS": EXIT_PASS, "FAIL": EXIT_FAIL}.get(verdict.result.value, EXIT_ERROR))


@policy_app.command("validate")
def policy_validate(
    paths: Annotated[list[Path], typer.Argument(help="Policy files to validate.")],
) -> None:
    """Validate policy files strictly; exit 2 on the first invalid one."""
    from gate.policy.load import load_policy

    today = dt.datetime.now(dt.UTC).date()
    for path in paths:
        policy, ref = load_policy(path, today=today)
        typer.echo(f"{path}: valid ({policy.name or 'unnamed'}, sha256 {ref.sha256[:12]})")


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy file's JSON Schema."""
    from gate.policy.load import policy_json_schema

    typer.echo(policy_json_schema(), nl=False)


@app.command("schema")
def verdict_schema() -> None:
    """Print the JSON verdict's JSON Schema."""
    from gate.report.json import verdict_json_schema

    typer.echo(verdict_json_schema(), nl=False)


def _run(args: list[str]) -> int:
    """Run the app; every outcome becomes one of gate's exit codes (never 1 on a crash).

    Typer handles usage errors (exit 2) and `typer.Exit`; `GateError`s print their
    diagnostics and exit with their code; anything else is a bug: exit 3, one line,
    and the traceback only under `--verbose`.
    """
    verbose = "--verbose" in args or "-v" in args
    try:
        app(args=args, prog_name="gate")
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        _err(str(e.code))
        return EXIT_ERROR
    except GateError as e:
        if verbose:
            import traceback

            traceback.print_exc()
        _err(f"gate: {e.diagnostics()}")
        return e.exit_code
    except Exception as e:  # a bug: never let it read as a policy FAIL (exit 1)
        if verbose:
            import traceback

            traceback.print_exc()
        _err(
            f"gate: internal error: {type(e).__name__}: {e}"
            + ("" if verbose else " (rerun with --verbose for the traceback)")
        )
        return EXIT_ERROR
    return 0


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script (`gate`, `python -m gate`); `argv` is for in-process callers."""
    code = _run(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # The process ends here: skip tearing down every finding of a large image one by
        # one (0.2 s for 50,000), once what was written is flushed.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)
