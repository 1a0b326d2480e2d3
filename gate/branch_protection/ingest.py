"""GitHub branch protection: saved (or fetched) REST API responses → a `Reading` each.

Four endpoints, told apart by shape when read from a file:
- classic protection `GET /repos/{o}/{r}/branches/{b}/protection`: an object whose `url`
  ends in `/protection`, or with keys like `required_status_checks` / `enforce_admins`;
  its `required_status_checks` sub-resource is accepted as a partial reading;
  the 404 body `{"message": "Branch not protected"}` means no classic protection;
- rules for a branch `GET /repos/{o}/{r}/rules/branches/{b}`: a JSON array of
  `{type, parameters?, ruleset_source_type, ruleset_id}` (`[]`: no rule applies);
- a ruleset detail `GET /repos/{o}/{r}/rulesets/{id}`: `rules` + `conditions` + `enforcement`;
- the branch `GET /repos/{o}/{r}/branches/{b}`: `name` + `commit` + `protected`.

A 403 body (`Resource not accessible by integration`, `Upgrade to GitHub Pro…`) says the
settings behind that endpoint are unknown; its `documentation_url` says which endpoint.
Everything else (a rulesets list, a 401 or "Not Found" body, an unknown shape) is an
`InputError`: it says nothing about the branch, and gate never reads it as "unprotected".
"""

from __future__ import annotations

from typing import Any

from gate.branch_protection._raw import _Message
from gate.branch_protection._read import (
    API_VERSION,
    CLASSIC_KEYS,
    forbidden,
    not_protected,
    read_branch,
    read_classic,
    read_response,
    read_rules,
    read_ruleset,
    read_status_checks,
    response_shape,
    validate,
)
from gate.branch_protection.effective import Endpoint, Reading
from gate.errors import InputError
from gate.facts import Facts
from gate.ingest.common import freshness, load_json, sha256_hex
from gate.ingest.interface import Ingestor
from gate.models import InputKind, SourceRun, ToolInfo


def _endpoint_of(doc_url: str | None) -> Endpoint | None:
    url = (doc_url or "").lower()
    if "protection" in url:
        return "classic"
    if "rules" in url:
        return "rules"
    if "get-a-branch" in url:
        return "branch"
    return None


def _message(data: dict[str, Any], path: str) -> Reading:
    m = validate(_Message, data, path)
    text = m.message.strip()
    low = text.lower()
    status = int(str(m.status)) if str(m.status or "").isdigit() else None
    if low == "branch not protected":
        return not_protected(status or 404, text)
    if "rate limit" in low:
        raise InputError(path, f"a rate-limit error body ({text!r}): save the response again")
    if low in ("bad credentials", "requires authentication") or status == 401:
        raise InputError(
            path,
            f"a 401 body ({text!r}): the token was rejected, so it says nothing about "
            "the branch; save the response with a valid token",
        )
    if low in ("not found", "branch not found") or status == 404:
        raise InputError(
            path,
            f"a 404 body ({text!r}): the repository or branch does not exist, or the "
            "token cannot see it",
        )
    forbidden_words = ("not accessible", "must have admin", "upgrade to github", "forbidden")
    if status == 403 or any(w in low for w in forbidden_words):
        endpoint = _endpoint_of(m.documentation_url)
        if endpoint is None:
            raise InputError(
                path,
                f"a 403 body ({text!r}) whose documentation_url does not say which "
                "endpoint answered; gate cannot tell which settings it hides",
            )
        return forbidden(endpoint, text, status or 403)
    raise InputError(path, f"a GitHub error body ({text!r}), not branch protection")


def detect(data: Any, path: str) -> Reading:
    """Tell the endpoint from the shape of a saved response and read it."""
    if isinstance(data, list):
        if all(isinstance(i, dict) and isinstance(i.get("type"), str) for i in data):
            return read_rules(data, path, 200)
        first = data[0] if isinstance(data[0], dict) else {}
        if {"method", "status", "response"} <= first.keys():
            raise InputError(
                path,
                "a recorded HTTP exchange (a test fixture), not an API response: "
                "save the response body alone",
            )
        if "enforcement" in first and "rules" not in first:
            raise InputError(
                path,
                "a rulesets list has no rules; save /rules/branches/{branch} "
                "(or a ruleset's detail, /rulesets/{id})",
            )
        if {"name", "commit", "protected"} <= first.keys():
            raise InputError(path, "a list of branches: save /branches/{branch} for one branch")
        raise InputError(path, "a JSON array, but not the rules of a branch", pointer="[0]")
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object or array, got {type(data).__name__}")
    url = data["url"] if isinstance(data.get("url"), str) else ""
    if "message" in data and not (data.keys() & (CLASSIC_KEYS | {"rules", "protected"})):
        return _message(data, path)
    if "rules" in data and ("enforcement" in data or "conditions" in data):
        return read_ruleset(data, path, 200)
    if "enforcement" in data and "id" in data:
        raise InputError(
            path,
            "a rulesets list entry has no rules; save /rules/branches/{branch} "
            "(or the ruleset's detail, /rulesets/{id})",
        )
    if {"name", "commit", "protected"} <= data.keys():
        return read_branch(data, path, 200)
    if url.endswith("/protection/required_status_checks") or (
        not url.endswith("/protection")
        and not (data.keys() & CLASSIC_KEYS)
        and data.keys() & {"strict", "contexts", "checks"}
    ):
        return read_status_checks(data, path, 200)
    if url.endswith("/protection") or data.keys() & CLASSIC_KEYS:
        return read_classic(data, path, 200)
    raise InputError(
        path, "not a GitHub branch-protection, rules/branches, ruleset or branch response"
    )


def to_run(
    reading: Reading,
    path: str,
    raw: bytes,
    *,
    repo: str | None = None,
    branch: str | None = None,
    freshness: Any = None,
    freshness_source: str | None = None,
) -> SourceRun:
    """A `SourceRun` whose `facts` hold the reading, for the engine and the verdict."""
    if repo or branch:
        reading = reading.model_copy(
            update={"repo": reading.repo or repo, "branch": reading.branch or branch}
        )
    facts = Facts(
        endpoint=reading.endpoint,
        http_status=reading.http_status,
        repo=reading.repo,
        branch=reading.branch,
        reading=reading,
    )
    warnings = tuple(f"rule types gate does not judge: {t}" for t in reading.other_rules)
    return SourceRun(
        kind=InputKind.BRANCH_PROTECTION,
        path=path,
        sha256=sha256_hex(raw),
        facts=facts,
        freshness=freshness,
        freshness_source=freshness_source if freshness else None,
        tools=(ToolInfo(name="GitHub REST API", version=API_VERSION),),
        warnings=warnings,
    )


class BranchProtectionIngestor(Ingestor):
    """Saved GitHub API responses about one branch (see the module docstring)."""

    kind = InputKind.BRANCH_PROTECTION

    def parse(self, raw: bytes, path: str) -> SourceRun:
        reading = detect(load_json(raw, path, response_shape()), path)
        when, source = freshness(None, path)  # a saved API response carries no time
        return to_run(reading, path, raw, freshness=when, freshness_source=source)


__all__ = [
    "API_VERSION",
    "BranchProtectionIngestor",
    "detect",
    "forbidden",
    "not_protected",
    "read_response",
    "to_run",
]
