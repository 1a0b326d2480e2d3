"""The report dispatcher: every `ReportKind`'s reporter, asked in turn, writes its output.

`reporter_for` is a closed registry (a `match` over `ReportKind`, checked exhaustive by mypy
and walked by a test); each reporter's rendering module is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from gate.report.interface import OutputRequest, Rendered, Reporter, ReportKind, Target
from gate.report.output import write_output

if TYPE_CHECKING:
    from gate.models import Verdict

__all__ = ["reporter_for", "write_reports"]


class _Json:
    what = "JSON verdict"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        return None if request.json_path is None else Target(request.json_path)

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.json import write_json

        return Rendered(lambda fh: write_json(verdict, fh))


class _Sarif:
    what = "SARIF"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        return None if request.sarif_output is None else Target(request.sarif_output)

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.sarif import encode_sarif

        data, notes = encode_sarif(
            verdict, location=request.sarif_location, category=request.sarif_category
        )
        return Rendered(data, tuple(notes))


class _Summary:
    what = "summary"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        if request.summary is not None:
            return Target(request.summary)
        step_summary = env.get("GITHUB_STEP_SUMMARY")
        # GitHub's step summary file is shared by the job's steps: append to it.
        return Target(Path(step_summary), append=True) if step_summary else None

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.markdown import render_markdown

        return Rendered(render_markdown(verdict))


class _OpenVex:
    what = "OpenVEX"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        return None if request.openvex is None else Target(request.openvex)

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.openvex import render_openvex

        return Rendered(render_openvex(verdict))


class _CycloneDx:
    what = "CycloneDX"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        return None if request.cyclonedx is None else Target(request.cyclonedx)

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.cyclonedx import render_cyclonedx

        return Rendered(render_cyclonedx(verdict))


class _Annotations:
    what = "annotations"

    def target(self, request: OutputRequest, env: Mapping[str, str]) -> Target | None:
        return Target(Path("-")) if env.get("GITHUB_ACTIONS") == "true" else None

    def render(self, verdict: Verdict, request: OutputRequest) -> Rendered:
        from gate.report.annotations import render_annotations

        return Rendered("".join(line + "\n" for line in render_annotations(verdict)))


def reporter_for(kind: ReportKind) -> Reporter:
    """The reporter of an output kind (a closed registry; a test walks every member)."""
    match kind:
        case ReportKind.JSON:
            return _Json()
        case ReportKind.SARIF:
            return _Sarif()
        case ReportKind.SUMMARY:
            return _Summary()
        case ReportKind.OPENVEX:
            return _OpenVex()
        case ReportKind.CYCLONEDX:
            return _CycloneDx()
        case ReportKind.ANNOTATIONS:
            return _Annotations()
        case _:
            assert_never(kind)


def write_reports(
    verdict: Verdict,
    request: OutputRequest,
    env: Mapping[str, str],
    note: Callable[[str], None],
) -> None:
    """Write every output the request (or the environment: GitHub Actions) asks for, in
    `ReportKind` order; `note` receives each reporter's notes, one line each."""
    for kind in ReportKind:
        reporter = reporter_for(kind)
        target = reporter.target(request, env)
        if target is None:
            continue
        rendered = reporter.render(verdict, request)
        write_output(target.path, rendered.content, reporter.what, append=target.append)
        for line in rendered.notes:
            note(f"gate: {kind.value}: {line}")
