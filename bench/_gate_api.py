"""The benches' one door into gate's Python API.

Benches drive gate through its CLI; where one needs gate in-process (the Rego comparison
judges the same normalized findings), it goes through `gate_api()` only, so that when a
module moves (issue 13's layout redesign) this function is the one place to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GateApi:
    load_policy: Any  # (Path) -> (Policy, PolicyRef)
    load_report: Any  # (InputKind, Path) -> SourceRun
    evaluate: Any  # (runs, policy, now, policy_ref=...) -> Verdict
    input_kind: Any  # the InputKind enum: InputKind("trivy")


def gate_api() -> GateApi:
    from gate.engine import evaluate
    from gate.ingest import load_report
    from gate.models import InputKind
    from gate.policy.load import load_policy

    return GateApi(load_policy, load_report, evaluate, InputKind)
