"""Run a scanner binary: argv list (never a shell), a timeout, and the tail of its stderr.

The child gets its own process group (session), so a timeout kills it and anything it
started: SIGTERM, then SIGKILL after a grace period. stderr is read on a thread, line by
line, into a bounded tail and an optional callback (used for progress phases); stdout
is discarded (scanners here write their report to a file).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

TAIL_LINES = 40
KILL_GRACE = 2.0


@dataclass
class ProcessResult:
    argv: list[str]
    returncode: int | None
    """None when the process could not be started or was killed for the timeout."""
    duration_s: float
    timed_out: bool = False
    stderr_tail: list[str] = field(default_factory=list)
    start_error: str | None = None
    """Why the process could not be started (`OSError` text)."""


def _pump(stream: IO[bytes], tail: deque[str], on_line: Callable[[str], None] | None) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        tail.append(line)
        if on_line is not None:
            try:
                on_line(line)
            except Exception:  # noqa: S110 - a display callback must never break the run
                pass
    stream.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `KILL_GRACE` seconds."""
    if not hasattr(os, "killpg"):  # pragma: no cover - Windows
        proc.kill()
        proc.wait()
        return
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(wait)
            if sig == signal.SIGTERM:
                # the leader is gone; make sure nothing it started lingers
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


def start(
    argv: Sequence[str], *, env: Mapping[str, str], capture_stdout: bool = False
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, stdin closed, stderr piped, stdout piped or discarded."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env),
        start_new_session=True,
    )


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    on_line: Callable[[str], None] | None = None,
) -> ProcessResult:
    """Run `argv` to completion or until `timeout` seconds have passed (then kill its group)."""
    began = time.monotonic()
    try:
        proc = start(argv, env=env)
    except OSError as e:
        return ProcessResult(
            list(argv), None, time.monotonic() - began, start_error=e.strerror or str(e)
        )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    assert proc.stderr is not None
    reader = threading.Thread(target=_pump, args=(proc.stderr, tail, on_line), daemon=True)
    reader.start()
    # `Popen.wait(timeout)` polls with sleeps of up to 50 ms (a third of a small scan);
    # a thread blocked in waitpid() wakes the join the moment the process exits.
    waiter = threading.Thread(target=proc.wait, daemon=True)
    waiter.start()
    timed_out = False
    try:
        waiter.join(timeout=max(timeout, 0.0))
        if waiter.is_alive():
            timed_out = True
            _kill_group(proc)
            waiter.join()
    except BaseException:  # KeyboardInterrupt: never leave the scanner running
        _kill_group(proc)
        raise
    reader.join(timeout=KILL_GRACE)
    duration = time.monotonic() - began
    return ProcessResult(
        list(argv),
        None if timed_out else proc.returncode,
        duration,
        timed_out=timed_out,
        stderr_tail=list(tail),
    )


def capture(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float
) -> tuple[int | None, bytes, str]:
    """Run a short command and return (exit code or None, stdout, stderr text)."""
    try:
        proc = start(argv, env=env, capture_stdout=True)
    except OSError as e:
        return None, b"", e.strerror or str(e)
    return finish(proc, timeout=timeout)


def finish(proc: subprocess.Popen[bytes], *, timeout: float) -> tuple[int | None, bytes, str]:
    """Collect a process started with stdout and stderr pipes; kill it after `timeout`."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return None, out, err.decode("utf-8", "replace")
    return proc.returncode, out, err.decode("utf-8", "replace")
