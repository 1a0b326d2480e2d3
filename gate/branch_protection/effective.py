"""Effective branch protection: classic protection and rulesets merged into one picture.

Pure: no I/O. `gate.branch_protection.ingest` turns each saved or fetched API response
into a `Reading` (what one endpoint said, as `Statement`s about settings); here
`effective_protection(readings, branch)` merges them, setting by setting, into the
strictest value any source enforces.

Two sources protect a branch: classic protection (`/branches/{b}/protection`) and
rulesets (`/rules/branches/{b}`, `/rulesets/{id}`). Either can only add protection, so a
setting's value is the strictest one they state. Each source is, per setting:
- **known**: a reading stated it (a 404 "Branch not protected" states "all off");
- **unknown**: it was asked and could not be read (403), or the answer omits the field,
  or the branch endpoint says the branch is protected by a source nobody read;
- **not read**: no input is about it at all. It is then taken as off, and a note says so:
  that can only make the verdict stricter, never a false PASS.

An effective setting is `known` only when both sources are. UNKNOWN is never "on": an
unknown setting that the known sources do not already satisfy is reported as unknown.

Length (over ~400 lines): one idea, the merge of classic protection and rulesets setting by
setting; most of its length is the per-setting table and its docstrings.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gate.facts import ProtectionSummary

Value = int | bool | list[str]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(enum.StrEnum):
    CLASSIC = "classic"
    RULESETS = "rulesets"


_LABEL = {Source.CLASSIC: "classic branch protection was", Source.RULESETS: "rulesets were"}


class Setting(enum.StrEnum):
    """The settings gate judges, named as in the policy (`require_status_checks` splits in two)."""

    REQUIRED_APPROVING_REVIEWS = "required_approving_reviews"
    DISMISS_STALE_REVIEWS = "dismiss_stale_reviews"
    REQUIRE_CODE_OWNER_REVIEWS = "require_code_owner_reviews"
    REQUIRE_LAST_PUSH_APPROVAL = "require_last_push_approval"
    REQUIRED_STATUS_CHECKS = "required_status_checks"
    REQUIRED_STATUS_CHECKS_STRICT = "required_status_checks_strict"
    REQUIRE_CONVERSATION_RESOLUTION = "require_conversation_resolution"
    REQUIRE_LINEAR_HISTORY = "require_linear_history"
    REQUIRE_SIGNED_COMMITS = "require_signed_commits"
    ALLOW_FORCE_PUSHES = "allow_force_pushes"
    ALLOW_DELETIONS = "allow_deletions"
    ENFORCE_ADMINS = "enforce_admins"


_COUNT = frozenset({Setting.REQUIRED_APPROVING_REVIEWS})
_ALLOW = frozenset({Setting.ALLOW_FORCE_PUSHES, Setting.ALLOW_DELETIONS})
_CONTEXTS = frozenset({Setting.REQUIRED_STATUS_CHECKS})


def off(setting: Setting) -> Value:
    """The value of a branch nothing protects: 0 reviews, no checks, force pushes allowed."""
    if setting in _COUNT:
        return 0
    if setting in _CONTEXTS:
        return []
    return setting in _ALLOW


def strictest(setting: Setting, values: Iterable[Value]) -> Value:
    """The strictest of several values of one setting (the union, for status checks)."""
    vals = list(values)
    if not vals:
        return off(setting)
    if setting in _CONTEXTS:
        return sorted({c for v in vals if isinstance(v, list) for c in v})
    if setting in _COUNT:
        return max(int(v) for v in vals if not isinstance(v, list))
    if setting in _ALLOW:
        return all(v is True for v in vals)
    return any(v is True for v in vals)


def satisfies(setting: Setting, value: Value, wanted: Value) -> bool:
    """Whether `value` meets a policy requirement (`[]` for status checks: at least one)."""
    if setting in _CONTEXTS:
        have = set(value) if isinstance(value, list) else set()
        want = set(wanted) if isinstance(wanted, list) else set()
        return bool(have) and want <= have
    if setting in _COUNT:
        return isinstance(value, int) and isinstance(wanted, int) and value >= wanted
    return value is wanted


class Statement(_Frozen):
    """What one response says about one setting of one source."""

    setting: Setting
    source: Source
    value: Value | None
    """None: this source's value is unknown (`field` says why)."""
    exact: bool = True
    """False: a lower bound (the branch endpoint's contexts); the source may enforce more."""
    field: str
    """Which endpoint and API field said so, e.g. `classic: allow_force_pushes.enabled`."""
    pointer: str | None = None
    """JSON path of the field inside the input."""


class Ruleset(_Frozen):
    """A ruleset detail (`GET /repos/{o}/{r}/rulesets/{id}`), applied at merge time."""

    id: int
    name: str | None = None
    target: str | None = None
    enforcement: str
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    other_conditions: list[str] = Field(default_factory=list)
    """Condition keys gate cannot evaluate offline (`repository_name`, …)."""
    bypass_actors: list[str] | None = None
    """`Team 234 (always)`, …; None when the response does not show them."""
    statements: list[Statement] = Field(default_factory=list)


Endpoint = Literal["classic", "rules", "branch", "ruleset"]
SourceState = Literal["protected", "unprotected", "unreadable", "partial"]


class Reading(_Frozen):
    """One API response, normalized: the `Facts.reading` of a branch-protection input."""

    endpoint: Endpoint
    http_status: int
    repo: str | None = None
    branch: str | None = None
    state: SourceState | None = None
    """For classic and rules readings: what the response says about that source."""
    branch_protected: bool | None = None
    """The branch endpoint's `protected` flag."""
    ruleset_ids: list[int | None] = Field(default_factory=list)
    """Rulesets whose rules apply (rules/branches)."""
    ruleset: Ruleset | None = None
    statements: list[Statement] = Field(default_factory=list)
    other_rules: list[str] = Field(default_factory=list)
    """Rule types gate does not judge (`creation`, `commit_message_pattern`, …)."""
    message: str | None = None
    """The API's message for a 403/404 body."""


class EffectiveSetting(_Frozen):
    setting: Setting
    value: Value
    """The strictest value a source states; a lower bound when not `known`."""
    known: bool
    fields: list[str]
    """What each source said, e.g. `rules: non_fast_forward (ruleset 42)`."""
    unknown: list[str] = Field(default_factory=list)
    """Why the value is not known."""


class EffectiveProtection(_Frozen):
    repo: str | None
    branch: str | None
    sources: dict[str, str]
    """`classic` / `rulesets` → `protected`, `unprotected`, `unreadable`, `partial`, `not read`."""
    settings: dict[Setting, EffectiveSetting]
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> ProtectionSummary:
        """A compact form for the verdict: setting → value (None when unknown)."""
        return ProtectionSummary(
            repo=self.repo,
            branch=self.branch,
            sources=dict(self.sources),
            settings={s.value: (e.value if e.known else None) for s, e in self.settings.items()},
            notes=tuple(self.notes),
        )


def ref_matches(pattern: str, branch: str) -> bool:
    """A ruleset `ref_name` pattern against a branch, as GitHub's fnmatch: `*` stops at `/`."""
    if pattern == "~ALL":
        return True
    if not pattern.startswith("refs/"):
        pattern = f"refs/heads/{pattern}"
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, f"refs/heads/{branch}") is not None


def ruleset_applies(rs: Ruleset, branch: str | None) -> tuple[bool, list[str]]:
    """Whether a ruleset detail applies to `branch`, and notes on what was assumed."""
    notes: list[str] = []
    label = f"ruleset {rs.id}" + (f" ({rs.name})" if rs.name else "")
    if rs.enforcement != "active":
        return False, [f"{label} is not enforced (enforcement `{rs.enforcement}`): not applied"]
    if rs.target not in (None, "branch"):
        return False, [f"{label} targets `{rs.target}`, not branches: not applied"]
    if rs.other_conditions:
        notes.append(
            f"{label}: conditions {', '.join(rs.other_conditions)} cannot be checked offline; "
            "assumed to include this repository"
        )

    def hit(patterns: list[str]) -> bool | None:
        for p in patterns:
            if p == "~DEFAULT_BRANCH":
                notes.append(f"{label}: `~DEFAULT_BRANCH` assumed to be the judged branch")
                return True
            if p == "~ALL":
                return True
            if branch is None:
                return None
            if ref_matches(p, branch):
                return True
        return False

    included = hit(rs.include)
    if included is None:
        return False, [*notes, f"{label}: no branch to match its conditions against: not applied"]
    if not included:
        return False, [*notes, f"{label}: its conditions do not include `{branch}`: not applied"]
    excluded = hit(rs.exclude)
    if excluded is None:
        return False, [*notes, f"{label}: no branch to match its exclusions against: not applied"]
    if excluded:
        return False, [*notes, f"{label}: its conditions exclude `{branch}`: not applied"]
    return True, notes


class _Side:
    """One source's statements about one setting."""

    def __init__(self) -> None:
        self.values: list[tuple[Value, str]] = []
        self.exact = False
        self.unknown: list[str] = []


def _source_states(readings: Sequence[Reading], applied: Sequence[Ruleset]) -> dict[Source, str]:
    states: dict[Source, str] = {}

    def note(source: Source, state: str) -> None:
        order = ["not read", "unreadable", "unprotected", "partial", "protected"]
        old = states.get(source, "not read")
        states[source] = state if order.index(state) > order.index(old) else old

    for r in readings:
        if r.endpoint == "classic" and r.state:
            note(Source.CLASSIC, r.state)
        elif r.endpoint == "rules" and r.state:
            note(Source.RULESETS, r.state)
        elif r.endpoint == "branch" and r.branch_protected is False:
            note(Source.CLASSIC, "unprotected")
            note(Source.RULESETS, "unprotected")
    if applied:
        note(Source.RULESETS, "protected")
    return {s: states.get(s, "not read") for s in Source}


def _enforce_admins_from_rulesets(
    readings: Sequence[Reading], applied: Sequence[Ruleset]
) -> Statement | None:
    """Rulesets bind admins when no applying ruleset has bypass actors (details show them)."""
    rules_read = [r for r in readings if r.endpoint == "rules" and r.state != "unreadable"]
    ids: set[int | None] = {i for r in rules_read for i in r.ruleset_ids}
    ids |= {rs.id for rs in applied}
    bypass: dict[int, list[str] | None] = {}
    for r in readings:
        if r.endpoint == "ruleset" and r.ruleset is not None:
            known = bypass.get(r.ruleset.id)
            if r.ruleset.bypass_actors is not None or known is None:
                bypass[r.ruleset.id] = r.ruleset.bypass_actors
    if not ids:
        if rules_read:
            return Statement(
                setting=Setting.ENFORCE_ADMINS,
                source=Source.RULESETS,
                value=False,
                field="rules: no ruleset applies",
            )
        return None
    holes = [
        f"ruleset {i} bypass_actors: {', '.join(actors)}"
        for i in sorted(x for x in ids if x is not None)
        if (actors := bypass.get(i))
    ]
    if holes:
        return Statement(
            setting=Setting.ENFORCE_ADMINS,
            source=Source.RULESETS,
            value=False,
            field="; ".join(holes),
        )
    unknown = sorted(str(i) for i in ids if i is None or bypass.get(i) is None)
    if unknown:
        return Statement(
            setting=Setting.ENFORCE_ADMINS,
            source=Source.RULESETS,
            value=None,
            field=f"rules: the bypass actors of ruleset {', '.join(unknown)} are not known "
            "(rules/branches does not show them; save /rulesets/{id})",
        )
    listed = ", ".join(str(i) for i in sorted(x for x in ids if x is not None))
    return Statement(
        setting=Setting.ENFORCE_ADMINS,
        source=Source.RULESETS,
        value=True,
        field=f"rules: ruleset {listed} has no bypass actors",
    )


def effective_protection(
    readings: Sequence[Reading], branch: str | None = None
) -> EffectiveProtection:
    """Merge every reading about one branch into its effective protection."""
    branches = [r.branch for r in readings if r.branch]
    repos = [r.repo for r in readings if r.repo]
    branch = branch or (branches[0] if branches else None)
    notes: list[str] = []
    applied: list[Ruleset] = []
    for r in readings:
        if r.endpoint == "ruleset" and r.ruleset is not None:
            ok, why = ruleset_applies(r.ruleset, branch)
            notes += why
            if ok:
                applied.append(r.ruleset)
    states = _source_states(readings, applied)

    statements = [s for r in readings for s in r.statements]
    statements += [s for rs in applied for s in rs.statements]
    admins = _enforce_admins_from_rulesets(readings, applied)
    if admins is not None:
        statements.append(admins)

    # `protected: true` from the branch endpoint, with one source known off or unread,
    # means an unread source protects the branch: that source is unknown, not off.
    protected_hint = any(r.endpoint == "branch" and r.branch_protected for r in readings)
    hidden: dict[Source, bool] = {}
    for s in Source:
        other = Source.RULESETS if s is Source.CLASSIC else Source.CLASSIC
        hidden[s] = (
            states[s] == "not read"
            and protected_hint
            and states[other] in ("unprotected", "not read")
        )
        if states[s] == "not read" and not hidden[s]:
            save = "/branches/{branch}/protection"
            if s is Source.RULESETS:
                save = "/rules/branches/{branch}"
            notes.append(f"{_LABEL[s]} not read: taken as off (save {save} or use --github-repo)")

    settings: dict[Setting, EffectiveSetting] = {}
    for setting in Setting:
        sides = {s: _Side() for s in Source}
        for st in statements:
            if st.setting is not setting:
                continue
            side = sides[st.source]
            if st.value is None:
                side.unknown.append(st.field)
            else:
                side.values.append((st.value, st.field))
                side.exact = side.exact or st.exact
        values: list[Value] = []
        fields: list[str] = []
        unknown: list[str] = []
        for source, side in sides.items():
            values += [v for v, _ in side.values]
            fields += [f for _, f in side.values]
            if side.exact:
                continue
            if side.unknown:
                unknown += side.unknown
            elif side.values:
                unknown.append(f"{source.value}: only a lower bound is known")
            elif hidden[source]:
                unknown.append(
                    f"branch: `protected: true`, but {source.value} protection was not read"
                )
            elif states[source] == "not read":
                fields.append(f"{source.value}: not read (taken as off)")
            else:
                unknown.append(f"{source.value}: {states[source]}, this setting not stated")
        value = strictest(setting, values)
        if unknown and setting not in _COUNT | _CONTEXTS and value is (setting not in _ALLOW):
            unknown = []  # already as strict as it gets: an unread source cannot change it
        settings[setting] = EffectiveSetting(
            setting=setting,
            value=value,
            known=not unknown,
            fields=list(dict.fromkeys(fields)),
            unknown=list(dict.fromkeys(unknown)),
        )
    return EffectiveProtection(
        repo=repos[0] if repos else None,
        branch=branch,
        sources={s.value: states[s] for s in Source},
        settings=settings,
        notes=list(dict.fromkeys(notes)),
    )
