"""The environment trivy runs with: an allow-list of the caller's variables.

trivy needs its own settings, the registry credentials its registry authentication reads,
proxies, certificates and the locale; nothing else. In particular gate's signing secrets
(`GATE_KEY_PASSWORD`, `GATE_IDENTITY_TOKEN`), GitHub's OIDC token request variables
(`ACTIONS_ID_TOKEN_REQUEST_TOKEN`/`_URL`) and `GITHUB_TOKEN` never reach the scanner, so a
scanner binary cannot read the key password or mint an identity token and sign a verdict.
The early start and the normal path both build trivy's environment here: an early scan is
adopted only if the two are identical.
"""

from __future__ import annotations

from collections.abc import Mapping

ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        "TEMP",
        "TMP",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "NO_COLOR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        # proxies (Go's net/http reads both spellings)
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        # certificates
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        # registry credentials: docker config (credential helpers included)
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        # Google Artifact Registry / GCR (application default credentials)
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "CLOUDSDK_CONFIG",
    }
)
"""Variables passed by exact name."""

ALLOWED_PREFIXES = (
    "TRIVY_",  # trivy's own settings, incl. TRIVY_USERNAME/PASSWORD/REGISTRY_TOKEN
    "LC_",  # locale
    "AWS_",  # ECR: the AWS SDK's credential chain (keys, profile, web identity, region)
    "AZURE_",  # ACR: the Azure SDK's environment credential
)
"""Variables passed by prefix (case-sensitive, as trivy and the cloud SDKs read them)."""


def allowed(name: str) -> bool:
    """Whether trivy may see the variable `name`."""
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def trivy_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` trivy may see (see the module's docstring)."""
    return {name: value for name, value in environ.items() if allowed(name)}
