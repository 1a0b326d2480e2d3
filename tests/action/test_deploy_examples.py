"""The deploy examples' `gate verify` commands are ones gate accepts: run through gate's CLI
against a registry that refuses connections, they get as far as the registry (exit 3, could
not verify), never a usage error (exit 2: no signer named); and a job reading
`needs.<job>.outputs` lists that job in `needs`."""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml

from tests.action.actrun import ROOT
from tests.helpers.inproc import run

IMAGE = "127.0.0.1:1/app@sha256:" + "ab" * 32
SIGNER = "https://github.com/acme/app/.github/workflows/ci-cd.yml@refs/heads/main"


def _verify_args(script: str, env: dict[str, str]) -> list[str]:
    text = script.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if re.search(r"gate[\"']? verify ", line))
    words = shlex.split(line.split("#", 1)[0])
    words = words[words.index("verify") :]
    return [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], word) for word in words]


def _check(args: list[str]) -> None:
    proc = run(*args, "--insecure", "--timeout", "2")
    assert proc.returncode == 3, (args, proc.stderr)  # reached the (closed) registry
    assert "usage" not in proc.stderr.lower()


def _needs_cover_outputs(jobs: dict[str, Any]) -> None:
    for name, job in jobs.items():
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        used = set(re.findall(r"needs\.([\w-]+)\.outputs", yaml.safe_dump(job)))
        assert used <= set(needs), (name, used, needs)


def test_ci_cd_example_deploy_verifies_a_named_signer() -> None:
    doc = yaml.safe_load((ROOT / "examples" / "workflows" / "ci-cd.yml").read_text())
    _needs_cover_outputs(doc["jobs"])
    deploy = doc["jobs"]["deploy"]
    script = next(s["run"] for s in deploy["steps"] if " verify " in s.get("run", ""))
    env = {"IMAGE": IMAGE, "SIGNER": SIGNER, "RUNNER_TEMP": "/tmp"}
    args = _verify_args(script, env)
    assert "--certificate-identity" in args and "--certificate-oidc-issuer" in args
    _check(args)


def test_signing_doc_deploy_job() -> None:
    text = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    block = text.split("## The deploy job: `gate verify`", 1)[1].split("```yaml\n", 1)[1]
    jobs = yaml.safe_load(block.split("```", 1)[0])
    _needs_cover_outputs(jobs)
    script = next(s["run"] for s in jobs["deploy"]["steps"] if "gate verify" in s.get("run", ""))
    script = script.replace("<sha256 of gate.yaml>", "cd" * 32)  # the doc's placeholder
    args = _verify_args(script, {"DIGEST": IMAGE.split("@", 1)[1]})
    args = [a.replace("ghcr.io/acme/app", "127.0.0.1:1/app") for a in args]
    args = [a for a in args if not a.startswith("deploy/") and not a.startswith("--trusted-root")]
    _check(args)
