"""The NumPy BM25F scorer agrees with Whoosh's own BM25F, and respects deletions and filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder, query_terms, search, whoosh_query
from tests.conftest import write_report

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda omicron sigma tau upsilon "
         "phi chi psi omega river mountain forest desert ocean island valley canyon glacier").split()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    content = tmp_path_factory.mktemp("gen") / "content"
    for r in range(12):
        paragraphs = []
        for p in range(15):
            n = 5 + (r * 7 + p * 3) % 20
            paragraphs.append(" ".join(WORDS[(r * 13 + p * 5 + i * i) % len(WORDS)] for i in range(n)) + ".")
        write_report(content, f"g{r:02d}", "\n\n".join(paragraphs), title=f"{WORDS[r]} {WORDS[r + 5]} report")
    index_dir = content.parent / "index"
    build_index(content, index_dir)
    return IndexHolder(index_dir).get()


@pytest.mark.parametrize("question", ["alpha river", "gamma delta glacier canyon", "omega", "sigma tau phi chi",
                                      "island report", "forest desert ocean valley mountain"])
def test_scores_match_whoosh(generated, question: str) -> None:
    boosts = {t: 1.0 for t in query_terms(question)}
    ours = search(generated, boosts, limit=15)
    theirs = list(generated.searcher.search(whoosh_query(boosts), limit=15))
    assert [round(h.score, 4) for h in ours] == [round(r.score, 4) for r in theirs]
    top = {r.fields()["id"] for r in theirs if r.score > theirs[-1].score}  # ties at the cut may differ
    assert top <= {f"{h.passage.report_id}/{h.passage.id}" for h in ours}


def test_query_boosts_scale_scores(generated) -> None:
    plain = search(generated, {"alpha": 1.0}, limit=1)[0]
    boosted = search(generated, {"alpha": 2.0}, limit=1)[0]
    assert boosted.score == pytest.approx(2 * plain.score)


def test_matched_terms_are_reported(generated) -> None:
    hit = search(generated, {"alpha": 1.0, "nonexistentword": 1.0}, limit=1)[0]
    assert hit.matched == frozenset({"alpha"})


def test_report_filter(generated) -> None:
    hits = search(generated, {"alpha": 1.0, "river": 1.0}, limit=50, reports=["g03", "g07"])
    assert hits and {h.passage.report_id for h in hits} <= {"g03", "g07"}


def test_deleted_documents_never_come_back(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_report(content, "keep", "Pelicans fish in shallow water.")
    write_report(content, "drop", "Pelicans pelicans pelicans everywhere.")
    build_index(content, tmp_path / "index")
    (content / "drop.md").unlink()
    build_index(content, tmp_path / "index")  # incremental: the old documents are only marked deleted
    index = IndexHolder(tmp_path / "index").get()
    hits = search(index, {"pelican": 1.0}, limit=10)
    assert [h.passage.report_id for h in hits] == ["keep"]


def test_posting_cache_stays_within_its_budget(generated, monkeypatch) -> None:
    cache = generated.scorer.cache
    monkeypatch.setattr(cache, "max_bytes", 2_000)  # a few posting lists at most
    before = [h.score for h in search(generated, {w: 1.0 for w in WORDS[:12]}, limit=5)]
    for word in WORDS:  # churn through every term twice: eviction must neither hang nor change scores
        search(generated, {word: 1.0}, limit=3)
        search(generated, {word: 1.0, "river": 1.0}, limit=3)
    assert cache.nbytes <= 2_000
    assert [h.score for h in search(generated, {w: 1.0 for w in WORDS[:12]}, limit=5)] == before


def test_absent_terms_cost_entries_and_are_evicted(generated, monkeypatch) -> None:
    """Made-up words must not grow memory: each costs an entry, and entries are bounded in count."""
    from qa_service.search import scoring

    cache = generated.scorer.cache
    monkeypatch.setattr(cache, "entries", 50)
    for n in range(400):
        search(generated, {f"madeup{n}word": 1.0, "alpha": 1.0}, limit=3)
    assert len(cache) <= 50
    assert cache.nbytes <= 50 * (scoring.CACHE_BYTES // scoring.CACHE_ENTRIES + 1_000)
    ids, weights = generated.scorer.postings("text", "madeup399word")
    assert ids.size == 0 and weights.size == 0
    assert search(generated, {"madeup1word": 1.0}, limit=3) == []


def test_bounded_cache_limits_count_and_bytes() -> None:
    from qa_service.search.cache import BoundedCache, bounded_cache

    cache: BoundedCache[str, str] = BoundedCache(entries=3, max_bytes=10_000)
    for n in range(10):
        cache.put(f"k{n}", "v")
    assert len(cache) == 3 and cache.get("k9") == "v" and cache.get("k0") is None
    small = BoundedCache(entries=100, max_bytes=2_000)
    for n in range(100):
        small.put(n, "x" * 300)
    assert small.nbytes <= 2_000 and 0 < len(small) < 10
    small.put("huge", "x" * 10_000)  # larger than the whole cache: never kept
    assert "huge" not in small and small.nbytes <= 2_000
    calls = []

    @bounded_cache(entries=2, max_bytes=10_000)
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    assert [double(1), double(1), double(2), double(3), double(1)] == [2, 2, 4, 6, 2]
    assert calls == [1, 2, 3, 1]


def test_replaced_version_releases_its_caches(tmp_path: Path) -> None:
    """Once a rebuild is live and no request holds the old version, its scorer and caches are freed."""
    import gc
    import weakref

    content = tmp_path / "content"
    write_report(content, "first", "Pelicans fish in shallow water.")
    build_index(content, tmp_path / "index")
    holder = IndexHolder(tmp_path / "index")
    old = holder.get()
    search(old, {"pelican": 1.0, "madeupword": 1.0}, limit=3)
    assert len(old.scorer.lists) > 0
    gone = weakref.ref(old.scorer)
    write_report(content, "second", "Herons wait in reeds.")
    build_index(content, tmp_path / "index")
    new = holder.get()
    assert new.version != old.version
    del old
    gc.collect()
    assert gone() is None
