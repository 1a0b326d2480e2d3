"""sigstore costs about 220 ms of imports: `gate --help`, `gate check` without `--sign`, and
`gate verify --key` never load it (a fresh interpreter each, as a CI step runs gate)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "data" / "reports" / "npm-audit" / "v1-npm6-nar-one-vuln.json"

PROBE = """
import sys
from gate.cli import _run
_run(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sigstore", "sigstore_models", "tuf"))
print("LOADED", heavy)
"""


def loaded(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("LOADED")]
    assert line, proc.stdout + proc.stderr
    return line[0]


def test_help_does_not_import_sigstore() -> None:
    assert loaded("--help") == "LOADED []"


def test_check_without_sign_does_not_import_sigstore() -> None:
    assert loaded("check", "--npm-audit", str(REPORT)) == "LOADED []"


def test_check_help_does_not_import_sigstore() -> None:
    assert loaded("check", "--help") == "LOADED []"


def test_keyless_verify_does_import_it() -> None:
    # the probe sees what the keyless path loads: the tests above are not vacuous
    data = ROOT / "tests" / "data" / "sigstore"
    out = loaded(
        "verify", f"a.example/app@sha256:{'a' * 64}",
        "--bundle", str(data / "conformance-dsse-rekor1-prod" / "bundle.sigstore.json"),
        "--certificate-oidc-issuer", "https://x", "--certificate-identity", "y",
        "--trusted-root", str(data / "trusted_roots" / "public-good-production.trusted_root.json"),
    )  # fmt: skip
    assert "'sigstore.verify'" in out
