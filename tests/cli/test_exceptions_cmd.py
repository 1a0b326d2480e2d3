"""`gate exceptions`: every exception and statement with origin, scope, owner, expiry and
state; `--fail-on expired` for a scheduled workflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main

ROOT = Path(__file__).resolve().parents[2]
VEX = ROOT / "tests" / "data" / "vex" / "openvex-trivy-integration-fixture.json"


def gate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["exceptions", "--now", "2026-06-01T00:00:00Z", *args])
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    policy = tmp_path / "gate.yaml"
    policy.write_text(
        "apiVersion: gate/v1\nexceptions:\n"
        "  - id: CVE-2024-0001\n    package: pkg:npm/lodash\n    reason: server only\n"
        "    expires: 2026-05-01\n    owner: '@old'\n"
        '  - id: CVE-2024-0002\n    reason: "tests only \\e[31m"\n    expires: 2026-06-10\n'
        "  - id: CVE-2024-0003\n    reason: r\n    expires: 2027-01-01\n"
    )
    ignore = tmp_path / ".trivyignore"
    ignore.write_text("CVE-2024-0004 exp:2027-01-01\n")
    verdict = tmp_path / "verdict.json"
    verdict.write_text(
        json.dumps(
            {
                "exceptions": {
                    "unused": [{"label": "exceptions[2]", "id": "CVE-2024-0003"}],
                    "used": [],
                }
            }
        )
    )
    return {"policy": policy, "ignore": ignore, "verdict": verdict}


def test_lists_every_state(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, out, err = gate(
        capsys, "--policy", str(files["policy"]), "--ignore-file", str(files["ignore"]),
        "--vex", str(VEX), "--verdict", str(files["verdict"]),
    )  # fmt: skip
    assert code == 0, err
    assert "expired  CVE-2024-0001  exceptions[0]" in out
    assert "scope pkg:npm/lodash; owner @old; expires 2026-05-01 (-31 days)" in out
    assert "expiring CVE-2024-0002  exceptions[1]" in out
    assert "unused   CVE-2024-0003  exceptions[2]" in out
    assert f"active   CVE-2024-0004  {files['ignore']}: line 1" in out
    assert f"active   CVE-2022-23628  {VEX}: statements[0]" in out
    assert "expires never" in out
    assert "\x1b" not in out  # the reason's escape is shown defused
    assert "5 exceptions: 1 expired, 1 unused, 1 expiring, 2 active" in out


@pytest.mark.parametrize(("state", "code"), [("expired", 1), ("unused", 0)])
def test_fail_on(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], state: str, code: int
) -> None:
    got, _, _ = gate(capsys, "--policy", str(files["policy"]), "--fail-on", state)
    assert got == code  # no --verdict: nothing is known to be unused


def test_bad_fail_on_and_bad_verdict(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    code, _, err = gate(capsys, "--policy", str(files["policy"]), "--fail-on", "stale")
    assert code == 2 and "--fail-on" in err
    bad = tmp_path / "v.json"
    bad.write_text('{"exceptions": {"unused": 3}}')
    code, _, err = gate(capsys, "--policy", str(files["policy"]), "--verdict", str(bad))
    assert code == 3 and f"{bad}: exceptions: not a gate JSON verdict" in err
