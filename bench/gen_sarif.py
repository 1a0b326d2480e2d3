"""Write a synthetic SARIF 2.1.0 log of N results, shaped as CodeQL writes one.

Usage: python bench/gen_sarif.py N OUT

One run of `CodeQL` with a query pack of up to 300 rules (id, name, short and full
description, default level, `help` text and markdown, properties with tags, precision and
`security-severity`), each result with ruleId, ruleIndex and `rule` (id, index), a
message, one physical location relative to `%SRCROOT%` with a region,
and `partialFingerprints`; 5 % of the results carry an `inSource` suppression and 10 % a
`codeFlows` path, as real CodeQL taint results do. Rules follow a Zipf-like spread (a few
rules have most results), the run's invocation succeeded and has the current time, so
`max_input_age` accepts it. Deterministic (seeded) apart from the time; about 900 bytes
per result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

_LANGS = ["js", "py", "java", "go", "cpp", "rb"]
_QUERIES = [
    ("sql-injection", "error", "8.8", "CWE-089"),
    ("path-injection", "error", "7.5", "CWE-022"),
    ("reflected-xss", "error", "6.1", "CWE-079"),
    ("clear-text-logging", "error", "7.5", "CWE-312"),
    ("weak-cryptographic-algorithm", "warning", "7.5", "CWE-327"),
    ("incomplete-url-substring-sanitization", "warning", "7.8", "CWE-020"),
    ("unused-local-variable", "note", None, None),
    ("regex-injection", "error", "7.5", "CWE-730"),
    ("missing-rate-limiting", "warning", "7.5", "CWE-770"),
    ("stack-trace-exposure", "error", "5.4", "CWE-209"),
    ("polynomial-redos", "warning", "7.5", "CWE-1333"),
    ("useless-assignment", "warning", None, None),
]
_DIRS = ["src", "lib", "app", "server", "internal", "pkg", "web", "api"]
_FILES = ["handler", "routes", "models", "util", "views", "client", "auth", "db", "render"]


def _rule(r: int) -> dict[str, Any]:
    query, level, sev, cwe = _QUERIES[r % len(_QUERIES)]
    rule_id = f"{_LANGS[r // len(_QUERIES) % len(_LANGS)]}/{query}" + (
        f"-{r}" if r >= len(_QUERIES) * len(_LANGS) else ""
    )
    text = f"Building a {query.replace('-', ' ')} from user-controlled sources is vulnerable."
    props: dict[str, Any] = {
        "tags": ["security", "external/cwe/" + cwe.lower()] if cwe else ["maintainability"],
        "precision": "high",
        "kind": "path-problem" if sev else "problem",
        "id": rule_id,
    }
    if sev:
        props["security-severity"] = sev
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": query.replace("-", " ").capitalize()},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"enabled": True, "level": level},
        "help": {"text": f"# {query}\n\n{text}\n", "markdown": f"# {query}\n\n{text}\n"},
        "properties": props,
    }


def _location(rng: random.Random, files: list[str]) -> dict[str, Any]:
    line = rng.randint(1, 2000)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": rng.choice(files), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line, "startColumn": rng.randint(1, 40), "endColumn": 60},
        }
    }


def generate(n: int, seed: int = 20260104) -> dict[str, Any]:
    rng = random.Random(seed)
    rules = [_rule(r) for r in range(min(300, max(12, n // 100)))]
    weights = [1 / (k + 1) for k in range(len(rules))]
    files = [
        f"{rng.choice(_DIRS)}/{rng.choice(_DIRS)}/{rng.choice(_FILES)}{f}.js"
        for f in range(max(20, n // 20))
    ]
    results: list[dict[str, Any]] = []
    for i in range(n):
        index = rng.choices(range(len(rules)), weights)[0]
        rule = rules[index]
        loc = _location(rng, files)
        res: dict[str, Any] = {
            "ruleId": rule["id"],
            "ruleIndex": index,
            "rule": {"id": rule["id"], "index": index},
            "message": {
                "text": f"This query depends on a [user-provided value](1) ({i}).",
            },
            "locations": [loc],
            "partialFingerprints": {
                "primaryLocationLineHash": hashlib.sha1(f"{i}".encode()).hexdigest()[:16] + ":1",
                "primaryLocationStartColumnFingerprint": str(i % 40),
            },
        }
        if i % 10 == 0:
            res["codeFlows"] = [
                {"threadFlows": [{"locations": [{"location": _location(rng, files)}]}]}
            ]
        if i % 20 == 0:
            res["suppressions"] = [{"kind": "inSource", "justification": "reviewed"}]
        results.append(res)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "CodeQL",
                        "organization": "GitHub",
                        "semanticVersion": "2.20.7",
                        "informationUri": "https://codeql.github.com",
                        "rules": rules,
                    },
                    "extensions": [{"name": "codeql/javascript-queries", "rules": []}],
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "endTimeUtc": now,
                        "toolExecutionNotifications": [],
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///home/runner/work/app/"}},
                "automationDetails": {"id": "/language:javascript/"},
                "results": results,
                "columnKind": "utf16CodeUnits",
                "properties": {"semmle.formatSpecifier": "sarif-latest"},
            }
        ],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    n, out = int(argv[1]), Path(argv[2])
    out.write_text(json.dumps(generate(n), indent=2) + "\n", encoding="utf-8")
    size = out.stat().st_size
    print(f"{out}: {n} SARIF results, {size / 1e6:.1f} MB ({size / max(n, 1):.0f} B each)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
