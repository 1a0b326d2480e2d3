"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus of real scanner outputs, when this checkout sits beside it.

    Tests that need a file in every checkout use the copies under `tests/data/`;
    only the corpus-wide sweeps use this, and they say clearly why they skip.
    """
    if not CORPUS.is_dir():
        pytest.skip(f"corpus-wide sweep: {CORPUS} is not present beside this checkout")
    return CORPUS
