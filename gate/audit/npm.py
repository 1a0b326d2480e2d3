"""`gate check --npm-project DIR`: run the machine's `npm audit --json` and read it.

npm is found as `$GATE_NPM`, then `npm` on `PATH`. It runs in DIR (which must hold a
`package-lock.json` or `npm-shrinkwrap.json`) with an argv list, `--registry` always on it
(`--npm-registry`, else the public registry: a project's `.npmrc` cannot choose where its
lockfile goes; the registry used is in the run's facts), the root project only and whole
(`--workspaces=false --include-workspace-root`), empty user and global npmrc files, and
the environment's `npm_config_*` variables, `NODE_ENV` and credentials removed
(`runner.hermetic_env`), so none of them can omit dependency types, change the audit level
or point at another registry unnoticed; every dependency type is included on argv, and npm
gets an empty cache of its own (it caches advisory calculations). npm audit exits 0 with no
vulnerability and 1 with some, and 1 on a failure too, with `{"error": …}` on stdout
(ENOAUDIT, a registry error): the report must agree with the exit code.

npm missing, timing out, crashing, writing no report, an error body, an unexpected shape
or a report that contradicts its exit code: each an ERROR naming npm and its last stderr
lines. The findings then get their installed versions from the lockfile
(`gate.audit.npm_lockfile`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from gate.audit import runner
from gate.audit.npm_lockfile import find_lockfile, read_versions, with_versions
from gate.common.redact import redact, redact_argv, secret_values, url_secrets
from gate.errors import InputError, ScannerError
from gate.facts import Facts
from gate.models import InputKind, InputStatus, SourceRun, ToolInfo
from gate.scanners.trivy import process

TOOL = "npm audit"
INSTALL_HINT = (
    " (gate runs the machine's npm: install Node.js and npm, e.g. `apt-get install npm`, "
    "or set GATE_NPM to its path)"
)
_INCLUDE = ("prod", "dev", "optional", "peer")
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
"""The registry npm audit asks unless `--npm-registry` names another: always on argv, so a
project's own `.npmrc` cannot choose it."""


def find_npm(env: dict[str, str]) -> str:
    """`$GATE_NPM`, else `npm` on `PATH`; `ScannerError` when neither is there."""
    named = env.get("GATE_NPM")
    found = shutil.which(named or "npm", path=env.get("PATH"))
    if found is None:
        raise ScannerError(f"{TOOL}: cannot find {named or 'npm'}{INSTALL_HINT}")
    return found


def audit_npm(project: Path, *, registry: str | None, timeout: float) -> SourceRun:
    """Run `npm audit --json` in `project` (module docstring); failures are error runs."""
    display = f"npm audit in {project}"
    env = runner.hermetic_env(["npm_config_", "NODE_ENV"])
    registry = registry or DEFAULT_REGISTRY
    secrets = secret_values({**os.environ, **url_secrets(registry)})
    facts = Facts()
    try:
        if not project.is_dir():
            raise ScannerError(f"{TOOL}: {project}: not a directory")
        lockfile = find_lockfile(project)
        if lockfile is None:
            raise ScannerError(
                f"{TOOL}: {project} has no package-lock.json or npm-shrinkwrap.json: npm audit "
                "needs a lockfile (`npm install --package-lock-only` writes one)"
            )
        versions = read_versions(lockfile)
        npm = find_npm(env)
        argv = [
            npm,
            "audit",
            "--json",
            *(f"--include={t}" for t in _INCLUDE),
            f"--registry={registry}",
            # The root project only and all of it, whatever the project's .npmrc says.
            "--workspaces=false",
            "--include-workspace-root",
        ]
        facts = Facts(argv=tuple(redact_argv(argv, secrets)), registry=redact(registry, secrets))
        with tempfile.TemporaryDirectory(prefix="gate-npm-") as work:
            # A cache of its own: npm keeps advisory calculations (severity, ranges) in its
            # cache, and gate judges what the registry answers now, not what it once did.
            # Empty user and global configs: no ~/.npmrc or global npmrc setting applies.
            user, machine = Path(work) / "user-npmrc", Path(work) / "global-npmrc"
            user.write_text("")
            machine.write_text("")
            cache = Path(work) / "cache"
            own = [f"--cache={cache}", f"--userconfig={user}", f"--globalconfig={machine}"]
            done = runner.run_tool(TOOL, [*argv, *own], env=env, timeout=timeout, cwd=str(project))
        run = _read(done, display, env)
        run = with_versions(run, versions, str(lockfile))
    except (ScannerError, InputError) as e:
        return SourceRun(
            kind=InputKind.NPM_AUDIT,
            path=display,
            status=InputStatus.ERROR,
            error=redact(e.diagnostics(), secrets),
            facts=facts,
        )
    version = _npm_version(npm, env)
    return run.model_copy(
        update={
            "freshness": dt.datetime.now(dt.UTC),
            "freshness_source": "run",
            "tools": (ToolInfo(name=TOOL, version=version),),
            "facts": run.facts.merged(facts),
        }
    )


def _read(done: runner.ToolRun, display: str, env: dict[str, str]) -> SourceRun:
    from gate.ingest.npm_audit import NpmAuditIngestor

    if done.returncode not in (0, 1):
        raise runner.failure(TOOL, f"exited {_exit(done.returncode)}", done.stderr, env)
    from gate.common.files import max_input_bytes

    if len(done.stdout) > max_input_bytes():
        raise runner.failure(
            TOOL,
            f"wrote {len(done.stdout):,} bytes, over the limit of {max_input_bytes():,} bytes "
            "(--max-input-bytes)",
            done.stderr,
            env,
        )
    if not done.stdout.strip():
        raise runner.failure(
            TOOL, f"exited {done.returncode} and wrote no report", done.stderr, env
        )
    try:
        run = NpmAuditIngestor().parse(done.stdout, display)
    except InputError as e:
        raise runner.failure(TOOL, e.diagnostics(), done.stderr, env) from e
    if bool(run.findings) != (done.returncode == 1):
        raise runner.failure(
            TOOL,
            f"exited {done.returncode} but its report lists {len(run.findings)} "
            "vulnerabilities: the run contradicts itself",
            done.stderr,
            env,
        )
    return run


def _exit(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"with code {code}"


def _npm_version(npm: str, env: dict[str, str]) -> str | None:
    code, out, _ = process.capture([npm, "--version"], env=env, timeout=10)
    text = out.decode("utf-8", "replace").strip()
    return text if code == 0 and text and len(text) < 40 else None
