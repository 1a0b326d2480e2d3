"""Run an audit tool: argv list, hermetic environment, a timeout, the last stderr lines.

`run_tool` returns what the tool wrote to stdout and its exit code, or raises
`ScannerError` naming the tool when it could not be started or was killed at the timeout.
`failure` builds the error for a run that ended badly: the tool, what went wrong, and its
last stderr lines with credentials redacted (printing them escaped is the sinks' job).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping

from gate.common.redact import redact, secret_name, secret_values
from gate.errors import ScannerError
from gate.scanners.trivy import process

TAIL_SHOWN = 8
"""How many of the tool's last non-empty stderr lines an error shows."""
LINE_MAX = 300
"""Longer stderr lines are cut (a minified stack trace, a JSON body)."""


_TRACEBACK = "Traceback (most recent call last):"
_CHAIN_LINES = (
    _TRACEBACK,
    "During handling of the above exception",
    "The above exception was the direct cause",
)


class ToolRun:
    """How a tool run ended: exit code, stdout bytes and stderr text."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


CREDENTIAL_PREFIXES = (
    "ACTIONS_",
    "AWS_",
    "AZURE_",
    "ARM_",
    "GOOGLE_",
    "GCLOUD_",
    "CLOUDSDK_",
    "GATE_KEY",
    "GATE_IDENTITY",
    "TRIVY_",
    "VAULT_",
    "DOCKER_AUTH",
)
"""Variables an audited project never gets, whatever their name: CI runtime tokens, cloud
and registry credentials, gate's own signing key and identity, trivy's settings. Resolving
a project's requirements may run its build code (a local path, a VCS link, an sdist), so
the tools run without them; any other variable named like a secret (`secret_name`) goes
too."""


def hermetic_env(
    drop_prefixes: Iterable[str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The caller's environment without the variables (by prefix, case-insensitive) through
    which a tool's own settings could change what it reports (gate passes those on argv),
    and without credentials (`CREDENTIAL_PREFIXES`, `secret_name`)."""
    prefixes = tuple(p.upper() for p in drop_prefixes) + CREDENTIAL_PREFIXES
    env = os.environ if base is None else base
    return {
        k: v for k, v in env.items() if not k.upper().startswith(prefixes) and not secret_name(k)
    }


def tail(stderr: str, env: Mapping[str, str]) -> str:
    """The last stderr lines, redacted and cut, as an indented block (or "")."""
    secrets = secret_values(env)
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    if _TRACEBACK in stderr:
        # A Python traceback's tail is frames: keep the log lines and each exception's own
        # line (the chain's causes say what failed, e.g. `HTTPError: 503 Server Error`).
        lines = [
            line for line in lines if not line[:1].isspace() and not line.startswith(_CHAIN_LINES)
        ]
    lines = lines[-TAIL_SHOWN:]
    if not lines:
        return ""
    shown = []
    for line in lines:
        line = redact(line, secrets)
        shown.append(line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…")
    return "; its last stderr lines:\n" + "\n".join(f"  {line}" for line in shown)


def failure(tool: str, what: str, stderr: str, env: Mapping[str, str]) -> ScannerError:
    """`tool: what` and the tool's last stderr lines (redacted)."""
    return ScannerError(f"{tool}: {what}{tail(stderr, env)}")


def run_tool(
    tool: str,
    argv: list[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | None = None,
) -> ToolRun:
    """Run `argv`; raise `ScannerError` if it cannot start or outlives `timeout` seconds."""
    began = time.monotonic()
    code, out, err = process.capture(argv, env=env, timeout=timeout, cwd=cwd)
    if code is None:
        if time.monotonic() - began >= timeout:
            raise failure(tool, f"ran longer than {timeout:g} s and was killed", err, env)
        reason = redact(err, secret_values(env))  # `capture` gives the OSError's text
        raise ScannerError(f"{tool}: cannot run {argv[0]}: {reason}")
    return ToolRun(code, out, err)
