"""Credential redaction and the progress display."""

from __future__ import annotations

import io

import pytest

from gate.common.redact import MASK, redact, redact_argv, secret_values
from gate.progress import Progress, interactive


def test_secret_values_from_env() -> None:
    env = {
        "TRIVY_PASSWORD": "pw1,second-password",
        "TRIVY_REGISTRY_TOKEN": "regtoken",
        "GITHUB_TOKEN": "ghs_abcdefgh",
        "MY_API_SECRET": "0123456789abcdef",
        "TOKENIZERS_PARALLELISM": "true",
        "SHORT_TOKEN": "abc",
        "TRIVY_USERNAME": "gate",
        "PATH": "/usr/bin",
    }
    values = secret_values(env)
    for v in ("pw1,second-password", "pw1", "second-password", "regtoken", "ghs_abcdefgh"):
        assert v in values
    assert "0123456789abcdef" in values
    assert "true" not in values  # not a secret, and masking it would garble text
    assert "abc" not in values  # too short for a generic name
    assert "gate" not in values and "/usr/bin" not in values
    assert values == sorted(values, key=len, reverse=True)


@pytest.mark.parametrize(
    ("text", "secret", "want"),
    [
        ("GET https://gate:pw@reg.example/v2/", None, f"GET https://{MASK}@reg.example/v2/"),
        ("Authorization: Bearer abc.def.ghi now", None, f"Authorization: {MASK} now"),
        ('"Authorization":"Basic Z2F0ZTpwdw=="', None, f'"Authorization":"{MASK}"'),
        ("proxy-authorization=Token xyz", None, f"proxy-authorization={MASK}"),
        ("login failed for hunter2-pw", "hunter2-pw", f"login failed for {MASK}"),
        ("nothing secret here", None, "nothing secret here"),
    ],
)
def test_redact(text: str, secret: str | None, want: str) -> None:
    assert redact(text, [secret] if secret else []) == want


def test_redact_argv() -> None:
    argv = ["trivy", "--password", "pw-x", "--token=tok-y", "--registry-token", "r", "img"]
    assert redact_argv(argv) == [
        "trivy",
        "--password",
        MASK,
        f"--token={MASK}",
        "--registry-token",
        MASK,
        "img",
    ]
    assert redact_argv(["https://u:p@h/x"]) == [f"https://{MASK}@h/x"]


def test_plain_lines_in_ci() -> None:
    out = io.StringIO()
    with Progress("trivy", stream=out, spinner=False) as bar:
        bar.phase("scanning app:1")
        bar.phase("scanning app:1")  # not repeated
        bar.phase("detecting vulnerabilities")
        bar.close(final="done")
    lines = out.getvalue().splitlines()
    assert [line.rsplit(" (", 1)[0] for line in lines] == [
        "gate: trivy: scanning app:1",
        "gate: trivy: detecting vulnerabilities",
        "gate: trivy: done",
    ]
    assert all(line.endswith("s)") for line in lines)


def test_elapsed_counts_from_an_earlier_start() -> None:
    """A scan started before the CLI loaded: its elapsed time counts from trivy's start."""
    import time

    out = io.StringIO()
    with Progress("trivy", stream=out, spinner=False) as bar:
        bar.started_at(time.monotonic() - 5)
        bar.phase("scanning app:1")
    (line,) = out.getvalue().splitlines()
    seconds = float(line.rsplit(" (", 1)[1].removesuffix("s)"))
    assert 5.0 <= seconds < 6.0


def test_spinner_on_a_terminal() -> None:
    out = io.StringIO()
    with Progress("trivy", stream=out, spinner=True, interval=0.01) as bar:
        bar.phase("scanning app:1")
        import time

        time.sleep(0.1)
    text = out.getvalue()
    assert "\r\x1b[K" in text
    assert "trivy: scanning app:1 (" in text
    assert text.endswith("\r\x1b[K")  # the spinner line is cleared at the end
    assert "\n" not in text


def test_disabled_writes_nothing() -> None:
    out = io.StringIO()
    with Progress("trivy", stream=out, enabled=False, spinner=False) as bar:
        bar.phase("scanning")
        bar.close(final="done")
    assert out.getvalue() == ""


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("ci", "term", "want"),
    [(None, "xterm", True), ("true", "xterm", False), ("1", "xterm", False), (None, "dumb", False)],
)
def test_interactive(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, term: str, want: bool
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("TERM", term)
    assert interactive(_Tty()) is want
    assert interactive(io.StringIO()) is False


@pytest.mark.trivy
@pytest.mark.usefixtures("real_trivy")
def test_scan_progress_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan_image(progress=True)` in CI writes phase lines on stderr, nothing on stdout."""
    from pathlib import Path

    from gate.scanners.trivy.scan import scan_image

    monkeypatch.setenv("CI", "true")
    run = scan_image(
        None,
        input_path=Path("absent.tar"),
        settings=None,
        trivy_bin=None,
        timeout=5,
        verify_digest=False,
        progress=True,
    )
    captured = capsys.readouterr()
    assert run.error == "absent.tar: no such file or directory"
    assert captured.out == ""
    assert "gate: trivy: failed" in captured.err
