"""Write a synthetic `npm audit --json` report (npm 7+, auditReportVersion 2) of N findings.

Usage: python bench/gen_npm_audit.py N OUT

gate makes one finding per (advisory, package) of a `vulnerabilities` entry's `via`, so the
report holds exactly N advisory objects, spread as npm spreads them: most vulnerable
packages have one or two advisories, some three or four; about one entry in eight is
vulnerable only through a dependency (its `via` names other entries, no advisory), and a
quarter of the direct ones also name a vulnerable dependency. Each advisory has what npm
10 writes (source, name, dependency, title, GHSA url, severity, cwe, cvss, range); 15 %
have no upper bound (no fix). `metadata` is consistent, as gate's strict reader demands:
one count per entry by its highest severity, `total` their sum, and the audited
dependency counts. Deterministic (seeded); about 700 bytes per finding.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

_SEVERITIES = ["info", "low", "moderate", "high", "critical"]
_WEIGHTS = [2, 18, 40, 30, 10]
_RANK = {s: i for i, s in enumerate(_SEVERITIES)}
_GHSA = "23456789cfghjmpqrvwx"
_WORDS = (
    "prototype pollution regular expression denial of service in parser path traversal "
    "improper input validation command injection via crafted url server side request "
    "forgery uncontrolled resource consumption cross site scripting in template helper"
).split()
_SCOPES = ["", "", "", "@babel/", "@types/", "@aws-sdk/", "@octokit/"]
_CWES = ["CWE-1321", "CWE-1333", "CWE-22", "CWE-20", "CWE-78", "CWE-918", "CWE-400", "CWE-79"]


def _ghsa(rng: random.Random) -> str:
    return "GHSA-" + "-".join("".join(rng.choices(_GHSA, k=4)) for _ in range(3))


def _range(rng: random.Random, p: int) -> str:
    major, minor, patch = p % 9, p % 23, p % 31
    roll = rng.random()
    if roll < 0.15:
        return "*" if roll < 0.05 else f">={major}.0.0"  # no fix released
    if roll < 0.45:
        return f">={major}.0.0 <{major}.{minor}.{patch + 1}"
    if roll < 0.55:
        return f"<{max(major - 1, 0)}.9.9 || >={major}.0.0 <{major}.{minor}.{patch + 2}"
    return f"<{major}.{minor}.{patch + 1}"


def _advisory(number: int, name: str, p: int, rng: random.Random, seen: set[str]) -> dict[str, Any]:
    ghsa = _ghsa(rng)
    while ghsa in seen:
        ghsa = _ghsa(rng)
    seen.add(ghsa)
    severity = rng.choices(_SEVERITIES, _WEIGHTS)[0]
    score = {"info": 0.0, "low": 3.1, "moderate": 5.3, "high": 7.5, "critical": 9.8}[severity]
    return {
        "source": 1_090_000 + number,
        "name": name,
        "dependency": name,
        "title": f"{name.rsplit('/', 1)[-1]} vulnerable to " + " ".join(rng.sample(_WORDS, 5)),
        "url": f"https://github.com/advisories/{ghsa}",
        "severity": severity,
        "cwe": rng.sample(_CWES, rng.choice([1, 1, 2])),
        "cvss": {
            "score": score,
            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" if score else None,
        },
        "range": _range(rng, p),
    }


def generate(n: int, seed: int = 20260102) -> dict[str, Any]:
    rng = random.Random(seed)
    vulns: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    names: list[str] = []
    made = p = 0
    while made < n:
        name = f"{rng.choice(_SCOPES)}{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{p}"
        earlier = names[-50:]
        if earlier and p % 8 == 7:  # vulnerable only through its dependencies
            via: list[Any] = rng.sample(earlier, min(len(earlier), rng.randint(1, 2)))
        else:
            k = min(n - made, rng.choices([1, 2, 3, 4], [50, 30, 12, 8])[0])
            via = [_advisory(made + j, name, p, rng, seen) for j in range(k)]
            made += k
            if earlier and rng.random() < 0.25:
                via.append(rng.choice(earlier))
        severities = [v["severity"] if isinstance(v, dict) else vulns[v]["severity"] for v in via]
        fix: Any = rng.choice(
            [
                True,
                True,
                False,
                {"name": name, "version": f"{p % 9 + 1}.0.0", "isSemVerMajor": True},
            ]
        )
        vulns[name] = {
            "name": name,
            "severity": max(severities, key=_RANK.__getitem__),
            "isDirect": p % 8 != 7 and rng.random() < 0.3,
            "via": via,
            "effects": [],
            "range": _range(rng, p),
            "nodes": [f"node_modules/{name}"]
            + ([f"node_modules/{rng.choice(_WORDS)}/node_modules/{name}"] if p % 5 == 0 else []),
            "fixAvailable": fix,
        }
        names.append(name)
        for dep in via:
            if isinstance(dep, str):
                vulns[dep]["effects"].append(name)
        p += 1
    counts = dict.fromkeys(_SEVERITIES, 0)
    for entry in vulns.values():
        counts[entry["severity"]] += 1
    prod = 4 * len(vulns) + 100
    dev = 2 * len(vulns) + 50
    return {
        "auditReportVersion": 2,
        "vulnerabilities": vulns,
        "metadata": {
            "vulnerabilities": {**counts, "total": sum(counts.values())},
            "dependencies": {
                "prod": prod,
                "dev": dev,
                "optional": 12,
                "peer": 3,
                "peerOptional": 0,
                "total": prod + dev + 12 + 3 - 1,
            },
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    n, out = int(argv[1]), Path(argv[2])
    out.write_text(json.dumps(generate(n), indent=2) + "\n", encoding="utf-8")
    size = out.stat().st_size
    print(f"{out}: {n} npm advisories, {size / 1e6:.1f} MB ({size / max(n, 1):.0f} B each)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
