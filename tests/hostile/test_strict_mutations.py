"""Ambiguous reports (issue 9): structure-aware mutations of real reports through `gate check`.

Each bundled real report (copies of the shared corpus, `tests/data/`) is decoded keeping
its key order, one object somewhere in it is mutated, and the result is written back:

- **a duplicate key**: a key of the object is repeated right after itself, with the same
  value or an emptied one (`null`, `[]`, `{}`, `""`, `0`): most parsers keep the last value,
  so an emptied `Results` or `vulnerabilities` would read a failing report as clean;
- **a case-variant key**: beside a key gate reads (`Results`), the same name in another
  case (`results`, `RESULTS`, `rESULTS`), with the same value.

Every mutant must be an ERROR (exit 3) whose error names the file and the JSON path of
the mutated key. The objects and keys are drawn at random (a fixed seed,
`GATE_FUZZ_SEED`) from every depth; `GATE_FUZZ_BUDGET` mutants in all (default 40, a few
seconds; `GATE_FUZZ_BUDGET=2000` for a long run).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.branch_protection._read import response_shape
from gate.cli import main
from gate.common.strict_json import Shape

DATA = Path(__file__).resolve().parents[1] / "data"
BUDGET = int(os.environ.get("GATE_FUZZ_BUDGET", "40"))
SEED = int(os.environ.get("GATE_FUZZ_SEED", "0"))
POLICY = """apiVersion: gate/v1
vulnerabilities: {fail_on: HIGH}
secrets: {fail_on: LOW}
misconfigurations: {fail_on: HIGH}
code_scanning: {fail_on: HIGH}
"""
BRANCH_POLICY = "apiVersion: gate/v1\nbranch_protection: {required_approving_reviews: 1}\n"


def _shapes() -> dict[str, Shape | None]:
    from gate.ingest import npm_audit, pip_audit, sarif
    from gate.ingest._trivy_raw import report_shape

    return {
        "trivy": report_shape(),
        "npm-audit": npm_audit._shape(),
        "pip-audit": pip_audit._shape(),
        "sarif": sarif._shape(),
        "branch-protection": response_shape(),
    }


# Real reports gate reads without error today (the mutants must turn each into an ERROR).
SOURCES = {
    "trivy": [
        "reports/trivy/dd-all-statuses.json",
        "reports/trivy/dd-misconfigs-and-secrets.json",
        "reports/trivy/realworld-prometheus-mcp-image.json",
        "reports/trivy/trivy-golden-fluentd-gems.json",
        "reports/trivy/trivy-legacy-old-format.json",
    ],
    "npm-audit": [
        "reports/npm-audit/v1-npm6-nar-all-severity.json",
        "reports/npm-audit/v2-nar-all-severity-levels.json",
        "reports/npm-audit/v2-npmcli-json-audit-snapshot.json",
    ],
    "pip-audit": [
        "reports/pip-audit/dd-legacy-list-many-vulns.json",
        "reports/pip-audit/realworld-secureflask-12-vulns.json",
        "reports/pip-audit/dd-new-zero-vulns-skip.json",
    ],
    "sarif": [
        "sarif/codeql-action-valid-2-runs.sarif",
        "sarif/suppressions-mixed-external-insource.sarif",
        "sarif/grype-0.34.7-secsev.sarif",
    ],
    "branch-protection": [
        "github/docs-example-branch-protection.json",
        "github/realworld-2026-ruleset-detail.json",
        "github/go-github-list-rules-for-branch.json",
        "github/realworld-2026-trustsignal-branch.json",
    ],
}


class Obj(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs, in order, duplicates allowed."""


def _decode(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=Obj)


def _encode(value: Any) -> str:
    if isinstance(value, Obj):
        return "{" + ", ".join(f"{json.dumps(k)}: {_encode(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_encode(v) for v in value) + "]"
    return json.dumps(value)


def _step(pointer: str, key: str | int) -> str:
    """gate's JSON path spelling: `a.b[2]`, and `a["odd key"]` for keys not identifiers."""
    if isinstance(key, int):
        return f"{pointer}[{key}]"
    if key.isidentifier():
        return f"{pointer}.{key}" if pointer else key
    return f"{pointer}[{json.dumps(key)}]"


def _objects(
    value: Any, shape: Shape | None, pointer: str = ""
) -> Iterator[tuple[str, Obj, Shape | None]]:
    """Every object of a document: (its path, it, the shape of the keys gate reads there)."""
    if isinstance(value, Obj):
        yield pointer, value, shape
        for k, v in value:
            sub: Shape | None = None
            if shape is not None:
                sub = shape.keys.get(k) if shape.keys else None
                if sub is None and shape.values is not None and k not in shape.keys:
                    sub = shape.values
            yield from _objects(v, sub, _step(pointer, k))
    elif isinstance(value, list):
        item = shape.items if shape is not None else None
        for i, v in enumerate(value):
            yield from _objects(v, item, _step(pointer, i))


def _emptied(value: Any, rng: random.Random) -> Any:
    return rng.choice([value, None, [], Obj(), "", 0])


def _variants(key: str) -> list[str]:
    out = {key.lower(), key.upper(), key.swapcase(), key[:1].swapcase() + key[1:]}
    return sorted(v for v in out if v != key)


@dataclass(frozen=True)
class Mutant:
    kind: str
    source: str
    what: str
    pointer: str
    text: str


def mutants(budget: int, seed: int) -> list[Mutant]:
    rng = random.Random(seed)
    shapes = _shapes()
    docs = [
        (kind, name, _decode((DATA / name).read_bytes()))
        for kind, names in SOURCES.items()
        for name in names
    ]
    out: list[Mutant] = []
    while len(out) < budget:
        kind, name, doc = docs[len(out) % len(docs)]
        objects = [o for o in _objects(doc, shapes[kind]) if o[1]]
        pointer, obj, shape = rng.choice(objects)
        i = rng.randrange(len(obj))
        key, value = obj[i]
        known = [
            (j, k)
            for j, (k, _) in enumerate(obj)
            if shape is not None
            and k in shape.keys
            and _variants(k)
            and not any(v in {kk for kk, _ in obj} for v in _variants(k))
        ]
        if known and rng.random() < 0.5:
            j, k = rng.choice(known)
            variant = rng.choice(_variants(k))
            obj.insert(j + 1, (variant, obj[j][1]))
            what, where = f"case variant {variant!r} of {k!r}", _step(pointer, variant)
            undo = j + 1
        else:
            obj.insert(i + 1, (key, _emptied(value, rng)))
            what, where = f"duplicate {key!r}", _step(pointer, key)
            undo = i + 1
        out.append(Mutant(kind, name, what, where, _encode(doc)))
        del obj[undo]
    return out


def run_gate(
    kind: str, path: Path, policies: dict[str, Path], verdict: Path
) -> tuple[int, dict[str, Any]]:
    policy = policies["branch" if kind == "branch-protection" else "other"]
    with pytest.raises(SystemExit) as info:
        main(["check", f"--{kind}", str(path), "--policy", str(policy), "--json", str(verdict)])
    return int(info.value.code or 0), json.loads(verdict.read_text())


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("policy")
    (folder / "gate.yaml").write_text(POLICY)
    (folder / "branch.yaml").write_text(BRANCH_POLICY)
    return {"other": folder / "gate.yaml", "branch": folder / "branch.yaml"}


def test_the_sources_are_read_cleanly_before_mutation(policy, tmp_path, capsys):
    for kind, names in SOURCES.items():
        for name in names:
            code, verdict = run_gate(kind, DATA / name, policy, tmp_path / "v.json")
            capsys.readouterr()
            assert [i["status"] for i in verdict["inputs"]] == ["ok"], (name, verdict["errors"])
            assert code in (0, 1), (name, verdict["errors"])


def test_every_ambiguous_mutant_is_an_error_naming_file_and_path(policy, tmp_path, capsys):
    cases = mutants(BUDGET, SEED)
    assert len(cases) == BUDGET
    for n, m in enumerate(cases):
        path = tmp_path / f"mutant-{n}-{Path(m.source).name}"
        path.write_text(m.text)
        code, verdict = run_gate(m.kind, path, policy, tmp_path / "v.json")
        out = capsys.readouterr()
        label = f"{m.source}: {m.what} at {m.pointer}"
        assert code == 3, f"{label}: exit {code}"
        assert "Traceback" not in out.out + out.err, label
        (inp,) = verdict["inputs"]
        error = inp["error"] or ""
        assert inp["status"] == "error" and str(path) in error, f"{label}: {error}"
        assert f": {m.pointer}: " in error, f"{label}: {error}"


TRIVY = "reports/trivy/trivy-golden-fluentd-gems.json"  # fixable CRITICAL and HIGH: FAIL
NPM = "reports/npm-audit/v2-nar-all-severity-levels.json"  # critical with a fix: FAIL
PIP = "reports/pip-audit/realworld-secureflask-12-vulns.json"  # 12 vulns: FAIL if UNKNOWN fails


def _rename(obj: Obj, old: str, new: str) -> None:
    obj[:] = [(new if k == old else k, v) for k, v in obj]


@pytest.mark.parametrize("empty", [[], None, Obj()], ids=["empty", "null", "object"])
@pytest.mark.parametrize(
    ("kind", "source", "key"),
    [
        ("trivy", TRIVY, "Results"),
        ("npm-audit", NPM, "vulnerabilities"),
        ("pip-audit", PIP, "dependencies"),
    ],
)
def test_issue_examples_a_failing_report_with_its_findings_key_twice(
    kind, source, key, empty, tmp_path, capsys
):
    """issue 9: the second, empty value won, and the failing report PASSed."""
    policies = {"other": tmp_path / "p.yaml"}
    policies["other"].write_text(
        "apiVersion: gate/v1\nvulnerabilities: {fail_on: HIGH, unknown_severity: fail}\n"
    )
    code, _ = run_gate(kind, DATA / source, policies, tmp_path / "v.json")
    assert code == 1, "the unedited report fails"
    doc = _decode((DATA / source).read_bytes())
    i = next(j for j, (k, _) in enumerate(doc) if k == key)
    doc.insert(i + 1, (key, empty))
    bad = tmp_path / "dup.json"
    bad.write_text(_encode(doc))
    code, verdict = run_gate(kind, bad, policies, tmp_path / "v.json")
    capsys.readouterr()
    assert code == 3
    assert verdict["inputs"][0]["error"].startswith(f"{bad}: {key}: ")


@pytest.mark.parametrize(
    ("where", "old", "new", "pointer"),
    [
        ((), "Results", "results", "results"),
        (("Results", 0), "Vulnerabilities", "vulnerabilities", "Results[0].vulnerabilities"),
    ],
)
def test_issue_examples_a_findings_key_in_another_case(where, old, new, pointer, tmp_path, capsys):
    """issue 9: the key was dropped silently and the failing report PASSed."""
    policies = {"other": tmp_path / "p.yaml"}
    policies["other"].write_text("apiVersion: gate/v1\nvulnerabilities: {fail_on: HIGH}\n")
    doc = _decode((DATA / TRIVY).read_bytes())
    obj = doc
    for step in where:
        obj = dict(obj)[step] if isinstance(step, str) else obj[step]
    _rename(obj, old, new)
    bad = tmp_path / "case.json"
    bad.write_text(_encode(doc))
    code, verdict = run_gate("trivy", bad, policies, tmp_path / "v.json")
    capsys.readouterr()
    assert code == 3
    assert verdict["inputs"][0]["error"].startswith(f"{bad}: {pointer}: ")


def test_deleted_keys_and_swapped_types_never_crash_gate(tmp_path):
    """Near-empty and odd-typed reports: a key deleted, or a value replaced by a value of
    another JSON type, anywhere. Each is read, judged and written as a JSON verdict; gate
    may PASS, FAIL or ERROR, but never raise, and an unreadable input names its file.
    (Fuzzing this found a SARIF rule whose `tags` was a number crash the reader.)"""
    import datetime as dt
    import io

    from gate.engine import evaluate
    from gate.ingest import load_report
    from gate.models import InputKind, InputStatus
    from gate.policy.model import Policy
    from gate.report.json import write_json

    policy = Policy.model_validate(
        {
            "apiVersion": "gate/v1",
            "vulnerabilities": {"fail_on": "HIGH"},
            "secrets": {"fail_on": "LOW"},
            "misconfigurations": {"fail_on": "HIGH"},
            "code_scanning": {"fail_on": "HIGH"},
            "branch_protection": {"required_approving_reviews": 1},
        }
    )
    odd = [None, 0, -1, 1.5, "", "x", [], Obj(), True, [None], [Obj()], 10**30, "\x00"]
    rng = random.Random(SEED)
    docs = [(k, n, _decode((DATA / n).read_bytes())) for k, ns in SOURCES.items() for n in ns]
    path = tmp_path / "mutant.json"
    for n in range(BUDGET):
        kind, name, doc = docs[n % len(docs)]
        _, obj, _ = rng.choice([o for o in _objects(doc, None) if o[1]])
        saved = list(obj)
        j = rng.randrange(len(obj))
        if rng.random() < 0.3:
            del obj[j]
        else:
            obj[j] = (obj[j][0], rng.choice(odd))
        path.write_text(_encode(doc))
        obj[:] = saved
        run = load_report(InputKind(kind), path)
        if run.status is InputStatus.ERROR:
            assert run.error is not None and str(path) in run.error, (name, run.error)
        verdict = evaluate([run], policy, dt.datetime.now(dt.UTC))
        write_json(verdict, io.BytesIO())
