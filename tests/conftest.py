"""Shared fixtures: the bundled content indexed once, and tiny corpora written per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "content"


def write_report(folder: Path, name: str, body: str, title: str = "A test report",
                 extra: str = "") -> Path:
    """Write a small report with valid front matter and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(
        f"---\ntitle: {title}\npublisher: Test Publisher\npublished: 2020-01-02\n{extra}---\n\n{body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an index directory built once from the bundled content."""
    index_dir = tmp_path_factory.mktemp("bundled") / "index"
    build_index(BUNDLED, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def bundled(bundled_index: Path):
    """Return the bundled index, opened."""
    return IndexHolder(bundled_index).get()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """Return a writable copy of the bundled content folder."""
    target = tmp_path / "content"
    shutil.copytree(BUNDLED, target)
    return target
