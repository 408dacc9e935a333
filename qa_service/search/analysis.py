"""Text analysis shared by indexing and questions: normalise, tokens, lowercase, stop words, stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

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
# Characters that are invisible or control text and never part of a word: control characters
# other than whitespace (C0, DEL, C1 less NEL) and Unicode format characters (zero-width space and
# joiners, soft hyphen, bidirectional controls, BOM, tags; category Cf as of Unicode 14).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
# Terms are cached by the word as written, for words of plausible length, so the cache is bounded
# in bytes as well as in entries (65,536 × at most 2 × 40 characters, about 20 MB at worst). A
# real corpus's working vocabulary fits: 20,000 entries missed one word in twelve on SQuAD dev's
# 26,000 words, and each miss runs the Snowball stemmer (issue 16: half of terms_of's time).
STEM_CACHE_ENTRIES = 20_000  # Whoosh's own stem cache, used by make_analyzer()
TERM_CACHE_ENTRIES = 65_536
STEM_CACHE_WORD = 40


def normalize(text: str) -> str:
    """Return text in NFKC form without control or zero-width characters ("ｆａ\u200bther" → "father")."""
    if text.isascii():  # the common case, kept cheap: most texts have nothing to remove
        return text if text.isprintable() or not _INVISIBLE.search(text) else _INVISIBLE.sub("", text)
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


class NormalizingTokenizer(RegexTokenizer):
    """Whoosh's RegexTokenizer over normalize(text): passages are indexed as questions are read."""

    def __call__(self, value: str, **kwargs: Any) -> Any:
        return super().__call__(normalize(value), **kwargs)


def make_analyzer() -> Analyzer:
    """Return the analyzer used for passages and questions alike: words, lowercase, stop, stem."""
    return (NormalizingTokenizer(TOKEN) | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
            | StemFilter(lang="en", cachesize=STEM_CACHE_ENTRIES))


_TOKEN = re.compile(TOKEN)
_stemmer = stemmer_for_language("en")


def _term(word: str) -> str | None:
    """Return a word's index term, or None for a stop word."""
    # Lowercase after tokenizing, as Whoosh does: lowercasing first changes some tokens ("İ").
    lower = word.lower()
    return None if lower in STOP_WORDS else _stemmer(lower)


_cached_term = lru_cache(maxsize=TERM_CACHE_ENTRIES)(_term)


def term_of(word: str) -> str | None:
    """Return one word's index term (None for a stop word), as terms_of gives it."""
    return _cached_term(word) if len(word) <= STEM_CACHE_WORD else _term(word)


def terms_of(text: str) -> list[str]:
    """Return the same terms as make_analyzer(), several times faster (no Whoosh token objects)."""
    words = _TOKEN.findall(normalize(text))
    terms = (_cached_term(w) if len(w) <= STEM_CACHE_WORD else _term(w) for w in words)
    return [t for t in terms if t is not None]
