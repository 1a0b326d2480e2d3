"""How `gate check` gathers its inputs and writes its outputs; `gate.cli` stays thin.

Nothing here decides anything: the engine judges, the reporters render. This module
picks the policy file, reads or scans each input, and writes each requested output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import UsageError
from gate.policy.trivy import DEFAULT_SCAN_TIMEOUT

if TYPE_CHECKING:
    from gate.audit.collect import AuditRequest
    from gate.models import PolicyRef, SourceRun
    from gate.policy.model import Policy


def parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    from gate.common.timestamps import parse_timestamp

    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(f"--now: not an RFC 3339 timestamp: {value!r}")
    return parsed


def check_limits(*, scan_timeout: float, max_input_bytes: str) -> None:
    """`--scan-timeout` and `--max-input-bytes`: a bad value is a usage error (exit 2);
    a good `--max-input-bytes` becomes the limit every report is read under."""
    from gate.common.files import parse_size, set_max_input_bytes
    from gate.scanners.trivy.early import MAX_TIMEOUT, valid_timeout

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


@dataclass(frozen=True, slots=True)
class Inputs:
    """What `gate check` was asked to judge: an image to scan, reports, a GitHub branch."""

    image: str | None = None
    input_path: Path | None = None
    trivy: Sequence[Path] = ()
    npm_audit: Sequence[Path] = ()
    pip_audit: Sequence[Path] = ()
    sarif: Sequence[Path] = ()
    branch_protection: Sequence[Path] = ()
    github_repo: str | None = None
    branch: str | None = None
    trivy_bin: str | None = None
    scan_timeout: float = DEFAULT_SCAN_TIMEOUT
    verify_digest: bool = True
    platform: str | None = None
    insecure: bool = False
    all_platforms: bool = False
    """Scan every platform of a multi-platform image (`gate.attest.platforms`)."""
    trivy_sha256: str | None = None
    """Run only the trivy binary with this sha256 (`--trivy-sha256`)."""
    audits: AuditRequest | None = None
    """The audits gate runs itself (`gate.audit`), and their options."""

    @property
    def scans(self) -> bool:
        """An image (a registry reference or `--input`) is to be scanned with trivy."""
        return self.image is not None or self.input_path is not None

    @property
    def empty(self) -> bool:
        """Nothing to judge at all (`--branch` alone is not an input)."""
        reports = (self.trivy, self.npm_audit, self.pip_audit, self.sarif, self.branch_protection)
        audits = self.audits is not None and self.audits.any()
        return not (self.scans or any(reports) or self.github_repo or audits)


def collect(inputs: Inputs, policy: Policy) -> list[SourceRun]:
    """One `SourceRun` per input: the scan first, then each report, the audits gate runs,
    then GitHub's answers."""
    from gate.ingest import load_report
    from gate.models import InputKind

    runs: list[SourceRun] = []
    if inputs.scans:
        from gate.scanners.trivy.scan import scan_image

        targets: list[tuple[str | None, str | None]] = [(inputs.image, inputs.platform)]
        if inputs.all_platforms:
            from gate.attest.platforms import every_platform

            targets = every_platform(
                inputs.image,
                inputs.input_path,
                inputs.platform,
                inputs.scan_timeout,
                inputs.insecure,
            )
        runs += [
            scan_image(
                target,
                input_path=inputs.input_path,
                settings=policy.trivy,
                trivy_bin=inputs.trivy_bin,
                timeout=inputs.scan_timeout,
                verify_digest=inputs.verify_digest,
                progress=True,  # gate.progress picks a spinner or plain lines itself
                platform=plat,
                insecure=inputs.insecure,
                trivy_sha256=inputs.trivy_sha256,
            )
            for target, plat in targets
        ]
    for kind, paths in (
        (InputKind.TRIVY, inputs.trivy),
        (InputKind.NPM_AUDIT, inputs.npm_audit),
        (InputKind.PIP_AUDIT, inputs.pip_audit),
        (InputKind.SARIF, inputs.sarif),
        (InputKind.BRANCH_PROTECTION, inputs.branch_protection),
    ):
        runs += [load_report(kind, p) for p in paths]
    if inputs.audits is not None:
        from gate.audit.collect import rate_saved, run_audits, scope_warnings, with_lockfile

        runs = with_lockfile(runs, inputs.audits.npm_lockfile)
        runs = rate_saved(runs, inputs.audits)
        runs += run_audits(inputs.audits)
        runs = scope_warnings(runs, policy)
    branch = inputs.branch
    if inputs.github_repo is not None:
        from gate.branch_protection.fetch import fetch_branch_protection

        target = branch or (policy.branch_protection.branch if policy.branch_protection else None)
        if not target:
            raise UsageError(
                "--github-repo needs --branch (or branch_protection.branch in the policy)"
            )
        runs += fetch_branch_protection(inputs.github_repo, target)
    elif branch is not None:
        raise UsageError("--branch needs --github-repo OWNER/REPO")
    return runs


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
        from gate.scanners.trivy import process

        process.kill_all()
        done.wait(timeout=10)
        raise
    if failure:
        raise failure[0]
    return result[0]
