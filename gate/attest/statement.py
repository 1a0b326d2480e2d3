"""The attestation gate signs: an in-toto Statement v1 whose predicate is a SLSA
Verification Summary (VSA v1), built from a PASS verdict's JSON document.

- `subject`: the image repository without a tag (`127.0.0.1:5000/app`) and the sha256 of the
  manifest gate scanned; a deployer's digest must be one of the subjects.
- `predicate`: `verifier` (gate and its version), `timeVerified` (the verdict's time),
  `resourceUri` (a `pkg:oci/…` purl), `policy` (its path and sha256), `inputAttestations`
  (every input with its sha256), `verificationResult`, `verifiedLevels` (gate's own values,
  never `SLSA_…`), and the extension field `EXTENSION` with the verdict's counts and the
  exceptions it used.

`statement_bytes` is deterministic: the same verdict gives the same bytes (sorted keys, no
whitespace, UTF-8), so a re-signed verdict attests exactly the same statement.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VSA = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
VERIFIER_ID = "https://github.com/gate-dev/gate"
EXTENSION = "https://github.com/gate-dev/gate/verdict/v1"
LEVEL_PASSED = "GATE_POLICY_PASSED"
"""gate's own verified level (custom levels must not start with `SLSA_`)."""


def hex_of(digest: str) -> str:
    """`sha256:abc…` → `abc…`; `ValueError` for another algorithm or a malformed digest."""
    algo, _, value = digest.partition(":")
    if algo != "sha256" or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return value


def oci_purl(repository: str, digest: str) -> str:
    """`pkg:oci/app@sha256%3A…?repository_url=127.0.0.1%3A5000/app` (the purl spec's OCI type)."""
    name = repository.rsplit("/", 1)[-1].lower()
    return f"pkg:oci/{quote(name, safe='')}@{quote(digest, safe='')}?repository_url=" + quote(
        repository.lower(), safe="/"
    )


def _utc(text: str) -> str:
    """The verdict's `evaluated_at` as RFC 3339 UTC with a `Z` and whole seconds."""
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"evaluated_at {text!r} has no time zone")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_statement(
    doc: dict[str, Any], repository: str, digests: list[str], version: str
) -> dict[str, Any]:
    """The statement for a PASS verdict `doc` (the JSON verdict, already checked) about
    `repository` at `digests` (the first is the one deployed: a manifest, or an index
    followed by its platform manifests)."""
    policy = doc["policy"]
    inputs = [
        {"uri": i["path"], "digest": {"sha256": i["sha256"]}}
        for i in doc["inputs"]
        if i.get("sha256")
    ]
    inputs += [
        {"uri": f["path"], "digest": {"sha256": f["sha256"]}} for f in policy["exception_files"]
    ]
    used = [
        {k: e[k] for k in ("id", "package", "reason", "expires", "owner", "matched")}
        for e in doc["exceptions"]["used"]
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": repository, "digest": {"sha256": hex_of(d)}} for d in digests],
        "predicateType": VSA,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"gate": version}},
            "timeVerified": _utc(doc["evaluated_at"]),
            "resourceUri": oci_purl(repository, digests[0]),
            "policy": {"uri": policy["path"], "digest": {"sha256": policy["sha256"]}},
            "inputAttestations": inputs,
            "verificationResult": "PASSED" if doc["result"] == "PASS" else "FAILED",
            "verifiedLevels": [LEVEL_PASSED] if doc["result"] == "PASS" else ["FAILED"],
            EXTENSION: {
                "result": doc["result"],
                "policy_name": policy["name"],
                "counts": doc["counts"],
                "exceptions_used": used,
            },
        },
    }


def statement_bytes(statement: dict[str, Any]) -> bytes:
    """The statement's canonical bytes: sorted keys, no whitespace, UTF-8."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )
