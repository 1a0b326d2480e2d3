"""Run the real trivy on one image, hermetically, and bind its report to the image digest.

Length (just over ~400 lines): one idea, one scan from argv to SourceRun; the report checks
(`report`), the command (`command`) and the environment (`environment`) are already apart.

`scan_image("registry.example/app:1", ...)` or `scan_image(None, input_path=Path("img.tar"),
...)` runs `trivy image` with an argv list (never a shell) and returns a `SourceRun` of kind
`trivy`. It never raises for a scanner failure: a missing binary, a timeout, an unexpected
exit code, an absent, empty, truncated or foreign report, an image that cannot be pulled,
or a digest that does not match all give a `SourceRun` with status `error`, so the verdict
is ERROR (exit 3), never PASS.

How trivy is run:
- the binary: the `trivy_bin` argument, then `$GATE_TRIVY`, then `trivy` on `PATH`;
- an allow-list of the caller's environment passes through (`gate.scanners.trivy.environment`:
  `TRIVY_*`, registry credentials, proxies, certificates, the locale); gate's signing
  secrets, GitHub's OIDC request variables and `GITHUB_TOKEN` never reach trivy;
- hermetic flags override any `trivy.yaml`, `.trivyignore` or `TRIVY_*` setting that would
  hide findings: gate filters the full report itself, so trivy reports every severity, fix
  status, path and package type the policy asks for;
- `--exit-code 4`: trivy exits 4 when its report holds findings and 0 when it holds none,
  and the report must agree with the exit code (a report that lost its findings, or gained
  some, is not the one trivy wrote); any other exit code is a failure (1 is a fatal error,
  2 a Go panic, e.g. a corrupt DB);
- `--image-src remote` for registry images: gate judges what the registry serves;
- a timeout kills trivy's whole process group;
- the `gate` command starts trivy before its CLI loads (`gate.scanners.trivy.early`, which
  resolves a registry image first); the scan adopts that process (and that resolution)
  only if the argv and environment it builds here are identical.

A registry image is resolved first (`gate.oci.resolve`: tag → index → one platform
manifest, strictly, within the scan's deadline) and trivy scans exactly that manifest, by
digest; the subject is the image repository plus that digest, which trivy's report must
name (`gate.oci.binding`). `verify_digest` checks the tag still names it after the
scan. One deadline (`--scan-timeout`) covers gate's registry calls and trivy. For
`--input`, the digest is the one an OCI layout records for the scanned config; a
docker-archive records none, and a verdict without a digest cannot be signed. The DB's
metadata (from the `--cache-dir` gate passes, so it is the DB trivy used) gives its age
as facts (`gate.scanners.trivy.db`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from gate.common.redact import redact, redact_argv, secret_values
from gate.errors import ScannerError, UsageError
from gate.facts import Facts, ScanFacts
from gate.models import InputKind, InputStatus, SourceRun, Subject, ToolInfo
from gate.oci import ImageRef, RegistryError, binding, parse_reference
from gate.oci.credentials import truthy
from gate.oci.deadline import Deadline
from gate.oci.resolve import Resolution, resolve, still_names
from gate.policy.model import TrivySettings
from gate.progress import Progress
from gate.scanners.trivy import db as trivy_db
from gate.scanners.trivy import early, process
from gate.scanners.trivy import report as trivy_report
from gate.scanners.trivy import vouch as trivy_vouch
from gate.scanners.trivy.command import (
    FINDINGS_EXIT,
    INSTALL_HINT,
    PLATFORM,
    REPORT_NAME,
    build_argv,
    default_cache_dir,
    find_trivy,
    input_target,
    registry_target,
)
from gate.scanners.trivy.environment import trivy_environment

__all__ = ["INSTALL_HINT", "build_argv", "find_trivy", "scan_image"]

STDERR_LINES_SHOWN = 8
_PHASES = (
    ("Downloading vulnerability DB", "downloading the vulnerability DB"),
    ("Need to update DB", "downloading the vulnerability DB"),
    ("Downloading Java DB", "downloading the Java DB"),
    ("Detected OS", "detecting vulnerabilities"),
    ("Detecting vulnerabilities", "detecting vulnerabilities"),
    ("Number of language-specific files", "detecting vulnerabilities"),
)


class _Scan:
    """One scan: its target, environment and the facts gathered along the way."""

    def __init__(
        self,
        image: str | None,
        input_path: Path | None,
        settings: TrivySettings,
        timeout: float,
        verify: bool,
        platform: str | None,
        bar: Progress,
        insecure: bool = False,
    ) -> None:
        self.env = dict(os.environ)
        """gate's own environment (registry credentials for gate's registry calls)."""
        self.trivy_env = trivy_environment(self.env)
        """The part of it trivy sees: never gate's signing secrets."""
        self.secrets = secret_values(self.env)
        self.settings = settings
        self.timeout = timeout
        self.verify = verify
        self.platform = platform
        self.insecure = insecure or truthy(self.env.get("TRIVY_INSECURE"))
        self.bar = bar
        self.facts = Facts()
        self.warnings: list[str] = []
        self.ref: ImageRef | None = None
        self.input: Path | None = None
        if image is not None:
            try:
                self.ref = parse_reference(image)
            except ValueError as e:
                raise UsageError(f"IMAGE: {e}") from e
            self.display = image
            self.artifact_name = image
        else:
            assert input_path is not None
            self.display = str(input_path)
            self.input = input_path.absolute()
            self.artifact_name = str(self.input)
        self.panic: list[str] = []
        self.started_early = False
        """trivy was started before the CLI loaded (`gate.scanners.trivy.early`) and adopted."""
        self.cache_dir = default_cache_dir(self.env)
        self.deadline = Deadline(timeout)
        """One deadline for gate's registry calls and trivy (`--scan-timeout`)."""
        self.resolution: Resolution | None = None
        self.resolved_early = False
        """The registry image was resolved before the CLI loaded (`early.resolve_ahead`)."""
        self.trivy_budget = timeout

    def on_line(self, line: str) -> None:
        if line.startswith(("panic:", "[signal ")) and len(self.panic) < 3:
            self.panic.append(line.strip())  # a Go panic: its message, not its stack
        for marker, phase in _PHASES:
            if marker in line:
                self.bar.phase(phase)
                break
        if "\tWARN\t" in line:
            text = redact(line.split("\tWARN\t", 1)[1].replace("\t", " ").strip(), self.secrets)
            if text and text not in self.warnings and len(self.warnings) < 10:
                self.warnings.append(f"trivy: {text}")

    def target_args(self, workdir: Path) -> list[str]:
        if self.ref is not None:
            self.bar.phase(f"resolving {self.display}")
            self.resolution = self._resolve(self.ref)
            self.artifact_name = self.resolution.target
            return registry_target(self.artifact_name, insecure=self.insecure)
        assert self.input is not None  # its existence: `check_input`, before trivy is found
        args, self.artifact_name = input_target(self.input, workdir)
        return args

    def check_input(self) -> None:
        """An `--input` that does not exist: said first, whatever else is wrong."""
        if self.input is not None and not self.input.exists():
            raise ScannerError(f"{self.display}: no such file or directory")

    def tail(self, lines: list[str]) -> str:
        """trivy's last stderr lines (or its panic message), tidied and redacted."""
        shown = self.panic or [_tidy(line) for line in lines if line.strip()]
        shown = [redact(line, self.secrets) for line in shown[-STDERR_LINES_SHOWN:]]
        return (
            ("; trivy said:\n    " + "\n    ".join(shown)) if shown else "; trivy printed nothing"
        )

    def run(self, trivy: str) -> SourceRun:
        # An early scan wrote into its own directory: build the argv there, so it can match.
        workdir = early.workdir() or Path(tempfile.mkdtemp(prefix="gate-trivy-"))
        try:
            return self._run(trivy, workdir)
        finally:
            early.discard()  # not adopted (or finished): killed; a no-op otherwise
            shutil.rmtree(workdir, ignore_errors=True)

    def _resolve(self, ref: ImageRef) -> Resolution:
        """The manifest to scan: resolved before the CLI loaded (`early.resolve_ahead`)
        from the same arguments and environment, else now."""
        key = early.resolution_key(
            self.display, self.platform, self.insecure, self.timeout, self.env
        )
        ahead = early.claim_resolution(key)
        if ahead is not None:
            self.deadline = ahead.deadline
            self.trivy_budget = ahead.trivy_timeout
            self.resolved_early = True
            if ahead.error is not None:
                raise ahead.error
            assert ahead.resolution is not None
            return ahead.resolution
        resolution = resolve(
            ref, self.platform, env=self.env, deadline=self.deadline, insecure=self.insecure
        )
        self.trivy_budget = self.deadline.remaining()
        if self.trivy_budget < 1:
            raise self.deadline.expired(f"resolving {self.display}")
        return resolution

    def _trivy_timeout(self) -> float:
        """trivy's share of the deadline: all of it for an archive, what gate's registry
        calls left for a registry image (fixed when the resolution ended, so that the
        argv equals an early start's)."""
        return self.timeout if self.resolution is None else self.trivy_budget

    def _start(self, argv: list[str]) -> process.ProcessResult:
        """Run trivy, or finish the identical run `gate.scanners.trivy.early` started."""
        running = early.adopt(argv, self.trivy_env)
        if running is not None:
            self.started_early = True
            self.bar.started_at(running.began)  # elapsed: since trivy started
            self.bar.phase(f"scanning {self.display}")
            try:
                return running.finish(timeout=self._trivy_timeout(), on_line=self.on_line)
            finally:
                running.cancel()  # a no-op once it has finished
        self.bar.phase(f"scanning {self.display}")
        return process.run(
            argv, env=self.trivy_env, timeout=self._trivy_timeout(), on_line=self.on_line
        )

    def _run(self, trivy: str, workdir: Path) -> SourceRun:
        output = workdir / REPORT_NAME
        target = self.target_args(workdir)
        argv = build_argv(
            trivy, target, output, self.settings, self._trivy_timeout(), self.cache_dir
        )
        result = self._start(argv)
        scan = ScanFacts(
            argv=tuple(redact_argv(argv, self.secrets)),
            exit_code=result.returncode,
            duration_s=round(result.duration_s, 3),
            started_early=self.started_early,
        )
        if self.ref is not None:
            scan = scan.model_copy(update={"resolved_early": self.resolved_early})
        self.facts = self.facts.merged(Facts(scan=scan))
        if result.start_error is not None:
            raise ScannerError(f"cannot run {trivy}: {result.start_error}; {INSTALL_HINT}")
        if result.timed_out:
            raise ScannerError(
                f"trivy did not finish scanning {self.display} within {self.timeout:g}s "
                f"(--scan-timeout) and was killed{self.tail(result.stderr_tail)}"
            )
        if result.returncode not in (0, FINDINGS_EXIT):
            raise ScannerError(
                f"trivy failed scanning {self.display}: {_exit_text(result.returncode)}"
                f"{self.tail(result.stderr_tail)}"
            )
        self.bar.phase("reading the report")
        run = trivy_report.parse(
            output, result.returncode, self.display, self.tail(result.stderr_tail)
        )
        self.bar.phase("checking the vulnerability DB")
        version = self._version(trivy)
        self.facts = self.facts.merged(Facts(trivy_db=trivy_db.facts(version)))
        for reported in (version.version, *(t.version for t in run.tools)):
            trivy_vouch.check_version(trivy, reported)
        subject = self._subject(run)
        trivy_report.agrees(run, result.returncode, self.display)
        if version.version and not any(t.version for t in run.tools):
            tools = (ToolInfo(name="Trivy", version=version.version),)
            run = run.model_copy(update={"tools": tools})
        return run.model_copy(
            update={
                "path": self.display,
                "subject": subject,
                "facts": run.facts.merged(self.facts),
                "warnings": (*run.warnings, *self.warnings),
            }
        )

    def _version(self, trivy: str) -> trivy_db.TrivyVersion:
        """The DB trivy used: its metadata.json, else `trivy version --format json`."""
        found = trivy_db.read_metadata(self.cache_dir)
        if found is not None:
            return found
        argv = trivy_db.version_argv(trivy, self.cache_dir)
        return trivy_db.parse_version(
            *process.capture(argv, env=self.trivy_env, timeout=trivy_db.VERSION_TIMEOUT)
        )

    def _subject(self, run: SourceRun) -> Subject:
        """Check the report is about the image asked for; the subject with its digest."""
        found = trivy_report.image_subject(run, self.display, self.artifact_name)
        assert found.image_id is not None
        base = found.model_copy(update={"name": self.display, "digest": None})
        if self.ref is not None:
            assert self.resolution is not None
            bound = binding.bind_registry(
                self.resolution,
                found.image_id,
                base.repo_digests,
                self.display,
                verify=self._recheck if self.verify else None,
                phase=self.bar.phase,
            )
            name = self.ref.name
        else:
            assert self.input is not None
            bound = binding.bind_archive(self.input, self.display, found.image_id)
            name = base.repo_tags[0] if base.repo_tags else self.display
        self.facts = self.facts.merged(bound.facts)
        self.warnings += bound.warnings
        return base.model_copy(update={"name": name, "digest": bound.digest})

    def _recheck(self) -> str:
        """What the reference names now (`--verify-digest`), in what is left of the deadline."""
        assert self.resolution is not None
        return still_names(
            self.resolution, env=self.env, deadline=self.deadline, insecure=self.insecure
        )


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)\t")


def _tidy(line: str) -> str:
    """A trivy log line without its timestamp, tabs as spaces."""
    return _LOG_PREFIX.sub("", line).replace("\t", "  ").rstrip()


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        return f"killed by signal {-code}"
    if code == 2:
        return "exit code 2 (a Go panic: a corrupt or incompatible vulnerability DB?)"
    if code == 1:
        return "exit code 1 (a fatal error)"
    return f"unexpected exit code {code}"


def scan_image(
    image: str | None,
    *,
    input_path: Path | None,
    settings: TrivySettings | None,
    trivy_bin: str | None,
    timeout: float,
    verify_digest: bool,
    progress: bool,
    platform: str | None = None,
    insecure: bool = False,
    trivy_sha256: str | None = None,
) -> SourceRun:
    """Scan a registry image (`image`) or an image archive (`input_path`) with trivy;
    `platform` (`os/arch[/variant]`) picks one platform of a multi-platform registry image;
    `insecure` allows plain HTTP and unverified TLS to its registry (`--insecure`);
    `trivy_sha256` pins the binary (`gate.scanners.trivy.vouch`, which also refuses
    known-malicious releases before trivy runs).

    Returns a `SourceRun` of kind `trivy`; any failure is a `SourceRun` with status `error`.
    Raises `UsageError` only for a bad call: both or neither target, an unparseable image
    reference or platform, or a platform for an archive (trivy scans an archive as it is).
    """
    if (image is None) == (input_path is None):
        raise UsageError("scan an IMAGE or an --input PATH (one of them, not both)")
    if platform is not None:
        if input_path is not None:
            raise UsageError("--platform picks a platform of a registry IMAGE, not of an --input")
        if not PLATFORM.fullmatch(platform):
            raise UsageError(
                f"--platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64: {platform!r}"
            )
    display = image if image is not None else str(input_path)
    with Progress("trivy", enabled=progress) as bar:
        scan = _Scan(
            image,
            input_path,
            settings or TrivySettings(),
            timeout,
            verify_digest,
            platform,
            bar,
            insecure,
        )
        try:
            scan.check_input()
            trivy = find_trivy(trivy_bin, scan.env)
            binary = trivy_vouch.vouch(trivy, trivy_sha256)
            scan.facts = scan.facts.merged(Facts(trivy_binary=binary.facts()))
            run = scan.run(trivy)
        except (ScannerError, RegistryError) as e:
            bar.close(final="failed")
            return SourceRun(
                kind=InputKind.TRIVY,
                path=display,
                status=InputStatus.ERROR,
                error=redact(e.diagnostics(), scan.secrets),
                facts=scan.facts,
                warnings=tuple(scan.warnings),
            )
        bar.close(final=f"scanned {display} ({len(run.findings)} findings)")
    return run
