"""Token realms, credentials and plain HTTP: gate sends nothing where trivy would not
(issue 14). A token service on a second loopback address (127.0.0.2) logs every call, so
a test sees which credential left for which host.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from gate.errors import GateError
from gate.models import InputStatus
from gate.oci.errors import RegistryError
from gate.oci.realm import checked_realm, same_host
from tests.helpers.scripted_registry import ScriptedRegistry, TokenService
from tests.hostile.test_registry_binding import SV, push_sv
from tests.scanners.conftest import offline, real_trivy, trivy_bin, trivy_cache  # noqa: F401
from tests.scanners.test_scan_image import scan

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("offline", "real_trivy")]
USER, PASSWORD = "gate-user", "pw-Secret-123"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.fixture
def reg() -> Iterator[ScriptedRegistry]:
    with ScriptedRegistry() as r:
        yield r


@pytest.fixture
def sv(reg: ScriptedRegistry) -> SV:
    sv = push_sv(reg)
    reg.manifest(sv.s, tag="1")
    return sv


@pytest.fixture
def internal() -> Iterator[TokenService]:
    """A service on another loopback address: an internal service a realm may point at."""
    with TokenService("127.0.0.2") as t:
        yield t


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVY_USERNAME", USER)
    monkeypatch.setenv("TRIVY_PASSWORD", PASSWORD)


@pytest.mark.usefixtures("creds", "sv")
def test_realm_on_an_internal_address_is_refused(
    reg: ScriptedRegistry, internal: TokenService
) -> None:
    """SSRF: the internal service's answer would go to the registry as a token."""
    reg.challenge = f'Bearer realm="{internal.url}/token",service="x"'
    reg.accepted = {"Bearer tok-from-token-service"}
    run = scan(f"{reg.netloc}/app:1")
    assert run.status is InputStatus.ERROR
    assert "private, loopback or link-local address" in (run.error or ""), run.error
    assert internal.log == []  # nothing, and no credential, reached it
    assert not reg.by_trivy()
    assert PASSWORD not in str(run.model_dump())


@pytest.mark.parametrize(
    ("realm", "said"),
    [
        ("http://auth.example/token", "plain HTTP on another host"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.1.2.3/token", "private"),
        ("https://[::ffff:127.0.0.2]/token", "loopback"),
        ("https://user:pw@auth.example/token", "carries a user name or password"),
        ("http://[::1/token", "not a URL gate can read"),
        ("file:///etc/passwd", "not an absolute http(s) URL"),
        ("/token", "not an absolute http(s) URL"),
    ],
)
@pytest.mark.usefixtures("creds", "sv")
def test_hostile_realms_are_refused(reg: ScriptedRegistry, realm: str, said: str) -> None:
    reg.challenge = f'Bearer realm="{realm}",service="x"'
    run = scan(f"{reg.netloc}/app:1")
    assert run.status is InputStatus.ERROR
    assert said in (run.error or ""), run.error
    assert not reg.by_trivy()


@pytest.mark.usefixtures("creds")
def test_realm_on_the_registrys_own_host_works_for_gate_and_trivy(
    reg: ScriptedRegistry, sv: SV
) -> None:
    """`localhost` is the registry's own host (127.0.0.1); trivy accepts it too."""
    with TokenService("127.0.0.1") as tokens:
        reg.challenge = f'Bearer realm="http://localhost:{tokens.port}/token",service="x"'
        reg.accepted = {"Bearer tok-from-token-service"}
        run = scan(f"{reg.netloc}/app:1")
    assert run.status is InputStatus.OK, run.error
    assert run.subject is not None and run.subject.digest == sv.s_digest
    by = {r.by_trivy for r in tokens.log}
    assert by == {True, False}  # gate and trivy both asked it
    assert {r.authorization for r in tokens.log} == {BASIC}
    assert "scope=repository%3Aapp%3Apull" in tokens.log[0].path
    # the token went only to the registry
    assert {r.authorization for r in reg.log} <= {None, "Bearer tok-from-token-service"}


@pytest.mark.usefixtures("creds", "sv")
def test_a_redirect_to_another_origin_carries_no_credential(
    reg: ScriptedRegistry, internal: TokenService
) -> None:
    reg.challenge = 'Basic realm="r"'
    reg.accepted = {BASIC}
    reg.redirect = f"{internal.url}/elsewhere"
    run = scan(f"{reg.netloc}/app:1")
    assert run.status is InputStatus.ERROR
    assert internal.log and {r.authorization for r in internal.log} == {None}
    assert [r for r in reg.log if r.authorization == BASIC]  # the registry had it


@pytest.fixture
def named() -> Iterator[tuple[str, ScriptedRegistry]]:
    """A registry reached by this machine's host name, which resolves to a loopback address
    but is not `localhost` nor a literal address (skipped where it resolves elsewhere)."""
    import ipaddress
    import socket

    name = socket.gethostname()
    try:
        addr = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve")
    if not ipaddress.ip_address(addr).is_loopback or name.lower() == "localhost":
        pytest.skip(f"the host name {name!r} is not a loopback name here ({addr})")
    with ScriptedRegistry(addr) as r:
        yield name, r


@pytest.mark.usefixtures("creds")
def test_a_name_for_loopback_is_not_plain_http(
    named: tuple[str, ScriptedRegistry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves to 127.0.0.1 is HTTPS, as any other host; with TRIVY_INSECURE
    plain HTTP, but no Basic credentials over it."""
    name, reg = named
    reg.manifest(push_sv(reg).s, tag="1")
    ref = f"{name}:{reg.port}/app:1"
    run = scan(ref)
    assert run.status is InputStatus.ERROR
    assert "cannot reach the registry" in (run.error or ""), run.error
    assert reg.log == []  # TLS to a plain-HTTP server: no request was ever made
    reg.challenge = 'Basic realm="r"'
    reg.accepted = {BASIC}
    monkeypatch.setenv("TRIVY_INSECURE", "true")
    run = scan(ref)
    assert run.status is InputStatus.ERROR
    assert "HTTP 401" in (run.error or ""), run.error
    assert reg.by_gate() and {r.authorization for r in reg.by_gate()} == {None}


@pytest.mark.parametrize(
    ("host", "registry", "same"),
    [
        ("localhost", "127.0.0.1:5000", True),
        ("127.0.0.1", "localhost:5000", True),
        ("::1", "[::1]:5000", True),
        ("127.0.0.2", "127.0.0.1:5000", False),
        ("reg.example", "reg.example", True),
        ("auth.reg.example", "reg.example", False),
    ],
)
def test_same_host(host: str, registry: str, same: bool) -> None:
    assert same_host(host, registry) is same


@pytest.mark.parametrize(
    ("realm", "registry"),
    [
        ("https://auth.docker.io/token", "docker.io"),
        ("https://ghcr.io/token", "ghcr.io"),
        ("http://localhost:5001/token", "127.0.0.1:5000"),
        ("https://10.0.0.5/token", "10.0.0.5:5000"),
    ],
)
def test_realms_gate_accepts(realm: str, registry: str) -> None:
    assert str(checked_realm(realm, registry)) == realm


def test_a_refused_realm_is_a_gate_error() -> None:
    with pytest.raises(RegistryError) as e:
        checked_realm("http://[::1/token", "reg.example")
    assert isinstance(e.value, GateError) and e.value.__cause__ is not None


def test_insecure_reaches_a_plain_http_registry_by_name(
    named: tuple[str, ScriptedRegistry],
) -> None:
    """`--insecure`: gate (HTTPS fails, then plain HTTP) and trivy (`--insecure`) both scan
    a plain-HTTP registry named by a name that is not a literal loopback address."""
    from gate.scanners.trivy.scan import scan_image

    name, reg = named
    sv = push_sv(reg)
    reg.manifest(sv.s, tag="1")
    run = scan_image(
        f"{name}:{reg.port}/app:1",
        input_path=None,
        settings=None,
        trivy_bin=None,
        timeout=60,
        verify_digest=False,
        progress=False,
        insecure=True,
    )
    assert run.status is InputStatus.OK, run.error
    assert "--insecure" in run.facts.as_json()["scan"]["argv"]
    assert run.subject is not None and run.subject.digest == sv.s_digest
    fetched = {r.path.rsplit("/", 1)[-1] for r in reg.by_trivy() if "/manifests/" in r.path}
    assert fetched == {sv.s_digest}
