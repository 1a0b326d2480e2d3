"""Reading a branch's protection from the GitHub API (with `gate.github.GitHubClient`).

`fetch_branch_protection(repo, branch)` reads the three endpoints (rules for the branch,
the branch, classic protection) and returns one `SourceRun` each. A request that fails
after the retries is a `SourceRun` with status `error` (the verdict is then ERROR),
never a silent "unprotected".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from gate.errors import GateError, GitHubError, UsageError
from gate.facts import Facts
from gate.github import GitHubClient, Response
from gate.models import InputKind, InputStatus, SourceRun

if TYPE_CHECKING:
    from gate.branch_protection.effective import Endpoint, Reading

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _paths(repo: str, branch: str) -> dict[Endpoint, str]:
    owner, name = (quote(p, safe="") for p in repo.split("/"))
    b = quote(branch, safe="")
    return {
        "rules": f"/repos/{owner}/{name}/rules/branches/{b}",
        "branch": f"/repos/{owner}/{name}/branches/{b}",
        "classic": f"/repos/{owner}/{name}/branches/{b}/protection",
    }


def _interpret(
    client: GitHubClient, endpoint: Endpoint, r: Response, repo: str, branch: str
) -> Reading:
    from gate.branch_protection.ingest import forbidden, not_protected, read_response

    if r.status == 200:
        return read_response(endpoint, 200, r.json(), r.url)
    message = client.say(r)
    if r.status == 404 and endpoint == "classic" and message == "Branch not protected":
        return not_protected(404, message)
    if r.status == 403:
        return forbidden(endpoint, message)
    if r.status == 401:
        raise GitHubError(f"GET {r.url}: 401 {message}: {client.auth_hint()}")
    if r.status == 404:
        raise GitHubError(
            f"GET {r.url}: 404 {message}: the repository {repo} or branch {branch!r} does not "
            f"exist, or the token cannot see it ({client.auth_hint()})"
        )
    raise GitHubError(f"GET {r.url}: unexpected answer {r.status} {message}")


def fetch_branch_protection(
    repo: str, branch: str, *, client: GitHubClient | None = None
) -> list[SourceRun]:
    """Read rules, branch and classic protection of `repo`'s `branch`: one `SourceRun` each."""
    from gate.branch_protection.ingest import to_run

    if not _REPO.match(repo):
        raise UsageError(f"--github-repo must be OWNER/REPO, got {repo!r}")
    if not branch.strip():
        raise UsageError("--branch must name a branch")
    own = client is None
    gh = client or GitHubClient.from_env()
    runs: list[SourceRun] = []
    try:
        for endpoint, path in _paths(repo, branch).items():
            url = gh.url(path)
            try:
                r = gh.get_list(path) if endpoint == "rules" else gh.get(path)
                reading = _interpret(gh, endpoint, r, repo, branch)
            except GateError as e:
                runs.append(
                    SourceRun(
                        kind=InputKind.BRANCH_PROTECTION,
                        path=url,
                        status=InputStatus.ERROR,
                        error=gh.redact(e.diagnostics()),
                        facts=Facts(endpoint=endpoint, repo=repo, branch=branch),
                    )
                )
                continue
            runs.append(
                to_run(
                    reading,
                    url,
                    r.body,
                    repo=repo,
                    branch=branch,
                    freshness=dt.datetime.now(dt.UTC),
                    freshness_source="fetched",
                )
            )
    finally:
        if own:
            gh.close()
    return runs
