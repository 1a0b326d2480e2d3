"""`read_vex(path)`: a VEX document in any supported format, read strictly.

JSON goes through `gate.common.strict_json` (duplicate keys refused), YAML through the policy's
strict YAML reader. The format is told by the content, never by the file name:
- OpenVEX v0.0.1 / v0.2.0 (`@context` under `https://openvex.dev/ns`), and the pre-OpenVEX
  `vex_attestation` YAML; either may be wrapped in an in-toto statement (`predicate`) or a
  DSSE envelope (`payload`);
- CycloneDX (`bomFormat: CycloneDX`) with `vulnerabilities[].analysis`;
- CSAF 2.0 with `document.category: csaf_vex`.
Anything else, or any malformed part, is an `InputError` naming the file and the path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any

from gate.errors import InputError
from gate.vex.model import VexDocument

MAX_BYTES = 64 * 1024 * 1024


def _decode(raw: bytes, path: str) -> Any:
    from gate.common.strict_json import decode_text, load_strict

    text = decode_text(raw, path)
    if text.lstrip()[:1] in ("{", "["):
        return load_strict(raw, path)
    import yaml

    from gate.policy.strict_yaml import describe, parse

    try:
        return parse(raw)
    except RecursionError as e:
        raise InputError(path, "nested too deeply to be a VEX document") from e
    except yaml.YAMLError as e:
        raise InputError(path, describe(e)) from e


def _unwrap(data: Any, path: str) -> tuple[Any, str]:
    """The VEX document inside an in-toto statement or a DSSE envelope, and its pointer."""
    if isinstance(data, dict) and isinstance(data.get("payload"), str) and "payloadType" in data:
        from gate.common.strict_json import strict_loads

        try:
            inner = strict_loads(base64.b64decode(data["payload"], validate=True).decode(), path)
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise InputError(path, f"the DSSE payload is not base64 JSON: {e}", "payload") from e
        data = inner
    if (
        isinstance(data, dict)
        and "predicate" in data
        and str(data.get("_type", "")).startswith("https://in-toto.io/Statement")
    ):
        return data["predicate"], "predicate."
    return data, ""


def read_vex(path: Path) -> VexDocument:
    """Read one VEX document. Raises `InputError` for anything gate cannot read exactly."""
    from gate.common.files import FileProblem, read_regular

    name = str(path)
    try:
        raw = read_regular(path, MAX_BYTES, "a VEX document is at most 64 MiB")
    except FileProblem as e:
        raise InputError(name, str(e)) from e
    data, prefix = _unwrap(_decode(raw, name), name)
    sha = hashlib.sha256(raw).hexdigest()
    if not isinstance(data, dict):
        raise InputError(name, "not a VEX document: expected an object at the top level")
    context = data.get("@context")
    if (isinstance(context, str) and context.startswith("https://openvex.dev/ns")) or (
        data.get("format") == "vex_attestation"
    ):
        from gate.vex.openvex import parse_openvex

        return VexDocument(name, sha, "openvex", parse_openvex(data, name, prefix))
    if data.get("bomFormat") == "CycloneDX":
        from gate.vex.cyclonedx import parse_cyclonedx

        return VexDocument(name, sha, "cyclonedx", parse_cyclonedx(data, name, prefix))
    document = data.get("document")
    if isinstance(document, dict) and "csaf_version" in document:
        if document.get("category") != "csaf_vex":
            raise InputError(
                name,
                f"a CSAF document of category {document.get('category')!r}, not csaf_vex",
                f"{prefix}document.category",
            )
        from gate.vex.csaf import parse_csaf

        return VexDocument(name, sha, "csaf", parse_csaf(data, name, prefix))
    raise InputError(
        name,
        "not a VEX document gate reads (OpenVEX, CycloneDX VEX or CSAF VEX): "
        "no OpenVEX @context, no bomFormat, no CSAF document",
    )
