"""How `gate check` gathers its inputs and writes its outputs; `gate.cli` stays thin.

Nothing here decides anything: the engine judges, the reporters render. This module
picks the policy file, reads or scans each input, and writes each requested output.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import typer

from gate.errors import OutputError, UsageError

if TYPE_CHECKING:
    from gate.audit.collect import AuditRequest
    from gate.models import PolicyRef, SourceRun, Verdict
    from gate.policy.model import Policy


def _err(message: str) -> None:
    from gate.sanitize import for_stream

    typer.echo(for_stream(message), err=True)


def parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    from gate.ingest._common import parse_timestamp

    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(f"--now: not an RFC 3339 timestamp: {value!r}")
    return parsed


def check_limits(*, scan_timeout: float, max_input_bytes: str) -> None:
    """`--scan-timeout` and `--max-input-bytes`: a bad value is a usage error (exit 2);
    a good `--max-input-bytes` becomes the limit every report is read under."""
    from gate.files import parse_size, set_max_input_bytes
    from gate.scanners.early import MAX_TIMEOUT, valid_timeout

    if not valid_timeout(scan_timeout):
        raise UsageError(
            f"--scan-timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g} "
            f"(a week), got {scan_timeout!r}"
        )
    try:
        set_max_input_bytes(parse_size(max_input_bytes))
    except ValueError as e:
        raise UsageError(f"--max-input-bytes: {e}") from e


def load_policy_and_exceptions(
    path: Path | None, extra: list[Path], now: dt.datetime
) -> tuple[Policy, PolicyRef]:
    from gate.models import ExceptionsFile
    from gate.policy.load import check_exception_rules, load_policy, read_exceptions_file
    from gate.policy.paths import resolve_policy

    policy, ref = load_policy(resolve_policy(path), today=now.date())
    if not extra:
        return policy, ref
    exceptions = list(policy.exceptions)
    files = []
    for p in extra:
        added, sha = read_exceptions_file(p)
        files.append(
            ExceptionsFile(path=str(p), sha256=sha, first=len(exceptions), count=len(added))
        )
        exceptions += added
    policy = policy.model_copy(update={"exceptions": exceptions})
    ref = ref.model_copy(update={"exception_files": tuple(files)})
    check_exception_rules(policy, now.date(), ref)  # the files' exceptions obey them too
    return policy, ref


def collect(
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
    audits: AuditRequest | None = None,
    scan_timeout: float,
    verify_digest: bool,
    platform: str | None = None,
    insecure: bool = False,
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
                platform=platform,
                insecure=insecure,
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
    if audits is not None:
        from gate.audit.collect import rate_saved, run_audits, scope_warnings, with_lockfile

        runs = with_lockfile(runs, audits.npm_lockfile)
        runs = rate_saved(runs, audits)
        runs += run_audits(audits)
        runs = scope_warnings(runs, policy)
    if github_repo is not None:
        from gate.github_protection import fetch_branch_protection

        target = branch or (policy.branch_protection.branch if policy.branch_protection else None)
        if not target:
            raise UsageError(
                "--github-repo needs --branch (or branch_protection.branch in the policy)"
            )
        runs += fetch_branch_protection(github_repo, target)
    elif branch is not None:
        raise UsageError("--branch needs --github-repo OWNER/REPO")
    return runs


STDOUT_PATHS = frozenset({"-", "/dev/stdout"})
"""Output paths that mean gate's own stdout, written in place (not atomically)."""


def write_output(
    path: Path,
    content: str | bytes | Callable[[BinaryIO], None],
    what: str,
    *,
    append: bool = False,
) -> None:
    """Write `content` (text, bytes, or a function that streams into a binary file).

    `-` and `/dev/stdout` are gate's stdout; `/dev/null` discards. Any other path gets a
    regular file, written atomically (`gate.files.write_atomic`: never half-written, never
    through a symlink); with `append`, the content is added to the end of a regular file
    in one write (the step summary, which GitHub shares between a job's steps)."""
    from gate.files import FileProblem, append_regular, write_atomic

    if callable(content):
        write = content
    else:
        data = content.encode() if isinstance(content, str) else content

        def write(fh: BinaryIO) -> None:
            fh.write(data)

    try:
        if str(path) in STDOUT_PATHS:
            sys.stdout.flush()
            write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        elif str(path) == os.devnull:  # rendered, then discarded (benchmarks, dry runs)
            with open(os.devnull, "wb") as fh:
                write(fh)
        elif append:
            buffer = io.BytesIO()
            write(buffer)
            append_regular(path, buffer.getvalue())
        else:
            write_atomic(path, write)
    except FileProblem as e:
        raise OutputError(f"cannot write the {what} to {path}: {e}") from e
    except OSError as e:
        raise OutputError(f"cannot write the {what} to {path}: {e.strerror or e}") from None


def write_outputs(
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

        write_output(json_path, lambda fh: write_json(verdict, fh), "JSON verdict")
    if sarif_output is not None:
        from gate.report.sarif import encode_sarif

        data, notes = encode_sarif(verdict, location=sarif_location, category=sarif_category)
        write_output(sarif_output, data, "SARIF")
        for note in notes:
            _err(f"gate: sarif: {note}")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    target = summary or (Path(step_summary) if step_summary else None)
    if target is not None:
        from gate.report.markdown import render_markdown

        # GitHub's step summary file is shared by the job's steps: append to it.
        write_output(target, render_markdown(verdict), "summary", append=summary is None)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from gate.report.annotations import render_annotations

        for line in render_annotations(verdict):
            typer.echo(line)


def import_judging() -> None:
    """Load what judging a scan needs, while trivy runs, so none of it waits for the scan."""
    import gate.ingest.trivy
    import gate.report.console
    import gate.report.json  # noqa: F401
    from gate.rules import default_rules

    default_rules()  # imports each rule's module (and the engine's)


def meanwhile(work: Callable[[], list[SourceRun]], other: Callable[[], None]) -> list[SourceRun]:
    """`work()` on a thread (it waits on trivy, without the GIL) while `other()` runs here;
    `work`'s result, or its exception raised here."""
    import threading

    result: list[list[SourceRun]] = []
    failure: list[BaseException] = []
    # An Event, not `Thread.join`: a join that a signal interrupts marks the thread as
    # stopped while it still runs (CPython 3.11), and a second join would not wait.
    done = threading.Event()

    def run() -> None:
        try:
            result.append(work())
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)
        finally:
            done.set()

    threading.Thread(target=run, name="gate-scan", daemon=True).start()
    try:
        other()
        done.wait()
    except BaseException:  # Ctrl-C, SIGTERM: stop the scan, let its thread clean up, go on
        from gate.scanners import process

        process.kill_all()
        done.wait(timeout=10)
        raise
    if failure:
        raise failure[0]
    return result[0]
