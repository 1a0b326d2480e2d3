"""A structure-aware injector for gate's human-facing sinks, and the checks of what they show.

- `PAYLOADS`: workflow commands, terminal escapes, Trojan-Source bidi, markdown and HTML.
- `Corpus` / `mutate`: walk a real report (the fixtures under `tests/data/`), pick a string
  field gate prints, and put a payload into it. The same value is replaced everywhere it
  occurs (a SARIF `ruleId` and its rule's `id`, an npm package's key and its `name`), so a
  mutation changes what a field says, never what it refers to. Fields whose value is
  judged (severities, states, version ranges, timestamps, schema markers) are left alone:
  the verdict must not change.
- `workflow_commands`: the lines of a stream that the GitHub runner would execute, as its
  `ActionCommand.TryParseV2` / `TryParse` read them (actions/runner, src/Runner.Common),
  conservatively: characters .NET's culture-aware `StartsWith` / `IndexOf` may ignore are
  dropped first.
- `html_problems`: markdown rendered with GitHub's own renderer (cmark-gfm, with its table,
  autolink, strikethrough and tag-filter extensions), then every tag, link and image checked.
- `raw_controls`: raw control, separator and bidi characters (not gate's `\\x1b` escapes).
"""

from __future__ import annotations

import copy
import json
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parent.parent / "data"
ATTACKER_HOST = "evil.example"

PAYLOADS = (
    "\n::add-mask::FAIL",
    "\r::error file=x::forged",
    "::stop-commands::tok",
    "##[error]x",
    "\x1b]0;owned\x07",
    "\x1b[2J",
    "\x9b31m",
    "\u202e",
    "[x](https://evil.example/a)",
    "![i](https://evil.example/i.png)",
    "<img src=x onerror=alert(1)>",
    "| a | b |",
    "# heading",
    "`a`",
    "&lt;b&gt;",
    "https://evil.example/\n::set-output",
    # beyond the brief's list: the runner's whitespace trim, NEL and LS, invisible joiners,
    # autolinks with no scheme, e-mail autolinks, code-span fences, HTML comments
    "\u2028  ::add-mask::x",
    "\x85::set-output name=a::b",
    ":\u200b:add-mask::y",
    "www.evil.example",
    "x@evil.example",
    "``x``</code><img src=y>",
    "<!-- c -->",
    "\x00\x08\x7f\ufeff\u2066\u2069",
)

# ---------------------------------------------------------------------------------------
# the corpus and its mutations

FLAGS = {"trivy": "--trivy", "npm-audit": "--npm-audit", "pip-audit": "--pip-audit"}

_JUDGED: dict[str, frozenset[str]] = {
    # values that change what gate decides, or whether it can read the report at all
    "trivy": frozenset(
        {
            "SchemaVersion",
            "CreatedAt",
            "ArtifactType",
            "Class",
            "Type",
            "Severity",
            "Status",
            "SeveritySource",
            "PublishedDate",
            "LastModifiedDate",
            "ImageID",
            "RepoDigests",
            "DiffID",
            "Digest",
            "Namespace",
            "Kind",
            "Category",
            "Match",
            "Code",
            "Layer",
            "StartLine",
            "EndLine",
            "Number",
            "Content",
            "Lines",
        }
    ),  # fmt: skip
    "npm-audit": frozenset(
        {
            "severity",
            "range",
            "vulnerable_versions",
            "patched_versions",
            "effects",
            "auditReportVersion",
            "fixAvailable",
            "isDirect",
            "source",
            "cwe",
            "cvss",
            "code",
        }
    ),  # fmt: skip
    "pip-audit": frozenset({"skip_reason"}),
    "sarif": frozenset(
        {
            "$schema",
            "version",
            "level",
            "kind",
            "baselineState",
            "security-severity",
            "uriBaseId",
            "ruleIndex",
            "index",
            "startLine",
            "endLine",
            "startColumn",
            "endColumn",
            "status",
            "guid",
            "semanticVersion",
            "precision",
            "problem.severity",
            "columnKind",
            "mimeType",
            "sourceLanguage",
        }
    ),  # fmt: skip
}
"""Keys whose string values are never mutated, per input kind."""

_RENAMED_KEYS = {"npm-audit": ("vulnerabilities", "advisories")}
"""Maps keyed by a package name or id: a mutated value that is also such a key renames it."""


def kind_of(path: Path) -> str:
    return "sarif" if path.suffix == ".sarif" else path.parent.name


def flag_of(path: Path) -> str:
    return "--sarif" if path.suffix == ".sarif" else FLAGS[path.parent.name]


SHARED_CORPUS = DATA.parent.parent.parent / "shared" / "corpus"
"""The shared corpus, where the checkout sits beside it (as in CI): more real reports."""


def corpus_files(max_bytes: int = 130_000) -> list[Path]:
    """The bundled reports (with provenance in `tests/data/…/PROVENANCE.tsv`), and those of
    the shared corpus when it is there, small enough for a case to take well under a second."""
    dirs = [DATA / sub for sub in ("reports/trivy", "reports/npm-audit", "reports/pip-audit")]
    dirs.append(DATA / "sarif")
    if SHARED_CORPUS.is_dir():
        dirs += [SHARED_CORPUS / sub for sub in ("trivy", "npm-audit", "pip-audit", "sarif")]
    found = [
        p
        for d in dirs
        if d.is_dir()
        for p in sorted(d.iterdir())
        if (p.suffix == ".sarif" or (p.suffix == ".json" and d.name != "sarif"))
        and p.stat().st_size <= max_bytes
    ]
    return [p for p in found if string_leaves(json.loads(p.read_text("utf-8")), kind_of(p))]


Pointer = tuple[str | int, ...]


def string_leaves(doc: Any, kind: str) -> list[tuple[Pointer, str]]:
    """Every non-empty string that may be mutated: (JSON pointer, value)."""
    judged = _JUDGED[kind]
    out: list[tuple[Pointer, str]] = []

    def walk(node: Any, at: Pointer, key: str | None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*at, k), k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*at, i), key)
        elif isinstance(node, str) and node.strip() and key not in judged:
            if kind == "sarif" and key == "name" and "tool" in at:
                return  # the tool's name says whose results they are (Trivy's are judged so)
            out.append((at, node))

    walk(doc, (), None)
    return out


def replace_everywhere(doc: Any, kind: str, old: str, new: str) -> Any:
    """A copy of `doc` with every mutable occurrence of `old` (values, and the keys of
    name-keyed maps) replaced by `new`."""
    judged = _JUDGED[kind]
    renamed = _RENAMED_KEYS.get(kind, ())

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            rename = key in renamed
            return {(new if rename and k == old else k): walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and node == old and key not in judged:
            return new
        return node

    return walk(copy.deepcopy(doc), None)


@dataclass(frozen=True)
class Mutation:
    path: Path
    pointer: Pointer
    key: str
    original: str
    value: str
    payload: str
    doc: Any

    def describe(self) -> str:
        where = "/".join(str(p) for p in self.pointer)
        return f"{self.path.name} #/{where}: {self.original!r} -> {self.value!r}"


def mutate(rng: random.Random, path: Path, doc: Any, payload: str) -> Mutation | None:
    kind = kind_of(path)
    leaves = string_leaves(doc, kind)
    if not leaves:
        return None
    pointer, original = rng.choice(leaves)
    how = rng.randrange(4)
    if how == 0:
        value = original + payload
    elif how == 1:
        value = payload + original
    elif how == 2:
        cut = rng.randrange(len(original) + 1)
        value = original[:cut] + payload + original[cut:]
    else:
        value = payload
    key = next((str(p) for p in reversed(pointer) if isinstance(p, str)), "")
    return Mutation(
        path, pointer, key, original, value, payload, replace_everywhere(doc, kind, original, value)
    )


def cases(seed: int, n: int) -> Iterator[tuple[int, random.Random]]:
    """`n` independent cases, each with its own reproducible RNG."""
    master = random.Random(seed)
    for i in range(n):
        yield i, random.Random(master.getrandbits(64))


# ---------------------------------------------------------------------------------------
# what the GitHub runner would execute

REGISTERED = frozenset(
    {
        "add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error",
        "group", "internal-set-repo-path", "notice", "remove-matcher", "save-state",
        "set-env", "set-output", "stop-commands", "warning",
    }
)  # fmt: skip
_LINES = re.compile(r"\r\n|\r|\n")  # .NET StreamReader.ReadLine


def _ignorable(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Cc", "Mn", "Me") and ch not in "\t\n\r"


def _dotnet_trim_start(line: str) -> str:
    i = 0
    while i < len(line) and (line[i].isspace() or _ignorable(line[i])):
        i += 1
    return line[i:]


@dataclass(frozen=True)
class Command:
    name: str
    line: str
    data: str


def workflow_commands(stream: str, tokens: frozenset[str] = frozenset()) -> list[Command]:
    """Every line of `stream` the runner would take for a command (V2 `::name …::data`
    after leading whitespace, or the legacy `##[name …]data` anywhere in the line)."""
    registered = REGISTERED | tokens
    found = []
    for line in _LINES.split(stream):
        visible = "".join(ch for ch in line if not _ignorable(ch))
        rest = _dotnet_trim_start(visible)
        if rest.startswith("::"):
            end = rest.find("::", 2)
            if end >= 0:
                name = rest[2:end].split(" ", 1)[0]
                if name.lower() in registered:
                    found.append(Command(name.lower(), line, rest[end + 2 :]))
                    continue
        start = visible.find("##[")
        if start >= 0:
            close = visible.find("]", start)
            if close >= 0:
                name = visible[start + 3 : close].split(" ", 1)[0]
                if name.lower() in registered:
                    found.append(Command(name.lower(), line, visible[close + 1 :]))
    return found


_GATE_ANNOTATION = re.compile(
    r"^::(error|warning) file=[^,:]*(,[a-zA-Z]+=[^,:]*)*::|^::notice::gate: "
)
_STOP = re.compile(r"^::stop-commands::([0-9a-f]{32})$")


def foreign_commands(stream: str, *, actions: bool) -> list[str]:
    """The commands in `stream` that are not gate's own: its annotations (only under
    GitHub Actions) and a `::stop-commands::<32 hex>` … `::<token>::` pair."""
    tokens = frozenset(m.group(1) for line in _LINES.split(stream) if (m := _STOP.match(line)))
    bad = []
    for cmd in workflow_commands(stream, tokens):
        if (
            actions
            and cmd.name in ("error", "warning", "notice")
            and _GATE_ANNOTATION.match(cmd.line)
        ):
            if "title=gate%3A " in cmd.line or cmd.name == "notice":
                continue
        if actions and cmd.name == "stop-commands" and _STOP.match(cmd.line):
            continue
        if actions and cmd.name in tokens and cmd.line == f"::{cmd.name}::":
            continue
        bad.append(cmd.line)
    return bad


# ---------------------------------------------------------------------------------------
# raw characters, markdown, SARIF

RAW_BAD = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
"""What must never reach a reader raw: C0 but LF (tab included), DEL, C1, bidi, invisibles."""


def raw_controls(text: str) -> list[str]:
    return sorted({f"U+{ord(m.group()):04X}" for m in RAW_BAD.finditer(text)})


_ALLOWED_TAGS = frozenset(
    {"h2", "h3", "p", "br", "strong", "em", "code", "table", "thead", "tbody", "tr", "th",
     "td", "ul", "li", "a", "hr"}
)  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.tags.append(("!--", {}))


def render_gfm(markdown: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    # UNSAFE: keep raw HTML in the output, so that any the text let through is seen
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def html_problems(markdown: str) -> list[str]:
    """Tags, links and images in GitHub's rendering of `markdown` that gate did not mean."""
    parser = _Tags()
    parser.feed(render_gfm(markdown))
    problems = []
    for tag, attrs in parser.tags:
        if tag not in _ALLOWED_TAGS:
            problems.append(f"<{tag}> {attrs}")
        if tag == "a":
            href = attrs.get("href") or ""
            parts = urlsplit(href)
            if parts.scheme != "https" or parts.hostname == ATTACKER_HOST or not parts.hostname:
                problems.append(f"link to {href!r}")
    return problems


_SARIF_VALIDATOR: list[Any] = []


def sarif_problems(doc: dict[str, Any]) -> list[str]:
    """Schema errors, bad `helpUri`s, raw controls in display text, markdown that links."""
    if not _SARIF_VALIDATOR:
        import jsonschema

        from gate.report.sarif import schema_path

        schema = json.loads(schema_path().read_text())
        _SARIF_VALIDATOR.append(jsonschema.Draft4Validator(schema))
    problems = [f"schema: {e.message}" for e in _SARIF_VALIDATOR[0].iter_errors(doc)][:3]
    for run in doc["runs"]:
        tool = run["tool"]
        for component in [tool["driver"], *tool.get("extensions", [])]:
            for field in ("name", "version"):
                if field in component and raw_controls(component[field]):
                    problems.append(f"tool {field}: {component[field]!r}")
            for rule in component.get("rules", []):
                uri = rule.get("helpUri")
                if uri is not None:
                    parts = urlsplit(uri)
                    if re.search(r"\s", uri) or parts.scheme != "https" or RAW_BAD.search(uri):
                        problems.append(f"helpUri {uri!r}")
                texts = [rule["id"], rule.get("name", "")]
                texts += [
                    rule.get(k, {}).get("text", "") for k in ("shortDescription", "fullDescription")
                ]
                texts += [
                    rule.get("help", {}).get("text", ""),
                    rule.get("help", {}).get("markdown", ""),
                ]
                problems += [f"rule {rule['id']!r}: {t!r}" for t in texts if raw_controls(t)]
                md = rule.get("help", {}).get("markdown")
                if md:
                    problems += [f"rule {rule['id']!r} help: {p}" for p in html_problems(md)]
        for result in run.get("results", []):
            for t in (result["ruleId"], result["message"]["text"]):
                if raw_controls(t):
                    problems.append(f"result: {t!r}")
    return problems


def verdict_strings(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield k
            yield from verdict_strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from verdict_strings(v)
    elif isinstance(doc, str):
        yield doc
