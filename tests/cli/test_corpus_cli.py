"""Every file of the shared corpus through `gate check`: a verdict or a clear ERROR, never a crash.

Runs only where `../shared/corpus` sits beside the checkout (the `corpus_dir` fixture says
so when it skips); the bundled copies under `tests/data/` are covered by the other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli import main

FLAG_BY_DIR = {
    "trivy": "--trivy",
    "npm-audit": "--npm-audit",
    "pip-audit": "--pip-audit",
    "sarif": "--sarif",
    "branch-protection": "--branch-protection",
    "rulesets": "--branch-protection",
}
POLICY = """apiVersion: gate/v1
vulnerabilities: {fail_on: HIGH, ignore_unfixed: true, unknown_severity: warn}
secrets: {fail_on: LOW}
misconfigurations: {fail_on: HIGH}
code_scanning: {fail_on: HIGH}
branch_protection:
  required_approving_reviews: 1
  require_status_checks: []
  allow_force_pushes: false
  require_linear_history: true
"""


def _flag(path: Path) -> str:
    if path.suffix == ".sarif":
        return "--sarif"
    return FLAG_BY_DIR[path.parent.name]


def test_every_corpus_file_gives_a_verdict_or_a_clear_error(corpus_dir, tmp_path, capsys):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    seen = 0
    for sub in FLAG_BY_DIR:
        for path in sorted((corpus_dir / sub).iterdir()):
            if path.suffix not in (".json", ".sarif"):
                continue
            seen += 1
            with pytest.raises(SystemExit) as info:
                main(["check", _flag(path), str(path), "--policy", str(policy), "--json", "-"])
            out = capsys.readouterr()
            text = out.out + out.err
            code = info.value.code
            assert code in (0, 1, 3), f"{path.name}: exit {code}\n{text}"
            assert "Traceback" not in text and "internal error" not in text, f"{path.name}\n{text}"
            if code == 3:
                # an ERROR names the file it is about
                assert path.name in text, f"{path.name}: the error does not name the file\n{text}"
    assert seen > 100
