"""`gate check --python-project PATH`: run the real pip-audit and read its JSON.

What is audited, by PATH:
- a directory with a `pylock.toml` / `pylock.*.toml`: its lock files (`--locked`);
- a directory with a `pyproject.toml`, or that file itself: the project (pip-audit resolves
  its dependencies with pip, from pip's configured index);
- any other file: a requirements file (`-r`), resolved from `--index-url` if given; with
  `no_deps`, its pins are audited as written (`--no-deps --disable-pip`: no resolution, no
  index, no temporary venv);
- `None`: the Python environment gate itself runs in.

pip-audit runs as `python -I -m pip_audit` under gate's own interpreter (isolated: no
`PYTHONPATH` can put another `pip_audit` first), with an argv list,
every output setting on argv (`PIP_AUDIT_*` variables are removed, so none can change the
format or the service), without the caller's credentials (`runner.hermetic_env`: resolving
a requirement may run a local path's or VCS link's build backend), wheels only
(`PIP_ONLY_BINARY=:all:`), and a timeout within gate's deadline. pip-audit exits 0 with no
vulnerability and 1 with some, and 1 on a failure too: the report it wrote (to a file, so
its log lines never mix with it) must agree with its exit code. Failing, timing out,
writing no report, a report that contradicts the exit code, or skipping every dependency
is an ERROR naming pip-audit and its last stderr lines. Severities come from the same OSV
service (`gate.audit.osv`).
"""

from __future__ import annotations

import datetime as dt
import enum
import sys
import tempfile
import time
from pathlib import Path

from gate.audit import runner
from gate.audit.osv import DEFAULT_QUERY_URL, OsvRecords, query_url, rate_findings
from gate.common.redact import redact, redact_argv, secret_values, url_secrets
from gate.errors import InputError, ScannerError, UsageError
from gate.facts import Facts
from gate.models import InputKind, InputStatus, SourceRun, ToolInfo

TOOL = "pip-audit"
SEVERITY_SHARE = 0.25
"""At most this share of the deadline is kept back for reading severities from OSV."""


class Service(enum.StrEnum):
    """pip-audit's vulnerability services (`--vulnerability-service`)."""

    OSV = "osv"
    PYPI = "pypi"
    ESMS = "esms"


def source_args(project: Path | None, *, no_deps: bool, index_url: str | None) -> list[str]:
    """pip-audit's arguments naming what to audit (module docstring); `UsageError` for a
    PATH that is none of those."""
    requirements = project is not None and project.is_file() and project.name != "pyproject.toml"
    if (no_deps or index_url) and not requirements:
        raise UsageError(
            "--python-no-deps and --index-url apply to a requirements file (pip-audit -r)"
        )
    if project is None:
        return []
    if project.is_dir():
        if any(project.glob("pylock.toml")) or any(project.glob("pylock.*.toml")):
            return [str(project), "--locked"]
        if (project / "pyproject.toml").is_file():
            return [str(project)]
        raise UsageError(
            f"--python-project {project}: a directory without pyproject.toml or pylock.toml"
        )
    if not project.is_file():
        raise UsageError(f"--python-project {project}: no such file or directory")
    if project.name == "pyproject.toml":
        return [str(project.parent)]
    args = ["-r", str(project)]
    if no_deps:
        args += ["--no-deps", "--disable-pip"]
    if index_url:
        args += ["--index-url", index_url]
    return args


def audit_python(
    project: Path | None,
    *,
    osv_url: str | None,
    index_url: str | None,
    service: Service,
    no_deps: bool,
    timeout: float,
) -> SourceRun:
    """Run pip-audit on `project` (module docstring); a failure is an error `SourceRun`."""
    import os

    args = source_args(project, no_deps=no_deps, index_url=index_url)
    osv = query_url(osv_url or os.environ.get("PIP_AUDIT_OSV_URL") or DEFAULT_QUERY_URL)
    env = runner.hermetic_env(["PIP_AUDIT_"])
    env.setdefault("PYTHONIOENCODING", "utf-8")
    # Wheels only: pip builds no sdist from the index to resolve a requirement. A local path
    # or VCS link still has its metadata prepared by its own backend: hence no credentials.
    env["PIP_ONLY_BINARY"] = ":all:"
    secrets = secret_values({**os.environ, **url_secrets(osv, index_url)})
    shown_args = " ".join(redact_argv(args, secrets))
    display = f"pip-audit {shown_args or '(the environment gate runs in)'}"
    began = time.monotonic()
    deadline = began + timeout
    facts = Facts(service=str(service), osv_url=redact(osv, secrets))
    try:
        with tempfile.TemporaryDirectory(prefix="gate-pip-audit-") as work:
            out = Path(work) / "pip-audit.json"
            budget = timeout * (1 - SEVERITY_SHARE)
            argv = [
                sys.executable,
                "-I",  # isolated: no PYTHONPATH, user site or current directory in front
                "-m",
                "pip_audit",
                "--format",
                "json",
                "--output",
                str(out),
                "--progress-spinner",
                "off",
                "--desc",
                "on",
                "--aliases",
                "on",
                "--vulnerability-service",
                str(service),
                "--osv-url",
                osv,
                "--timeout",
                str(max(1, int(budget))),
                *args,
            ]
            shown = [a if a != str(out) else "REPORT" for a in argv[1:]]
            facts = facts.merged(Facts(argv=tuple(redact_argv(shown, secrets))))
            done = runner.run_tool(TOOL, argv, env=env, timeout=budget)
            raw = _report(out)
        run = _read(raw, done, display, env)
        records = OsvRecords(osv, deadline=deadline)
        try:
            findings = rate_findings(run.findings, records)
        finally:
            records.close()
        facts = facts.merged(Facts(osv_records_read=records.fetched))
    except (ScannerError, InputError) as e:
        return SourceRun(
            kind=InputKind.PIP_AUDIT,
            path=display,
            status=InputStatus.ERROR,
            error=redact(e.diagnostics(), secrets),
            facts=facts,
        )
    return run.model_copy(
        update={
            "freshness": dt.datetime.now(dt.UTC),
            "freshness_source": "run",
            "findings": tuple(findings),
            "tools": (ToolInfo(name=TOOL, version=_version()),),
            "facts": run.facts.merged(facts),
        }
    )


def _read(raw: bytes, done: runner.ToolRun, display: str, env: dict[str, str]) -> SourceRun:
    from gate.ingest.pip_audit import PipAuditIngestor

    if done.returncode not in (0, 1):
        raise runner.failure(TOOL, f"exited {done.returncode}", done.stderr, env)
    if not raw.strip():
        raise runner.failure(
            TOOL, f"exited {done.returncode} and wrote no report", done.stderr, env
        )
    try:
        run = PipAuditIngestor().parse(raw, display)
    except InputError as e:
        raise runner.failure(TOOL, e.diagnostics(), done.stderr, env) from e
    if bool(run.findings) != (done.returncode == 1):
        said = "vulnerabilities" if done.returncode == 1 else "none"
        raise runner.failure(
            TOOL,
            f"exited {done.returncode} (it found {said}) but its report lists "
            f"{len(run.findings)} vulnerabilities: the run contradicts itself",
            done.stderr,
            env,
        )
    return run


def _report(path: Path) -> bytes:
    """The report pip-audit wrote (b"" if none), under `--max-input-bytes`."""
    from gate.common.files import FileProblem, max_input_bytes, read_regular

    if not path.exists():
        return b""
    try:
        return read_regular(path, max_input_bytes(), "--max-input-bytes")
    except FileProblem as e:
        raise ScannerError(f"{TOOL}: its report {e}") from e


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pip-audit")
    except PackageNotFoundError:  # pragma: no cover - a dependency of gate
        return None
