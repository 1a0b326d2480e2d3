"""trivy sees an allow-list of the environment: never gate's signing secrets.

A fake trivy dumps the environment it was given; both the early start and the normal path
must hand it the same allow-listed environment (the early scan is adopted, trivy runs once).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main
from gate.scanners.trivy import early
from gate.scanners.trivy.environment import trivy_environment
from tests.scanners.conftest import Images, write_script

DUMP = """\
import json, os, sys
with open(os.environ["TRIVY_DUMP_ENV"], "a") as out:
    out.write(json.dumps({"argv": sys.argv[1:], "env": dict(os.environ)}) + "\\n")
sys.exit(1)
"""

SECRETS = {
    "GATE_KEY_PASSWORD": "hunter2",
    "GATE_IDENTITY_TOKEN": "eyJ.identity.token",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/oidc",
    "GITHUB_TOKEN": "ghs_fakefakefake",
}
NEEDED = {
    "TRIVY_USERNAME": "gate",
    "TRIVY_PASSWORD": "registry-pass",
    "DOCKER_CONFIG": "/tmp/docker-config",
    "AWS_REGION": "eu-west-1",
    "AZURE_CLIENT_ID": "client",
    "GOOGLE_APPLICATION_CREDENTIALS": "/tmp/gcp.json",
    "HTTPS_PROXY": "http://proxy.example:3128",
    "no_proxy": "localhost",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    "LC_ALL": "C.UTF-8",
}


@pytest.fixture(autouse=True)
def _no_leftover() -> object:
    yield
    early.discard()


@pytest.mark.parametrize("early_start", ["1", "0"])
def test_trivy_never_sees_signing_secrets(
    early_start: str,
    imgs: Images,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = write_script(tmp_path / "bin" / "trivy", DUMP)
    dump = tmp_path / "env.jsonl"
    monkeypatch.setenv("GATE_TRIVY", str(fake))
    monkeypatch.setenv("TRIVY_DUMP_ENV", str(dump))
    monkeypatch.setenv("GATE_EARLY_START", early_start)
    for name, value in {**SECRETS, **NEEDED}.items():
        monkeypatch.setenv(name, value)
    args = ["check", "--input", str(imgs.alpine_tar.path), "--sign"]
    if early_start == "1":
        assert early.start(args) is not None  # what `gate` does before the CLI loads
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    assert info.value.code == 3, out.err  # the fake trivy failed: ERROR
    runs = [json.loads(line) for line in dump.read_text().splitlines()]
    scans = [run for run in runs if run["argv"][:1] == ["image"]]
    assert len(scans) == 1, runs  # the early scan, if any, was adopted: same env
    for run in runs:
        env = run["env"]
        for name, value in SECRETS.items():
            assert name not in env
            assert value not in json.dumps(env)
        assert not [name for name in env if name.startswith(("GATE_", "ACTIONS_", "GITHUB_"))]
        for name, value in NEEDED.items():
            assert env.get(name) == value


def test_allow_list() -> None:
    env = {"PATH": "/bin", "TRIVY_X": "1", "trivy_x": "1", "GATE_TRIVY": "t", "RUNNER_TEMP": "/t"}
    assert trivy_environment(env) == {"PATH": "/bin", "TRIVY_X": "1"}
