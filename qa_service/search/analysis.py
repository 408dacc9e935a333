"""Text analysis shared by indexing and questions: tokens, lowercase, stop words, Snowball stems."""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import stemmer_for_language, stopwords_for_language

# Snowball's English stop list, plus words that only carry a question's form ("what did it
# say about …", "tell me …"), which would otherwise count as unmatched content words.
QUESTION_WORDS = frozenset(
    "also could would shall may might must us yes ok please tell say says said saying mention "
    "mentions mentioned describe describes described explain explains anything something "
    "know let like whats else again".split()
)
STOP_WORDS = frozenset(stopwords_for_language("en")) | QUESTION_WORDS
# Apostrophes split words: "it's" gives the stop words "it" and "s", not a rare term "it".
TOKEN = r"\w+(?:\.\w+)*"


def make_analyzer() -> Analyzer:
    """Return the analyzer used for passages and questions alike: words, lowercase, stop, stem."""
    return (RegexTokenizer(TOKEN) | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
            | StemFilter(lang="en", cachesize=100_000))


_TOKEN = re.compile(TOKEN)
_stem = lru_cache(maxsize=100_000)(stemmer_for_language("en"))


def terms_of(text: str) -> list[str]:
    """Return the same terms as make_analyzer(), four times faster (no Whoosh token objects)."""
    # Tokenize, then lowercase, as Whoosh does: lowercasing first changes some tokens ("İ").
    return [_stem(w) for w in map(str.lower, _TOKEN.findall(text)) if w not in STOP_WORDS]
