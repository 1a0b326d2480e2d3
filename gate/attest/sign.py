"""Sign a PASS verdict: check it may be signed, build the statement, sign it keyless or with
a key, attach the bundle to the registry when asked, then write it, atomically. A refusal or
a failure anywhere writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.attest.signable import Signable, signable
from gate.attest.statement import build_statement, statement_bytes
from gate.errors import InputError, OutputError, SigningError

if TYPE_CHECKING:
    from gate.models import Verdict


@dataclass(frozen=True)
class SignOptions:
    key: Path | None = None
    """A PKCS#8 PEM private key: key-pair signing. None: keyless."""
    trust_config: Path | None = None
    identity_token: str | None = None
    bundle: Path | None = None
    """Where to write the bundle (default `<image>.gate.sigstore.json`)."""
    attach: bool = False
    insecure: bool = False
    timeout: float = 60.0
    max_age: dt.timedelta | None = None
    all_platforms: bool = False
    recheck: bool = False
    """A saved verdict: check its digests again (`gate.attest.recheck`) before signing."""


def default_bundle_path(repository: str) -> Path:
    name = repository.rsplit("/", 1)[-1] or "image"
    return Path(f"{name}.gate.sigstore.json")


def _password() -> bytes | None:
    value = os.environ.get("GATE_KEY_PASSWORD")
    return value.encode() if value else None


def _sign_bytes(statement: bytes, opts: SignOptions) -> bytes:
    if opts.key is not None:
        from gate.attest.keypair import KeyProblem, sign_bundle
        from gate.common.files import FileProblem, read_regular

        try:
            pem = read_regular(opts.key, 1 << 20, "1 MiB for a key")
        except FileProblem as e:
            raise InputError(str(opts.key), str(e)) from e
        try:
            bundle = sign_bundle(statement, pem, _password())
        except KeyProblem as e:
            raise InputError(str(opts.key), str(e)) from e
        return (json.dumps(bundle, indent=2, sort_keys=True) + "\n").encode()
    from gate.attest import keyless

    return (
        keyless.sign(statement, opts.trust_config, opts.identity_token, opts.timeout) + "\n"
    ).encode()


def sign_document(doc: dict[str, Any], opts: SignOptions, *, now: dt.datetime, where: str) -> str:
    """Sign the verdict `doc`; returns a one-line report of what was written and attached."""
    what: Signable = signable(doc, now=now, max_age=opts.max_age, where=where)
    if not what.repository:
        raise SigningError(f"{where} names no image repository: nothing to sign")
    if opts.recheck:
        from gate.attest.recheck import recheck

        recheck(doc, what.repository, insecure=opts.insecure, timeout=opts.timeout, where=where)
    statement = statement_bytes(build_statement(doc, what.repository, what.digests, __version__))
    bundle = _sign_bytes(statement, opts)
    attached = ""
    if opts.attach:
        attached = _attach(
            what, bundle, opts, created=json.loads(statement)["predicate"]["timeVerified"]
        )
    path = opts.bundle or default_bundle_path(what.repository)
    from gate.common.files import FileProblem, write_atomic

    try:
        write_atomic(path, lambda fh: fh.write(bundle))
    except FileProblem as e:
        raise OutputError(f"{path}: {e}") from e
    kind = f"key {opts.key}" if opts.key is not None else "keyless"
    return f"signed {what.repository}@{what.digests[0]} ({kind}): {path}{attached}"


def sign_verdict(verdict: Verdict, opts: SignOptions, *, now: dt.datetime) -> str:
    """`gate check --sign`: sign the verdict just made; the line to print (escaped)."""
    from gate.common.sanitize import for_stream
    from gate.report.json import verdict_document

    doc = verdict_document(verdict, with_findings=False)
    return for_stream(sign_document(doc, opts, now=now, where="the verdict")) + "\n"


def _attach(what: Signable, bundle: bytes, opts: SignOptions, *, created: str) -> str:
    from gate.oci import parse_reference
    from gate.oci.deadline import Deadline
    from gate.oci.errors import RegistryError
    from gate.oci.referrers import attach

    try:
        ref = parse_reference(what.repository)
    except ValueError as e:
        raise SigningError(
            f"--attach: {what.repository} is not a registry repository (an archive's image?)"
        ) from e
    deadline = Deadline(opts.timeout)
    try:  # to each subject: a deployer of one platform's manifest finds it too
        referrers = [
            attach(
                ref,
                digest,
                bundle,
                created=created,
                env=None,
                deadline=deadline,
                insecure=opts.insecure,
            )
            for digest in what.digests
        ]
    except RegistryError as e:
        raise SigningError(f"--attach: {e}") from e
    return f", attached as {ref.name}@{referrers[0]}" + (
        f" (and to the {len(referrers) - 1} platform manifests)" if len(referrers) > 1 else ""
    )
