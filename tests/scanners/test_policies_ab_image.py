"""Issue 5's done-when: tar, OCI and registry images under policies A and B.

A: fail_on HIGH, ignore_unfixed true,  unknown_severity warn
B: fail_on HIGH, ignore_unfixed false, unknown_severity fail

Every image carries fixable CRITICAL/HIGH findings (so both fail), and one unfixed HIGH
(busybox CVE-2099-0002 on Alpine, bash CVE-2099-0102 on Debian). With the fixable ones
excepted, A passes (the unfixed HIGH is ignored) and B still fails on the unfixed HIGH.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.registry import OciRegistry
from tests.helpers.trivydb import EXPECTED
from tests.scanners.conftest import Images
from tests.scanners.test_cli_image import gate

pytestmark = [pytest.mark.trivy, pytest.mark.usefixtures("real_trivy")]

POLICY = {
    "A": "vulnerabilities: {fail_on: HIGH, ignore_unfixed: true, unknown_severity: warn}",
    "B": "vulnerabilities: {fail_on: HIGH, ignore_unfixed: false, unknown_severity: fail}",
}
FIXABLE_HIGH = {
    "alpine": ["CVE-2099-0001", "CVE-2099-0004", "CVE-2099-0006"],
    "debian": ["CVE-2099-0101", "CVE-2099-0004", "CVE-2099-0006"],
}
UNFIXED_HIGH = {"alpine": "CVE-2099-0002", "debian": "CVE-2099-0102"}


def _files(tmp_path: Path, label: str, distro: str, *, excepted: bool) -> list[str]:
    policy = tmp_path / f"{label}.yaml"
    policy.write_text(f"apiVersion: gate/v1\n{POLICY[label]}\n")
    args = ["--policy", str(policy)]
    if excepted:
        exc = tmp_path / "exceptions.yaml"
        items = "".join(
            f"  - {{id: {i}, reason: accepted in the test, expires: 2099-01-01}}\n"
            for i in FIXABLE_HIGH[distro]
        )
        exc.write_text(f"exceptions:\n{items}")
        args += ["--exceptions", str(exc)]
    return args


def _targets(imgs: Images, registry: OciRegistry) -> dict[str, tuple[list[str], str, str | None]]:
    return {
        "alpine-tar": (["--input", str(imgs.alpine_tar.path)], "alpine", None),
        "alpine-tgz": (["--input", str(imgs.alpine_tgz.path)], "alpine", None),
        "debian-tar": (["--input", str(imgs.debian_tar.path)], "debian", None),
        "alpine-oci": (
            ["--input", str(imgs.alpine_oci.path)],
            "alpine",
            imgs.alpine_oci.manifest_digest,
        ),
        "debian-oci": (
            ["--input", str(imgs.debian_oci.path)],
            "debian",
            imgs.debian_oci.manifest_digest,
        ),
        "registry": ([f"{registry.host}/app:1"], "alpine", imgs.alpine_oci.manifest_digest),
        "registry-deb": (
            [f"{registry.host}/team/deb:1"],
            "debian",
            imgs.debian_oci.manifest_digest,
        ),
    }


@pytest.mark.parametrize(
    "target",
    [
        "alpine-tar",
        "alpine-tgz",
        "debian-tar",
        "alpine-oci",
        "debian-oci",
        "registry",
        "registry-deb",
    ],
)
def test_policies_a_and_b_on_images(target, imgs, registry, tmp_path):
    args, distro, digest = _targets(imgs, registry)[target]
    for label, excepted, want in (
        ("A", False, 1),
        ("B", False, 1),
        ("A", True, 0),
        ("B", True, 1),
    ):
        out = tmp_path / f"{label}-{excepted}.json"
        proc = gate(*args, *_files(tmp_path, label, distro, excepted=excepted), "--json", out)
        assert proc.returncode == want, (
            f"{target} {label} excepted={excepted}\n{proc.stdout}{proc.stderr}"
        )
        v = json.loads(out.read_text())
        ids = {f["id"] for f in v["findings"] if f["kind"] == "vulnerability"}
        assert ids == set(EXPECTED[distro]), target
        assert v["subject"]["digest"] == digest
        decisions = {f["id"]: f["decision"] for f in v["findings"]}
        unfixed = UNFIXED_HIGH[distro]
        assert decisions[unfixed] == ("ignored" if label == "A" else "fail")
        for fixable in FIXABLE_HIGH[distro]:
            assert decisions[fixable] == ("excepted" if excepted else "fail")
