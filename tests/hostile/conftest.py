"""Fixtures of the hostile-input suite: the fuzz budget, a policy, and gate run in-process.

`GATE_FUZZ_BUDGET` (default 40) is the number of mutated cases each fuzzing test runs;
`make fuzz` runs a large one. `GATE_FUZZ_SEED` picks another reproducible sequence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main

BUDGET = int(os.environ.get("GATE_FUZZ_BUDGET", "40"))
SEED = int(os.environ.get("GATE_FUZZ_SEED", "20261201"))

POLICY = """apiVersion: gate/v1
name: hostile
vulnerabilities: {fail_on: HIGH, warn_on: MEDIUM, unknown_severity: warn}
secrets: {fail_on: LOW}
misconfigurations: {fail_on: HIGH, warn_on: MEDIUM}
code_scanning: {fail_on: HIGH, warn_on: MEDIUM}
"""


@dataclass
class GateRun:
    """One `gate check` in-process: exit code, stdout, stderr and the files it wrote."""

    code: int
    out: str
    err: str
    verdict: dict[str, Any] | None
    summary: str | None
    sarif: dict[str, Any] | None
    sarif_text: str | None

    @property
    def streams(self) -> str:
        return self.out + "\n" + self.err


@pytest.fixture(scope="session")
def hostile_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "hostile.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def run_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., GateRun]:
    """Run `gate check ARGS` with `--json`, `--summary` and `--sarif-output` into a fresh
    directory; `actions=True` sets `GITHUB_ACTIONS=true` (annotations, stop-commands)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    counter = [0]

    def run(args: list[str], *, actions: bool = False) -> GateRun:
        counter[0] += 1
        out_dir = tmp_path / f"run{counter[0]}"
        out_dir.mkdir()
        verdict, summary, sarif = out_dir / "v.json", out_dir / "s.md", out_dir / "o.sarif"
        if actions:
            monkeypatch.setenv("GITHUB_ACTIONS", "true")
        else:
            monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        argv = ["check", *args, "--json", str(verdict), "--summary", str(summary)]
        argv += ["--sarif-output", str(sarif)]
        with pytest.raises(SystemExit) as info:
            main(argv)
        captured = capsys.readouterr()
        sarif_text = sarif.read_text(encoding="utf-8") if sarif.exists() else None
        return GateRun(
            code=int(info.value.code or 0),
            out=captured.out,
            err=captured.err,
            verdict=json.loads(verdict.read_text()) if verdict.exists() else None,
            summary=summary.read_text(encoding="utf-8") if summary.exists() else None,
            sarif=json.loads(sarif_text) if sarif_text else None,
            sarif_text=sarif_text,
        )

    return run
