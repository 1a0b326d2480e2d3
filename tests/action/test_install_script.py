"""scripts/action/install.sh refuses a version input that is not a version before it
installs anything, and never echoes the raw input (a newline in it would start a workflow
command of its own)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.action.actrun import ROOT

INSTALL = ROOT / "scripts" / "action" / "install.sh"
HOSTILE = "1.0\n::warning::injected %0A::add-mask::x"


@pytest.mark.parametrize("variable", ["GATE_VERSION_WANTED", "TRIVY_VERSION_WANTED"])
def test_a_version_input_that_is_not_a_version(tmp_path: Path, variable: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_ACTION_PATH": str(tmp_path / "no-action"),
        "GATE_VERSION_WANTED": "",
        "TRIVY_VERSION_WANTED": "",
        variable: HOSTILE,
    }
    proc = subprocess.run(
        ["bash", str(INSTALL)], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    name = variable.split("_")[0].lower()
    assert (
        proc.stdout
        == f"::error title=gate::the {name}-version input is not a version (like 0.1.0 or v0.1.0)\n"
    )
    assert not (tmp_path / "runner").exists()  # nothing installed
