"""Start trivy before the CLI is loaded, so gate's own start-up runs while trivy scans.

`gate check IMAGE` spends ~0.2 s importing typer, pydantic and its models and validating
the policy before it could run trivy; on a small image that is longer than the scan. The
console script therefore calls `start(argv)` first: when the arguments plainly ask for a
scan, it reads only the policy's `trivy:` block, builds the command exactly as the scan
will (`gate.scanners.trivy.command`) and starts trivy. The normal path then parses and
validates everything as usual, and `gate.scanners.trivy.scan` adopts the running process only
if the argv and environment it builds are identical (`adopt`); otherwise the early
process is killed and trivy runs again. A registry IMAGE is first resolved to the one
manifest trivy will scan (`resolve_ahead`, `gate.oci.resolve`, which needs httpx but not
pydantic); the scan takes that resolution over (`claim_resolution`) when it was made from
the same image, platform, `--insecure`, `--scan-timeout` and environment, so the registry
is asked once, under one deadline, even when the resolution failed. An invalid policy or
command line kills it too (`discard`, when the command ends). Speculation never decides
anything: it only saves time.

Anything unusual (an option this parser does not know, `--help`, two images, a policy it
cannot read) means no early start, and gate runs exactly as without it.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import GateError
from gate.policy.paths import resolve_policy
from gate.policy.trivy import DEFAULT_SCAN_TIMEOUT, DEFAULT_SCANNERS, KEYS
from gate.scanners.trivy import process
from gate.scanners.trivy.command import (
    PLATFORM,
    REPORT_NAME,
    build_argv,
    default_cache_dir,
    find_trivy,
    input_target,
    registry_target,
)
from gate.scanners.trivy.environment import trivy_environment

if TYPE_CHECKING:
    from gate.oci.deadline import Deadline
    from gate.oci.resolve import Resolution

# `gate check`'s options; tests/scanners/test_early.py keeps these equal to the CLI's.
VALUE_OPTIONS = frozenset(
    {
        "--input",
        "--trivy",
        "--npm-audit",
        "--pip-audit",
        "--sarif",
        "--branch-protection",
        "--github-repo",
        "--branch",
        "--policy",
        "--exceptions",
        "--vex",
        "--ignore-file",
        "--openvex",
        "--cyclonedx",
        "--json",
        "--summary",
        "--sarif-output",
        "--sarif-location",
        "--sarif-category",
        "--sarif-include",
        "--trivy-bin",
        "--trivy-sha256",
        "--scan-timeout",
        "--now",
        "--platform",
        "--max-input-bytes",
        "--python-project",
        "--osv-url",
        "--index-url",
        "--vulnerability-service",
        "--npm-project",
        "--npm-registry",
        "--npm-lockfile",
        # signing (gate.attest): read after the verdict, never by the early start
        "--key",
        "--bundle",
        "--trust-config",
        "--identity-token",
    }
)
FLAG_OPTIONS = frozenset(
    {
        *("--verify-digest", "--no-verify-digest", "--insecure", "--verbose", "-v"),
        *("--python-env", "--python-no-deps"),
        *("--sign", "--attach", "--all-platforms"),
    }
)
MAX_TIMEOUT = 7 * 86400.0
"""A week: longer is a typo, and larger numbers overflow the waits."""


class Options:
    """The policy's `trivy:` block, read without validating the rest of the policy."""

    __slots__ = ("detection_priority", "pkg_types", "scanners")

    def __init__(
        self,
        scanners: tuple[str, ...] = DEFAULT_SCANNERS,
        pkg_types: tuple[str, ...] | None = None,
        detection_priority: str | None = None,
    ) -> None:
        self.scanners = scanners
        self.pkg_types = pkg_types
        self.detection_priority = detection_priority


class EarlyScan:
    """A trivy process started before the CLI, with everything its argv was built from."""

    def __init__(
        self, argv: list[str], env: dict[str, str], workdir: Path, running: process.Running
    ) -> None:
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.running = running

    def cancel(self) -> None:
        """Kill trivy (if still running) and remove its working directory."""
        self.running.cancel()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Ahead:
    """A registry image resolved before the CLI loaded (`gate.oci.resolve`): its outcome,
    a `Resolution` or the `RegistryError`, and the deadline it ran under, for the scan to
    take over (`claim_resolution`) instead of asking the registry again."""

    __slots__ = ("deadline", "error", "key", "resolution", "trivy_timeout")

    def __init__(self, key: tuple[object, ...], deadline: Deadline) -> None:
        self.key = key
        self.deadline = deadline
        self.resolution: Resolution | None = None
        self.error: GateError | None = None
        self.trivy_timeout = 0.0
        """trivy's share of the deadline, fixed when the resolution ended (its argv)."""


def resolution_key(
    image: str, platform: str | None, insecure: bool, timeout: float, env: dict[str, str]
) -> tuple[object, ...]:
    """What a resolution depends on: the scan takes over only an identical one."""
    return (image, platform, insecure, timeout, tuple(sorted(env.items())))


_pending: list[EarlyScan] = []
_ahead: list[Ahead] = []


def parse_check_args(args: Sequence[str]) -> dict[str, str] | None:
    """`gate check`'s arguments as {option: last value} (IMAGE under "IMAGE"), or None
    when they do not plainly ask for one scan."""
    if not args or args[0] != "check":
        return None
    found: dict[str, str] = {}
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            if name not in VALUE_OPTIONS:
                return None
            found[name] = value
        elif arg in VALUE_OPTIONS:
            if not rest:
                return None
            found[arg] = rest.pop(0)
        elif arg in FLAG_OPTIONS:
            if arg == "--all-platforms":
                return None  # several scans, each resolved by the index digest: none early
            if arg == "--insecure":
                found[arg] = ""
            continue
        elif arg.startswith("-") or "IMAGE" in found:
            return None  # --help, an unknown option, `--`, a second IMAGE: typer decides
        else:
            found["IMAGE"] = arg
    if ("IMAGE" in found) == ("--input" in found):
        return None
    return found


def read_options(path: Path) -> Options | None:
    """The `trivy:` block of the policy at `path`, or None if it is not plainly readable."""
    from gate.policy.strict_yaml import load_yaml

    try:
        data = load_yaml(path)[1]
    except Exception:  # any doubt: no early start; the normal path reports the problem
        return None
    if not isinstance(data, dict):
        return None
    block = data.get("trivy")
    if block is None:
        return Options()
    if not isinstance(block, dict) or not set(block) <= KEYS:
        return None
    scanners = block.get("scanners", list(DEFAULT_SCANNERS))
    pkg_types = block.get("pkg_types")
    priority = block.get("detection_priority")
    if not _strings(scanners) or not (pkg_types is None or _strings(pkg_types)):
        return None
    if not (priority is None or isinstance(priority, str)):
        return None
    return Options(tuple(scanners), None if pkg_types is None else tuple(pkg_types), priority)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def resolve_ahead(found: dict[str, str], timeout: float, env: dict[str, str]) -> Ahead | None:
    """Resolve the IMAGE of `found` now (kept for `claim_resolution`, even when it fails,
    so that a slow registry is waited for once); None when the arguments are not plainly
    valid (the normal path then says what is wrong)."""
    from gate.oci.credentials import truthy
    from gate.oci.deadline import Deadline
    from gate.oci.reference import parse_reference
    from gate.oci.resolve import resolve

    platform = found.get("--platform")
    if platform is not None and not PLATFORM.fullmatch(platform):
        return None
    try:
        ref = parse_reference(found["IMAGE"])
    except ValueError:
        return None
    insecure = "--insecure" in found or truthy(env.get("TRIVY_INSECURE"))
    ahead = Ahead(
        resolution_key(found["IMAGE"], platform, insecure, timeout, env), Deadline(timeout)
    )
    try:
        ahead.resolution = resolve(
            ref, platform, env=env, deadline=ahead.deadline, insecure=insecure
        )
        ahead.trivy_timeout = ahead.deadline.remaining()
        if ahead.trivy_timeout < 1:
            raise ahead.deadline.expired(f"resolving {ref}")
    except GateError as e:
        ahead.error = e
    except Exception:  # a bug: the normal path meets it again and shows it
        return None
    _ahead[:] = [ahead]
    return ahead


def claim_resolution(key: tuple[object, ...]) -> Ahead | None:
    """The early resolution if it was made from the same `key`, now owned by the caller."""
    ahead = _ahead.pop() if _ahead else None
    _ahead.clear()
    return ahead if ahead is not None and ahead.key == key else None


def valid_timeout(value: float) -> bool:
    """A `--scan-timeout` gate accepts: finite, above 0, at most `MAX_TIMEOUT`. `inf`,
    `nan`, `1e400` (inf) and negatives are usage errors (the CLI says so)."""
    return math.isfinite(value) and 0 < value <= MAX_TIMEOUT


def scan_timeout(text: str) -> float | None:
    """`--scan-timeout`'s value in seconds, or None unless `valid_timeout`."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if valid_timeout(value) else None


def start(args: Sequence[str]) -> EarlyScan | None:
    """Start trivy now if `args` (without the program name) ask `gate check` for a scan.

    Speculation only: any exception here means "no early process" (the normal path then
    runs trivy itself, or reports the problem), never an exit code of its own.
    `GATE_EARLY_START=0` turns it off."""
    if os.environ.get("GATE_EARLY_START", "").strip() == "0":
        return None
    workdir: Path | None = None
    try:
        found = parse_check_args(args)
        if found is None:
            return None
        timeout = scan_timeout(found.get("--scan-timeout", str(DEFAULT_SCAN_TIMEOUT)))
        if timeout is None:
            return None
        given = found.get("--policy")
        options = read_options(resolve_policy(None if given is None else Path(given)))
        if options is None:
            return None
        env = dict(os.environ)
        workdir = Path(tempfile.mkdtemp(prefix="gate-trivy-"))
        trivy = find_trivy(found.get("--trivy-bin"), env)
        # never start a binary that is not the pinned one or is known-malicious (imported
        # here: hashing and mmap are not needed by `gate --help` or a command that never scans)
        from gate.scanners.trivy.vouch import parse_pin, vouch

        vouch(trivy, parse_pin(found.get("--trivy-sha256")))
        budget = timeout
        if "IMAGE" in found:
            ahead = resolve_ahead(found, timeout, env)
            if ahead is None or ahead.resolution is None:
                shutil.rmtree(workdir, ignore_errors=True)
                return None
            target = registry_target(ahead.resolution.target, insecure=ahead.key[2] is True)
            budget = ahead.trivy_timeout
        else:
            target = input_target(Path(found["--input"]).absolute(), workdir)[0]
        argv = build_argv(
            trivy,
            target,
            workdir / REPORT_NAME,
            options,
            budget,
            default_cache_dir(env),
        )
        trivy_env = trivy_environment(env)
        running = process.launch(argv, env=trivy_env)
    except Exception:  # the normal path reports it, with its own message
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        return None
    scan = EarlyScan(argv, trivy_env, workdir, running)
    _cancel_pending()
    _pending.append(scan)
    return scan


def workdir() -> Path | None:
    """The directory the early scan writes its report into, if one is running: the scan
    builds its argv there, so that an identical command can be adopted."""
    return _pending[-1].workdir if _pending else None


def adopt(argv: Sequence[str], env: Mapping[str, str]) -> process.Running | None:
    """The early trivy, now the caller's to finish, if it was started with exactly `argv`
    and `env`; else None, and an early trivy built from other settings is killed (its
    directory stays: it is the caller's, from `workdir()`)."""
    if not _pending:
        return None
    scan = _pending.pop()
    if scan.argv == list(argv) and scan.env == dict(env):
        return scan.running
    scan.running.cancel()
    (scan.workdir / REPORT_NAME).unlink(missing_ok=True)
    return None


def _cancel_pending() -> None:
    while _pending:
        _pending.pop().cancel()


def discard() -> None:
    """Kill an early scan nobody claimed (a usage error, an invalid policy), and forget
    an early resolution."""
    _ahead.clear()
    _cancel_pending()
