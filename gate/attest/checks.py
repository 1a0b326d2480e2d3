"""What `gate verify` requires of a signed statement once its signature and signer hold:
the payload type, the statement and predicate type, the subject digest, PASSED, the policy
digest (when asked) and the age. Each failure is a `VerificationRejected` naming its check.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from gate.attest.statement import PAYLOAD_TYPE, STATEMENT_TYPE, VSA, hex_of
from gate.errors import VerificationRejected


@dataclass(frozen=True)
class Requirements:
    digest: str
    """The image's digest (`sha256:…`), which must be a subject."""
    max_age: dt.timedelta
    now: dt.datetime
    policy_digest: str | None = None
    """`sha256:…`: the policy the deployer requires."""


def _statement(payload: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError) as e:
        raise VerificationRejected("payload type", "the signed payload is not JSON") from e
    if not isinstance(doc, dict):
        raise VerificationRejected("payload type", "the signed payload is not a JSON object")
    return doc


def check_statement(payload_type: str, payload: bytes, req: Requirements) -> dict[str, Any]:
    """The statement, if it satisfies `req`; `VerificationRejected` naming the failed check."""
    if payload_type != PAYLOAD_TYPE:
        raise VerificationRejected(
            "payload type", f"the envelope's payloadType is {payload_type!r}, not {PAYLOAD_TYPE}"
        )
    st = _statement(payload)
    if st.get("_type") != STATEMENT_TYPE:
        raise VerificationRejected("payload type", f"not an in-toto {STATEMENT_TYPE} statement")
    if st.get("predicateType") != VSA:
        raise VerificationRejected(
            "predicate type", f"the predicate type is {st.get('predicateType')!r}, not {VSA}"
        )
    want = hex_of(req.digest)
    subjects = st.get("subject")
    named = [
        s["digest"]["sha256"]
        for s in (subjects if isinstance(subjects, list) else [])
        if isinstance(s, dict)
        and isinstance(s.get("digest"), dict)
        and isinstance(s["digest"].get("sha256"), str)
    ]
    if want not in named:
        raise VerificationRejected(
            "subject digest",
            f"the attestation is about sha256:{', sha256:'.join(named) or '(nothing)'}, not "
            f"{req.digest} (a multi-platform index is signed only by gate check "
            "--all-platforms; verify a platform manifest's digest otherwise)",
        )
    pred = st.get("predicate")
    if not isinstance(pred, dict):
        raise VerificationRejected("predicate type", "the statement has no predicate object")
    if pred.get("verificationResult") != "PASSED":
        raise VerificationRejected(
            "verificationResult",
            f"the verdict is {pred.get('verificationResult')!r}, not PASSED",
        )
    if req.policy_digest is not None:
        policy = pred.get("policy")
        digest = policy.get("digest") if isinstance(policy, dict) else None
        found = digest.get("sha256") if isinstance(digest, dict) else None
        if found != hex_of(req.policy_digest):
            raise VerificationRejected(
                "policy digest",
                f"the verdict's policy is sha256:{found}, not the required {req.policy_digest}",
            )
    when_text = pred.get("timeVerified")
    try:
        when = dt.datetime.fromisoformat(str(when_text).replace("Z", "+00:00"))
    except ValueError as e:
        raise VerificationRejected("max age", f"timeVerified {when_text!r} is not a time") from e
    if when.tzinfo is None:
        raise VerificationRejected("max age", f"timeVerified {when_text!r} has no time zone")
    if when > req.now + dt.timedelta(minutes=5):
        raise VerificationRejected("max age", f"timeVerified {when_text} is in the future")
    if req.now - when > req.max_age:
        raise VerificationRejected(
            "max age",
            f"the image passed at {when_text}, more than --max-age ({req.max_age}) ago: "
            "new CVEs may have landed since; run gate check again",
        )
    return st
