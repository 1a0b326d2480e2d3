"""Payloads injected into every field gate prints, in real reports: no sink carries them.

Each case takes a bundled report (trivy, npm audit, pip-audit, SARIF), puts one payload of
`inject.PAYLOADS` into one string field (the same value everywhere it occurs), and runs
`gate check` with `--json`, `--summary` and `--sarif-output`, half of the cases under
`GITHUB_ACTIONS=true`. Then:

- the exit code is the unmutated report's (the text of a field does not steer the verdict);
- stdout and stderr hold no raw control, separator or bidi character, and no line the
  GitHub runner would execute but gate's own annotations and stop-commands pair;
- the step summary, rendered by GitHub's cmark-gfm, has no raw control, no tag gate did not
  write, no image and no link but https to a host other than the attacker's;
- the SARIF validates against the bundled 2.1.0 schema, its `helpUri`s are https with no
  whitespace, its display text has no raw control and its help markdown does not link;
- the JSON verdict holds the mutated value verbatim whenever the unmutated verdict held the
  original value and the mutated one no longer does (the field is one gate keeps).

`GATE_FUZZ_BUDGET` cases (default 40), seeded by `GATE_FUZZ_SEED`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile import inject
from tests.hostile.conftest import BUDGET, SEED

FILES = inject.corpus_files()
_BASELINE: dict[Path, tuple[int, frozenset[str]]] = {}


def _baseline(path: Path, run_gate, policy: Path) -> tuple[int, frozenset[str]]:
    """The unmutated report's exit code and the strings of its JSON verdict."""
    if path not in _BASELINE:
        run = run_gate([inject.flag_of(path), str(path), "--policy", str(policy)])
        strings = frozenset(inject.verdict_strings(run.verdict)) if run.verdict else frozenset()
        _BASELINE[path] = (run.code, strings)
    return _BASELINE[path]


def _check_sinks(run, *, actions: bool, what: str) -> None:
    assert "Traceback" not in run.err and "internal error" not in run.err, f"{what}\n{run.err}"
    assert inject.raw_controls(run.out) == [], f"{what}: raw controls on stdout\n{run.out!r}"
    assert inject.raw_controls(run.err) == [], f"{what}: raw controls on stderr\n{run.err!r}"
    for name, stream in (("stdout", run.out), ("stderr", run.err)):
        forged = inject.foreign_commands(stream, actions=actions)
        assert forged == [], f"{what}: {name} carries workflow commands {forged}"
    assert run.summary is not None, what
    assert inject.raw_controls(run.summary) == [], f"{what}: raw controls in the summary"
    assert inject.html_problems(run.summary) == [], (
        f"{what}: the summary renders {inject.html_problems(run.summary)}"
    )
    if run.sarif is not None:
        assert run.sarif_text is not None
        assert inject.raw_controls(run.sarif_text) == [], f"{what}: raw controls in the SARIF"
        problems = inject.sarif_problems(run.sarif)
        assert problems == [], f"{what}: SARIF {problems}"


@pytest.mark.parametrize("case", range(BUDGET))
def test_injected_fields_reach_no_sink(case, run_gate, hostile_policy, tmp_path) -> None:
    _, rng = list(inject.cases(SEED + case, 1))[0]
    path = rng.choice(FILES)
    doc = json.loads(path.read_text(encoding="utf-8"))
    payload = rng.choice(inject.PAYLOADS)
    m = inject.mutate(rng, path, doc, payload)
    assert m is not None, path
    what = f"case {case} (seed {SEED}): {m.describe()}"
    hostile = tmp_path / path.name
    hostile.write_text(json.dumps(m.doc, ensure_ascii=False), encoding="utf-8")
    actions = rng.random() < 0.5
    run = run_gate(
        [inject.flag_of(path), str(hostile), "--policy", str(hostile_policy)], actions=actions
    )
    expected, kept = _baseline(path, run_gate, hostile_policy)
    assert run.code == expected, (
        f"{what}: exit {run.code}, unmutated {expected}\n{run.out}{run.err}"
    )
    _check_sinks(run, actions=actions, what=what)
    strings = list(inject.verdict_strings(run.verdict)) if run.verdict else []
    # (a SARIF rule's id is also how results without a ruleId find their rule: renaming it
    # may change which id a finding gets; that is the SARIF reader's matter, not a sink's)
    renames_rule = m.key in ("id", "name") and "rules" in m.pointer
    if m.original in kept and m.original not in strings and not renames_rule:
        assert run.verdict is not None, what
        # (an ingestor may strip the whitespace around a value: NEL and LS are whitespace)
        assert any(m.value.strip() in s for s in strings), (
            f"{what}: not verbatim in the JSON verdict"
        )
