"""Every branch-protection and ruleset file of the shared corpus has a tested copy here."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.github.test_corpus_expectations import SINGLE


def test_every_corpus_file_is_copied_and_expected(corpus_dir: Path, gh_data: Path) -> None:
    corpus = sorted(
        p for kind in ("branch-protection", "rulesets") for p in (corpus_dir / kind).iterdir()
    )
    assert corpus, f"no branch-protection or ruleset files under {corpus_dir}"
    for path in corpus:
        copy = gh_data / path.name
        assert copy.is_file(), f"{path.name}: copy it into tests/data/github with its provenance"
        assert copy.read_bytes() == path.read_bytes(), f"{path.name}: the copy differs"
        assert path.name in SINGLE, f"{path.name}: write what a careful reader expects"


def test_every_data_file_has_provenance(gh_data: Path) -> None:
    with (gh_data / "PROVENANCE.tsv").open(newline="") as fh:
        rows = {row["local_path"]: row for row in csv.DictReader(fh, delimiter="\t")}
    files = {p.name for p in gh_data.iterdir() if p.name != "PROVENANCE.tsv"}
    assert files == set(rows)
    assert all(row["repo"] and row["commit"] and row["notes"] for row in rows.values())
