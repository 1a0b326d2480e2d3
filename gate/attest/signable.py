"""Whether a verdict may be signed, and what it names: each refusal its own message.

gate signs only a PASS, never a FAIL or an ERROR; only a verdict bound to a manifest digest
(a docker-archive records none); only a digest gate confirmed (resolved in the registry and
scanned by digest, or recorded by the OCI layout trivy scanned); and, for a saved verdict,
only one younger than `--max-age` and not from the future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError, SigningError

FUTURE_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Signable:
    """What the statement names: the repository and the digests (the deployed one first)."""

    repository: str
    digests: list[str]


def read_verdict(path: Path) -> dict[str, Any]:
    """A saved JSON verdict, strictly: strict JSON, then the verdict schema (`gate schema`)."""
    import pydantic

    from gate.common.files import FileProblem, max_input_bytes, read_regular
    from gate.common.strict_json import load_strict
    from gate.report.json_schema import VerdictDoc

    name = str(path)
    try:
        raw = read_regular(path, max_input_bytes(), "--max-input-bytes")
    except FileProblem as e:
        raise InputError(name, str(e)) from e
    data = load_strict(raw, name)
    try:
        VerdictDoc.model_validate(data)
    except pydantic.ValidationError as e:
        err = e.errors()[0]
        pointer = "/" + "/".join(str(p) for p in err["loc"])
        raise InputError(
            name, f"not a gate JSON verdict (schema version 1): {err['msg']}", pointer
        ) from e
    if not isinstance(data, dict):  # the schema says so; for the type checker
        raise InputError(name, "not a gate JSON verdict")
    return data


def _repository(name: str) -> str:
    """The subject's repository without a tag (`host:5000/app:1` → `host:5000/app`)."""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def _scans(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(digest, facts) of each trivy input that judged an image with a digest."""
    out = []
    for i in doc["inputs"]:
        subject = i.get("subject") or {}
        if i["kind"] == "trivy" and i["status"] == "ok" and subject.get("digest"):
            out.append((str(subject["digest"]), i["facts"]))
    return out


def _platform(facts: dict[str, Any]) -> dict[str, Any]:
    plat = facts.get("platform")
    return plat if isinstance(plat, dict) else {}


def _digests(doc: dict[str, Any], digest: str, where: str) -> list[str]:
    """The digests to sign: the one manifest scanned; or, when every platform of one index
    was scanned (`--all-platforms`), the index followed by each platform's manifest."""
    scans = _scans(doc)
    for found, facts in scans:
        if not confirmed(facts, found):
            raise SigningError(
                f"{where} names {found}, but no trivy scan confirmed it (resolved in the "
                "registry and scanned by digest, or an OCI layout's manifest): refusing to "
                "sign a digest gate did not check"
            )
    if digest not in {d for d, _ in scans}:
        raise SigningError(
            f"{where} names {digest}, but no trivy scan confirmed it (resolved in the "
            "registry and scanned by digest, or an OCI layout's manifest): refusing to sign a "
            "digest gate did not check"
        )
    indexes = {_platform(f).get("index") for _, f in scans}
    if len(scans) == 1 and indexes == {None}:
        return [digest]
    if len(indexes) != 1 or None in indexes:
        raise SigningError(f"{where} judges several images; gate signs one image")
    scanned = {_platform(f).get("scanned") for _, f in scans}
    everything = set().union(*(set(_platform(f).get("not_scanned") or ()) for _, f in scans))
    missing = sorted(str(p) for p in everything - scanned)
    if missing:
        if len(scans) == 1:
            return [digest]  # one platform of an index: that platform's manifest only
        raise SigningError(
            f"{where}: not every platform of the index was scanned ({', '.join(missing)} "
            "missing): its digest cannot be signed"
        )
    index = str(next(iter(indexes)))
    return [index, *sorted({d for d, _ in scans})]


def confirmed(facts: dict[str, Any], digest: str) -> bool:
    """gate itself established `digest`: resolved in the registry and scanned by digest, or
    the manifest digest of the OCI layout it scanned."""
    if isinstance(facts.get("digest_source"), str) and facts["digest_source"].startswith(
        "resolved by gate"
    ):
        return True
    archive = facts.get("archive")
    return (
        isinstance(archive, dict)
        and archive.get("format") == "oci-layout"
        and archive.get("manifest_digest") == digest
    )


def signable(
    doc: dict[str, Any],
    *,
    now: dt.datetime,
    max_age: dt.timedelta | None,
    where: str = "the verdict",
) -> Signable:
    """What to sign for `doc`, or `SigningError` saying why gate refuses to sign it."""
    result = doc["result"]
    if result != "PASS" or doc["exit_code"] != 0:
        raise SigningError(
            f"{where} is {result}, not PASS: gate signs only a PASS (nothing was signed)"
        )
    subject = doc["subject"]
    digest = subject.get("digest") if isinstance(subject, dict) else None
    if not digest:
        raise SigningError(
            f"{where} names no manifest digest (a docker-archive records none; scan the image "
            "in its registry or an OCI layout): an image without a digest cannot be signed"
        )
    if not str(digest).startswith("sha256:"):
        raise SigningError(f"{where} names {digest}: gate signs sha256 digests only")
    if max_age is not None:
        try:
            when = dt.datetime.fromisoformat(doc["evaluated_at"])
        except ValueError as e:
            raise SigningError(f"{where}: evaluated_at is not an RFC 3339 time") from e
        if when.tzinfo is None:
            raise SigningError(f"{where}: evaluated_at has no time zone")
        if when > now + FUTURE_SKEW:
            raise SigningError(f"{where} was evaluated in the future ({doc['evaluated_at']})")
        if now - when > max_age:
            raise SigningError(
                f"{where} was evaluated at {doc['evaluated_at']}, more than --max-age "
                f"({max_age}) ago: run gate check again"
            )
    digests = _digests(doc, str(digest), where)
    return Signable(_repository(str(subject.get("name") or "")), digests)
