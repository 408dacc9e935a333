"""Building the index: analyzer, versions, atomic switch, and builds that fail part-way."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.answering.answer import ask
from qa_service.ingest.content import ContentError
from qa_service.search import builder as indexing
from qa_service.search import format, versions
from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder, analyze
from tests.conftest import write_report


def test_analyzer_stems_and_drops_stop_words() -> None:
    assert analyze("What did it say about the fathers?") == ["father"]
    assert analyze("pre-birth assessments") == ["pre", "birth", "assess"]
    assert analyze("Babies and infants") == ["babi", "infant"]


def test_whoosh_syntax_is_plain_text() -> None:
    assert analyze('title:( AND OR NOT * "quoted" fathers~2') == ["titl", "quot", "father", "2"]


def test_build_writes_a_version_and_points_at_it(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    summary = build_index(content_copy, index_dir)
    assert summary.reports == 2 and summary.passages > 10
    assert versions.current_version(index_dir) == summary.version
    manifest = format.read_manifest(index_dir, summary.version)
    assert manifest.passages == summary.passages
    assert set(manifest.files) == {"ages-of-concern.md", "ages-of-concern-related.md"}
    assert "2 reports" in summary.line() and "passages in" in summary.line()


def test_rebuild_switches_and_keeps_previous_for_rollback(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(content_copy, index_dir).version
    write_report(content_copy, "extra", "Zebra crossings were discussed at length.")
    second = build_index(content_copy, index_dir).version
    holder = IndexHolder(index_dir)
    assert holder.get().version == second
    assert ask(holder.get(), "zebra crossings").found
    assert versions.rollback(index_dir) == (second, first)
    assert holder.get().version == first  # the holder follows the pointer without a restart
    assert not ask(holder.get(), "zebra crossings").found


def test_bad_file_leaves_served_index_untouched(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    good = build_index(content_copy, index_dir).version
    (content_copy / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"broken\.md:2"):
        build_index(content_copy, index_dir)
    assert versions.current_version(index_dir) == good
    assert ask(IndexHolder(index_dir).get(), "role of fathers").found


def test_build_failing_midway_leaves_no_trace(tmp_path: Path, content_copy: Path, monkeypatch) -> None:
    index_dir = tmp_path / "index"
    good = build_index(content_copy, index_dir).version

    def explode(*args, **kwargs):
        raise RuntimeError("disk gremlin")

    monkeypatch.setattr(indexing, "_write_manifest", explode)
    with pytest.raises(RuntimeError, match="gremlin"):
        build_index(content_copy, index_dir)
    assert versions.current_version(index_dir) == good
    assert versions.all_versions(index_dir) == [good]
    assert not list(versions.versions_dir(index_dir).glob(".tmp-*"))
    monkeypatch.undo()
    assert build_index(content_copy, index_dir).version != good


def test_leftover_staging_from_a_killed_build_is_cleaned(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(content_copy, index_dir)
    leftover = versions.versions_dir(index_dir) / ".tmp-v20000101T000000-123456"
    leftover.mkdir()
    (leftover / "half.seg").write_text("partial")
    build_index(content_copy, index_dir)
    assert not leftover.exists()


def test_second_build_while_one_runs_fails_clearly(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    with versions.build_lock(index_dir):
        with pytest.raises(versions.BuildLockedError, match="another build is running"):
            build_index(content_copy, index_dir)


def test_unwritable_index_dir_is_a_clear_error(tmp_path: Path, content_copy: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # even root cannot create a folder inside a file
    with pytest.raises(versions.IndexProblem, match="cannot write to index directory"):
        build_index(content_copy, blocker / "index")


def test_old_versions_are_pruned(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    built = [build_index(content_copy, index_dir).version for _ in range(5)]
    kept = versions.all_versions(index_dir)
    assert built[-1] in kept and built[-2] in kept
    assert len(kept) == 1 + versions.KEEP_OLD


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(format.NoIndexError, match="qa-service index build"):
        IndexHolder(tmp_path / "nothing").get()


@pytest.mark.parametrize("text", [
    "What did it say about the fathers? It's the U.S. team's 2nd try — pre-birth assessments!",
    "Beyoncé's D'Olier Street café, naïve résumé; İstanbul and ÉCOLE 1990s e.g. 3.14",
    "   ", "AND OR NOT title:( * \"quoted\" fathers~2 [x TO y]",
])
def test_fast_terms_equal_the_whoosh_analyzer(text: str) -> None:
    from qa_service.search.analysis import make_analyzer, terms_of

    assert terms_of(text) == [t.text for t in make_analyzer()(text)]


@pytest.mark.parametrize("text", [
    "The fathers' and the father's roles: fathers, FATHERS — pre-birth, pre-birth! Ages of concern.",
    "Beyoncé's D'Olier Street café, naïve résumé; İstanbul and ÉCOLE 1990s e.g. 3.14 ｆａ\u200bther",
    "", "the of and",
])
def test_indexed_postings_equal_the_whoosh_analyzers(text: str) -> None:
    from whoosh.fields import TEXT

    from qa_service.search.analysis import make_analyzer

    # The index's fast text field must give Whoosh the same terms, frequencies and weights as
    # a plain TEXT field with the shared analyzer would: the questions are analysed that way.
    for name, boost in format.FIELD_BOOSTS.items():
        fast = format.make_schema()[name]
        plain = TEXT(analyzer=make_analyzer(), phrase=False, field_boost=boost)
        assert sorted(fast.index(text)) == sorted(plain.index(text))
