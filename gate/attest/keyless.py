"""Keyless signing and verification with sigstore-python (imported here only: `gate --help`
and a `gate check` without `--sign` never load it, about 220 ms of imports).

- Signing: `SigningContext.from_trust_config(config)` → `signer(IdentityToken)` →
  `sign_dsse(statement)`: a Fulcio certificate for the CI's OIDC identity, a Rekor entry, a
  Sigstore bundle v0.3. The identity is `--identity-token`, else the CI's ambient
  credential as sigstore detects it (GitHub Actions with `id-token: write`).
- Verification: `Verifier(trusted_root=…).verify_dsse(bundle, policy)`, offline: the trusted
  root is `--trusted-root`, or the one in `--trust-config`; the public-good root is refreshed
  over TUF only with `--tuf-refresh`.

Every failure of the instance (down, slow, 5xx, malformed, a bad proof) is a `SigningError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError, SigningError, UsageError, VerificationRejected

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def _read(path: Path, what: str) -> str:
    from gate.common.files import FileProblem, read_regular

    try:
        return read_regular(path, 16 << 20, "16 MiB for a trust file").decode("utf-8")
    except FileProblem as e:
        raise InputError(str(path), f"{what}: {e}") from e
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"{what}: not UTF-8 text") from e


def trust_config(path: Path | None) -> Any:
    """`--trust-config PATH` (a ClientTrustConfig JSON), or the public-good instance."""
    from sigstore.models import ClientTrustConfig

    if path is None:
        try:
            return ClientTrustConfig.production()
        except Exception as e:  # TUF refresh: the network, a bad root
            raise SigningError(
                f"cannot fetch the public-good Sigstore trust root: {_why(e)}"
            ) from e
    try:
        return ClientTrustConfig.from_json(_read(path, "--trust-config"))
    except InputError:
        raise
    except Exception as e:
        raise InputError(str(path), f"not a Sigstore ClientTrustConfig: {_why(e)}") from e


def _why(e: BaseException) -> str:
    from gate.common.sanitize import text

    return text(f"{type(e).__name__}: {e}".splitlines()[0] if str(e) else type(e).__name__)


def sign(
    statement: bytes, config_path: Path | None, identity_token: str | None, timeout: float
) -> str:
    """The bundle JSON for `statement`, signed keyless within `timeout` seconds (the token,
    Fulcio and Rekor); `SigningError` on any failure."""
    config = trust_config(config_path)

    def work() -> str:
        token = _token(identity_token)
        return _sign(config, token, statement)

    return _within(timeout, work)


def _token(identity_token: str | None) -> Any:
    from sigstore.oidc import IdentityError, IdentityToken, detect_credential

    raw = identity_token
    if raw is None:
        try:
            raw = detect_credential()
        except IdentityError as e:
            raise SigningError(f"cannot get the CI's OIDC identity token: {_why(e)}") from e
        if raw is None:
            raise SigningError(
                "no OIDC identity for keyless signing: run in CI with an ambient credential "
                "(GitHub Actions: permissions: id-token: write), or give --identity-token, "
                "or sign with --key"
            )
    try:
        return IdentityToken(raw)
    except IdentityError as e:
        raise SigningError(f"the OIDC identity token is not usable: {_why(e)}") from e


def _sign(config: Any, token: Any, statement: bytes) -> str:
    from sigstore.dsse import Statement
    from sigstore.models import Bundle
    from sigstore.sign import SigningContext
    from sigstore.verify import Verifier

    try:
        ctx = SigningContext.from_trust_config(config)
        # cache=True: with False, sigstore 4.5.1 makes a new key at each use, so the
        # signature and the certificate disagree (the check below would refuse it)
        with ctx.signer(token, cache=True) as signer:
            bundle = signer.sign_dsse(Statement(statement))
    except Exception as e:  # Fulcio, Rekor, an SCT that does not hold
        raise SigningError(f"keyless signing failed: {_why(e)}") from e
    out: str = bundle.to_json()
    try:  # the signer does not check the log's answer: its proof, checkpoint and SET
        written = Bundle.from_json(out)  # what is written is what is checked
        Verifier(trusted_root=config.trusted_root).verify_dsse(written, _AnySigner())
    except Exception as e:
        raise SigningError(
            f"keyless signing failed: the new bundle does not verify: {_why(e)}"
        ) from e
    return out


class _AnySigner:
    """The signer's own check of a fresh bundle: whoever Fulcio certified (the identity is
    the deployer's to require)."""

    def verify(self, cert: Any) -> None:
        return None


def _within(seconds: float, work: Callable[[], str]) -> str:
    """`work()` on a worker thread, abandoned (a `SigningError`) after `seconds`: the
    Sigstore clients set no timeout of their own on Fulcio and Rekor."""
    import threading

    done: list[str] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as e:  # handed to the caller's thread
            failed.append(e)

    worker = threading.Thread(target=run, name="gate-sign", daemon=True)
    worker.start()
    worker.join(seconds)
    if failed:
        raise failed[0]
    if not done:
        raise SigningError(
            f"keyless signing failed: the Sigstore instance did not answer within {seconds:g}s"
        )
    return done[0]


@dataclass(frozen=True)
class Identity:
    """Whom `gate verify` accepts as the signer of a keyless bundle."""

    issuer: str
    identity: str | None = None
    identity_regexp: str | None = None
    github_repo: str | None = None
    github_ref: str | None = None
    github_workflow: str | None = None


class _Recording:
    """Wraps the identity policy: a failure inside it is an identity rejection, any other
    failure of `verify_dsse` is the signature's (or the log's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed: BaseException | None = None

    def verify(self, cert: Any) -> None:
        try:
            self.inner.verify(cert)
        except Exception as e:
            self.failed = e
            raise


class _SanRegexp:
    def __init__(self, pattern: str) -> None:
        import re

        self.pattern = re.compile(pattern)

    def verify(self, cert: Any) -> None:
        from cryptography.x509 import (
            ExtensionNotFound,
            RFC822Name,
            SubjectAlternativeName,
            UniformResourceIdentifier,
        )
        from sigstore.errors import VerificationError

        try:
            san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
        except ExtensionNotFound as e:
            raise VerificationError("the certificate has no subject alternative name") from e
        names = san.get_values_for_type(UniformResourceIdentifier) + san.get_values_for_type(
            RFC822Name
        )
        if not any(self.pattern.fullmatch(n) for n in names):
            raise VerificationError(
                f"no certificate identity matches {self.pattern.pattern!r} (found {names})"
            )


def _policy(who: Identity) -> Any:
    from sigstore.verify import policy

    parts: list[Any] = [policy.OIDCIssuer(who.issuer)]
    if who.identity is not None:
        parts.append(policy.Identity(identity=who.identity, issuer=who.issuer))
    if who.identity_regexp is not None:
        parts.append(_SanRegexp(who.identity_regexp))
    if who.github_repo is not None:
        parts.append(policy.GitHubWorkflowRepository(who.github_repo))
    if who.github_ref is not None:
        parts.append(policy.GitHubWorkflowRef(who.github_ref))
    if who.github_workflow is not None:
        parts.append(policy.GitHubWorkflowName(who.github_workflow))
    return policy.AllOf(parts)


def trusted_root(root_path: Path | None, config_path: Path | None, tuf_refresh: bool) -> Any:
    """The trusted root to verify against: `--trusted-root`, the one in `--trust-config`, or
    (only with `--tuf-refresh`) the public-good root refreshed over TUF."""
    from sigstore.models import ClientTrustConfig, TrustedRoot

    if root_path is not None:
        try:
            _read(root_path, "--trusted-root")  # a regular file, not too large
            return TrustedRoot.from_file(str(root_path))
        except InputError:
            raise
        except Exception as e:
            raise InputError(str(root_path), f"not a Sigstore trusted root: {_why(e)}") from e
    if config_path is not None:
        return trust_config(config_path).trusted_root
    if tuf_refresh:
        try:
            return ClientTrustConfig.production().trusted_root
        except Exception as e:
            raise SigningError(f"cannot refresh the public-good trust root: {_why(e)}") from e
    raise UsageError(
        "keyless verification needs a trust root: --trusted-root PATH, --trust-config PATH, "
        "or --tuf-refresh (online)"
    )


def verify(bundle_json: str, root: Any, who: Identity) -> tuple[str, bytes]:
    """(payload type, payload) of a keyless bundle whose signature, log entry and signer
    hold; `VerificationRejected` ("signature" or "identity") otherwise."""
    from sigstore.models import Bundle
    from sigstore.verify import Verifier

    try:
        bundle = Bundle.from_json(bundle_json)
    except Exception as e:
        raise VerificationRejected(
            "signature", f"not a keyless Sigstore bundle gate can verify: {_why(e)}"
        ) from e
    recorded = _Recording(_policy(who))
    try:
        payload_type, payload = Verifier(trusted_root=root).verify_dsse(bundle, recorded)
    except Exception as e:
        if recorded.failed is not None:
            raise VerificationRejected("identity", _why(recorded.failed)) from e
        raise VerificationRejected("signature", _why(e)) from e
    return str(payload_type), bytes(payload)


def has_certificate(bundle: dict[str, Any]) -> bool:
    """A keyless bundle: its verification material is a certificate (or a chain)."""
    material = bundle.get("verificationMaterial")
    return isinstance(material, dict) and (
        "certificate" in material or "x509CertificateChain" in material
    )
