"""Readers of the GitHub REST responses about branch protection: raw model → `Reading`.

What each response means for each setting lives here; telling the endpoint of a saved
file from its shape lives in `gate.branch_protection.ingest`.
- classic protection: a present field is that value; `required_pull_request_reviews` or
  `required_status_checks` absent means "not required"; any other field absent is unknown;
- rules (`rules/branches`, a ruleset detail's `rules`): a setting no rule carries is off;
- the branch: `protected: false` means no classic protection and no rules; its
  `protection.required_status_checks` are contexts classic protection requires at least.

Length (over ~400 lines): one idea, each of the four GitHub endpoints' answers read into
`Statement`s; one function per endpoint, with their shared validation.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import unquote

from pydantic import ValidationError

from gate.branch_protection._raw import (
    _Branch,
    _Classic,
    _Message,
    _PullRequest,
    _Raw,
    _RefName,
    _Rule,
    _Ruleset,
    _StatusCheckRule,
    _StatusChecks,
)
from gate.branch_protection.effective import (
    Endpoint,
    Reading,
    Ruleset,
    Setting,
    Source,
    Statement,
    off,
)
from gate.common.strict_json import Shape, check_shape, shape_of
from gate.errors import InputError
from gate.ingest.common import validation_error

API_VERSION = "2022-11-28"

_REPO_URL = re.compile(r"/repos/([^/]+/[^/]+)/(?:branches/([^/?#]+)|rulesets/)")
CLASSIC_KEYS = frozenset(
    {
        "required_status_checks",
        "required_pull_request_reviews",
        "enforce_admins",
        "required_linear_history",
        "allow_force_pushes",
        "allow_deletions",
        "required_conversation_resolution",
        "required_signatures",
        "restrictions",
    }
)
_ENABLED = (
    (Setting.ENFORCE_ADMINS, "enforce_admins"),
    (Setting.REQUIRE_LINEAR_HISTORY, "required_linear_history"),
    (Setting.ALLOW_FORCE_PUSHES, "allow_force_pushes"),
    (Setting.ALLOW_DELETIONS, "allow_deletions"),
    (Setting.REQUIRE_CONVERSATION_RESOLUTION, "required_conversation_resolution"),
    (Setting.REQUIRE_SIGNED_COMMITS, "required_signatures"),
)
_REVIEWS = (
    (Setting.REQUIRED_APPROVING_REVIEWS, "required_approving_review_count"),
    (Setting.DISMISS_STALE_REVIEWS, "dismiss_stale_reviews"),
    (Setting.REQUIRE_CODE_OWNER_REVIEWS, "require_code_owner_reviews"),
    (Setting.REQUIRE_LAST_PUSH_APPROVAL, "require_last_push_approval"),
)
_PR_PARAMS = (
    (Setting.REQUIRED_APPROVING_REVIEWS, "required_approving_review_count"),
    (Setting.DISMISS_STALE_REVIEWS, "dismiss_stale_reviews_on_push"),
    (Setting.REQUIRE_CODE_OWNER_REVIEWS, "require_code_owner_review"),
    (Setting.REQUIRE_LAST_PUSH_APPROVAL, "require_last_push_approval"),
    (Setting.REQUIRE_CONVERSATION_RESOLUTION, "required_review_thread_resolution"),
)
_FLAG_RULES = {
    "non_fast_forward": (Setting.ALLOW_FORCE_PUSHES, False),
    "deletion": (Setting.ALLOW_DELETIONS, False),
    "required_linear_history": (Setting.REQUIRE_LINEAR_HISTORY, True),
    "required_signatures": (Setting.REQUIRE_SIGNED_COMMITS, True),
}
_RULE_OF = {
    **{s: "pull_request" for s, _ in _PR_PARAMS},
    Setting.REQUIRED_STATUS_CHECKS: "required_status_checks",
    Setting.REQUIRED_STATUS_CHECKS_STRICT: "required_status_checks",
    **{s: t for t, (s, _) in _FLAG_RULES.items()},
}
_JUDGED = {"pull_request", "required_status_checks", *_FLAG_RULES}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)


_M = TypeVar("_M", bound=_Raw)


@cache
def response_shape() -> Shape | None:
    """The keys gate reads from any of the GitHub responses, for the case-variant check."""
    return shape_of(_Classic | _Ruleset | _Branch | _Message | _StatusChecks | list[_Rule] | _Rule)


def validate(model: type[_M], data: Any, path: str, root: str = "") -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise validation_error(path, e, root) from e


def _repo_branch(url: str | None) -> tuple[str | None, str | None]:
    m = _REPO_URL.search(url or "")
    if not m:
        return None, None
    return m.group(1), unquote(m.group(2)) if m.group(2) else None


def _all(source: Source, value: Literal["off"] | None, field: str) -> list[Statement]:
    """One statement per setting: all off, or all unknown."""
    return [
        Statement(setting=s, source=source, value=off(s) if value == "off" else None, field=field)
        for s in Setting
    ]


class _Put(Protocol):
    def __call__(
        self, setting: Setting, value: Any, pointer: str, text: str | None = None
    ) -> None: ...


def _classic_recorder(st: list[Statement], field_prefix: str = "") -> _Put:
    """`put(setting, value, pointer, text)`: record what classic protection says."""

    def put(setting: Setting, value: Any, pointer: str, text: str | None = None) -> None:
        shown = text or (f"= {_show(value)}" if value is not None else "absent from the response")
        st.append(
            Statement(
                setting=setting,
                source=Source.CLASSIC,
                value=value,
                field=f"classic: {field_prefix}{pointer} {shown}",
                pointer=pointer,
            )
        )

    return put


def read_classic(data: Any, path: str, status: int) -> Reading:
    url = data.get("url") if isinstance(data, dict) else None
    if isinstance(data, dict) and not (
        (isinstance(url, str) and url.endswith("/protection")) or data.keys() & CLASSIC_KEYS
    ):
        # `{}` or an error body served as 200 (a proxy): read as "protected, settings
        # unknown" it could pass a policy whose unknown settings only warn
        keys = ", ".join(sorted(data)[:6]) or "no keys"
        raise InputError(path, f"not a branch protection response ({keys})")
    m = validate(_Classic, data, path)
    repo, branch = _repo_branch(m.url)
    st: list[Statement] = []
    put = _classic_recorder(st)
    reviews = m.required_pull_request_reviews
    for setting, key in _REVIEWS:
        if reviews is None:
            put(setting, off(setting), "required_pull_request_reviews", "absent (not required)")
        else:
            put(setting, getattr(reviews, key), f"required_pull_request_reviews.{key}")
    checks = m.required_status_checks
    if checks is None:
        for setting in (Setting.REQUIRED_STATUS_CHECKS, Setting.REQUIRED_STATUS_CHECKS_STRICT):
            put(setting, off(setting), "required_status_checks", "absent (not required)")
    else:
        _checks(checks, put)
    for setting, key in _ENABLED:
        obj = getattr(m, key)
        put(setting, obj.enabled if obj is not None else None, f"{key}.enabled")
    return Reading(
        endpoint="classic",
        http_status=status,
        repo=repo,
        branch=branch,
        state="protected",
        statements=st,
    )


def _checks(checks: _StatusChecks, put: _Put, prefix: str = "required_status_checks.") -> None:
    if checks.enforcement_level == "off":
        put(Setting.REQUIRED_STATUS_CHECKS, [], f"{prefix}enforcement_level", "= off")
    elif checks.contexts is None and checks.checks is None:
        put(Setting.REQUIRED_STATUS_CHECKS, None, f"{prefix}contexts")
    else:
        names = sorted({*(checks.contexts or []), *(c.context for c in checks.checks or [])})
        put(Setting.REQUIRED_STATUS_CHECKS, names, f"{prefix}contexts")
    put(Setting.REQUIRED_STATUS_CHECKS_STRICT, checks.strict, f"{prefix}strict")


def read_status_checks(data: Any, path: str, status: int) -> Reading:
    m = validate(_StatusChecks, data, path)
    repo, branch = _repo_branch(m.url)
    st: list[Statement] = []
    put = _classic_recorder(st, field_prefix="required_status_checks.")
    _checks(m, put, prefix="")
    judged = {s.setting for s in st}
    st += [
        Statement(
            setting=s,
            source=Source.CLASSIC,
            value=None,
            field="classic: only the required_status_checks sub-resource was saved",
        )
        for s in Setting
        if s not in judged
    ]
    return Reading(
        endpoint="classic",
        http_status=status,
        repo=repo,
        branch=branch,
        state="partial",
        statements=st,
    )


def _rule_statements(rules: list[_Rule], path: str, root: str, where: str) -> list[Statement]:
    """Statements for every judged setting from a list of rules (`where`: `rules`, …)."""
    found: dict[Setting, list[tuple[Any, str, str]]] = {s: [] for s in _RULE_OF}
    for i, rule in enumerate(rules):
        ptr = f"{root}[{i}]"
        rid = f" (ruleset {rule.ruleset_id})" if rule.ruleset_id is not None else ""
        params = rule.parameters or {}
        if rule.type == "pull_request":
            pr = validate(_PullRequest, params, path, f"{ptr}.parameters")
            for setting, key in _PR_PARAMS:
                value = getattr(pr, key)
                shown = f"= {_show(value)}" if value is not None else "absent"
                found[setting].append(
                    (value, f"{where}: pull_request.parameters.{key} {shown}{rid}", ptr)
                )
        elif rule.type == "required_status_checks":
            sc = validate(_StatusCheckRule, params, path, f"{ptr}.parameters")
            names = None
            if sc.required_status_checks is not None:
                names = sorted({c.context for c in sc.required_status_checks})
            key = "required_status_checks[].context"
            found[Setting.REQUIRED_STATUS_CHECKS].append(
                (names, f"{where}: required_status_checks.parameters.{key}{rid}", ptr)
            )
            strict = sc.strict_required_status_checks_policy
            key = "strict_required_status_checks_policy"
            found[Setting.REQUIRED_STATUS_CHECKS_STRICT].append(
                (strict, f"{where}: required_status_checks.parameters.{key} = {strict}{rid}", ptr)
            )
        elif rule.type in _FLAG_RULES:
            setting, value = _FLAG_RULES[rule.type]
            found[setting].append((value, f"{where}: {rule.type}{rid}", ptr))
    out: list[Statement] = []
    for setting, hits in found.items():
        if not hits:
            out.append(
                Statement(
                    setting=setting,
                    source=Source.RULESETS,
                    value=off(setting),
                    field=f"{where}: no {_RULE_OF[setting]} rule applies",
                )
            )
            continue
        exact = all(v is not None for v, _, _ in hits)
        out += [
            Statement(
                setting=setting,
                source=Source.RULESETS,
                value=v,
                exact=exact,
                field=text,
                pointer=ptr,
            )
            for v, text, ptr in hits
        ]
    return out


def read_rules(data: list[Any], path: str, status: int) -> Reading:
    rules = [validate(_Rule, item, path, f"[{i}]") for i, item in enumerate(data)]
    repos = [r.ruleset_source for r in rules if r.ruleset_source_type == "Repository"]
    return Reading(
        endpoint="rules",
        http_status=status,
        repo=repos[0] if repos else None,
        state="protected" if rules else "unprotected",
        ruleset_ids=list(dict.fromkeys(r.ruleset_id for r in rules)),
        statements=_rule_statements(rules, path, "", "rules"),
        other_rules=sorted({r.type for r in rules} - _JUDGED),
    )


def read_ruleset(data: Any, path: str, status: int) -> Reading:
    m = validate(_Ruleset, data, path)
    conditions = m.conditions or {}
    ref = validate(_RefName, conditions.get("ref_name") or {}, path, "conditions.ref_name")
    self_link = m.links.self_ if m.links else None
    href = self_link.get("href") if isinstance(self_link, dict) else self_link
    repo = m.source if m.source_type == "Repository" else _repo_branch(href)[0]
    bypass = None
    if m.bypass_actors is not None:
        bypass = [
            f"{b.actor_type or '?'} {b.actor_id if b.actor_id is not None else '?'} "
            f"({b.bypass_mode or '?'})"
            for b in m.bypass_actors
        ]
    where = f"ruleset {m.id}"
    ruleset = Ruleset(
        id=m.id,
        name=m.name,
        target=m.target,
        enforcement=m.enforcement,
        include=ref.include,
        exclude=ref.exclude,
        other_conditions=sorted(k for k in conditions if k != "ref_name"),
        bypass_actors=bypass,
        statements=_rule_statements(m.rules, path, "rules", where),
    )
    return Reading(
        endpoint="ruleset",
        http_status=status,
        repo=repo,
        ruleset_ids=[m.id],
        ruleset=ruleset,
        other_rules=sorted({r.type for r in m.rules} - _JUDGED),
    )


def read_branch(data: Any, path: str, status: int) -> Reading:
    m = validate(_Branch, data, path)
    self_link = m.links.self_ if m.links else None
    href = self_link.get("href") if isinstance(self_link, dict) else self_link
    repo = _repo_branch(href)[0] or _repo_branch(m.protection_url)[0]
    st: list[Statement] = []
    if not m.protected:
        st = _all(Source.CLASSIC, "off", "branch: protected = false (no classic protection)")
        st += _all(Source.RULESETS, "off", "branch: protected = false (no rules apply)")
    else:
        checks = m.protection.required_status_checks if m.protection else None
        if checks is not None and checks.enforcement_level != "off":
            names = sorted({*(checks.contexts or []), *(c.context for c in checks.checks or [])})
            if names:
                st.append(
                    Statement(
                        setting=Setting.REQUIRED_STATUS_CHECKS,
                        source=Source.CLASSIC,
                        value=names,
                        exact=False,
                        field="branch: protection.required_status_checks.contexts "
                        f"= {_show(names)}",
                        pointer="protection.required_status_checks.contexts",
                    )
                )
    return Reading(
        endpoint="branch",
        http_status=status,
        repo=repo,
        branch=m.name,
        branch_protected=m.protected,
        statements=st,
    )


_FORBIDDEN_HINT = {
    "classic": "the token cannot read classic branch protection: it needs Administration: read "
    "(fine-grained token or GitHub App) or the `repo` scope (classic PAT); a workflow's "
    "GITHUB_TOKEN cannot read it",
    "rules": "the rules for this branch cannot be read (they need Metadata: read; private "
    "repositories on GitHub Free have no rulesets)",
    "branch": "the branch cannot be read (it needs Contents: read)",
}


def forbidden(endpoint: Endpoint, message: str, status: int = 403) -> Reading:
    """A 403 (or similar) answer: that endpoint's settings are UNKNOWN, never off."""
    field = f"{endpoint}: {status} {message}: {_FORBIDDEN_HINT.get(endpoint, 'unreadable')}"
    if endpoint == "classic":
        st = _all(Source.CLASSIC, None, field)
    elif endpoint == "rules":
        st = _all(Source.RULESETS, None, field)
    else:
        st = []
    return Reading(
        endpoint=endpoint,
        http_status=status,
        state="unreadable" if endpoint in ("classic", "rules") else None,
        statements=st,
        message=message,
    )


def not_protected(status: int = 404, message: str = "Branch not protected") -> Reading:
    """The classic 404 "Branch not protected": no classic protection (known)."""
    return Reading(
        endpoint="classic",
        http_status=status,
        state="unprotected",
        statements=_all(Source.CLASSIC, "off", f"classic: {status} {message}"),
        message=message,
    )


def read_response(endpoint: Endpoint, status: int, data: Any, path: str) -> Reading:
    """A fetched response whose endpoint is known (the REST client's path)."""
    check_shape(data, response_shape(), path)
    if endpoint == "classic":
        reading = read_classic(data, path, status)
    elif endpoint == "rules":
        if not isinstance(data, list):
            raise InputError(path, "expected a JSON array of rules")
        reading = read_rules(data, path, status)
    elif endpoint == "branch":
        reading = read_branch(data, path, status)
    else:
        reading = read_ruleset(data, path, status)
    return reading
