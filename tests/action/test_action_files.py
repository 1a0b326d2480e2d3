"""The action's own security, checked on the files: no expression inside any `run:` (inputs
reach scripts only through `env:`), every other action pinned by full commit SHA with a
version comment, scripts found through $GITHUB_ACTION_PATH, the lock files it installs from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action.actrun import ROOT

FILES = sorted(
    [ROOT / "action.yml"]
    + list((ROOT / "examples" / "workflows").glob("*.yml"))
    + list((ROOT / ".github" / "workflows").glob("*.yml"))
    + list((ROOT / "tests" / "action" / "stubs").rglob("action.yml"))
)
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")


def _steps(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    runs = doc.get("runs")
    if isinstance(runs, dict):
        yield from runs.get("steps") or []
    for job in (doc.get("jobs") or {}).values():
        yield from job.get("steps") or []


def run_blocks_with_expressions(text: str) -> list[str]:
    """Every `run:` that holds `${{`: a script into which the runner pastes text."""
    doc = yaml.safe_load(text)
    return [s["run"] for s in _steps(doc) if "run" in s and "${{" in str(s["run"])]


def unpinned_uses(text: str) -> list[str]:
    """`uses:` lines that are neither local (`./…`) nor a full SHA with a version comment."""
    bad = []
    for line in text.splitlines():
        m = _USES_LINE.match(line)
        if m is None or m.group(1).startswith("./"):
            continue
        if not _PINNED.match(m.group(1)) or not (m.group(2) or "").startswith("# v"):
            bad.append(line.strip())
    return bad


def test_the_checks_catch_what_they_look_for() -> None:
    naive = """
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
    - run: gate check ${{ inputs.image }}
      shell: bash
"""
    assert run_blocks_with_expressions(naive) == ["gate check ${{ inputs.image }}"]
    assert unpinned_uses(naive) == ["- uses: actions/setup-python@v5"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_expression_inside_any_run_block(path: Path) -> None:
    assert run_blocks_with_expressions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_action_is_pinned_by_commit_sha(path: Path) -> None:
    assert unpinned_uses(path.read_text(encoding="utf-8")) == []


def test_the_action_finds_its_scripts_and_lock_files_by_its_own_path() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    runs = [s["run"] for s in action["runs"]["steps"] if "run" in s]
    for run in runs:
        script = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/(scripts/action/[\w-]+\.sh)"', run)
        assert script is not None, run
        assert (ROOT / script.group(1)).is_file()
    install = (ROOT / "scripts" / "action" / "install.sh").read_text(encoding="utf-8")
    for lock in ("runtime.txt", "build.txt", "trivy.txt"):
        assert f'"$action/requirements/{lock}"' in install
        assert (ROOT / "requirements" / lock).is_file()
    assert install.count("--require-hashes") == 2  # the locked deps and the trivy wheel
    # outputs come from the step that ran gate
    for name, out in action["outputs"].items():
        assert out["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"


def test_no_input_is_echoed_and_the_token_is_dropped_before_gate_runs() -> None:
    check = (ROOT / "scripts" / "action" / "check.sh").read_text(encoding="utf-8")
    assert "echo" not in "\n".join(
        line for line in check.splitlines() if "IN_TOKEN" in line or "GITHUB_TOKEN" in line
    )
    assert check.index("unset IN_TOKEN") < check.index('"$GATE_BIN" "${args[@]}"')


def test_the_readme_shows_the_minimal_workflow_and_the_permissions() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it in GitHub Actions", 1)[1].split("\n## ", 1)[0]
    minimal = (ROOT / "examples" / "workflows" / "minimal.yml").read_text(encoding="utf-8")
    assert f"```yaml\n{minimal}```" in section
    for permission in (
        "contents: read",
        "security-events: write",
        "id-token: write",
        "actions: read",
    ):
        assert f"`{permission}`" in section
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in section, name


def test_the_trivy_db_cache_is_saved_only_on_the_default_branch() -> None:
    """`actions/cache` saves from any run (a pull request's DB then restored elsewhere);
    the action restores with `actions/cache/restore` and saves only on the default branch."""
    doc = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = list(_steps(doc))
    uses = [str(s.get("uses", "")).split("@")[0] for s in steps]
    assert "actions/cache" not in uses
    assert "actions/cache/restore" in uses
    for step in steps:
        if str(step.get("uses", "")).startswith("actions/cache/save@"):
            condition = str(step.get("if", ""))
            assert "github.event.repository.default_branch" in condition
            assert "github.event_name" in condition and "pull_request" not in condition
