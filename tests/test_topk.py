"""The cached-list scorer gives exactly the plain NumPy scorer's results, and bounds its cache."""

from __future__ import annotations

import random

import numpy as np
import pytest

from qa_service.search import topk
from qa_service.search.builder import build_index
from qa_service.search.format import BM25_B, BM25_K1, SEARCH_FIELDS
from qa_service.search.retrieval import IndexHolder
from qa_service.search.scoring import BM25F
from tests.conftest import write_report

COMMON = "report child family school health"
WORDS = (COMMON + " alpha beta gamma delta epsilon zeta eta theta iota kappa lambda omicron sigma tau "
         "upsilon phi chi psi omega river mountain forest desert ocean island valley canyon glacier").split()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    """Forty reports of twenty passages: a few very common words, many rare ones, repeated words."""
    rng = random.Random(5)
    content = tmp_path_factory.mktemp("topk") / "content"
    for r in range(40):
        paragraphs = []
        for _ in range(20):
            words = [rng.choice(WORDS[:5]) for _ in range(rng.randint(1, 6))]
            words += [rng.choice(WORDS[5:]) for _ in range(rng.randint(2, 25))]
            rng.shuffle(words)
            paragraphs.append(" ".join(words) + ".")
        write_report(content, f"t{r:02d}", "\n\n".join(paragraphs), title=f"{rng.choice(WORDS)} report {r}")
    build_index(content, content.parent / "index")
    return IndexHolder(content.parent / "index").get()


def test_same_documents_scores_order_and_terms_as_the_plain_scorer(index) -> None:
    plain = BM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    cached = topk.CachedBM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    rng = random.Random(7)
    for _ in range(150):
        terms = rng.sample(WORDS, rng.randint(1, 8)) + (["nosuchword"] if rng.random() < 0.1 else [])
        boosts = {t: rng.choice([1.0, 0.5, 0.25]) for t in terms}
        allowed = None
        if rng.random() < 0.2:
            allowed = np.zeros(plain.size, dtype=bool)
            allowed[rng.sample(range(plain.size), plain.size // 4)] = True
        for limit in (1, 3, 20, 1000):
            assert cached.top(boosts, limit, allowed) == plain.top(boosts, limit, allowed), (boosts, limit)


def test_postings_decoded_by_block_equal_whooshs_one_by_one(index) -> None:
    plain = BM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    for field in SEARCH_FIELDS:
        for word in WORDS:
            reader_ids, reader_tf = plain.postings(field, word)
            parts = [topk.decode(r.postings(field, word)) for r, _ in plain._leaves if (field, word) in r]
            offsets = [o for r, o in plain._leaves if (field, word) in r]
            ids = np.concatenate([p[0] + o for p, o in zip(parts, offsets)]) if parts else np.zeros(0)
            tf = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
            assert np.array_equal(ids, reader_ids) and np.array_equal(tf, reader_tf)


def test_list_cache_stays_within_its_budget(index, monkeypatch) -> None:
    bounded = topk.CachedBM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    monkeypatch.setattr(bounded.lists, "max_bytes", 3_000)
    before = bounded.top({w: 1.0 for w in WORDS[:12]}, 5)
    for n, word in enumerate(WORDS * 2):
        bounded.top({word: 1.0, f"madeup{n}": 1.0}, 3)
    assert bounded.lists.nbytes <= 3_000
    assert bounded.top({w: 1.0 for w in WORDS[:12]}, 5) == before


def test_lengths_read_by_column_equal_whooshs_per_document_lengths(index) -> None:
    plain = BM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    bounded = topk.CachedBM25F(index.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
    for field in SEARCH_FIELDS:
        assert np.array_equal(bounded.lengths(field), plain.lengths(field))
