"""The README shows the real `gate check --help`."""

from __future__ import annotations

import subprocess
import sys


def test_readme_help_block_is_current(repo_root):
    proc = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "readme_help.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
