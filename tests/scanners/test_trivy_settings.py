"""The trivy settings are declared once (`gate.policy.trivy`): the policy model, the early
start and the command builder must read the same keys, choices and defaults."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

from gate import cli
from gate.policy import trivy
from gate.policy.model import TrivySettings
from gate.scanners.trivy import command, early


def _choices(field: str) -> tuple[str, ...]:
    annotation = TrivySettings.model_fields[field].annotation
    literal = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(literal) is list:
        literal = typing.get_args(literal)[0]
    return typing.get_args(literal)


def test_the_policy_model_has_the_declared_keys_and_choices() -> None:
    assert set(TrivySettings.model_fields) == trivy.KEYS
    assert _choices("scanners") == trivy.SCANNERS
    assert _choices("pkg_types") == trivy.PKG_TYPES
    assert _choices("detection_priority") == trivy.DETECTION_PRIORITIES
    assert tuple(TrivySettings().scanners) == trivy.DEFAULT_SCANNERS
    assert set(trivy.DEFAULT_SCANNERS) <= set(trivy.SCANNERS)


def test_the_early_start_reads_the_same_block_as_the_model() -> None:
    assert set(early.Options.__slots__) == trivy.KEYS
    options = early.Options()
    assert options.scanners == trivy.DEFAULT_SCANNERS
    assert options.pkg_types is None and options.detection_priority is None


def test_the_command_builds_the_same_argv_from_the_model_and_the_early_options() -> None:
    target = ["--input", "image.tar"]
    for model, fast in [
        (TrivySettings(), early.Options()),
        (
            TrivySettings(scanners=["vuln"], pkg_types=["os"], detection_priority="precise"),
            early.Options(("vuln",), ("os",), "precise"),
        ),
    ]:
        a = command.build_argv("trivy", target, Path("/out"), model, 600.0, "/cache")
        b = command.build_argv("trivy", target, Path("/out"), fast, 600.0, "/cache")
        assert a == b


def test_one_default_scan_timeout() -> None:
    default = inspect.signature(cli.check).parameters["scan_timeout"].default
    assert default == trivy.DEFAULT_SCAN_TIMEOUT == 600.0
