"""The `gate keygen`, `gate sign` and `gate verify` commands: thin declarations that call
into `gate.attest` (the CLI registers them; nothing here imports sigstore at load time)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from gate.errors import OutputError, UsageError

DEFAULT_MAX_AGE = "7d"

BundleOpt = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        metavar="PATH",
        help="The Sigstore bundle file (default when signing: <image>.gate.sigstore.json).",
    ),
]
KeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key",
        metavar="PEM",
        help="Sign with this ECDSA P-256 private key (gate keygen; password in "
        "GATE_KEY_PASSWORD) instead of keyless.",
    ),
]
TrustConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--trust-config",
        metavar="PATH",
        help="A Sigstore ClientTrustConfig JSON: a private or self-hosted Sigstore instance.",
    ),
]
IdentityTokenOpt = Annotated[
    str | None,
    typer.Option(
        "--identity-token",
        metavar="JWT",
        envvar="GATE_IDENTITY_TOKEN",
        show_envvar=False,
        help="The OIDC token to sign keyless with, or $GATE_IDENTITY_TOKEN (kept out of the "
        "process list); default: the CI's ambient credential.",
    ),
]
AttachOpt = Annotated[
    bool,
    typer.Option(
        "--attach", help="Also push the bundle to the image's registry as an OCI 1.1 referrer."
    ),
]
MaxAgeOpt = Annotated[
    str,
    typer.Option("--max-age", metavar="AGE", help="Oldest verdict accepted: 7d, 12h, 30m, 3600s."),
]


def _age(text: str) -> dt.timedelta:
    from gate.attest.verify import parse_age

    try:
        return parse_age(text)
    except ValueError as e:
        raise UsageError(f"--max-age: {e}") from e


def _timeout(seconds: float) -> float:
    if not 0 < seconds <= 3600:
        raise UsageError(f"--timeout: {seconds:g} is not above 0 and at most 3600 seconds")
    return seconds


def _now(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise UsageError(f"--now: not an RFC 3339 time: {text!r}") from e
    if when.tzinfo is None:
        raise UsageError("--now needs a time zone")
    return when


def _echo(message: str) -> None:
    from gate.common.sanitize import for_stream, github_block

    typer.echo(github_block(for_stream(message) + "\n"), nl=False)


def keygen(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="PREFIX", help="Writes PREFIX.key, PREFIX.pub."),
    ] = Path("gate"),
) -> None:
    """Make an ECDSA P-256 key pair for `--key` signing (PKCS#8 PEM, encrypted with
    GATE_KEY_PASSWORD when set); never overwrites a key."""
    import os

    from gate.attest.keypair import generate
    from gate.common.files import FileProblem, write_atomic

    private_path, public_path = Path(f"{output}.key"), Path(f"{output}.pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise UsageError(f"{path} exists: gate keygen never overwrites a key")
    password = os.environ.get("GATE_KEY_PASSWORD")
    private, public = generate(password.encode() if password else None)
    try:
        old = os.umask(0o077)
        try:
            write_atomic(private_path, lambda fh: fh.write(private))
        finally:
            os.umask(old)
        os.chmod(private_path, 0o600)
        write_atomic(public_path, lambda fh: fh.write(public))
    except (FileProblem, OSError) as e:
        raise OutputError(f"{output}: {e}") from e
    _echo(f"wrote {private_path} (private, keep it secret) and {public_path} (public)")


def sign(
    verdict: Annotated[
        Path,
        typer.Option("--verdict", metavar="PATH", help="A JSON verdict from gate check --json."),
    ],
    bundle: BundleOpt = None,
    key: KeyOpt = None,
    trust_config: TrustConfigOpt = None,
    identity_token: IdentityTokenOpt = None,
    attach: AttachOpt = False,
    max_age: MaxAgeOpt = "1d",
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="Allow plain HTTP to the registry (the digest re-check, --attach)."
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", help="Deadline for the Sigstore instance and the registry."
        ),
    ] = 60.0,
    now: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Sign a saved PASS verdict after checking it again (schema, PASS, age; the digest
    fetched again from the registry, or read again from the OCI layout, else refused)."""
    from gate.attest.sign import SignOptions, sign_document
    from gate.attest.signable import read_verdict

    opts = SignOptions(
        key=key,
        trust_config=trust_config,
        identity_token=identity_token,
        bundle=bundle,
        attach=attach,
        insecure=insecure,
        timeout=_timeout(timeout),
        max_age=_age(max_age),
        recheck=True,
    )
    doc = read_verdict(verdict)
    _echo(sign_document(doc, opts, now=_now(now), where=str(verdict)))


def verify(
    image: Annotated[
        str, typer.Argument(metavar="IMAGE@sha256:…", help="The image to deploy, by digest.")
    ],
    bundle: BundleOpt = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", metavar="PUB", help="Accept bundles signed by this public key."),
    ] = None,
    certificate_identity: Annotated[
        str | None,
        typer.Option(metavar="SAN", help="The signer's exact identity (keyless)."),
    ] = None,
    certificate_identity_regexp: Annotated[
        str | None,
        typer.Option(metavar="REGEX", help="A pattern the signer's identity must match whole."),
    ] = None,
    certificate_oidc_issuer: Annotated[
        str | None,
        typer.Option(metavar="URL", help="The signer's OIDC issuer (keyless)."),
    ] = None,
    github_repo: Annotated[
        str | None,
        typer.Option(
            metavar="OWNER/REPO",
            help="Signed by a GitHub Actions run of this repository; needs --github-ref or "
            "--certificate-identity[-regexp] too.",
        ),
    ] = None,
    github_ref: Annotated[
        str | None, typer.Option(metavar="REF", help="…on this ref (refs/heads/main).")
    ] = None,
    github_workflow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="…by this workflow: its name, which the workflow file sets and anyone who "
            "can push may change (pin the identity with --github-ref or --certificate-identity).",
        ),
    ] = None,
    trusted_root: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="A Sigstore trusted_root.json to verify against, offline."
        ),
    ] = None,
    trust_config: TrustConfigOpt = None,
    tuf_refresh: Annotated[
        bool,
        typer.Option("--tuf-refresh", help="Fetch the public-good trust root over TUF (online)."),
    ] = False,
    policy_digest: Annotated[
        str | None,
        typer.Option(metavar="sha256:…", help="Require the verdict's policy to be this one."),
    ] = None,
    max_age: MaxAgeOpt = DEFAULT_MAX_AGE,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow plain HTTP to the registry.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="Deadline for the registry's answers.")
    ] = 60.0,
    now: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Verify that IMAGE@sha256:… passed gate: exit 0 verified, 1 rejected (naming the
    check), 2 usage, 3 could not verify."""
    from gate.attest.statement import hex_of
    from gate.attest.verify import Requirements, Signer, verify_bundles
    from gate.oci import parse_reference

    try:
        ref = parse_reference(image)
    except ValueError as e:
        raise UsageError(f"IMAGE: {e}") from e
    if ref.digest is None or not ref.digest.startswith("sha256:"):
        raise UsageError(
            f"{image}: verify an image by its digest (IMAGE@sha256:…), never by a tag: a tag "
            "can move after the check"
        )
    for given in (policy_digest,):
        if given is not None:
            try:
                hex_of(given)
            except ValueError as e:
                raise UsageError(f"--policy-digest: {e}") from e
    who = None
    if key is None:
        if certificate_oidc_issuer is None:
            raise UsageError(
                "keyless verification needs --certificate-oidc-issuer (and --certificate-identity"
                ", --certificate-identity-regexp or --github-repo); or give --key PUB"
            )
        if not (certificate_identity or certificate_identity_regexp or github_repo):
            raise UsageError(
                "say whom to trust: --certificate-identity, --certificate-identity-regexp or "
                "--github-repo"
            )
        if github_repo and not (certificate_identity or certificate_identity_regexp or github_ref):
            # any branch or workflow of the repository could sign otherwise (a pull request's
            # branch, a workflow anyone with write access adds)
            raise UsageError(
                "--github-repo alone trusts any branch and workflow of the repository: add "
                "--github-ref or --certificate-identity (or --certificate-identity-regexp)"
            )
        if certificate_identity_regexp is not None:
            import re

            try:
                re.compile(certificate_identity_regexp)
            except re.error as e:
                raise UsageError(f"--certificate-identity-regexp: {e}") from e
        from gate.attest.keyless import Identity

        who = Identity(
            issuer=certificate_oidc_issuer,
            identity=certificate_identity,
            identity_regexp=certificate_identity_regexp,
            github_repo=github_repo,
            github_ref=github_ref,
            github_workflow=github_workflow,
        )
    else:
        keyless = {
            "--certificate-identity": certificate_identity,
            "--certificate-identity-regexp": certificate_identity_regexp,
            "--certificate-oidc-issuer": certificate_oidc_issuer,
            "--github-repo": github_repo,
            "--github-ref": github_ref,
            "--github-workflow": github_workflow,
            "--trusted-root": trusted_root,
            "--trust-config": trust_config,
            "--tuf-refresh": tuf_refresh or None,
        }
        stray = [name for name, value in keyless.items() if value is not None]
        if stray:
            raise UsageError(
                f"--key and the keyless options exclude each other: {', '.join(stray)}"
            )
    req = Requirements(
        digest=ref.digest, max_age=_age(max_age), now=_now(now), policy_digest=policy_digest
    )
    bundles = _bundles(ref, bundle, insecure=insecure, timeout=_timeout(timeout))
    signer = Signer(key, who, trusted_root, trust_config, tuf_refresh)
    name, _ = verify_bundles(bundles, signer, req)
    _echo(f"verified: {ref} passed gate (attestation: {name})")


def _bundles(
    ref: object, path: Path | None, *, insecure: bool, timeout: float
) -> list[tuple[str, bytes]]:
    from gate.errors import InputError, SigningError
    from gate.oci import ImageRef

    assert isinstance(ref, ImageRef) and ref.digest is not None
    if path is not None:
        from gate.common.files import FileProblem, read_regular

        try:
            return [(str(path), read_regular(path, 16 << 20, "16 MiB for a bundle"))]
        except FileProblem as e:
            raise InputError(str(path), str(e)) from e
    from gate.oci.deadline import Deadline
    from gate.oci.errors import RegistryError
    from gate.oci.referrers import discover

    try:
        found = discover(ref, ref.digest, env=None, deadline=Deadline(timeout), insecure=insecure)
    except RegistryError as e:
        raise SigningError(f"cannot read the attestations from the registry: {e}") from e
    return [(f"{ref.name} referrer #{i + 1}", b) for i, b in enumerate(found)]
