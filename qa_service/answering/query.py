"""A question made ready for searching: spelling fixed, conversation context and synonyms added."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache

from qa_service.answering.ranking import RANKING, Ranking
from qa_service.answering.thesaurus import Entry
from qa_service.search.analysis import TOKEN, normalize, term_of
from qa_service.search.retrieval import OpenIndex, analyze, query_terms

# Words that say what form the answer takes ("how many", "what year", "the name of", "what type
# of"), not what it is about: searched, but a finding is not judged on containing them.
FORM_WORDS = frozenset(analyze("many much name named called type kind year years long"))
# Words of five letters or more: shorter words have too many near neighbours ("cars" → "care").
_TOKEN = re.compile(TOKEN)
_WORD = re.compile(r"(?<![\w'’])[^\W\d_]{5,}(?![\w'’])")


Phrase = tuple[str, ...]  # a synonym's index terms, in order


def phrase_terms(phrases: set[Phrase]) -> dict[str, float]:
    """Return each term of the synonyms with its share of one synonym's weight (1 / words)."""
    shares: dict[str, float] = {}
    for phrase in phrases:
        for term in phrase:
            shares[term] = max(shares.get(term, 0.0), 1.0 / len(phrase))
    return shares


@dataclass(frozen=True)
class Synonyms:
    """A word's synonyms as the rerank tests them: one-word ones as a set, longer ones as phrases."""

    words: frozenset[str]
    phrases: tuple[Phrase, ...]

    def held_by(self, terms: Collection[str]) -> bool:
        """Return whether `terms` hold one of the synonyms: a one-word one, or every word of a longer one."""
        # A set test first: it runs for every sentence of every candidate, and most synonyms are one word.
        return not self.words.isdisjoint(terms) or any(all(t in terms for t in p) for p in self.phrases)


def synonyms_of(phrases: set[Phrase]) -> Synonyms:
    """Return the synonyms in the form the rerank tests them."""
    return Synonyms(frozenset(p[0] for p in phrases if len(p) == 1), tuple(p for p in phrases if len(p) > 1))


@dataclass
class PreparedQuery:
    """Everything the answer step needs to know about a question."""

    terms: list[str]                                   # the question's own index terms
    weights: dict[str, float]                          # terms a finding is judged on → weight
    boosts: dict[str, float]                           # every term searched → boost
    # own term → its synonyms, each the tuple of its terms ("LSCB" → local safeguard children board)
    aliases: dict[str, set[Phrase]] = field(default_factory=dict)
    expanded_terms: list[str] = field(default_factory=list)
    did_you_mean: str | None = None
    named: frozenset[str] = frozenset()               # judged terms that name a report


SPELLING_MAX_LETTERS, SPELLING_MAX_WORDS, SPELLING_BUDGET_S = 30, 8, 0.03
# Capitalised words looked up per question: a question names a person or place or two, and a
# flood of unknown names (64 made-up ones) must not cost 8 automaton searches every time.
SPELLING_MAX_NAMES = 2


def split_compound(index: OpenIndex, word: str) -> str | None:
    """Return an unknown word written as one ("steelworkers") as two words the reports write apart, or None.

    Of the cuts into two words the passages write, the commonest pair that some passage writes
    side by side wins.
    """
    lower = word.lower()
    # The parts are looked up in the sorted word list, not the index: a made-up word has many
    # cuts, and each unseen term asked of the index costs time and a place in its caches.
    cuts = [cut for cut in range(3, len(lower) - 2)  # parts of three letters or more: "pre birth"
            if index.writes(lower[:cut]) and index.writes(lower[cut:])]
    ranked = sorted(cuts, key=lambda cut: sum(index.weight(t) for t in analyze(f"{lower[:cut]} {lower[cut:]}")))
    for cut in ranked[:3]:
        if index.written_together(word[:cut], word[cut:]):
            return f"{word[:cut]} {word[cut:]}"
    return None


def joined_words(index: OpenIndex, text: str, own: list[str]) -> dict[str, set[str]]:
    """Return the question's neighbouring words that passages write as one ("never ending" → "neverending").

    Each of the two words' terms gets the joined word's term as an alias.
    """
    words = _TOKEN.findall(normalize(text))
    aliases: dict[str, set[str]] = {}
    for first, second in zip(words, words[1:]):
        if not (first.isalpha() and second.isalpha()):  # "11/2/10" is not the number 112
            continue
        # A look in the sorted word list first ("legrand" begins "LeGrande"): most joined pairs
        # begin no word, and asking the index about a term it has not seen costs 60-200 µs.
        if not index.starts_a_word((first + second).lower()):
            continue
        parts, whole = (term_of(first), term_of(second)), term_of(first + second)
        if None in parts or whole is None or whole in own or not index.known(whole):
            continue
        for term in parts:
            aliases.setdefault(str(term), set()).add(whole)
    return aliases


_CARDINALS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
              "fifteen sixteen seventeen eighteen nineteen twenty").split()
_ORDINALS = ("- first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
             "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _suffix(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _number_names() -> dict[str, str]:
    """Return each number written in figures with its one-word name, both ways ("5" ↔ "five", "5th" ↔ "fifth")."""
    pairs = [(str(n), word) for n, word in enumerate(_CARDINALS)]
    pairs += [(f"{n}{_suffix(n)}", word) for n, word in enumerate(_ORDINALS) if n]
    pairs += [(str(20 + 10 * n), word) for n, word in enumerate(_TENS)]
    pairs += [(f"{20 + 10 * n}th", word[:-1] + "ieth") for n, word in enumerate(_TENS)]
    names: dict[str, str] = {}
    for figures, word in pairs:
        (a,), (b,) = analyze(figures), analyze(word)
        names[a], names[b] = b, a
    return names


NUMBER_NAMES = _number_names()


def number_names(own: list[str]) -> dict[str, set[str]]:
    """Return the question's numbers in the other writing: "article 5" also finds "Article Five"."""
    return {term: {NUMBER_NAMES[term]} for term in own if term in NUMBER_NAMES and NUMBER_NAMES[term] not in own}


def correct_spelling(index: OpenIndex, question: str, compounds: bool = True, names: bool = True) -> str | None:
    """Return the question with unknown words replaced by the closest indexed word, or None.

    The work is capped: words over SPELLING_MAX_LETTERS letters are never looked up (a 1,000-letter
    "word" cost up to a second), at most SPELLING_MAX_WORDS unknown words are (SPELLING_MAX_NAMES of
    them capitalised), and none after SPELLING_BUDGET_S of this question's CPU time; the rest are
    searched as they are.
    """
    changed, looked_up, names_looked_up = False, 0, 0
    # CPU time of this thread, not wall time: the budget bounds the work, and a busy machine
    # (another worker, a build) must not change which words get corrected.
    deadline = time.thread_time() + SPELLING_BUDGET_S

    def fix(match: re.Match[str]) -> str:
        nonlocal changed, looked_up, names_looked_up
        word = match.group()
        if len(word) > SPELLING_MAX_LETTERS or looked_up >= SPELLING_MAX_WORDS or time.thread_time() > deadline:
            return word
        lower = word.lower()
        name = lower != word
        if name and (not names or names_looked_up >= SPELLING_MAX_NAMES):
            return word
        terms = analyze(word)
        if not terms or any(index.known(t) for t in terms):
            return word
        looked_up += 1
        names_looked_up += name
        # One edit, or two when they swap neighbouring letters ("brith" → "birth"), with the first
        # letter kept: looser settings turn unanswerable questions into wrong answers. A capitalised
        # word is often a name the reports do not hold ("Warsaw"), so it gets the one edit only
        # ("Gospic" → "Gospić", "Niagra" → "Niagara").
        found = index.corrector.suggest(lower, limit=1, maxdist=1, prefix=1)
        if not found and not name:
            found = [w for w in index.corrector.suggest(word, limit=5, maxdist=2, prefix=1)
                     if sorted(w) == sorted(word)][:1]
        if not found and compounds:  # no near spelling: perhaps two known words written as one
            found = [parts] if (parts := split_compound(index, word)) else []
        if not found:
            return word
        changed = True
        return found[0][0].upper() + found[0][1:] if name and found[0][0].islower() else found[0]

    corrected = _WORD.sub(fix, question)
    return corrected if changed else None


def _contains(sequence: list[str], part: list[str]) -> bool:
    n = len(part)
    return n > 0 and any(sequence[i:i + n] == part for i in range(len(sequence) - n + 1))


def _acronym_forms(entry: Entry, question: str) -> list[str]:
    """Return how the question writes an acronym: as is, in the plural or the possessive."""
    # "LSCBs", "SCR's", "LSCBs'" count as the acronym; "SCRIPT" and "send" do not.
    return re.findall(rf"(?<![\w-]){re.escape(entry.text)}(?:s?['’]s?|s)?(?![\w-])", question)


@lru_cache(maxsize=8192)  # thesaurus entries: a fixed, small set of texts
def _entry_terms(text: str) -> tuple[str, ...]:
    return tuple(analyze(text))


def _matches(entry: Entry, question: str, sequence: list[str], present: set[str]) -> bool:
    # Cheap tests first (every entry of every group is tried on every question): an acronym's
    # letters must be in the question, a phrase's first term among the question's terms.
    if entry.acronym:
        return entry.text in question and bool(_acronym_forms(entry, question))
    terms = _entry_terms(entry.text)
    return bool(terms) and terms[0] in present and _contains(sequence, list(terms))


def expand(question: str, own: list[str], groups: tuple[tuple[Entry, ...], ...]) -> tuple[dict[str, set[Phrase]], list[str]]:
    """Return synonyms for the question's words: own term → synonyms' terms, and the synonyms' words."""
    sequence = analyze(question)
    present = set(sequence)
    aliases: dict[str, set[Phrase]] = {}
    shown: list[str] = []
    for group in groups:
        matched = [e for e in group if _matches(e, question, sequence, present)]
        if not matched:
            continue
        sources = {t for e in matched for t in _entry_terms(e.text)}
        # The stemmer keeps some plurals apart ("CSPRs" → "csprs"): the question's own form
        # is the term the synonyms stand in for.
        sources |= {t for e in matched if e.acronym for form in _acronym_forms(e, question) for t in analyze(form)}
        for other in group:
            extra = tuple(t for t in _entry_terms(other.text) if t not in own)
            if other in matched or not extra:
                continue
            shown.append(other.text)
            for source in sources:
                aliases.setdefault(source, set()).add(extra)
    return aliases, list(dict.fromkeys(shown))


def report_names(index: OpenIndex, question: str) -> set[str]:
    """Return the question's terms that name a report ("Ages of concern"), not what is asked."""
    sequence = analyze(question)
    named: set[str] = set()
    for phrase in index.title_phrases_within(sequence):
        if _contains(sequence, list(phrase)):
            named.update(phrase)
    return named


def synonym_weight(index: OpenIndex, source: str, synonyms: set[Phrase], ranking: Ranking) -> float:
    """Return the weight of one of a word's synonyms, relative to the word's own.

    A synonym weighs below the question's own word, unless that word is in no report at all
    ("dads"): then the synonyms ("fathers") are the only way to match it and share its full
    weight (each keeping at least `expansion_weight`). A synonym of several
    words splits its weight between them (`phrase_terms`): "Local Safeguarding Children Board"
    for "LSCBs" weighs one synonym, not four.
    """
    if index.known(source) or not synonyms:
        return ranking.expansion_weight
    return max(ranking.expansion_weight, 1.0 / len(synonyms))


def prepare_query(index: OpenIndex, question: str, history: list[str] | None = None,
                  groups: tuple[tuple[Entry, ...], ...] = (), ranking: Ranking = RANKING) -> PreparedQuery:
    """Turn a question (and the conversation so far) into weighted search terms."""
    corrected = correct_spelling(index, question, ranking.compounds, ranking.spelling_names) if ranking.spelling else None
    text = corrected or question
    own = query_terms(text)
    context = [t for q in (history or [])[-ranking.history_depth:] for t in query_terms(q) if t not in own]
    # Words naming a report are searched (its title field then counts); how a finding is judged
    # on them is `ranking.report_names` ("When was Ages of concern published?" asks about publishing).
    named = report_names(index, text) if ranking.report_names != "off" else set()
    form = frozenset() if ranking.judge_form_words else FORM_WORDS
    dropped = named if ranking.report_names == "discount" else set()
    asked = [t for t in own if t not in dropped and t not in form] or own
    # A follow-up with no words of its own ("tell me more") is judged by the conversation's words.
    judged = asked or list(dict.fromkeys(context))
    boosts = {t: 1.0 for t in own or judged}
    if own:
        boosts |= {t: ranking.history_weight for t in context if t not in boosts}
    aliases, shown = expand(text, own, groups) if own else ({}, [])
    if ranking.compounds and own:
        for term, joined in joined_words(index, text, own).items():
            aliases.setdefault(term, set()).update((w,) for w in joined)
    if ranking.numbers:
        for term, name in number_names(own).items():
            aliases.setdefault(term, set()).update((w,) for w in name)
    searched = set(boosts)
    for source, synonyms in aliases.items():
        weight = synonym_weight(index, source, synonyms, ranking)
        for term, part in phrase_terms(synonyms).items():
            if term not in searched:
                boosts[term] = max(boosts.get(term, 0.0), weight * part)
    weights = {t: index.weight(t) for t in judged}
    named_judged = frozenset(named) & weights.keys() if ranking.report_names == "context" else frozenset()
    return PreparedQuery(own, weights, boosts, aliases, shown, corrected, named_judged)
