"""Every ranking parameter in one frozen dataclass, with where each value was chosen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ranking:
    """How questions become searches and how found passages are reordered and judged.

    Values were chosen with `make bench-quality` (BENCHMARKS.md); an ablation sets one feature
    off with `dataclasses.replace(RANKING, …)` and measures the effect on every corpus.
    BM25F's own constants (k1, b, field weights) belong to the index: `search/format.py`.
    """

    # Passages fetched by BM25F before the rerank; more than 20 changed no SQuAD answer.
    candidates: int = 20
    # A finding must match at least this share of the question's weight (rare words weigh
    # more); below it the passage is not cited. SQuAD abstention sweep (BENCHMARKS.md).
    min_coverage: float = 0.45
    # Findings after the first need only this share: they sit below an answer that met
    # `min_coverage`. As served (3,500 SQuAD, all WikiQA and SelQA dev), against 0.45: MRR@10 +0.5,
    # +1.2, +0.1 points and R@1 unchanged at 0.3; 0.4 / 0.35 gave less, 0.2 little more. With
    # `further_share` below (bench-quality at f313384): +0.5, +1.1, +0.3 for about half a finding
    # more per answer.
    further_coverage: float = 0.3
    # ... and at least this share of the first finding's score, so the list ends where the
    # passages stop being about the question. As served (3,500 SQuAD, all WikiQA and SelQA dev),
    # against none: findings per answer 8.0 / 7.9 / 8.3 → 3.6 / 3.1 / 2.8 with MRR@10 -0.1 / 0 /
    # -0.1 point and R@1 unchanged; 0.2 kept 4.9 on SQuAD, 0.4 cost SQuAD MRR 0.2 and R@5 0.6.
    further_share: float = 0.3
    # Exponent on coverage in the rerank; 0 keeps plain BM25 order for the coverage part.
    # As served (3,500 SQuAD, all WikiQA and SelQA dev questions, proximity in), against 1.0:
    # 0.75 keeps SQuAD (0.804) and gains WikiQA +0.8, SelQA +0.1; 0.5 / 0.25 / 0 gain WikiQA
    # +1.6 / +2.4 / +3.2 but cost SQuAD 0.3-0.7 and SelQA 0.3-0.6, and they lose questions users
    # ask (tests/test_answers.py): "What did the CSPRs say about fathers?" below 0.75, "When was
    # Ages of concern published?" at 0. Coverage also decides refusals (`min_coverage`).
    coordination: float = 0.75
    # Gain when the question's words meet in one sentence of a passage (0 = nothing). SQuAD.
    sentence_boost: float = 2.0
    # Gain when neighbouring words of the question sit within `proximity_window` terms of each
    # other in a passage ("pre-birth assessment", "interlibrary loan"), in either order (0 =
    # nothing). Helped all three corpora (as served, R@1: SQuAD +0.7, WikiQA +0.8, SelQA +0.5
    # points at 0.5 and window 2; 0.25 and 1.0, windows 1, 3 and 5 tried, BENCHMARKS.md).
    proximity_boost: float = 0.5
    proximity_window: int = 2
    # Gain for a passage holding what the question asks for (a date for "when" …). SQuAD.
    cue_boost: float = 0.25
    # Share of a word's weight earned when it matches only the title or section heading. 0.5
    # helped on no corpus of the three (SelQA -0.4 R@1, SQuAD and WikiQA unchanged), so a
    # title or heading match now counts in full (issue 11's rule: a feature stays only if it
    # helps on two corpora).
    context_credit: float = 1.0
    # Words naming a report in the question ("When was Ages of concern published?"):
    # "context" - judged, and a passage of the named report holds them through its title (full
    #   credit, not context_credit); the sentence picker leaves them out, since every sentence of
    #   that report is about them. On WikiQA, where each report is titled by its topic, this is
    #   +19 points R@1 over "discount" with no loss on SQuAD or SelQA (issue 11).
    # "discount" - searched but not judged at all (the rule before issue 11).
    # "off" - ordinary words.
    report_names: str = "context"
    # A finding that ends its sentence also quotes the next one when that one leans on it ("It
    # was …", "They also …"), as a finding leaning on the one before already quotes that one.
    # Finding@1 as served (3,000 SQuAD, all WikiQA and SelQA dev): +0.9, +2.4, +0.7 points; R@1
    # unchanged (it never reorders passages).
    follow_on: bool = True
    # "Form words" (how *many*, what *year*) are searched but not judged unless this is set.
    judge_form_words: bool = False
    # Earlier questions of a conversation steer a follow-up, weighing less than its own words.
    history_weight: float = 0.3
    history_depth: int = 3
    # Thesaurus synonyms are searched too, always below a literal match of the question's word.
    expansion_weight: float = 0.4
    # Unknown words are replaced by the closest indexed word (the answer says so).
    spelling: bool = True
    # Capitalised words too, by one edit only and two a question (names: "Niagra" → "Niagara",
    # while "Warsaw" stays). As served (3,500 SQuAD, all WikiQA and SelQA dev): R@1 +0.4, ±0,
    # +0.3 points; answerable refused 2.2 → 1.9 % and 1.0 → 0.6 %; WikiQA unanswerable unchanged.
    spelling_names: bool = True
    # Words written apart in the question and as one in the reports ("never ending" / "NeverEnding",
    # "pre birth" / "prebirth") match each other; an unknown word made of two known ones
    # ("steelworkers") is searched as the two words when some passage writes them side by side
    # (the answer says so, as for spelling). As served (3,500 SQuAD, all WikiQA and SelQA dev):
    # R@1 +0.1 (two questions gained, one lost), +1.6 (two), ±0 points; for practitioners,
    # "prebirth" finds the report's "pre-birth".
    compounds: bool = True
    # Numbers in figures match their one-word names and back ("article 5" / "Article Five",
    # "14th" / "fourteenth", "under one" / "under 1"), up to twenty and the tens. As served
    # (3,500 SQuAD, all WikiQA and SelQA dev): R@1 ±0 (two gained, one lost), +0.8 (one), ±0;
    # answerable questions refused 2.3 → 2.2 % (SQuAD) and 1.1 → 1.0 % (SelQA).
    numbers: bool = True
    # The answer text quotes at most this many findings, each scoring at least this share of
    # the best; the rest stay in the findings list.
    answer_most: int = 3
    answer_share: float = 0.5


RANKING = Ranking()
