"""GitHub Actions workflow commands: `::error file=…,line=…::` on the lines at fault.

Only failing (`::error`) and warning (`::warning`) findings with a file in the
repository are annotated: SARIF results, and reports about repository files. Paths
inside an image are not repository files and get no annotation. Escaping follows
`@actions/core` (`toCommandValue` / `escapeData` / `escapeProperty`), after
`gate.common.sanitize.text` has shown every control character of a field escaped: a `\n` inside a
title is `\n` in the annotation, not a line break (only gate's own line breaks are `%0A`).
"""

from __future__ import annotations

import os

from gate.common.sanitize import message as sanitized_message
from gate.common.sanitize import text
from gate.models import DecidedFinding, Decision, FindingKind, InputKind, Verdict
from gate.report.sarif_limits import priority
from gate.report.sarif_results import decision_text, is_image_input

DEFAULT_LIMIT = 50


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _repo_path(d: DecidedFinding, images: set[tuple[InputKind, str]], workspace: str) -> str | None:
    """The finding's path relative to the repository, or None when it has none."""
    f = d.finding
    loc = f.location
    if loc is None or not loc.path or "://" in loc.path:
        return None
    if f.kind is not FindingKind.CODE and any((s.kind, s.path) in images for s in f.sources):
        return None
    path = loc.path.replace("\\", "/")
    if path.startswith("/") or (len(path) > 2 and path[1] == ":"):
        root = workspace.replace("\\", "/").rstrip("/")
        if not root or not path.startswith(root + "/"):
            return None
        path = path[len(root) + 1 :]
    return path


def _command(d: DecidedFinding, path: str) -> str:
    f = d.finding
    loc = f.location
    level = "error" if d.decision is Decision.FAIL else "warning"
    props = [f"file={escape_property(text(path))}"]
    if loc is not None and loc.start_line and loc.start_line >= 1:
        props.append(f"line={loc.start_line}")
        if loc.end_line and loc.end_line >= loc.start_line:
            props.append(f"endLine={loc.end_line}")
        if loc.start_column and loc.start_column >= 1:
            props.append(f"col={loc.start_column}")
            if loc.end_column and loc.end_column >= 1:
                props.append(f"endColumn={loc.end_column}")
    tool = f"{f.tool} " if f.tool else ""
    props.append(f"title={escape_property(text(f'gate: {f.severity.value} {tool}{f.id}'))}")
    message = f"{text(f.title)}\n" if f.title and f.title != f.id else ""
    message += f"gate {sanitized_message(decision_text(d))}"
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def render_annotations(
    verdict: Verdict, limit: int = DEFAULT_LIMIT, *, workspace: str | None = None
) -> list[str]:
    """Workflow-command lines, failing findings first, at most `limit` plus a closing notice.

    `workspace`: the checkout directory absolute paths are made relative to
    (default: `$GITHUB_WORKSPACE`); absolute paths outside it are not annotated.
    """
    root = workspace if workspace is not None else os.environ.get("GITHUB_WORKSPACE", "")
    images = {(r.kind, r.path) for r in verdict.inputs if is_image_input(r)}
    candidates = sorted(
        (d for d in verdict.findings if d.decision in (Decision.FAIL, Decision.WARN)),
        key=priority,
    )
    lines: list[str] = []
    left_out = 0
    for d in candidates:
        path = _repo_path(d, images, root)
        if path is None:
            continue
        if len(lines) < limit:
            lines.append(_command(d, path))
        else:
            left_out += 1
    if left_out:
        lines.append(
            f"::notice::gate: {left_out:,} more failing or warning findings with a file location "
            f"were not annotated (limit {limit}); see the step summary"
        )
    return lines
