"""Reading gate's input files and writing its output files, without hanging or clobbering.

- `read_regular` opens without blocking (`O_NONBLOCK`, so a FIFO with no writer cannot hang
  gate), then checks with `fstat` that it holds a regular file no larger than the caller's
  limit, before reading a byte. A FIFO, a device (`/dev/zero`), a directory or a socket is
  refused by name; a file over the limit (a sparse multi-GB file included) is refused from
  its size alone.
- `write_atomic` writes a temporary file in the target's directory, fsyncs it and renames it
  over the target: a reader sees the old file or the whole new one, never half of it, even
  after a crash or SIGTERM. A symlink at the target is replaced, its target left untouched.
- `append_regular` appends one rendered block to a regular file (GitHub's step summary),
  never through a symlink.

Errors are `FileProblem`s: the message says what is wrong with the file, and each caller
turns it into its own error (an input, the policy, an output), naming the path.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 16
_OPEN_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_OPEN_APPEND = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | os.O_NONBLOCK
    | os.O_CLOEXEC
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NOCTTY", 0)
)


DEFAULT_MAX_INPUT_BYTES = 1 << 30
"""1 GiB. The bench's 50,000-finding Trivy report is 108 MB and real image reports reach a
few hundred MB; gate holds a report a few times over while it decodes it, so a file much
larger than this would exhaust a CI runner's memory (7 GB on GitHub's hosted runners)
before it failed. `gate check --max-input-bytes` raises or lowers it."""
_max_input = [DEFAULT_MAX_INPUT_BYTES]


def max_input_bytes() -> int:
    """The largest report file gate reads (set by `gate check --max-input-bytes`)."""
    return _max_input[0]


def set_max_input_bytes(limit: int) -> None:
    _max_input[0] = limit


def parse_size(text: str) -> int:
    """`1073741824`, `512M`, `1G`, `64k` (binary multiples) → bytes; ValueError otherwise."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(value[-1:], 1)
    digits = value[:-1] if scale > 1 else value
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not a size in bytes: {text!r} (examples: 1073741824, 512M, 1G)")
    size = int(digits) * scale
    if size <= 0:
        raise ValueError(f"must be more than 0 bytes, got {text!r}")
    return size


class FileProblem(Exception):
    """What is wrong with a file, in a few words (the caller names the file)."""


def kind_of(mode: int) -> str:
    """`a FIFO`, `a directory`, … for a file mode; `a regular file` for a regular file."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def _not_regular(mode: int) -> FileProblem:
    return FileProblem(f"is {kind_of(mode)}, not a regular file")


def read_regular(path: Path, limit: int, limit_name: str) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    `limit_name` names the setting that raises the limit, for the message."""
    try:
        fd = os.open(path, _OPEN_READ)
    except FileNotFoundError as e:
        raise FileProblem("file not found") from e
    except OSError as e:
        with suppress(OSError):  # a socket cannot be opened (ENXIO): say what it is
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                raise _not_regular(mode) from e
        raise FileProblem(f"cannot read: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode)
        if st.st_size > limit:
            raise FileProblem(
                f"is {st.st_size:,} bytes, over the limit of {limit:,} bytes ({limit_name})"
            )
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        try:
            if st.st_size:
                data = fh.read(st.st_size + 1)  # one allocation, as `Path.read_bytes` does
                if len(data) > st.st_size:
                    raise FileProblem("grew while gate read it (is something still writing it?)")
                return data
            # size 0: empty, or a file whose size the kernel does not report (/proc)
            chunks, total = [], 0
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise FileProblem(f"is over the limit of {limit:,} bytes ({limit_name})")
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError as e:
            raise FileProblem(f"cannot read: {e.strerror}") from e


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a regular file at `path` atomically: a temporary file in the same directory,
    `write(fh)`, fsync, then rename over `path`. Raises `FileProblem`.

    An existing directory, FIFO, device or socket at `path` is refused; a symlink at `path`
    is replaced by the new file (the symlink's target is not written). An exception (or a
    signal turned into one) during `write` removes the temporary file and leaves `path` as
    it was."""
    where = path.absolute()
    if str(where.parent) in ("/dev", "/dev/fd") or where.parts[1:2] in (("proc",), ("sys",)):
        # /dev/stderr, /dev/fd/1, /proc/self/fd/1: links this would replace, not follow
        raise FileProblem("is a device path (in /dev, /proc or /sys), not a regular file")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        pass
    except OSError as e:
        raise FileProblem(f"cannot write: {e.strerror}") from e
    else:
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise _not_regular(mode)
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError as e:
        raise FileProblem(f"the directory {parent} does not exist") from e
    except OSError as e:
        raise FileProblem(f"cannot create a file in {parent}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 is not what a user expects
            write(fh)
            fh.flush()
            os.fsync(fd)
        os.replace(tmp, path)
    except BaseException as e:  # SIGTERM (SystemExit), a full disk, a bug in `write`
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise FileProblem(f"cannot write: {e.strerror or e}") from e
        raise
    _sync_dir(parent)


def _sync_dir(parent: Path) -> None:
    """Make the rename durable (best effort: some file systems cannot fsync a directory)."""
    with suppress(OSError):
        dfd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def append_regular(path: Path, data: bytes) -> None:
    """Append `data` to the regular file at `path` (created if absent), never through a
    symlink and never blocking on a FIFO. Raises `FileProblem`."""
    try:
        fd = os.open(path, _OPEN_APPEND, 0o666)
    except FileNotFoundError as e:
        raise FileProblem(f"the directory {path.parent} does not exist") from e
    except OSError as e:
        with suppress(OSError):
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise FileProblem("is a symlink: gate does not append through one") from e
            if not stat.S_ISREG(mode):
                raise _not_regular(mode) from e
        raise FileProblem(f"cannot write: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as e:
        raise FileProblem(f"cannot write: {e.strerror}") from e
    finally:
        os.close(fd)
