"""Peer retrievers measured beside qa_service on the same passages: bm25s and tantivy."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Protocol

import bm25s
import Stemmer
import tantivy

# Anything but word characters can be query syntax to tantivy (quotes, brackets, ':', '^', '~' …).
_NOT_WORD = re.compile(r"[^\w]+")


class Peer(Protocol):
    """A retriever over a list of passage texts that returns passage indexes, best first."""

    name: str
    note: str

    def search(self, question: str, k: int) -> list[int]:
        """Return the indexes of the best k passages for a question."""
        ...


class Bm25sPeer:
    """bm25s with PyStemmer's English stemmer, its English stop list and default BM25 parameters."""

    name = "bm25s"
    note = f"bm25s {bm25s.__version__}: Stemmer('english'), stopwords='en', BM25 defaults"

    def __init__(self, texts: list[str]) -> None:
        self.stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)
        self.size = len(texts)

    def search(self, question: str, k: int) -> list[int]:
        """Return the indexes of the best k passages for a question."""
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=self.stemmer,
                                show_progress=False, return_ids=False)
        docs, scores = self.retriever.retrieve(tokens, k=min(k, self.size), show_progress=False)
        # bm25s always returns k documents; those scoring 0 matched nothing and are not results.
        return [int(d) for d, s in zip(docs[0], scores[0]) if s > 0]


class TantivyPeer:
    """tantivy with its en_stem tokenizer (lowercase, English stemmer, no stop list), text only."""

    name = "tantivy"
    note = (f"tantivy {version('tantivy')} (Python): field 'text' with en_stem, "
            "passage text only, parse_query over 'text', query reduced to its words")

    def __init__(self, texts: list[str]) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
        builder.add_integer_field("doc", stored=True)
        self.index = tantivy.Index(builder.build())  # in memory
        writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        for n, text in enumerate(texts):
            writer.add_document(tantivy.Document(doc=n, text=text))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, question: str, k: int) -> list[int]:
        """Return the indexes of the best k passages for a question."""
        # Words only, lower-cased so that AND/OR/NOT/IN cannot act as operators; en_stem lowercases anyway.
        words = _NOT_WORD.sub(" ", question).lower().strip()
        if not words:
            return []
        query = self.index.parse_query(words, ["text"])
        return [self.searcher.doc(addr)["doc"][0] for _score, addr in self.searcher.search(query, k).hits]


def build_peers(texts: list[str]) -> list[Peer]:
    """Return every peer, indexed over the same passage texts."""
    return [Bm25sPeer(texts), TantivyPeer(texts)]
