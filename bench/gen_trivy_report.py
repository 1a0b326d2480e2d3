"""Write a synthetic Trivy JSON report (SchemaVersion 2) of N vulnerabilities.

Usage: python bench/gen_trivy_report.py N OUT

Each vulnerability carries the fields Trivy 0.6x-0.7x writes (PkgIdentifier, Layer,
DataSource, Fingerprint, VendorSeverity, CVSS, CweIDs, ~10 References, a long
Description), about 2 KB each: 50,000 vulnerabilities make a ~100 MB file.
The content is deterministic (seeded) so runs are comparable; only `CreatedAt` is the
current time, so that a policy's `max_input_age` accepts the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

_SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
_SEVERITY_WEIGHTS = [5, 20, 45, 25, 5]
_VENDORS = ["nvd", "redhat", "debian", "ubuntu", "ghsa", "amazon", "photon", "oracle-oval"]
_RESULTS = [
    ("demo/app:1.0 (debian 12.7)", "os-pkgs", "debian", "deb/debian"),
    ("Node.js", "lang-pkgs", "node-pkg", "npm"),
    ("Python", "lang-pkgs", "python-pkg", "pypi"),
    ("Java", "lang-pkgs", "jar", "maven/org.example"),
    ("usr/local/bin/app", "lang-pkgs", "gobinary", "golang/github.com/example"),
]
_WORDS = (
    "a flaw was found in the handling of crafted input that allows a remote attacker "
    "to cause a denial of service or possibly execute arbitrary code via an out of "
    "bounds write in the parser when processing specially crafted requests with "
    "oversized headers under certain configurations of the affected component"
).split()


def _digest(rng: random.Random) -> str:
    return "sha256:" + hashlib.sha256(rng.randbytes(16)).hexdigest()


def _vulnerability(i: int, rng: random.Random, result: int, layers: list[str]) -> dict[str, Any]:
    _, _, _, purl_type = _RESULTS[result]
    year = 2015 + i % 11
    cve = f"CVE-{year}-{10000 + i}"
    p = i // 12  # about six vulnerabilities per package, as in real images
    pkg = f"pkg{result}-{p:05d}"
    version = f"{p % 7}.{p % 13}.{p % 17}"
    severity = rng.choices(_SEVERITIES, _SEVERITY_WEIGHTS)[0]
    fixed = rng.random() < 0.6
    vendors = rng.sample(_VENDORS, rng.randint(2, 5))
    v: dict[str, Any] = {
        "VulnerabilityID": cve,
        "VendorIDs": [f"DSA-{5000 + i % 999}-1"] if result == 0 and i % 3 == 0 else None,
        "PkgID": f"{pkg}@{version}",
        "PkgName": pkg,
        "PkgIdentifier": {
            "PURL": f"pkg:{purl_type}/{pkg}@{version}",
            "UID": hashlib.sha256(f"{pkg}{i}".encode()).hexdigest()[:16],
        },
        "InstalledVersion": version,
        "FixedVersion": f"{p % 7}.{p % 13}.{p % 17 + 1 + i % 3}" if fixed else None,
        "Status": "fixed" if fixed else rng.choice(["affected", "will_not_fix", "fix_deferred"]),
        "Layer": {"DiffID": rng.choice(layers)},
        "SeveritySource": vendors[0],
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{cve.lower()}",
        "DataSource": {
            "ID": "ghsa" if result else "debian",
            "Name": "GitHub Security Advisory" if result else "Debian Security Tracker",
            "URL": "https://github.com/advisories" if result else "https://salsa.debian.org/",
        },
        "Fingerprint": "sha256:" + hashlib.sha256(f"fp{i}".encode()).hexdigest(),
        "Title": f"{pkg}: " + " ".join(rng.sample(_WORDS, 8)),
        "Description": " ".join(rng.choices(_WORDS, k=18)),
        "Severity": severity,
        "CweIDs": [f"CWE-{rng.randint(20, 900)}"],
        "VendorSeverity": {vendor: rng.randint(1, 4) for vendor in vendors},
        "CVSS": {
            "nvd": {
                "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "V3Score": round(rng.uniform(2.0, 10.0), 1),
            },
            "redhat": {
                "V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
                "V3Score": round(rng.uniform(2.0, 10.0), 1),
            },
        },
        "References": [
            f"https://access.redhat.com/security/cve/{cve}",
            f"https://nvd.nist.gov/vuln/detail/{cve}",
            f"https://security-tracker.debian.org/tracker/{cve}",
            f"https://github.com/example/{pkg}/commit/{hashlib.sha1(cve.encode()).hexdigest()}",
            f"https://lists.debian.org/debian-lts-announce/{year}/0{1 + i % 9}/"
            f"msg000{i % 90:02d}.html",
        ],
        "PublishedDate": f"{year}-0{1 + i % 9}-1{i % 10}T12:15:0{i % 10}Z",
        "LastModifiedDate": f"{year + 1}-0{1 + i % 9}-2{i % 9}T08:00:00Z",
    }
    return {key: value for key, value in v.items() if value is not None}


def generate(n: int, seed: int = 20260101) -> dict[str, Any]:
    rng = random.Random(seed)
    layers = [_digest(rng) for _ in range(8)]
    results: list[dict[str, Any]] = [
        {"Target": target, "Class": cls, "Type": typ, "Vulnerabilities": []}
        for target, cls, typ, _ in _RESULTS
    ]
    for i in range(n):
        r = 0 if i % 2 == 0 else 1 + (i // 2) % (len(_RESULTS) - 1)
        results[r]["Vulnerabilities"].append(_vulnerability(i, rng, r, layers))
    return {
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.76.0"},
        "ReportID": "019db883-4e4e-748c-8209-c75e3628ddf0",
        # now, so that a policy's max_input_age accepts it
        "CreatedAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z"),
        "ArtifactID": _digest(rng),
        "ArtifactName": "registry.example.com/demo/app:1.0",
        "ArtifactType": "container_image",
        "Metadata": {
            "Size": 123456789,
            "OS": {"Family": "debian", "Name": "12.7"},
            "ImageID": _digest(rng),
            "DiffIDs": layers,
            "RepoTags": ["registry.example.com/demo/app:1.0"],
            "RepoDigests": ["registry.example.com/demo/app@" + _digest(rng)],
            "Reference": "registry.example.com/demo/app:1.0",
        },
        "Results": results,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    n, out = int(argv[1]), Path(argv[2])
    out.write_text(json.dumps(generate(n), indent=2) + "\n", encoding="utf-8")
    size = out.stat().st_size
    print(f"{out}: {n} vulnerabilities, {size / 1e6:.1f} MB ({size / max(n, 1):.0f} B each)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
