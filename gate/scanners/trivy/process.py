"""Run a scanner binary: argv list (never a shell), a timeout, and the tail of its stderr.

The child gets its own process group (session), so a timeout kills it and anything it
started: SIGTERM, then SIGKILL after a grace period. stderr is read on a thread, line by
line, into a bounded tail and an optional callback (used for progress phases); stdout
is discarded (scanners here write their report to a file). `launch` starts a `Running`
that may be finished later (trivy started before the CLI loads); `kill_all` ends every
one still running, so that no scanner outlives a gate that was stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import IO

TAIL_LINES = 40
_live: set[subprocess.Popen[bytes]] = set()
"""Processes started and not yet seen to exit: `kill_all` ends them with gate."""
EARLY_LINES = 1000
"""Lines kept for a callback attached late (a process started before the CLI loaded)."""
KILL_GRACE = 2.0


class ProcessResult:
    """How a run ended. (A plain class: `dataclasses` costs 10 ms to import, and this module
    is on the path to trivy's early start.)"""

    __slots__ = ("argv", "duration_s", "returncode", "start_error", "stderr_tail", "timed_out")

    def __init__(
        self,
        argv: list[str],
        returncode: int | None,
        duration_s: float,
        *,
        timed_out: bool = False,
        stderr_tail: list[str] | None = None,
        start_error: str | None = None,
    ) -> None:
        self.argv = argv
        self.returncode = returncode
        """None when the process could not be started or was killed for the timeout."""
        self.duration_s = duration_s
        self.timed_out = timed_out
        self.stderr_tail = stderr_tail or []
        self.start_error = start_error
        """Why the process could not be started (`OSError` text)."""


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
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    capture_stdout: bool = False,
    cwd: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, stdin closed, stderr piped, stdout piped or discarded
    (in directory `cwd`, if given)."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env),
        start_new_session=True,
        cwd=cwd,
    )


class Running:
    """A started process: its stderr is read line by line on a thread into a bounded tail,
    and its exit is awaited on another. `finish` waits for it (or kills it at the timeout,
    counted from the start); lines read before a callback is attached are handed to it when
    it is, so a process started early loses none of its progress lines.
    """

    def __init__(self, argv: Sequence[str], proc: subprocess.Popen[bytes], began: float) -> None:
        self.argv = list(argv)
        self.proc = proc
        self.began = began
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._lock = threading.Lock()
        self._early: deque[str] = deque(maxlen=EARLY_LINES)
        self._on_line: Callable[[str], None] | None = None
        assert proc.stderr is not None
        self._reader = threading.Thread(target=self._pump, args=(proc.stderr,), daemon=True)
        self._reader.start()
        # `Popen.wait(timeout)` polls with sleeps of up to 50 ms (a third of a small scan);
        # a thread blocked in waitpid() wakes the join the moment the process exits.
        self.ended: float | None = None
        """When the process exited (`time.monotonic()`), seen by the waiter thread."""
        _live.add(proc)
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _wait(self) -> None:
        self.proc.wait()
        self.ended = time.monotonic()
        _live.discard(self.proc)

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.tail.append(line)
            with self._lock:
                if self._on_line is None:
                    self._early.append(line)
                    continue
                self._emit(self._on_line, line)
        stream.close()

    @staticmethod
    def _emit(on_line: Callable[[str], None], line: str) -> None:
        try:
            on_line(line)
        except Exception:  # noqa: S110 - a display callback must never break the run
            pass

    def attach(self, on_line: Callable[[str], None]) -> None:
        """Send every stderr line to `on_line`: first those read so far, then each new one."""
        with self._lock:
            while self._early:
                self._emit(on_line, self._early.popleft())
            self._on_line = on_line

    def finish(
        self, *, timeout: float, on_line: Callable[[str], None] | None = None
    ) -> ProcessResult:
        """Wait until the process exits, or kill its group `timeout` s after it started."""
        if on_line is not None:
            self.attach(on_line)
        timed_out = False
        try:
            self._waiter.join(timeout=max(timeout - (time.monotonic() - self.began), 0.0))
            if self._waiter.is_alive():
                timed_out = True
                _kill_group(self.proc)
                self._waiter.join()
        except BaseException:  # KeyboardInterrupt: never leave the scanner running
            _kill_group(self.proc)
            raise
        # A process started early may have ended before anyone waited: one that ran past
        # its deadline is timed out all the same, as it would have been killed.
        if self.ended is not None and self.ended - self.began > timeout:
            timed_out = True
        self._reader.join(timeout=KILL_GRACE)
        return ProcessResult(
            self.argv,
            None if timed_out else self.proc.returncode,
            time.monotonic() - self.began,
            timed_out=timed_out,
            stderr_tail=list(self.tail),
        )

    def cancel(self) -> None:
        """Kill the process group (if still running) and wait for it."""
        if self.proc.poll() is None:
            _kill_group(self.proc)
        self._waiter.join()
        self._reader.join(timeout=KILL_GRACE)


def kill_all() -> None:
    """Kill every scanner still running (and what it started): nothing gate started may
    outlive it, whichever thread was waiting for it when gate was stopped."""
    for proc in list(_live):
        _kill_group(proc)


def launch(argv: Sequence[str], *, env: Mapping[str, str]) -> Running:
    """Start `argv` (see `start`) and begin reading its stderr; raises `OSError`."""
    began = time.monotonic()
    return Running(argv, start(argv, env=env), began)


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
        running = launch(argv, env=env)
    except OSError as e:
        return ProcessResult(
            list(argv), None, time.monotonic() - began, start_error=e.strerror or str(e)
        )
    return running.finish(timeout=timeout, on_line=on_line)


def capture(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: str | None = None
) -> tuple[int | None, bytes, str]:
    """Run a short command and return (exit code or None, stdout, stderr text)."""
    try:
        proc = start(argv, env=env, capture_stdout=True, cwd=cwd)
    except OSError as e:
        return None, b"", e.strerror or str(e)
    _live.add(proc)
    try:
        return finish(proc, timeout=timeout)
    finally:
        _live.discard(proc)


def finish(proc: subprocess.Popen[bytes], *, timeout: float) -> tuple[int | None, bytes, str]:
    """Collect a process started with stdout and stderr pipes; kill it after `timeout`."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return None, out, err.decode("utf-8", "replace")
    return proc.returncode, out, err.decode("utf-8", "replace")
