"""Reading policy and exception files: YAML in, a validated `Policy` out, errors with key paths."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from gate.errors import PolicyError
from gate.models import PolicyRef
from gate.policy.model import Policy, PolicyException
from gate.policy.strict_yaml import load_yaml


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_validation_error(err: ValidationError) -> list[str]:
    """One line per problem, `key.path[0].name: message`."""
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif e["type"] == "literal_error" or e["type"] == "enum":
            msg = f"{msg}, got {e.get('input')!r}"
        elif e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        problems.append(f"{_loc(loc)}: {msg}")
    return problems


def check_exception_rules(policy: Policy, today: dt.date | None, ref: PolicyRef) -> None:
    """`exception_rules.require_owner` and `max_days` (against `today`, when given) over every
    exception, the policy's and those `--exceptions` files added, each named where it is
    written. Raises `PolicyError` listing every exception that breaks them."""
    rules = policy.exception_rules
    top = len(policy.exceptions)
    problems = []
    vex = ref.vex_indexes()
    for i, e in enumerate(policy.all_exceptions()):
        if i in vex:
            continue  # a VEX statement is a fact with no expiry, not an accepted risk
        where = f"{ref.exception_label(i, top)} ({e.id})"
        if rules.require_owner and not e.owner:
            problems.append(f"{where}: owner is required (exception_rules.require_owner)")
        if today is not None and rules.max_days is not None:
            if (e.expires - today).days > rules.max_days:
                problems.append(
                    f"{where}: expires {e.expires}, more than "
                    f"exception_rules.max_days={rules.max_days} days ahead"
                )
    if problems:
        raise PolicyError(ref.path, problems)


def load_policy(path: Path, today: dt.date | None = None) -> tuple[Policy, PolicyRef]:
    """Read and validate a policy file. Raises `PolicyError` naming every bad key path."""
    raw, data = load_yaml(path)
    if data is None:
        raise PolicyError(str(path), ["the file is empty"])
    if not isinstance(data, dict):
        raise PolicyError(
            str(path), [f"expected a mapping at the top level, got {type(data).__name__}"]
        )
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        raise PolicyError(str(path), format_validation_error(e)) from e
    ref = PolicyRef(path=str(path), sha256=hashlib.sha256(raw).hexdigest(), name=policy.name)
    check_exception_rules(policy, today, ref)
    return policy, ref


def load_exceptions(path: Path) -> list[PolicyException]:
    """Read an exceptions file: `exceptions: [...]` (or a bare list) in YAML."""
    return read_exceptions_file(path)[0]


def read_exceptions_file(path: Path) -> tuple[list[PolicyException], str]:
    """The exceptions of a file, and the sha256 of its bytes (for the verdict)."""
    raw, data = load_yaml(path)
    if isinstance(data, dict) and set(data) <= {"apiVersion", "exceptions"}:
        data = data.get("exceptions")
    if not isinstance(data, list):
        raise PolicyError(str(path), ["expected `exceptions:` with a list of exceptions"])
    out = []
    problems = []
    for i, item in enumerate(data):
        try:
            out.append(PolicyException.model_validate(item))
        except ValidationError as e:
            problems += [f"exceptions[{i}].{p}" for p in format_validation_error(e)]
    if problems:
        raise PolicyError(str(path), problems)
    return out, hashlib.sha256(raw).hexdigest()


def policy_json_schema() -> str:
    """The JSON Schema of the policy file, as written to `policies/schema.json`."""
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/gate-dev/gate/policies/schema.json"
    schema["title"] = "gate policy (apiVersion gate/v1)"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
