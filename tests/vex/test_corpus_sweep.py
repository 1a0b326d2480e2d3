"""Every file of the shared corpus's `vex/` and `ignore-files/` (CI has files this copy holds
back) is read into exceptions or refused with a one-line error naming it: never a crash,
never silently nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import GateError
from gate.ignore_files.apply import ignore_exceptions
from gate.ignore_files.read import read_ignore_file
from gate.policy.model import ExceptionRules
from gate.vex.apply import vex_exceptions
from gate.vex.read import read_vex


def _files(corpus: Path, sub: str) -> list[Path]:
    found = sorted(p for p in (corpus / sub).iterdir() if p.is_file())
    assert found, f"{corpus / sub} is empty"
    return found


def test_every_vex_document(corpus_dir: Path) -> None:
    for p in _files(corpus_dir, "vex"):
        try:
            doc = read_vex(p)
            vex_exceptions([doc], set())
        except GateError as e:
            assert str(p) in e.diagnostics() and "\n" not in e.diagnostics()
        else:
            assert doc.statements, p


@pytest.mark.parametrize("mode", ["error", "warn"])
def test_every_ignore_file(corpus_dir: Path, mode: str) -> None:
    rules = ExceptionRules.model_validate({"unknown_keys": mode})
    for p in _files(corpus_dir, "ignore-files"):
        try:
            made = ignore_exceptions([read_ignore_file(p)], rules)
        except GateError as e:
            assert str(p) in e.diagnostics() or "--ignore-file" in e.diagnostics()
        else:
            assert made.exceptions, p
