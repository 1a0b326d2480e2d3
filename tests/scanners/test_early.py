"""Starting trivy before the CLI loads (`gate.scanners.trivy.early`), with the real trivy.

The early process is adopted only when the argv the scan builds is identical; otherwise it
is killed and trivy runs again; an unclaimed one is killed when the command ends. Either
way the verdict is the one a run without the head start gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from gate.cli import app, main
from gate.scanners.trivy import early, process
from tests.helpers.registry import OciRegistry
from tests.scanners.conftest import Images, write_script

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
STRICT_POLICY = ROOT / "policies" / "strict.yaml"


@pytest.fixture(autouse=True)
def _no_leftover() -> Iterator[None]:
    yield
    early.discard()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out + out.err


def scan_facts(verdict: Path) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(verdict.read_text())["inputs"][0]["facts"]["scan"]
    return facts


def comparable(verdict: Path) -> dict[str, Any]:
    """What a verdict judged: not when, nor the report's own bytes and times."""
    data: dict[str, Any] = json.loads(verdict.read_text())
    return {k: data[k] for k in ("result", "subject", "counts", "findings", "errors")}


@pytest.fixture
def slow_trivy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GATE_TRIVY = a fake trivy that only sleeps for a minute."""
    slow = write_script(tmp_path / "bin" / "trivy", "import time\ntime.sleep(60)\n")
    monkeypatch.setenv("GATE_TRIVY", str(slow))
    return slow


def gone(scan: early.EarlyScan) -> bool:
    return scan.running.proc.poll() is not None and not scan.workdir.exists()


# -- which command lines start trivy early ------------------------------------------------


def test_option_sets_are_the_clis() -> None:
    """The early parser knows exactly `gate check`'s options, and which take a value."""
    group = typer.main.get_command(app)
    check = group.commands["check"]  # type: ignore[attr-defined]
    values, flags = set(), set()
    for param in check.params:
        if param.param_type_name != "option":
            continue
        names = set(param.opts) | set(param.secondary_opts)
        (flags if param.is_flag else values).update(names)
    assert values == early.VALUE_OPTIONS
    assert flags == early.FLAG_OPTIONS  # (--help is added by click, and left to typer)


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["check", "--input", "a.tar"], {"--input": "a.tar"}),
        (["check", "--input=a.tar", "-v"], {"--input": "a.tar"}),
        (
            ["check", "reg.example/app:1", "--json", "v.json"],
            {"IMAGE": "reg.example/app:1", "--json": "v.json"},
        ),
        (
            ["check", "--policy", "p.yaml", "app@sha256:" + "a" * 64, "--verify-digest"],
            {"--policy": "p.yaml", "IMAGE": "app@sha256:" + "a" * 64},
        ),
        (
            ["check", "app:1", "--platform", "linux/arm64"],
            {"IMAGE": "app:1", "--platform": "linux/arm64"},
        ),
        (["check", "--trivy", "r.json"], None),  # a saved report: nothing to scan
        (["check", "app:1", "--input", "a.tar"], None),  # both: a usage error
        (["check", "app:1", "app:2"], None),
        (["check", "--input"], None),
        (["check", "--input", "a.tar", "--help"], None),
        (["check", "--input", "a.tar", "--unknown"], None),
        (["check", "--bogus=1", "app:1"], None),
        (["check", "--", "app:1"], None),
        (["policy", "validate", "p.yaml"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_parse_check_args(args: list[str], want: dict[str, str] | None) -> None:
    assert early.parse_check_args(args) == want


def test_read_options(tmp_path: Path) -> None:
    default = early.read_options(DEFAULT_POLICY)
    assert default is not None and default.scanners == ("vuln", "secret")
    strict = early.read_options(STRICT_POLICY)
    assert strict is not None and strict.scanners == ("vuln", "secret", "misconfig")
    custom = tmp_path / "custom.yaml"
    custom.write_text(
        "apiVersion: gate/v1\ntrivy:\n  scanners: [vuln]\n  pkg_types: [os]\n"
        "  detection_priority: comprehensive\n"
    )
    got = early.read_options(custom)
    assert got is not None
    assert (got.scanners, got.pkg_types, got.detection_priority) == (
        ("vuln",),
        ("os",),
        "comprehensive",
    )
    unset = tmp_path / "unset.yaml"
    unset.write_text("apiVersion: gate/v1\n")
    got = early.read_options(unset)
    assert got is not None and got.scanners == ("vuln", "secret") and got.pkg_types is None
    for name, text in {
        "typo.yaml": "trivy:\n  scaners: [vuln]\n",
        "scalar.yaml": "trivy:\n  scanners: vuln\n",
        "number.yaml": "trivy:\n  detection_priority: 3\n",
        "list.yaml": "- trivy\n",
        "broken.yaml": "trivy: [\n",
    }.items():
        (tmp_path / name).write_text(text)
        assert early.read_options(tmp_path / name) is None, name
    assert early.read_options(tmp_path / "absent.yaml") is None


# -- adopting, restarting, discarding ----------------------------------------------------


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, STRICT_POLICY])
def test_adopted_scan_gives_the_same_verdict(
    policy: Path, imgs: Images, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--input", str(imgs.alpine_tar.path), "--policy", str(policy)]
    plain, fast = tmp_path / "plain.json", tmp_path / "early.json"
    code_plain, _ = run_cli([*args, "--json", str(plain)], capsys)
    scan = early.start([*args, "--json", str(fast)])
    assert scan is not None
    code_fast, output = run_cli([*args, "--json", str(fast)], capsys)
    assert code_fast == code_plain == 1, output
    assert scan_facts(fast)["started_early"] is True
    assert scan_facts(plain)["started_early"] is False
    assert scan_facts(fast)["argv"] == scan.argv
    assert comparable(fast) == comparable(plain)
    assert gone(scan)


def test_policy_changed_after_the_early_start_runs_trivy_again(
    imgs: Images, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The early scan looked for secrets; by the time the policy is loaded it says only
    `vuln`: that scan is killed, and the verdict is from a `vuln`-only run."""
    policy = tmp_path / "gate.yaml"
    policy.write_text(DEFAULT_POLICY.read_text())
    out = tmp_path / "v.json"
    args = ["check", "--input", str(imgs.secret_tar.path), "--policy", str(policy)]
    scan = early.start([*args, "--json", str(out)])
    assert scan is not None and "--scanners=vuln,secret" in scan.argv
    policy.write_text(DEFAULT_POLICY.read_text().replace("[vuln, secret]", "[vuln]"))
    code, output = run_cli([*args, "--json", str(out)], capsys)
    facts = scan_facts(out)
    assert facts["started_early"] is False
    assert "--scanners=vuln" in facts["argv"]
    assert not any(f["kind"] == "secret" for f in json.loads(out.read_text())["findings"])
    assert code == 1, output
    assert gone(scan)


def test_invalid_policy_kills_the_early_scan(
    imgs: Images, tmp_path: Path, capsys: pytest.CaptureFixture[str], slow_trivy: Path
) -> None:
    """The `trivy:` block reads fine, the rest of the policy is invalid: exit 2, and the
    trivy started early (here a slow fake one) does not outlive the command."""
    policy = tmp_path / "bad.yaml"
    policy.write_text("apiVersion: gate/v1\nvulnerabilities:\n  fail_on: SEVERE\n")
    args = ["check", "--input", str(imgs.alpine_tar.path), "--policy", str(policy)]
    scan = early.start(args)
    assert scan is not None and scan.running.proc.poll() is None
    code, output = run_cli(args, capsys)
    assert code == 2, output
    assert "vulnerabilities.fail_on" in output
    assert gone(scan)


def test_usage_error_kills_the_early_scan(
    imgs: Images, capsys: pytest.CaptureFixture[str], slow_trivy: Path
) -> None:
    args = ["check", "--input", str(imgs.alpine_tar.path), "--scan-timeout", "5"]
    scan = early.start(args)
    assert scan is not None
    code, _ = run_cli([*args, "--now", "yesterday"], capsys)
    assert code == 2
    assert gone(scan)


def test_timeout_counts_from_the_early_start(
    imgs: Images, capsys: pytest.CaptureFixture[str], slow_trivy: Path
) -> None:
    """A scan that outlives `--scan-timeout` is an ERROR whether or not gate was watching
    when the deadline passed."""
    args = ["check", "--input", str(imgs.alpine_tar.path), "--scan-timeout", "1"]
    scan = early.start(args)
    assert scan is not None
    time.sleep(1.5)  # the deadline passes before the CLI gets to the scan
    began = time.monotonic()
    code, output = run_cli(args, capsys)
    assert code == 3, output
    assert "did not finish scanning" in output
    assert time.monotonic() - began < 10  # killed at once, not after the fake's 60 s
    assert gone(scan)


def test_scan_that_ended_past_its_deadline_is_timed_out(tmp_path: Path) -> None:
    running = process.launch(
        [sys.executable, "-c", "import time; time.sleep(0.3)"], env=dict(os.environ)
    )
    time.sleep(0.6)  # it has exited, 0.3 s after it started, before anyone waited
    result = running.finish(timeout=0.1)
    assert result.timed_out and result.returncode is None
    ok = process.launch([sys.executable, "-c", "pass"], env=dict(os.environ))
    assert ok.finish(timeout=30).returncode == 0


def test_lines_read_before_attaching_are_replayed() -> None:
    running = process.launch(
        [
            sys.executable,
            "-c",
            "import sys; print('one', file=sys.stderr); print('two', file=sys.stderr)",
        ],
        env=dict(os.environ),
    )
    running.proc.wait()
    seen: list[str] = []
    result = running.finish(timeout=30, on_line=seen.append)
    assert seen == ["one", "two"]
    assert result.stderr_tail == ["one", "two"]


def test_console_script_starts_trivy_early(imgs: Images, tmp_path: Path) -> None:
    """`python -m gate` (as the `gate` script) starts trivy before loading the CLI."""
    out = tmp_path / "v.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "check", "--input", str(imgs.alpine_tar.path)]
        + ["--policy", str(DEFAULT_POLICY), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert scan_facts(out)["started_early"] is True


def test_gate_early_start_0_turns_it_off(imgs: Images, tmp_path: Path) -> None:
    """`GATE_EARLY_START=0`: the console script runs trivy only once the CLI has loaded,
    and the verdict is the same."""
    out = tmp_path / "v.json"
    args = ["check", "--input", str(imgs.alpine_tar.path), "--policy", str(DEFAULT_POLICY)]
    proc = subprocess.run(
        [sys.executable, "-m", "gate", *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "GATE_EARLY_START": "0"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert scan_facts(out)["started_early"] is False


def test_gate_early_start_0_starts_nothing(
    imgs: Images, monkeypatch: pytest.MonkeyPatch, slow_trivy: Path
) -> None:
    args = ["check", "--input", str(imgs.alpine_tar.path), "--policy", str(DEFAULT_POLICY)]
    monkeypatch.setenv("GATE_EARLY_START", "0")
    assert early.start(args) is None and early.workdir() is None
    monkeypatch.setenv("GATE_EARLY_START", "1")
    scan = early.start(args)
    assert scan is not None and early.workdir() == scan.workdir
    early.discard()
    assert gone(scan)


def test_registry_image_is_resolved_early_then_started_early(
    registry: OciRegistry, imgs: Images, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The early path resolves the reference (tag → index → the arm64 manifest) and starts
    trivy on that manifest by digest; the scan takes over both."""
    out = tmp_path / "v.json"
    args = ["check", f"{registry.host}/multi:1", "--platform", "linux/arm64", "--json", str(out)]
    arm64 = imgs.multi_oci.manifests["arm64"]
    before = len(registry.requests)
    scan = early.start(args)
    assert scan is not None and scan.argv[-1] == f"{registry.host}/multi@{arm64}"
    assert not [a for a in scan.argv if a.startswith("--platform")]
    code, output = run_cli(args, capsys)
    assert code == 1, output
    facts = scan_facts(out)
    assert facts["started_early"] is True and facts["resolved_early"] is True
    assert facts["argv"][-1] == f"{registry.host}/multi@{arm64}"
    assert json.loads(out.read_text())["subject"]["digest"] == arm64
    # resolved once: one GET of the tag
    assert registry.requests[before:].count(("GET", "/v2/multi/manifests/1")) == 1


def test_an_early_resolution_that_failed_is_not_asked_again(
    registry: OciRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.fault = "manifest-500"
    out = tmp_path / "v.json"
    args = ["check", f"{registry.host}/app:1", "--json", str(out)]
    before = len(registry.requests)
    assert early.start(args) is None  # nothing to scan: no trivy
    code, output = run_cli(args, capsys)
    assert code == 3, output
    assert "HTTP 500 (INTERNAL_ERROR)" in output
    assert registry.requests[before:] == [("GET", "/v2/app/manifests/1")]


def test_an_early_resolution_from_other_arguments_is_not_taken_over(
    registry: OciRegistry, imgs: Images, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.json"
    early.start(["check", f"{registry.host}/multi:1", "--platform", "linux/arm64"])
    code, output = run_cli(
        ["check", f"{registry.host}/multi:1", "--platform", "linux/amd64", "--json", str(out)],
        capsys,
    )
    assert code == 1, output
    facts = scan_facts(out)
    assert facts["started_early"] is False and facts["resolved_early"] is False
    assert json.loads(out.read_text())["subject"]["digest"] == imgs.multi_oci.manifests["amd64"]
