"""Run `.github/workflows/action-test.yml` (which calls the action at the repository root) with
nektos/act in host mode, offline, and read what happened from act's `--json` events.

act fetches every remote action a workflow or action names, even a step whose `if:` is false,
so each one is mapped to a local stub under `stubs/`, keyed by the exact ref in `uses:`.
act copies its own environment into every step: it gets an allowlist, and a fresh HOME.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STUBS = Path(__file__).resolve().parent / "stubs"
WORKFLOW = ".github/workflows/action-test.yml"
_USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@([0-9a-f]{40})")
_STUB_FOR = {
    "actions/setup-python": "setup-python",
    "actions/cache": "cache",
    "github/codeql-action": "codeql-action",
}


def act_binary() -> Path | None:
    found = Path(sys.executable).parent / "act"
    return found if found.exists() else None


def local_actions() -> dict[str, Path]:
    """`owner/repo@sha` → stub folder, for every pinned action in action.yml and the workflow."""
    refs: dict[str, Path] = {}
    for name in ("action.yml", WORKFLOW):
        for repo, sha in _USES.findall((ROOT / name).read_text(encoding="utf-8")):
            if repo == "actions/checkout":
                continue  # act copies the local working tree for it
            refs[f"{repo}@{sha}"] = STUBS / _STUB_FOR[repo]
    return refs


def wheelhouse(base: Path) -> Path:
    """The action's locked wheels, downloaded (hash-checked) once per session, so that each
    run installs offline; the action still checks every hash itself."""
    folder = base / "wheelhouse"
    if not (folder / ".done").exists():
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes",
                "--no-deps", "--dest", str(folder),
                "-r", str(ROOT / "requirements" / "runtime.txt"),
                "-r", str(ROOT / "requirements" / "build.txt"),
            ],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        (folder / ".done").touch()
    return folder


@dataclass
class ActRun:
    rc: int
    events: list[dict[str, Any]]
    stderr: str
    out: Path

    @property
    def job_result(self) -> str | None:
        return next((e["jobResult"] for e in self.events if "jobResult" in e), None)

    def outputs(self, *step: str) -> dict[str, str]:
        return {
            e["name"]: e["arg"]
            for e in self.events
            if e.get("command") == "set-output" and tuple(e.get("stepID", ())) == step
        }

    def summaries(self, *step: str) -> list[str]:
        return [
            e["content"]
            for e in self.events
            if e.get("command") == "summary" and tuple(e.get("stepID", ())) == step
        ]

    def commands(self) -> list[dict[str, Any]]:
        """Every workflow command act parsed from the job's log."""
        return [e for e in self.events if "command" in e]

    def step_result(self, *step: str) -> str | None:
        found = [
            e["stepResult"]
            for e in self.events
            if "stepResult" in e and tuple(e.get("stepID", ())) == step and e.get("stage") == "Main"
        ]
        return found[-1] if found else None

    def log(self) -> str:
        return "\n".join(str(e.get("msg", "")) for e in self.events)

    def exported(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.out / "outputs.json").read_text(encoding="utf-8"))
        return data

    def diag(self) -> str:
        return f"act rc={self.rc} job={self.job_result}\n{self.log()[-8000:]}\n--- stderr ---\n{self.stderr[-3000:]}"


def run_act(
    tmp: Path,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
    path_prefix: Path | None = None,
    timeout: float = 300,
) -> ActRun:
    act = act_binary()
    assert act is not None
    out = tmp / "act-out"
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    empty = tmp / "empty"
    empty.write_text("")
    cmd = [
        str(act), "workflow_dispatch", "-W", WORKFLOW, "-j", "gate",
        "-P", "ubuntu-latest=-self-hosted",
        "--action-offline-mode", "--action-cache-path", str(tmp / "act-cache"),
        "--no-cache-server", "--json",
        "--env-file", str(empty), "--secret-file", str(empty),
        "--var-file", str(empty), "--input-file", str(empty),
        "--env", f"GATE_TEST_OUT={out}",
        "--env", "GITHUB_REPOSITORY=acme/app",
    ]  # fmt: skip
    for ref, stub in local_actions().items():
        cmd += ["--local-repository", f"{ref}={stub}"]
    for key, value in inputs.items():
        cmd += ["--input", f"{key}={value}"]
    for key, value in (env or {}).items():
        cmd += ["--env", f"{key}={value}"]
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    proc_env = {
        k: v for k, v in os.environ.items() if k in keep or k.startswith(("PIP_", "SSL_CERT"))
    }
    # The private venv's installs are the slow part: from a local folder of the locked wheels.
    proc_env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse(tmp.parent)))
    # python3 must be a 3.11+ that is not gate's own venv (the action makes its own).
    path = [p for p in proc_env.get("PATH", "").split(os.pathsep) if ".venv" not in p]
    if path_prefix is not None:
        path.insert(0, str(path_prefix))
    proc_env.update(
        PATH=os.pathsep.join(path),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        ACT_DISABLE_VERSION_CHECK="1",
        NO_COLOR="1",
    )
    proc = subprocess.run(
        cmd, cwd=ROOT, env=proc_env, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    events = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
    return ActRun(proc.returncode, events, proc.stderr, out)
