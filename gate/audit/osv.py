"""Severities for pip-audit's findings, from the OSV service pip-audit asked.

pip-audit's JSON carries no severity (pypa/pip-audit#654). For each finding, gate reads its
OSV record (`GET {base}/v1/vulns/{id}`, once per id and run) and rates it by, in order:

1. a CVSS v3 vector in `severity[]` (base score computed with the `cvss` library, then
   GitHub's bands: ≥ 9.0 CRITICAL, ≥ 7.0 HIGH, ≥ 4.0 MEDIUM, > 0 LOW);
2. a CVSS v4 vector in `severity[]`;
3. `database_specific.severity` (GitHub's words: CRITICAL, HIGH, MODERATE, LOW).

A record with none of these (PYSEC records often have none) is followed to its aliases
(GHSA first), at most `MAX_ALIASES` more records. Where each severity came from is the
finding's `severity_origin` (`osv:GHSA-…:CVSS_V3`). A finding nothing rates stays UNKNOWN,
for the policy's `unknown_severity`. A service that is down, slow, answers 5xx or
something that is not an OSV record is an ERROR: a severity gate could not read is not
a severity gate may skip.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import cache
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from gate.common.redact import redact, secret_values, url_secrets
from gate.common.strict_json import Shape, load_strict, shape_of
from gate.errors import InputError, ScannerError
from gate.models import Finding, Severity

DEFAULT_QUERY_URL = "https://api.osv.dev/v1/query"
MAX_ALIASES = 4
MAX_RECORD_BYTES = 8 * 1024 * 1024
_ALIAS_ORDER = ("GHSA-", "CVE-", "PYSEC-")


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Severity(_Raw):
    type: str
    score: str


class OsvRecord(_Raw):
    id: str
    aliases: list[str] = []
    severity: list[_Severity] = []
    database_specific: dict[str, Any] | None = None


@cache
def _shape() -> Shape | None:
    return shape_of(OsvRecord)


def query_url(osv_url: str) -> str:
    """pip-audit's `--osv-url` is the query endpoint; a bare base URL gets `/v1/query`."""
    url = osv_url.rstrip("/")
    return url if url.endswith("/v1/query") else f"{url}/v1/query"


def rate(record: OsvRecord) -> tuple[Severity, str] | None:
    """The record's own severity and where it came from (`CVSS_V3`, …), or None."""
    from cvss import CVSS3, CVSS4, CVSSError

    for kind, calc in (("CVSS_V3", CVSS3), ("CVSS_V4", CVSS4)):
        for sev in record.severity:
            if sev.type != kind:
                continue
            try:
                score = float(calc(sev.score.strip()).base_score)
            except (CVSSError, ValueError, KeyError, IndexError):
                continue  # a malformed vector rates nothing; the next source may
            rated = Severity.from_score(score)
            if rated is not Severity.UNKNOWN:
                return rated, kind
    word = (record.database_specific or {}).get("severity")
    rated = Severity.parse(word)
    if rated is not Severity.UNKNOWN:
        return rated, "database_specific"
    return None


class OsvRecords:
    """Reads OSV records from one service, each id once per run, within a deadline."""

    def __init__(self, osv_url: str, *, deadline: float) -> None:
        self.base = query_url(osv_url).removesuffix("/v1/query")
        self._secrets = secret_values(url_secrets(self.base))
        self.shown = redact(self.base, self._secrets)
        """The service's URL as messages show it: without credentials."""
        self.deadline = deadline
        """`time.monotonic()` by which every read must be over."""
        self._cache: dict[str, OsvRecord | None] = {}
        self._client: Any = None
        self.fetched = 0

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            from gate.common.http_deadline import Deadline, bound_by

            self._client = httpx.Client(follow_redirects=False, trust_env=True)
            clock = Deadline()
            clock.at = self.deadline
            bound_by(self._client, clock)  # a trickling server ends at the deadline too
        return self._client

    def get(self, vuln_id: str) -> OsvRecord | None:
        """The record of `vuln_id`, or None when the service has none (404)."""
        if vuln_id in self._cache:
            return self._cache[vuln_id]
        import httpx

        url = f"{self.base}/v1/vulns/{quote(vuln_id, safe='')}"
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ScannerError(f"OSV service {self.shown}: no time left to read {vuln_id}")
        try:
            response = self._http().get(url, timeout=httpx.Timeout(left))
            body = response.read()
        except httpx.TimeoutException as e:
            raise ScannerError(
                f"OSV service {self.shown}: reading {vuln_id} timed out (gate's deadline)"
            ) from e
        except httpx.HTTPError as e:
            why = redact(str(e), self._secrets)
            raise ScannerError(f"OSV service {self.shown}: cannot read {vuln_id}: {why}") from e
        self.fetched += 1
        if response.status_code == 404:
            self._cache[vuln_id] = None
            return None
        if response.status_code != 200:
            raise ScannerError(f"OSV service {self.shown}: {vuln_id}: HTTP {response.status_code}")
        if len(body) > MAX_RECORD_BYTES:
            raise ScannerError(f"OSV service {self.shown}: {vuln_id}: record larger than 8 MiB")
        where = f"OSV record {self.shown}/v1/vulns/{quote(vuln_id, safe='')}"
        try:
            record = OsvRecord.model_validate(load_strict(body, where, _shape()))
        except InputError as e:
            raise ScannerError(e.diagnostics()) from e
        except ValidationError as e:
            first = e.errors()[0]
            pointer = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise ScannerError(f"{where}: {pointer}: {first['msg']}") from e
        if record.id.upper() != vuln_id.upper() and vuln_id.upper() not in (
            a.upper() for a in record.aliases
        ):
            raise ScannerError(
                f"{where}: answers {record.id!r}, not {vuln_id!r} (nor an alias of it)"
            )
        self._cache[vuln_id] = record
        return record

    def severity_of(self, vuln_id: str, aliases: Iterable[str]) -> tuple[Severity, str] | None:
        """The first rating found: the id's own record, then its aliases' (GHSA first)."""
        record = self.get(vuln_id)
        if record is not None and (rated := rate(record)):
            return rated[0], f"osv:{record.id}:{rated[1]}"
        known = {vuln_id.upper()}
        others = [*aliases, *(record.aliases if record else ())]
        ranked = sorted(
            dict.fromkeys(a for a in others if a.upper() not in known),
            key=lambda a: next(
                (i for i, p in enumerate(_ALIAS_ORDER) if a.upper().startswith(p)),
                len(_ALIAS_ORDER),
            ),
        )
        for alias in ranked[:MAX_ALIASES]:
            other = self.get(alias)
            if other is not None and (rated := rate(other)):
                return rated[0], f"osv:{other.id}:{rated[1]}"
        return None


def rate_findings(findings: Iterable[Finding], records: OsvRecords) -> list[Finding]:
    """`findings`, each UNKNOWN one rated from OSV where a record rates it."""
    out: list[Finding] = []
    for f in findings:
        if f.severity is Severity.UNKNOWN:
            rated = records.severity_of(f.id, f.aliases)
            if rated is not None:
                f = f.model_copy(update={"severity": rated[0], "severity_origin": rated[1]})
        out.append(f)
    return out
