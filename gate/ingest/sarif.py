"""SARIF 2.1.0 (CodeQL, Semgrep, ESLint, Trivy SARIF, …) → code-scanning findings.

One SARIF file is one input (one sha256); its runs may come from several tools.
Decisions this module makes, and why:

- Only `version: "2.1.0"` is read; the 2.0.0 pre-release shape is rejected.
- Runs with `results: []` are clean scans. `runs: []` examined nothing (no
  analyzer ran): an error, as every input that examined nothing is. A run
  *without* a `results` array is an error: the schema says a log that represents
  a scan must have one, and an absent array means the tool did not finish.
- A suppression without a valid `kind` (SARIF requires `inSource` or `external`)
  or with an undefined `status` is an error: it would otherwise suppress a result.
- A run whose invocation says `executionSuccessful: false` is an error (a failed
  scanner is never a pass).
- A driver whose `name` is null or empty is read as `unknown tool`, with a
  warning: its results still count, and it can never satisfy
  `code_scanning.require_tools`.
- Severity: `properties.security-severity` of the result, else of the rule (a
  number, a numeric string or a word), mapped as GitHub maps it; otherwise Trivy's
  own severity word (Trivy SARIF only); otherwise the SARIF level (result, then
  rule default, then `warning`): error → HIGH, warning → MEDIUM, note/none → LOW.
- Region snippets and result `properties` are never copied: secret scanners put
  the secret there.

Length (over ~400 lines): one idea, a SARIF log read into findings; the raw models are
`_sarif_raw`, a run's context `_sarif_run`, and what is left is the walk over runs and
results, which reads best in one place.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from pydantic import ValidationError

from gate.common.strict_json import Shape, shape_of
from gate.common.timestamps import parse_timestamp
from gate.errors import InputError
from gate.facts import Facts, SarifRuleFacts, SarifRunFacts
from gate.ingest import _sarif_raw as sr
from gate.ingest._sarif_run import RunContext
from gate.ingest.common import (
    freshness,
    load_json,
    sha256_hex,
    validation_error,
)
from gate.ingest.interface import Ingestor
from gate.models import (
    Finding,
    FindingKind,
    InputKind,
    Severity,
    SourceRef,
    SourceRun,
    Suppression,
    ToolInfo,
)

UNKNOWN_TOOL = "unknown tool"
NO_RULE_ID = "(no rule id)"

_LEVEL_SEVERITY = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.LOW,
}
_ADVISORY_ID = re.compile(r"(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})", re.I)
_TRIVY_PREFIX = re.compile(r"^\[([A-Za-z]+)\]")
_TRIVY_WORDS = {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
_ARGUMENT = re.compile(r"\{(\d+)\}")
_MESSAGE_MAX = 1000
_HELP_MAX = 16_000


def _wrong_kind(data: object) -> str | None:
    """A hint when the file is another report gate reads, not SARIF."""
    if isinstance(data, list):
        return "a JSON array, not a SARIF log (a legacy Trivy or pip-audit 1.x report?)"
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not a SARIF log object"
    if "SchemaVersion" in data or "ArtifactName" in data or "Results" in data:
        return "a Trivy JSON report, not SARIF: pass it with --trivy"
    if "auditReportVersion" in data or "advisories" in data:
        return "an npm audit report, not SARIF: pass it with --npm-audit"
    if "dependencies" in data and "runs" not in data:
        return "a pip-audit report, not SARIF: pass it with --pip-audit"
    return None


def _check_top(data: object, path: str) -> list[Any]:
    hint = _wrong_kind(data)
    if hint:
        raise InputError(path, hint)
    assert isinstance(data, dict)
    version = data.get("version")
    if version is None:
        raise InputError(path, 'not a SARIF log: no `version` (expected "2.1.0")', "version")
    if version != "2.1.0":
        why = " (a pre-release of SARIF 2.1.0)" if str(version).startswith("2.") else ""
        raise InputError(
            path, f"SARIF version {version!r}{why} is not supported: gate reads 2.1.0", "version"
        )
    if "runs" not in data:
        raise InputError(path, "no `runs` array: not a SARIF log", "runs")
    runs = data["runs"]
    if runs is None:
        raise InputError(path, "`runs` is null: the tool produced no run", "runs")
    if not isinstance(runs, list):
        raise InputError(path, f"`runs` must be an array, got {type(runs).__name__}", "runs")
    if not runs:
        raise InputError(
            path,
            "`runs` is empty: no analyzer ran, so the file examined nothing "
            "(a clean scan is a run with `results: []`)",
            "runs",
        )
    for i, run in enumerate(runs):
        if not isinstance(run, dict):
            raise InputError(path, "a run must be an object", f"runs[{i}]")
        results = run.get("results")
        if results is None:
            raise InputError(
                path,
                "no `results` array: the tool did not complete a scan "
                "(a clean scan has `results: []`)",
                f"runs[{i}].results",
            )
        if not isinstance(results, list):
            raise InputError(
                path,
                f"`results` must be an array, got {type(results).__name__}",
                f"runs[{i}].results",
            )
    return runs


def _score(value: object) -> Severity | None:
    """`security-severity`: a number, numeric string or word; None if unusable or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        score = float(value)
    elif isinstance(value, str):
        try:
            score = float(value.strip())
        except ValueError:
            word = Severity.parse(value)
            return None if word is Severity.UNKNOWN else word
    else:
        return None
    if not 0.0 < score <= 10.0:  # also false for NaN
        return None
    return Severity.from_score(score)


def _props(obj: sr.Rule | sr.Result | None) -> dict[str, Any]:
    return (obj.properties if obj is not None else None) or {}


def _message(res: sr.Result, rule: sr.Rule | None) -> str:
    msg = res.message
    if msg is None:
        return ""
    text = msg.text
    if text is None and msg.id and rule is not None and rule.messageStrings:
        template = rule.messageStrings.get(msg.id)
        text = template.text if template else None
    text = text if text is not None else (msg.markdown or "")
    if msg.arguments:
        args = [str(a) for a in msg.arguments]

        def sub(m: re.Match[str]) -> str:
            n = int(m.group(1))
            return args[n] if n < len(args) else m.group(0)

        text = _ARGUMENT.sub(sub, text)
    return text


def _level(res: sr.Result, rule: sr.Rule | None) -> tuple[str, str]:
    """The effective SARIF level and where it came from: the result, the rule, the default."""
    if res.level:
        return res.level, "result"
    default = rule.defaultConfiguration.level if rule and rule.defaultConfiguration else None
    if default:
        return default, "rule"
    return "warning", "default"


def _severity(
    res: sr.Result, rule: sr.Rule | None, rule_id: str, is_trivy: bool
) -> tuple[Severity, dict[str, Any]]:
    level, level_source = _level(res, rule)
    details: dict[str, Any] = {"level": level}
    for where, props in (("result", _props(res)), ("rule", _props(rule))):
        value = props.get("security-severity")
        if value is None:
            continue
        details["security_severity"] = str(value)
        sev = _score(value)
        if sev is not None:
            details["severity_source"] = f"{where} security-severity"
            return sev, details
    if is_trivy:
        words = [m.group(1) for m in [_TRIVY_PREFIX.match(rule_id)] if m]
        words += [t for t in _props(rule).get("tags") or [] if isinstance(t, str)]
        for word in words:
            if word.upper() in _TRIVY_WORDS:
                details["severity_source"] = "trivy severity"
                return Severity(word.upper()), details
    details["severity_source"] = f"{level_source} level"
    return _LEVEL_SEVERITY.get(level.strip().lower(), Severity.UNKNOWN), details


def _rule_facts(rule: sr.Rule | None, rule_id: str) -> SarifRuleFacts:
    """What the SARIF writer needs to re-emit the rule under its own id."""
    if rule is None:
        return SarifRuleFacts(id=rule_id)
    props = _props(rule)
    tags = [t for t in props.get("tags") or [] if isinstance(t, str)]
    out: dict[str, Any] = {
        "id": rule_id,
        "name": rule.name,
        "short": rule.shortDescription.text if rule.shortDescription else None,
        "full": rule.fullDescription.text if rule.fullDescription else None,
        "help_text": (rule.help.text or "")[:_HELP_MAX] if rule.help else None,
        "help_markdown": (rule.help.markdown or "")[:_HELP_MAX] if rule.help else None,
        "help_uri": rule.helpUri,
        "tags": tags,
        "security_severity": (
            str(props["security-severity"]) if props.get("security-severity") is not None else None
        ),
        "precision": props.get("precision") if isinstance(props.get("precision"), str) else None,
        "level": rule.defaultConfiguration.level if rule.defaultConfiguration else None,
    }
    # only what the rule says is set: the verdict's JSON lists nothing else
    return SarifRuleFacts(**{k: v for k, v in out.items() if v not in (None, "", [])})


_SUPPRESSION_KINDS = ("inSource", "external")
_SUPPRESSION_STATUSES = (None, "accepted", "underReview", "rejected")


def _suppressions(res: sr.Result, path: str, pointer: str) -> tuple[Suppression, ...]:
    """A result's suppressions. SARIF requires `kind`; a suppression without a valid one, or
    with a status SARIF does not define, is malformed: guessing would suppress the result."""
    out = []
    for k, s in enumerate(res.suppressions or []):
        if s.kind not in _SUPPRESSION_KINDS:
            got = "no `kind`" if s.kind is None else f"kind {s.kind!r}"
            raise InputError(
                path,
                f"a suppression with {got} (SARIF requires inSource or external)",
                f"{pointer}.suppressions[{k}].kind",
            )
        if s.status not in _SUPPRESSION_STATUSES:
            raise InputError(
                path,
                f"a suppression with status {s.status!r} (SARIF: accepted, underReview or "
                "rejected)",
                f"{pointer}.suppressions[{k}].status",
            )
        out.append(Suppression(kind=s.kind, status=s.status, justification=s.justification))
    return tuple(out)


@cache
def _shape() -> Shape | None:
    return shape_of(sr.Log)


class SarifIngestor(Ingestor):
    kind = InputKind.SARIF

    def parse(self, raw: bytes, path: str) -> SourceRun:
        runs_json = _check_top(load_json(raw, path, _shape()), path)
        findings: list[Finding] = []
        tools: list[ToolInfo] = []
        warnings: list[str] = []
        runs_facts: list[SarifRunFacts] = []
        stamps: list[dt.datetime] = []
        for i, run_json in enumerate(runs_json):
            try:
                run = sr.Run.model_validate(run_json)
            except ValidationError as e:
                raise validation_error(path, e, root=f"runs[{i}]") from e
            self._check_invocations(run, path, i)
            for inv in run.invocations or []:
                stamp = parse_timestamp(inv.endTimeUtc) or parse_timestamp(inv.startTimeUtc)
                if stamp is not None:
                    stamps.append(stamp)
            driver = run.tool.driver
            name = (driver.name or "").strip()
            if not name:
                warnings.append(
                    f"runs[{i}].tool.driver.name is {'null' if driver.name is None else 'empty'}: "
                    f"its results are reported as `{UNKNOWN_TOOL}`"
                )
                name = UNKNOWN_TOOL
            version = driver.version or driver.semanticVersion
            if ToolInfo(name=name, version=version) not in tools:
                tools.append(ToolInfo(name=name, version=version))
            run_findings, rules, run_warnings = self._results(run, i, name, path)
            findings += run_findings
            warnings += run_warnings
            runs_facts.append(
                SarifRunFacts(
                    index=i,
                    tool=name,
                    version=version,
                    information_uri=driver.informationUri,
                    category=run.automationDetails.id if run.automationDetails else None,
                    results=len(run.results),
                    rules=rules,
                )
            )
        created = max(stamps) if stamps else None
        when, source = freshness(created, path)
        return SourceRun(
            kind=InputKind.SARIF,
            path=path,
            sha256=sha256_hex(raw),
            created_at=created,
            freshness=when,
            freshness_source=source,
            tools=tuple(tools),
            findings=tuple(findings),
            facts=Facts(
                sarif_tools=tuple(dict.fromkeys(t.name for t in tools)),
                sarif_runs=tuple(runs_facts),
            ),
            warnings=tuple(warnings),
        )

    @staticmethod
    def _check_invocations(run: sr.Run, path: str, i: int) -> None:
        for k, inv in enumerate(run.invocations or []):
            if inv.executionSuccessful is False:
                errors = [
                    n.message.text
                    for n in inv.toolExecutionNotifications or []
                    if n.level == "error" and n.message and n.message.text
                ]
                why = f": {errors[0]}" if errors else ""
                raise InputError(
                    path,
                    f"the tool reports that its run failed (executionSuccessful: false){why}",
                    f"runs[{i}].invocations[{k}].executionSuccessful",
                )

    @staticmethod
    def _results(
        run: sr.Run, i: int, tool: str, path: str
    ) -> tuple[list[Finding], dict[str, SarifRuleFacts], list[str]]:
        ctx = RunContext(run)
        is_trivy = tool.lower() == "trivy"
        category = run.automationDetails.id if run.automationDetails else None
        findings: list[Finding] = []
        rules: dict[str, SarifRuleFacts] = {}
        no_id = 0
        for j, res in enumerate(run.results):
            rule_id, rule = ctx.rule_for(res)
            text = _message(res, rule)
            details: dict[str, Any] = {"sarif_run": i}
            if not rule_id:
                rule_id = ctx.rule_from_message(text)
                if rule_id:
                    rule = ctx.by_id[rule_id]
                    details["rule_id_source"] = "message"
                else:
                    rule_id, no_id = NO_RULE_ID, no_id + 1
            severity, sev_details = _severity(res, rule, rule_id, is_trivy)
            details.update(sev_details)
            precision = _props(rule).get("precision")
            if isinstance(precision, str):
                details["precision"] = precision
            if text:
                details["message"] = text[:_MESSAGE_MAX]
            if category:
                details["category"] = category
            if rule_id not in rules:
                rules[rule_id] = _rule_facts(rule, rule_id)
            short = rule.shortDescription.text if rule and rule.shortDescription else None
            first_line = text.strip().splitlines()[0][:200] if text.strip() else None
            aliases = tuple(
                dict.fromkeys(
                    m.upper() for m in _ADVISORY_ID.findall(rule_id) if m.upper() != rule_id.upper()
                )
            )
            findings.append(
                Finding(
                    kind=FindingKind.CODE,
                    id=rule_id,
                    aliases=aliases,
                    title=(short or first_line or rule_id),
                    url=rule.helpUri if rule else None,
                    severity=severity,
                    status=res.kind,
                    location=ctx.location(res),
                    suppressions=_suppressions(res, path, f"runs[{i}].results[{j}]"),
                    baseline_state=res.baselineState,
                    tool=tool,
                    sources=(
                        SourceRef(
                            kind=InputKind.SARIF,
                            path=path,
                            pointer=f"runs[{i}].results[{j}]",
                            tool=tool,
                        ),
                    ),
                    details=details,
                )
            )
        warnings = []
        if no_id:
            warnings.append(
                f"runs[{i}] ({tool}): {no_id} result(s) name no rule (ruleId, rule.id, ruleIndex): "
                f"reported as `{NO_RULE_ID}`"
            )
        return findings, rules, warnings
