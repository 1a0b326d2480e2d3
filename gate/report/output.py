"""Where a rendered output goes: gate's stdout, /dev/null, or a file written atomically."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import BinaryIO

from gate.errors import OutputError
from gate.report.interface import Content

STDOUT_PATHS = frozenset({"-", "/dev/stdout"})
"""Output paths that mean gate's own stdout, written in place (not atomically)."""


def write_output(
    path: Path,
    content: Content,
    what: str,
    *,
    append: bool = False,
) -> None:
    """Write `content` (text, bytes, or a function that streams into a binary file).

    `-` and `/dev/stdout` are gate's stdout; `/dev/null` discards. Any other path gets a
    regular file, written atomically (`gate.common.files.write_atomic`: never half-written, never
    through a symlink); with `append`, the content is added to the end of a regular file
    in one write (the step summary, which GitHub shares between a job's steps)."""
    from gate.common.files import FileProblem, append_regular, write_atomic

    if callable(content):
        write = content
    else:
        data = content.encode() if isinstance(content, str) else content

        def write(fh: BinaryIO) -> None:
            fh.write(data)

    try:
        if str(path) in STDOUT_PATHS:
            sys.stdout.flush()
            write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        elif str(path) == os.devnull:  # rendered, then discarded (benchmarks, dry runs)
            with open(os.devnull, "wb") as fh:
                write(fh)
        elif append:
            buffer = io.BytesIO()
            write(buffer)
            append_regular(path, buffer.getvalue())
        else:
            write_atomic(path, write)
    except FileProblem as e:
        raise OutputError(f"cannot write the {what} to {path}: {e}") from e
    except OSError as e:
        raise OutputError(f"cannot write the {what} to {path}: {e.strerror or e}") from e
