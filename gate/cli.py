"""The command line: parses, wires, renders and picks the exit code. No policy logic here.

Length (over ~400 lines): one idea, the command declarations; `check` alone declares ~40
options with their help text, and each command's work lives in its package (`wiring`,
`gate.attest.commands`, `gate.cli_exceptions`).

Exit codes: 0 PASS, 1 FAIL, 2 usage error or invalid policy, 3 ERROR (gate could not
judge, including any unexpected internal error).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from gate import __version__, lifetime, wiring
from gate.attest import commands as attest_commands
from gate.cli_exceptions import exceptions_cmd
from gate.errors import GateError, UsageError
from gate.policy.trivy import DEFAULT_SCAN_TIMEOUT

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

EXIT_ERROR = 3  # and Result.exit_code: 0 PASS, 1 FAIL; 2 is a usage error (typer's)


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


def _note(message: str) -> None:
    """A note about an output on stderr, escaped (gate's own words, about the verdict)."""
    from gate.common.sanitize import for_stream

    typer.echo(for_stream(message), err=True)


def _err(message: str) -> None:
    """An error on stderr: escaped, no workflow command, and under GitHub Actions inside a
    `::stop-commands::` block (it may quote trivy, a registry or the GitHub API)."""
    from gate.common.sanitize import for_stream, github_block

    typer.echo(github_block(for_stream(message) + "\n"), err=True, nl=False)


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
    python_project: Annotated[
        list[Path],
        typer.Option(
            "--python-project",
            metavar="PATH",
            help="Run pip-audit on a requirements file, a pyproject.toml or a directory with "
            "one (or with a pylock.toml).",
        ),
    ] = [],  # noqa: B006
    python_env: Annotated[
        bool, typer.Option("--python-env", help="Run pip-audit on the environment gate runs in.")
    ] = False,
    python_no_deps: Annotated[
        bool,
        typer.Option(
            "--python-no-deps",
            help="The requirements are fully pinned: audit them as written (pip-audit "
            "--no-deps --disable-pip), resolving nothing.",
        ),
    ] = False,
    osv_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="OSV service for pip-audit and severities (default: $PIP_AUDIT_OSV_URL, "
            "then api.osv.dev).",
        ),
    ] = None,
    index_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Package index pip-audit resolves requirements from."),
    ] = None,
    vulnerability_service: Annotated[
        str,
        typer.Option(metavar="osv|pypi|esms", help="pip-audit's vulnerability service."),
    ] = "osv",
    npm_project: Annotated[
        list[Path],
        typer.Option(
            "--npm-project", metavar="DIR", help="Run `npm audit` in DIR (it needs a lockfile)."
        ),
    ] = [],  # noqa: B006
    npm_registry: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The registry npm audit asks (default https://registry.npmjs.org/, "
            "whatever the project's .npmrc says).",
        ),
    ] = None,
    npm_lockfile: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="The package-lock.json an --npm-audit report was made from (installed "
            "versions for npm 7+ findings).",
        ),
    ] = None,
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
    vex: Annotated[
        list[Path],
        typer.Option(
            "--vex",
            metavar="PATH",
            help="A VEX document (OpenVEX, CycloneDX VEX, CSAF VEX): not_affected and fixed "
            "statements except the findings they match.",
        ),
    ] = [],  # noqa: B006
    ignore_file: Annotated[
        list[Path],
        typer.Option(
            "--ignore-file",
            metavar="PATH",
            help="A .trivyignore, .trivyignore.yaml or grype config whose entries become "
            "exceptions.",
        ),
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
    openvex_out: Annotated[
        Path | None,
        typer.Option(
            "--openvex",
            metavar="PATH",
            help="Write the excepted and not-affected decisions as OpenVEX v0.2.0.",
        ),
    ] = None,
    cyclonedx_out: Annotated[
        Path | None,
        typer.Option(
            "--cyclonedx",
            metavar="PATH",
            help="Write CycloneDX 1.6 JSON: the packages, the vulnerabilities and gate's "
            "decision on each as its analysis.",
        ),
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
    sarif_include: Annotated[
        str,
        typer.Option(
            metavar="attention|all",
            help="SARIF results: what fails, warns or is excepted (default), or all findings.",
        ),
    ] = "attention",
    trivy_bin: Annotated[
        str | None,
        typer.Option(metavar="PATH", help="The trivy binary (default: $GATE_TRIVY, then PATH)."),
    ] = None,
    trivy_sha256: Annotated[
        str | None,
        typer.Option(
            metavar="HEX",
            help="Run trivy only if its binary has this sha256 (else an ERROR).",
        ),
    ] = None,
    scan_timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Seconds before a trivy scan or an audit is killed (an ERROR); above 0, at "
            "most a week.",
        ),
    ] = DEFAULT_SCAN_TIMEOUT,
    max_input_bytes: Annotated[
        str,
        typer.Option(
            metavar="BYTES",
            help="Largest report file gate reads (K, M, G: binary multiples); a larger one "
            "is an ERROR.",
        ),
    ] = "1G",
    verify_digest: Annotated[
        bool,
        typer.Option(help="Check after the scan that the IMAGE's tag still names what it scanned."),
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option(
            metavar="OS/ARCH",
            help="Which platform of a multi-platform IMAGE to scan (default: this machine's).",
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Allow plain HTTP and unverified TLS to the IMAGE's registry (as "
            "TRIVY_INSECURE; credentials still never travel over plain HTTP).",
        ),
    ] = False,
    all_platforms: Annotated[
        bool,
        typer.Option(
            "--all-platforms",
            help="Scan every platform of a multi-platform IMAGE (by its index digest); "
            "--sign then signs the index and each platform manifest, if all pass.",
        ),
    ] = False,
    sign: Annotated[
        bool,
        typer.Option(
            "--sign",
            help="On a PASS bound to a confirmed digest, sign a SLSA verification summary "
            "(keyless, or --key). A FAIL or an ERROR is never signed and keeps its exit code "
            "(1, 3); a PASS that cannot be signed (no or unconfirmed digest) is an ERROR.",
        ),
    ] = False,
    key: attest_commands.KeyOpt = None,
    bundle: attest_commands.BundleOpt = None,
    trust_config: attest_commands.TrustConfigOpt = None,
    identity_token: attest_commands.IdentityTokenOpt = None,
    attach: attest_commands.AttachOpt = False,
    now: Annotated[
        str | None,
        typer.Option(hidden=True, help="Evaluate as of this RFC 3339 time (reproducible runs)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """Judge an image and its reports against the policy; print and write the verdict."""
    lifetime.pause_collector()  # tens of thousands of acyclic models: see gate.lifetime
    wiring.check_limits(scan_timeout=scan_timeout, max_input_bytes=max_input_bytes)
    when = wiring.parse_now(now)
    if not sign and (key or bundle or trust_config or identity_token or attach):
        raise UsageError(
            "--key, --bundle, --trust-config, --identity-token and --attach need --sign"
        )
    from gate.scanners.trivy.vouch import parse_pin

    pin = parse_pin(trivy_sha256)
    if sarif_include not in ("attention", "all"):
        raise UsageError(f"--sarif-include: expected attention or all, got {sarif_include!r}")
    pol, ref = wiring.load_policy_and_exceptions(policy, exceptions, when)
    from gate.audit.collect import AuditRequest

    audits = AuditRequest(
        python_project=python_project,
        python_env=python_env,
        python_no_deps=python_no_deps,
        osv_url=osv_url,
        index_url=index_url,
        vulnerability_service=vulnerability_service,
        npm_project=npm_project,
        npm_registry=npm_registry,
        npm_lockfile=npm_lockfile,
        timeout=scan_timeout,
    )

    from gate.exception_files import read_exception_sources

    sources = read_exception_sources(vex, ignore_file, pol.exception_rules)
    inputs = wiring.Inputs(
        image=image,
        input_path=input_path,
        trivy=trivy,
        npm_audit=npm_audit,
        pip_audit=pip_audit,
        sarif=sarif,
        branch_protection=branch_protection,
        github_repo=github_repo,
        branch=branch,
        audits=audits,
        trivy_bin=trivy_bin,
        trivy_sha256=pin,
        scan_timeout=scan_timeout,
        verify_digest=verify_digest,
        platform=platform,
        insecure=insecure,
        all_platforms=all_platforms,
    )
    if inputs.empty:
        raise UsageError(
            "nothing to check: give an IMAGE, --input, a report (--trivy, --npm-audit, "
            "--pip-audit, --sarif, --branch-protection, --github-repo) or an audit "
            "(--python-project, --python-env, --npm-project)"
        )
    if not inputs.scans:
        runs = wiring.collect(inputs, pol)
    else:
        # trivy scans for 0.1 s or more: import what judging needs while it runs
        import gate.scanners.trivy.scan  # noqa: F401 (first: the scan's own imports, uncontended)

        runs = wiring.meanwhile(lambda: wiring.collect(inputs, pol), wiring.import_judging)
    from gate.common.sanitize import github_block
    from gate.engine import evaluate
    from gate.exception_files import add_exception_files, image_digests
    from gate.report.console import render_console
    from gate.report.dispatch import write_reports
    from gate.report.interface import OutputRequest

    pol, ref, warnings = add_exception_files(
        pol, ref, sources, digests=image_digests(runs), today=when.date()
    )
    verdict = evaluate(runs, pol, when, policy_ref=ref)
    if warnings:
        verdict = verdict.model_copy(update={"notes": (*verdict.notes, *warnings)})
    outputs = OutputRequest(
        json_path=json_out,
        summary=summary,
        sarif_output=sarif_output,
        sarif_location=sarif_location,
        sarif_category=sarif_category,
        sarif_include=sarif_include,
        openvex=openvex_out,
        cyclonedx=cyclonedx_out,
    )
    write_reports(verdict, outputs, os.environ, _note)
    try:
        report = render_console(verdict, color=sys.stdout.isatty())
        typer.echo(github_block(report), nl=False)
    except BrokenPipeError:  # stdout closed (`gate check … | head`): the verdict still stands
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more reaches the pipe
    lifetime.keep(verdict)
    if sign and verdict.result.exit_code != 0:
        # a FAIL keeps exit 1 (it outranks a signing refusal for CI), an ERROR exit 3
        _note(f"gate: not signed: the verdict is {verdict.result.value}")
    elif sign:
        from gate.attest.sign import SignOptions, sign_verdict

        opts = SignOptions(
            key=key,
            trust_config=trust_config,
            identity_token=identity_token,
            bundle=bundle,
            attach=attach,
            insecure=insecure,
            timeout=scan_timeout,
        )
        typer.echo(github_block(sign_verdict(verdict, opts, now=when)), nl=False)
    raise typer.Exit(verdict.result.exit_code)


app.command("exceptions")(exceptions_cmd)


@policy_app.command("validate")
def policy_validate(
    paths: Annotated[list[Path], typer.Argument(help="Policy files to validate.")],
) -> None:
    """Validate policy files strictly; exit 2 on the first invalid one."""
    from gate.common.sanitize import for_stream, text
    from gate.policy.load import load_policy

    today = dt.datetime.now(dt.UTC).date()
    for path in paths:
        policy, ref = load_policy(path, today=today)
        name = text(policy.name or "unnamed")
        typer.echo(for_stream(f"{path}: valid ({name}, sha256 {ref.sha256[:12]})"))


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy file's JSON Schema."""
    from gate.policy.load import policy_json_schema

    typer.echo(policy_json_schema(), nl=False)


def _register_attest_commands() -> None:
    from gate.attest import commands

    app.command("keygen")(commands.keygen)
    app.command("sign")(commands.sign)
    app.command("verify")(commands.verify)


_register_attest_commands()


@app.command("schema")
def verdict_schema() -> None:
    """Print the JSON verdict's JSON Schema."""
    from gate.report.json_schema import verdict_json_schema

    typer.echo(verdict_json_schema(), nl=False)


def _traceback() -> None:
    """`--verbose`: the exception being handled, with its causes (`raise … from e`), on
    stderr and escaped like any message (a cause may quote a report)."""
    import traceback

    _err(traceback.format_exc().rstrip())


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
            _traceback()
        _err(f"gate: {e.diagnostics()}")
        return e.exit_code
    except Exception as e:  # a bug: never let it read as a policy FAIL (exit 1)
        if verbose:
            _traceback()
        _err(
            f"gate: internal error: {type(e).__name__}: {e}"
            + ("" if verbose else " (rerun with --verbose for the traceback)")
        )
        return EXIT_ERROR
    finally:
        from gate.scanners.trivy import early

        early.discard()  # a scan started early that this command did not adopt
    return 0


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script (`gate`, `python -m gate`); `argv` is for in-process callers."""
    collector_was_on = lifetime.collecting()  # `check` pauses it for its findings
    try:
        code = _run(sys.argv[1:] if argv is None else argv)
    finally:
        from gate.scanners.trivy import process

        process.kill_all()  # a scan a signal interrupted: its waiting thread never heard
    lifetime.end(code, whole_process=argv is None, collector_was_on=collector_was_on)
