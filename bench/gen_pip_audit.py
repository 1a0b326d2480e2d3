"""Write a synthetic `pip-audit -f json` report (pip-audit >= 2.0) of N vulnerabilities.

Usage: python bench/gen_pip_audit.py N OUT

The `{"dependencies": [...], "fixes": []}` shape pip-audit 2.x writes: every audited
dependency is listed, so two clean ones (`"vulns": []`) come with each vulnerable one,
and one in 200 could not be audited (`skip_reason`, no version, no `vulns`, as pip-audit
writes it). A vulnerable dependency has one to four vulnerabilities (PYSEC or GHSA ids
with CVE aliases, 65 % with `fix_versions`, an OSV description that opens with
`### Summary` as GHSA texts do). Deterministic (seeded); about 600 bytes per
vulnerability.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

_GHSA = "23456789cfghjmpqrvwx"
_WORDS = (
    "the affected versions allow a remote attacker to bypass validation of crafted "
    "headers in the request parser leading to denial of service or disclosure of "
    "session data when the application runs behind a caching proxy with default settings"
).split()
_NAMES = ["django", "flask", "requests", "urllib3", "jinja2", "pillow", "cryptography"]


def _ghsa(rng: random.Random) -> str:
    return "GHSA-" + "-".join("".join(rng.choices(_GHSA, k=4)) for _ in range(3))


def _vuln(i: int, p: int, rng: random.Random) -> dict[str, Any]:
    year = 2018 + i % 8
    cve = f"CVE-{year}-{20000 + i}"
    ghsa = _ghsa(rng)
    if i % 3 == 0:
        ident, aliases = f"PYSEC-{year}-{100 + i}", [cve, ghsa]
    else:
        ident, aliases = ghsa, [cve]
    fixed = rng.random() < 0.65
    summary = " ".join(rng.choices(_WORDS, k=12))
    body = " ".join(rng.choices(_WORDS, k=40))
    return {
        "id": ident,
        "fix_versions": [f"{p % 6 + 1}.{p % 11}.{i % 7 + 1}"] if fixed else [],
        "aliases": aliases,
        "description": f"### Summary\n{summary.capitalize()}.\n\n### Details\n{body}.",
    }


def generate(n: int, seed: int = 20260103) -> dict[str, Any]:
    rng = random.Random(seed)
    deps: list[dict[str, Any]] = []
    made = p = 0
    while made < n:
        name = f"{rng.choice(_NAMES)}-{rng.choice(_WORDS)}-{p}"
        version = f"{p % 6}.{p % 11}.{p % 7}"
        if p % 200 == 199:
            deps.append(
                {
                    "name": name,
                    "skip_reason": f"Dependency not found on PyPI and could not be audited: "
                    f"{name} ({version})",
                }
            )
        elif p % 3:
            deps.append({"name": name, "version": version, "vulns": []})
        else:
            k = min(n - made, rng.choices([1, 2, 3, 4], [55, 25, 12, 8])[0])
            vulns = [_vuln(made + j, p, rng) for j in range(k)]
            made += k
            deps.append({"name": name, "version": version, "vulns": vulns})
        p += 1
    return {"dependencies": deps, "fixes": []}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    n, out = int(argv[1]), Path(argv[2])
    out.write_text(json.dumps(generate(n)) + "\n", encoding="utf-8")
    size = out.stat().st_size
    print(
        f"{out}: {n} pip-audit vulnerabilities, {size / 1e6:.1f} MB ({size / max(n, 1):.0f} B each)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
