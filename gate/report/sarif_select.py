"""Which findings go into the SARIF file, and which original run a code-scanning result is from.

- `--sarif-include attention` (the default): only what needs attention becomes an alert:
  findings that fail or warn, and excepted ones (with their `suppressions`, so the Security
  tab and the verdict agree). Findings the policy passes or ignores are left out; `all`
  puts them back (as `note` results).
- Each run of each SARIF input keeps its identity (its own SARIF run, tool version and
  category): `code_run_key` names the input and run a code-scanning finding came from.
"""

from __future__ import annotations

import re
from typing import Literal

from gate.models import DecidedFinding, Decision, InputKind

Include = Literal["attention", "all"]
INCLUDE_CHOICES: tuple[Include, ...] = ("attention", "all")
_ATTENTION = frozenset({Decision.FAIL, Decision.WARN, Decision.EXCEPTED})
_RUN_POINTER = re.compile(r"^runs\[(\d+)\]")


def wanted(d: DecidedFinding, include: Include) -> bool:
    return include == "all" or d.decision in _ATTENTION


def code_run_key(d: DecidedFinding) -> tuple[str, int] | None:
    """(SARIF input path, index of the run in it) of a code-scanning finding, when known."""
    f = d.finding
    src = next((s for s in f.sources if s.kind is InputKind.SARIF), None)
    if src is None:
        return None
    index = f.details.get("sarif_run")
    if not isinstance(index, int):
        m = _RUN_POINTER.match(src.pointer or "")
        index = int(m.group(1)) if m else None
    return (src.path, index) if index is not None else None
