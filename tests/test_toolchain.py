"""The locked toolchain and the import contracts: `make lock`'s output agrees with pyproject.toml,
and the import-linter contracts in pyproject.toml catch each kind of violation they name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = ROOT / "requirements" / "lock.txt"
RUNTIME = ROOT / "requirements" / "runtime.txt"
TOOLS = ROOT / "requirements" / "tools.in"

# One entry of a hashed requirements file, as uv writes it:
#   name==version [; marker] \
#       --hash=sha256:... \
_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ; [^\\]+?)? \\\n((?:    --hash=\S+(?: \\)?\n)+)",
    re.M,
)


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name → (version, hashes) of every entry in a hashed requirements file."""
    text = path.read_text(encoding="utf-8")
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    for name, version, hash_lines in _ENTRY.findall(text):
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", hash_lines))
        pins[canonicalize_name(name)] = (version, hashes)
    # Every line that names a package must have been read as an entry: nothing unhashed slips by.
    named = re.findall(r"^[A-Za-z0-9]", text, re.M)
    assert len(named) == len(pins), f"{path.name}: an entry without hashes or in another form"
    return pins


def _declared(*, extras: bool) -> list[Requirement]:
    project = PYPROJECT["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    if extras:
        for group in project["optional-dependencies"].values():
            reqs += [Requirement(r) for r in group]
    return reqs


def _assert_pinned(reqs: list[Requirement], pins: dict[str, tuple[str, frozenset[str]]]) -> None:
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is declared but not locked: run `make lock`"
        version, hashes = pins[name]
        assert req.specifier.contains(version, prereleases=True), (
            f"{req} is declared but the lock pins {version}: run `make lock`"
        )
        assert hashes, f"{name} is locked without a hash"


def test_the_lock_pins_every_declared_dependency_with_hashes() -> None:
    _assert_pinned(_declared(extras=True), _pins(LOCK))


def test_the_lock_pins_the_build_backend_and_tools_in_step_with_pyproject() -> None:
    pins = _pins(LOCK)
    build = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    _assert_pinned(build, pins)
    tools = [
        Requirement(line)
        for line in TOOLS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    _assert_pinned(tools, pins)
    # tools.in repeats the build backend for the editable install: the same range as pyproject's.
    by_name = {canonicalize_name(r.name): r.specifier for r in tools}
    for req in build:
        assert by_name.get(canonicalize_name(req.name)) == req.specifier, (
            f"requirements/tools.in and [build-system].requires disagree on {req.name}"
        )


def test_the_lint_and_test_tools_are_locked_to_one_release() -> None:
    pins = _pins(LOCK)
    for tool in ("ruff", "mypy", "import-linter", "pytest", "pytest-cov", "coverage"):
        assert tool in pins, f"{tool} is not in the lock"
        version, _ = pins[tool]
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)+", version), f"{tool}=={version} is not a release"


def test_the_runtime_lock_is_the_lock_restricted_to_the_runtime() -> None:
    """requirements/runtime.txt (for installs without the test and lint tools) pins the same
    versions and hashes as the lock, covers the runtime, and nothing that only tests or lints."""
    lock, runtime = _pins(LOCK), _pins(RUNTIME)
    _assert_pinned(_declared(extras=False), runtime)
    for name, pin in runtime.items():
        assert lock.get(name) == pin, f"{name}: runtime.txt and lock.txt disagree"
    # (pip is a runtime dependency since issue 12: pip-audit runs pip through pip-api)
    for tool in ("pytest", "ruff", "mypy", "hypothesis", "uv", "hatchling"):
        assert tool not in runtime


def test_the_lock_parser_sees_an_unhashed_entry(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "ruff==0.1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via x\nmypy==1.0\n",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match="without hashes"):
        _pins(lock)


# One new import per contract in pyproject.toml, each of a kind its contract forbids:
# file → (the line added, the import the contract must name).
_VIOLATIONS = {
    "gate/ingest/interface.py": (
        "from gate.rules import interface as _probe",
        "gate.ingest.interface -> gate.rules.interface",
    ),
    "gate/merge.py": ("import subprocess as _probe", "gate.merge -> subprocess"),
    "gate/report/console.py": (
        "from gate.scanners.trivy import command as _probe",
        "gate.report.console -> gate.scanners.trivy.command",
    ),
    "gate/common/timestamps.py": (
        "from gate import models as _probe",
        "gate.common.timestamps -> gate.models",
    ),
    "gate/models.py": (
        "from gate.ingest import _sniff as _probe",
        "gate.models -> gate.ingest._sniff",
    ),
}


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_each_import_contract_catches_a_new_violation(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "gate", tmp_path / "gate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, (line, _) in _VIOLATIONS.items():
        with (tmp_path / rel).open("a", encoding="utf-8") as f:
            f.write(f"\n{line}\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    contracts = [c["name"] for c in PYPROJECT["tool"]["importlinter"]["contracts"]]
    assert len(contracts) == len(_VIOLATIONS)
    for name in contracts:
        assert f"{name} BROKEN" in result.stdout, result.stdout
    for _, edge in _VIOLATIONS.values():
        assert edge in result.stdout, result.stdout
