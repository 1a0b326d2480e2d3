"""VEX in: every corpus document is read into statements or refused with a clear error,
and the statements except exactly the findings they name."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gate.engine import evaluate
from gate.errors import InputError
from gate.models import Finding, FindingKind, InputKind, Package, SourceRef, Subject
from gate.vex.apply import vex_exceptions
from gate.vex.read import read_vex
from tests.engine.builders import NOW, policy, run

DATA = Path(__file__).resolve().parents[1] / "data" / "vex"
ALPINE = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"

# file → (format, statements, exceptions made for the image ALPINE)
READS = {
    "csaf-vex-go-vex.json": ("csaf", 1, 1),
    "csaf-vex-trivy.json": ("csaf", 1, 1),
    "cyclonedx-vex-bom-examples.json": ("cyclonedx", 1, 1),
    "cyclonedx-vex-cisa-case1-affected.json": ("cyclonedx", 1, 0),
    "cyclonedx-vex-cisa-case1-fixed.json": ("cyclonedx", 1, 0),  # product-DEF: no purl
    "cyclonedx-vex-cisa-case1-not-affected.json": ("cyclonedx", 1, 0),
    "cyclonedx-vex-usecase9-versions.json": ("cyclonedx", 19, 0),
    "dd-openvex-many.json": ("openvex", 6, 4),
    "openvex-trivy-integration-fixture.json": ("openvex", 1, 1),
    "openvex-trivy-multiple.json": ("openvex", 2, 1),  # affected, then not_affected: later wins
    "openvex-trivy-project-real.json": ("openvex", 21, 21),
    "openvex-v0.0.1-go-vex.json": ("openvex", 1, 2),
    "openvex-v0.2.0-go-vex.json": ("openvex", 5, 10),
}
REFUSED = {
    "cyclonedx-vex-trivy.json": (
        "vulnerabilities[1]",
        "a not_affected statement needs a justification or an impact statement",
    ),
    "openvex-yaml-vex-attestation.yaml": (
        "statements[0]",
        "names no product; gate will not apply it to every package",
    ),
}


def test_the_table_covers_every_corpus_file() -> None:
    names = {p.name for p in DATA.iterdir() if p.name != "PROVENANCE.tsv"}
    assert names == set(READS) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READS))
def test_reads(name: str) -> None:
    fmt, statements, made = READS[name]
    doc = read_vex(DATA / name)
    assert (doc.format, len(doc.statements)) == (fmt, statements)
    assert len(vex_exceptions([doc], {ALPINE}).exceptions) == made


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_file_and_path(name: str) -> None:
    pointer, message = REFUSED[name]
    with pytest.raises(InputError) as info:
        vex_exceptions([read_vex(DATA / name)], set())
    assert info.value.path == str(DATA / name)
    assert info.value.pointer == pointer
    assert message in info.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "expected an object at the top level"),
        ('{"a": 1, "a": 2}', 'the key "a" appears twice'),
        ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}', "has no statements"),
        ('{"bomFormat": "CycloneDX"}', "vulnerabilities: missing (an array is required here)"),
        ('{"hello": "world"}', "not a VEX document gate reads"),
        ("@context: [", "not valid YAML"),
        ("", "the file is empty"),
    ],
)
def test_unparsable_is_an_input_error(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "doc.json"
    p.write_text(body)
    with pytest.raises(InputError) as info:
        read_vex(p)
    assert message in str(info.value)


def test_unknown_status_names_its_path(tmp_path: Path) -> None:
    data = json.loads((DATA / "openvex-v0.2.0-go-vex.json").read_text())
    data["statements"][2]["status"] = "not-affected"
    p = tmp_path / "v.json"
    p.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        read_vex(p)
    assert info.value.pointer == "statements[2].status"


def _openvex_yaml(tmp_path: Path) -> Path:
    import yaml

    data = json.loads((DATA / "openvex-v0.2.0-go-vex.json").read_text())
    p = tmp_path / "v.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_yaml_and_wrapped_documents_read_the_same(tmp_path: Path) -> None:
    plain = read_vex(DATA / "openvex-v0.2.0-go-vex.json")
    data = json.loads((DATA / "openvex-v0.2.0-go-vex.json").read_text())
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "alpine", "digest": {"sha256": ALPINE[7:]}}],
        "predicateType": "https://openvex.dev/ns/v0.2.0",
        "predicate": data,
    }
    intoto = tmp_path / "att.json"
    intoto.write_text(json.dumps(statement))
    dsse = tmp_path / "att.dsse.json"
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    dsse.write_text(
        json.dumps(
            {"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": []}
        )
    )
    for p in (_openvex_yaml(tmp_path), intoto, dsse):
        doc = read_vex(p)
        got = [(s.vulnerability, s.status, s.products) for s in doc.statements]
        assert got == [(s.vulnerability, s.status, s.products) for s in plain.statements]
    assert read_vex(intoto).statements[0].pointer == "predicate.statements[0]"


def _finding(
    vid: str, purl: str, *, aliases: tuple[str, ...] = (), name: str = "libssl3"
) -> Finding:
    return Finding(
        kind=FindingKind.VULNERABILITY,
        id=vid,
        aliases=aliases,
        package=Package(name=name, version="3.0.8-r3", ecosystem="alpine", purl=purl),
        sources=(SourceRef(kind=InputKind.TRIVY, path="trivy.json", pointer="x"),),
    )


def _judge(docs: list[Path], findings: list[Finding], digest: str | None) -> dict[str, str]:
    from gate.models import ExceptionsFile

    read = [read_vex(p) for p in docs]
    made = vex_exceptions(read, {digest} if digest else set())
    pol = policy(
        vulnerabilities={"fail_on": "LOW", "unknown_severity": "fail"},
        exceptions=[e.model_dump(exclude_none=True) for e in made.exceptions],
    )
    from gate.models import PolicyRef

    ref = PolicyRef(
        path="p",
        sha256="0",
        exception_files=(
            ExceptionsFile(
                path="vex",
                sha256="0",
                first=0,
                count=len(made.exceptions),
                kind="vex",
                labels=tuple(made.labels),
            ),
        ),
    )
    subject = Subject(name="alpine", digest=digest) if digest else None
    v = evaluate([run(InputKind.TRIVY, *findings, subject=subject)], pol, NOW, policy_ref=ref)
    return {
        f"{d.finding.id} {d.finding.package.name if d.finding.package else ''}": (
            f"{d.decision.value} {d.rule}"
        )
        for d in v.findings
    }


def test_image_digest_and_subcomponents_scope_the_statement() -> None:
    doc = DATA / "openvex-v0.2.0-go-vex.json"
    findings = [
        # qualifiers on the finding's purl, none in the statement: normalized away
        _finding("CVE-2023-1255", "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64&distro=3.17"),
        # the right vulnerability in a package the statement does not list
        _finding("CVE-2023-1255", "pkg:apk/alpine/busybox@3.0.8-r3", name="busybox"),
        # listed package, another vulnerability
        _finding("CVE-2099-0001", "pkg:apk/alpine/libssl3@3.0.8-r3"),
    ]
    got = _judge([doc], findings, ALPINE)
    assert got["CVE-2023-1255 libssl3"] == f"excepted {doc}: statements[0]"
    assert got["CVE-2023-1255 busybox"].startswith("fail ")
    assert got["CVE-2099-0001 libssl3"].startswith("fail ")
    # another image: the statements are about ALPINE only
    other = "sha256:" + "1" * 64
    assert _judge([doc], findings, other)["CVE-2023-1255 libssl3"].startswith("fail ")
    assert _judge([doc], findings, None)["CVE-2023-1255 libssl3"].startswith("fail ")


def test_alias_matches_and_versionless_product() -> None:
    """Trivy's own VEX names GO-2024-2575 with CVE-2024-26147 as an alias, and a purl
    without version: a finding by the CVE id in any version of helm is excepted."""
    doc = DATA / "openvex-trivy-project-real.json"
    f = _finding("CVE-2024-26147", "pkg:golang/helm.sh/helm/v3@3.14.0", name="helm.sh/helm/v3")
    got = _judge([doc], [f], None)
    assert got["CVE-2024-26147 helm.sh/helm/v3"] == f"excepted {doc}: statements[0]"


def test_affected_leaves_it_to_the_policy_and_a_later_statement_wins(tmp_path: Path) -> None:
    multiple = DATA / "openvex-trivy-multiple.json"
    f = _finding(
        "CVE-2021-44228",
        "pkg:maven/org.springframework.boot/spring-boot@2.6.0",
        name="spring-boot",
    )
    assert _judge([multiple], [f], None)["CVE-2021-44228 spring-boot"].startswith(
        f"excepted {multiple}: statements[1]"
    )
    # the same two statements, the affected one now the later: not excepted
    data = json.loads(multiple.read_text())
    data["statements"][0]["timestamp"] = "2024-01-01T00:00:00Z"
    flipped = tmp_path / "flipped.json"
    flipped.write_text(json.dumps(data))
    assert _judge([flipped], [f], None)["CVE-2021-44228 spring-boot"].startswith("fail ")
    made = vex_exceptions([read_vex(flipped)], set())
    assert made.exceptions == []
    assert any("a later statement overrides it" in w for w in made.warnings)


def test_unused_vex_statements_are_reported_but_do_not_fail_on_unused() -> None:
    """A vendor's VEX names many products: statements that match nothing are listed as
    unused, but `fail_on_unused` is about the team's own stale exceptions."""
    from gate.models import ExceptionsFile, PolicyRef

    made = vex_exceptions([read_vex(DATA / "openvex-trivy-project-real.json")], set())
    own = {"id": "CVE-2000-0001", "reason": "r", "expires": "2027-01-01"}
    for extra, result in (([], "PASS"), ([own], "FAIL")):
        pol = policy(
            vulnerabilities={"fail_on": "HIGH"},
            exceptions=[*(e.model_dump(exclude_none=True) for e in made.exceptions), *extra],
            exception_rules={"fail_on_unused": True},
        )
        ref = PolicyRef(
            path="p",
            sha256="0",
            exception_files=(
                ExceptionsFile(
                    path="vex",
                    sha256="0",
                    first=0,
                    count=len(made.exceptions),
                    kind="vex",
                    labels=tuple(made.labels),
                ),
            ),
        )
        v = evaluate([run(InputKind.TRIVY)], pol, NOW, policy_ref=ref)
        assert v.result.value == result, v.notes
        assert len(v.exceptions.unused) == 21 + len(extra)


def test_cyclonedx_versions_narrow_the_product(tmp_path: Path) -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "vulnerabilities": [
            {
                "id": "CVE-2099-0001",
                "analysis": {"state": "not_affected", "justification": "code_not_present"},
                "affects": [
                    {
                        "ref": "pkg:npm/lodash",
                        "versions": [
                            {"version": "4.17.20", "status": "unaffected"},
                            {"version": "4.17.21", "status": "affected"},
                            {"range": "vers:npm/<4.0.0", "status": "unaffected"},
                        ],
                    }
                ],
            }
        ],
    }
    p = tmp_path / "cdx.json"
    p.write_text(json.dumps(doc))
    made = vex_exceptions([read_vex(p)], set())
    assert [e.package for e in made.exceptions] == ["pkg:npm/lodash@4.17.20"]
    assert any("vers:npm/<4.0.0" in w and "matches nothing" in w for w in made.warnings)


def test_a_products_qualifiers_narrow_it() -> None:
    """v0.0.1 names git for armv7 and x86_64: an aarch64 build is not covered."""
    doc = DATA / "openvex-v0.0.1-go-vex.json"
    findings = [
        _finding("CVE-2023-12345", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64", name="git"),
        _finding("CVE-2023-12345", "pkg:apk/wolfi/git@2.39.0-r1?arch=aarch64", name="gitx"),
    ]
    got = _judge([doc], findings, None)
    assert got["CVE-2023-12345 git"] == f"excepted {doc}: statements[0].products[1]"
    assert got["CVE-2023-12345 gitx"].startswith("fail ")


def test_csaf_relationships_flags_and_threats(tmp_path: Path) -> None:
    """A component installed on a product: the product is the image, the component its
    subcomponent; the justification comes from the flag naming that product id."""
    doc = {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"name": "Vendor"},
            "tracking": {"current_release_date": "2026-01-01T00:00:00Z"},
        },
        "product_tree": {
            "full_product_names": [
                {"product_id": "IMG", "name": "app",
                 "product_identification_helper": {"purl": f"pkg:oci/app@{ALPINE}"}},
                {"product_id": "SSL", "name": "libssl3",
                 "product_identification_helper": {"purl": "pkg:apk/alpine/libssl3"}},
            ],
            "relationships": [
                {"category": "installed_on", "product_reference": "SSL",
                 "relates_to_product_reference": "IMG",
                 "full_product_name": {"product_id": "IMG:SSL", "name": "libssl3 in app"}},
            ],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2023-1255",
                "ids": [{"system_name": "GHSA", "text": "GHSA-xxxx-yyyy-zzzz"}],
                "product_status": {"known_not_affected": ["IMG:SSL"], "known_affected": ["IMG"]},
                "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["IMG:SSL"]}],
            }
        ],
    }  # fmt: skip
    p = tmp_path / "csaf.json"
    p.write_text(json.dumps(doc))
    vex = read_vex(p)
    (na, aff) = vex.statements
    assert na.pointer == "vulnerabilities[0].product_status.known_not_affected[0]"
    assert na.justification == "vulnerable_code_not_present" and na.author == "Vendor"
    assert na.aliases == ("GHSA-xxxx-yyyy-zzzz",)
    assert aff.status.value == "affected"
    made = vex_exceptions([vex], {ALPINE})
    assert [(e.id, e.package) for e in made.exceptions] == [
        ("CVE-2023-1255", "pkg:apk/alpine/libssl3")
    ]
    # without the flag, known_not_affected has no justification: refused
    doc["vulnerabilities"][0]["flags"] = []  # type: ignore[index]
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="needs a justification"):
        vex_exceptions([read_vex(p)], {ALPINE})
