"""`read_ignore_file(path)`: an ignore file, its format told by its name and content.

`*.rego` (Trivy's `--ignore-policy`) is refused: a program, not a list gate can apply. A
`.yaml`/`.yml` file is grype's config when it has `ignore:`, else `.trivyignore.yaml`; any
other file is a `.trivyignore`. YAML goes through the policy's strict YAML reader."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gate.errors import InputError
from gate.ignore_files.model import IgnoreFile

MAX_BYTES = 16 * 1024 * 1024


def read_ignore_file(path: Path) -> IgnoreFile:
    from gate.common.files import FileProblem, read_regular

    name = str(path)
    if path.suffix == ".rego":
        raise InputError(
            name,
            "a Rego ignore policy is a program gate does not run; list the ids in a "
            ".trivyignore.yaml or a VEX document",
        )
    try:
        raw = read_regular(path, MAX_BYTES, "an ignore file is at most 16 MiB")
    except FileProblem as e:
        raise InputError(name, str(e)) from e
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(name, f"not UTF-8 text (byte {e.start})") from e
    if path.suffix not in (".yaml", ".yml"):
        from gate.ignore_files.trivyignore import parse_trivyignore

        out = IgnoreFile(name, sha, "trivyignore")
        parse_trivyignore(text, out)
        return out
    import yaml

    from gate.policy.strict_yaml import describe, parse

    try:
        data = parse(raw)
    except RecursionError as e:
        raise InputError(name, "nested too deeply to be an ignore file") from e
    except yaml.YAMLError as e:
        raise InputError(name, describe(e)) from e
    if data is None:
        raise InputError(name, "the file is empty")
    if not isinstance(data, dict):
        raise InputError(name, "expected a mapping at the top level")
    if "ignore" in data:
        from gate.ignore_files.grype import parse_grype

        out = IgnoreFile(name, sha, "grype")
        parse_grype(data, out)
        return out
    from gate.ignore_files.trivyignore_yaml import parse_trivyignore_yaml

    out = IgnoreFile(name, sha, "trivyignore-yaml")
    parse_trivyignore_yaml(data, out)
    return out
