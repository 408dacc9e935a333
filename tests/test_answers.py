"""Natural questions about the bundled report get the right cited finding first, or none."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa_service.answering.answer import NOT_FOUND, QuestionError, ask, best_unit
from qa_service.answering.query import prepare_query
from qa_service.answering.ranking import RANKING
from qa_service.answering.sentences import sentence_spans, units
from qa_service.answering.thesaurus import ThesaurusError, load, parse

BABIES = "ages-of-concern"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What went wrong with pre-birth assessments?",
         "shortcomings in the timeliness and quality of pre-birth assessments"),
        ("What did it say about the role of fathers?", "the role of the fathers had been marginalised"),
        ("What did practitioners underestimate about the baby?", "practitioners underestimated the fragility of the baby"),
        ("Were young people treated as adults?", "young people were treated as adults rather than being considered as children"),
        ("How many serious case reviews were evaluated?", "482 serious case reviews"),
        ("When was Ages of concern published?", "26 October 2011"),
        ("Who published the report?", "Office for Standards in Education"),
        ("Was there enough support for young parents?", "there had been insufficient support for young parents"),
        ("What lessons were there for health agencies?", "lessons for both commissioning and provider health agencies"),
        ("Did agencies focus on challenging behaviour?", "focused on the young person’s challenging behaviour"),
    ],
)
def test_first_finding_answers_the_question(bundled, question: str, expected: str) -> None:
    answer = ask(bundled, question)
    assert answer.found, answer
    first = answer.findings[0]
    assert expected in first.text
    assert first.text in first.passage  # a finding quotes its passage verbatim
    assert first.citation.report_id == BABIES
    assert first.citation.url == f"/reports/{BABIES}#{first.citation.passage_id}"
    assert answer.answer.startswith(f"“{first.text}” [1]")


def test_fathers_question_gets_the_clause_not_the_sentence(bundled) -> None:
    first = ask(bundled, "What about fathers?").findings[0]
    assert first.text == "the role of the fathers had been marginalised"
    assert len(first.passage) > 5 * len(first.text)
    assert first.citation.section == "Summary"


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "How do I bake sourdough bread?",
        "Who won the football world cup in 1966?",
        "Explain quantum entanglement",
        "zzzz qqqq",
    ],
)
def test_unrelated_questions_are_refused(bundled, question: str) -> None:
    answer = ask(bundled, question)
    assert not answer.found and answer.findings == [] and answer.answer == NOT_FOUND


def test_refusal_offers_topics_the_reports_cover(bundled) -> None:
    near = ask(bundled, "Which apprenticeships suit lorry drivers in Wales?")
    assert not near.found
    assert near.suggestions and near.suggestions[0] == "Related publications — Apprenticeships: developing skills for future prosperity"
    # Each suggestion is a link that opens the nearest section.
    assert near.related[0].text == near.suggestions[0]
    assert near.related[0].url.startswith("/reports/ages-of-concern-related#p-")
    # Only passages sharing real words with the question are suggested; otherwise there are none.
    far = ask(bundled, "zzzz qqqq")
    assert far.suggestions == [] and far.related == []
    assert ask(bundled, "fathers").suggestions == []


@pytest.mark.parametrize(("question", "expected", "synonyms"), [
    ("What about dads?", "the role of the fathers had been marginalised", {"father"}),
    ("Were infants thought fragile?", "practitioners underestimated the fragility of the baby", {"baby", "newborn"}),
    ("How many SCR evaluations were there?", "482 serious case reviews", {"serious case review"}),
    ("Were teenagers treated as adults?", "young people were treated as adults", {"young people"}),
    ("What mistakes were made with newborns?", "common recurring errors were seen", {"error", "baby"}),
    ("When was the report released?", "26 October 2011", {"publish"}),
])
def test_thesaurus_finds_synonyms_and_says_so(bundled, question: str, expected: str, synonyms: set[str]) -> None:
    answer = ask(bundled, question)
    assert expected in answer.findings[0].text
    assert synonyms <= set(answer.expanded_terms)


def test_a_local_authority_is_not_an_author(bundled) -> None:
    assert "writer" not in ask(bundled, "What did the local authority do?").expanded_terms


def test_synonyms_rank_below_literal_matches(bundled) -> None:
    groups = parse("fathers, marginalised")  # a deliberately odd pair, to test the ordering
    answer = ask(bundled, "What about fathers?", groups=groups)
    assert "fathers" in answer.findings[0].text and answer.expanded_terms == ["marginalised"]


def test_a_synonym_of_several_words_counts_only_when_all_its_words_are_there(bundled) -> None:
    # "LSCBs" stands for "Local Safeguarding Children Board": a passage holding only "children"
    # (the related publications, the subject headings) does not hold it.
    answer = ask(bundled, "What did the LSCBs say about fathers?", limit=10)
    passages = [f.passage for f in answer.findings]
    assert any("the role of the fathers had been marginalised" in p for p in passages)
    assert all("Local Safeguarding Children Boards" in p or "fathers" in p for p in passages), passages


def test_a_synonym_of_several_words_weighs_one_synonym_not_one_per_word(bundled) -> None:
    query = prepare_query(bundled, "What did the LSCBs say about fathers?", groups=load())
    phrase = sum(query.boosts[t] for t in ("local", "safeguard", "children", "board"))
    # "LSCBs" is in no report, so its one synonym carries the word's full weight, shared between
    # the synonym's four words (it was 4 x 0.4, outweighing "fathers").
    assert phrase == pytest.approx(query.boosts["father"])


def test_lowercase_words_do_not_trigger_acronyms(bundled) -> None:
    assert "special educational needs" not in ask(bundled, "Did they send it?").expanded_terms
    assert "special educational needs" in ask(bundled, "What is SEND?").expanded_terms


@pytest.mark.parametrize("question", ["What did the LSCBs do?", "What was the SCR's finding?",
                                      "What did the LSCBs' reviews find?", "What did the SCRs say?"])
def test_acronym_plurals_and_possessives_expand_like_the_singular(bundled, question: str) -> None:
    expanded = ask(bundled, question).expanded_terms
    assert "Local Safeguarding Children Board" in expanded or "serious case review" in expanded


def test_a_plural_acronym_the_stemmer_keeps_apart_is_answered_through_its_synonyms(bundled) -> None:
    # "CSPRs" stems to "csprs", not "cspr"; its expansion must still stand in for it.
    answer = ask(bundled, "What did the CSPRs say about fathers?")
    assert answer.found and "the role of the fathers had been marginalised" in answer.findings[0].text
    assert "serious case review" in answer.expanded_terms


def test_acronym_plural_is_not_a_longer_word(bundled) -> None:
    assert "special educational needs" not in ask(bundled, "What did SENDER say?").expanded_terms
    assert "serious case review" not in ask(bundled, "What did SCRIPTS say?").expanded_terms


def test_a_users_thesaurus_file_extends_the_bundled_one(tmp_path) -> None:
    extra = tmp_path / "mine.txt"
    extra.write_text("# ours\nkinship care, family and friends care\n", encoding="utf-8")
    groups = load(str(extra))
    assert groups[-1][0].text == "kinship care" and len(groups) > 10
    bad = tmp_path / "bad.txt"
    bad.write_text("ok, fine\nlonely\n", encoding="utf-8")
    with pytest.raises(ThesaurusError, match=r"bad\.txt:2: a group needs at least two members"):
        load(str(bad))


@pytest.mark.parametrize(("question", "fixed", "expected"), [
    ("pre-brith asessment", "pre-birth assessment", "pre-birth assessments"),
    ("What about the fathrs?", "What about the fathers?", "the role of the fathers had been marginalised"),
    ("What about Fathrs?", "What about Fathers?", "the role of the fathers had been marginalised"),
])
def test_misspelt_questions_are_corrected_with_did_you_mean(bundled, question: str, fixed: str, expected: str) -> None:
    answer = ask(bundled, question)
    assert answer.did_you_mean == fixed
    assert expected in answer.findings[0].text


@pytest.mark.parametrize("question", ["What did Munro recommend?", "What about Warsaw?", "Did Laming say more?"])
def test_names_the_reports_do_not_hold_are_refused_not_respelt(bundled, question: str) -> None:
    answer = ask(bundled, question)
    assert not answer.found and answer.did_you_mean is None


def test_correct_spelling_leaves_known_words_alone(bundled) -> None:
    assert ask(bundled, "What about fathers?").did_you_mean is None


@pytest.mark.parametrize("question", ['title:(', "AND OR NOT", "*", '"unclosed quote', "fathers^5 AND (", "[x TO y]"])
def test_query_syntax_is_text_not_an_error(bundled, question: str) -> None:
    ask(bundled, question)  # must not raise


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_an_error(bundled, question: str) -> None:
    with pytest.raises(QuestionError):
        ask(bundled, question)


def test_limit_and_report_filter(bundled) -> None:
    assert len(ask(bundled, "young people", limit=1).findings) == 1
    related = ask(bundled, "young people", reports=["ages-of-concern-related"])
    assert related.found and {f.citation.report_id for f in related.findings} == {"ages-of-concern-related"}


def test_the_findings_list_ends_where_passages_stop_being_about_the_question(bundled) -> None:
    # Every passage of the report holds "serious case reviews" through its title; the catalogue
    # record's date and the publisher line say nothing about how many were evaluated.
    answer = ask(bundled, "How many serious case reviews were evaluated?", limit=10)
    assert "482 serious case reviews" in answer.findings[0].text
    assert not any("Date of publication" in f.passage or f.passage.startswith("Published by") for f in answer.findings)
    best = answer.findings[0].score
    assert all(f.score >= 0.3 * best for f in answer.findings[1:])
    # Without the cut the same question lists them, so the check above is not vacuous.
    loose = ask(bundled, "How many serious case reviews were evaluated?", limit=10,
                ranking=replace(RANKING, further_share=0.0))
    assert any("Date of publication" in f.passage for f in loose.findings)


def test_history_steers_a_follow_up_without_its_own_words(bundled) -> None:
    alone = ask(bundled, "Why?")
    follow = ask(bundled, "Why?", history=["What went wrong with pre-birth assessments?"])
    assert not alone.found
    assert "pre-birth" in follow.findings[0].text


def test_sentences_respect_abbreviations() -> None:
    text = "Dr. Smith met the U.S. team in Jan. 2010. They agreed. A new start."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Dr. Smith met the U.S. team in Jan. 2010.", "They agreed.", "A new start."]


def test_semicolon_lists_split_into_clauses() -> None:
    text = "These included first long clause here; a second long clause here; and the final long clause."
    assert units(text) == ["These included first long clause here", "a second long clause here",
                           "the final long clause."]


def test_best_unit_prefers_rarer_words() -> None:
    passage = "Common words appear here; plain words appear here; the rare aardvark appears here."
    assert best_unit(passage, {"appear": 0.1, "aardvark": 5.0}) == "the rare aardvark appears here."


def test_two_clauses_joined_by_one_semicolon_stay_together() -> None:
    text = "The river flooded the town in spring; its people rebuilt every house by autumn."
    assert units(text) == [text]


def test_question_words_side_by_side_rank_above_the_same_words_apart(tmp_path) -> None:
    from dataclasses import replace

    from qa_service.answering.ranking import RANKING
    from qa_service.search.builder import build_index
    from qa_service.search.retrieval import IndexHolder
    from tests.conftest import write_report

    # Two passages with the same words, the same length and one sentence each: only where the
    # question's neighbouring words ("home visits") sit differs.
    apart = "Midwives logged home addresses, while nurses made visits to the family clinic each week."
    together = "Midwives logged family addresses, while nurses made home visits to the clinic each week."
    write_report(tmp_path / "content", "a", apart)
    write_report(tmp_path / "content", "b", together, title="Another test report")
    build_index(tmp_path / "content", tmp_path / "index")
    index = IndexHolder(tmp_path / "index").get()

    found = ask(index, "Who made home visits?", limit=2)
    assert [f.passage for f in found.findings] == [together, apart]
    assert found.findings[0].score > found.findings[1].score
    plain = ask(index, "Who made home visits?", limit=2, ranking=replace(RANKING, proximity_boost=0.0))
    assert plain.findings[0].score == pytest.approx(plain.findings[1].score, rel=0.02)


def test_a_word_the_report_writes_in_two_parts_is_searched_as_those_parts(bundled) -> None:
    from dataclasses import replace

    from qa_service.answering.ranking import RANKING

    question = "What went wrong with prebirth assessments?"  # the report writes "pre-birth"
    answer = ask(bundled, question)
    assert answer.did_you_mean == "What went wrong with pre birth assessments?"
    assert "pre-birth assessments" in answer.findings[0].text
    assert not ask(bundled, question, ranking=replace(RANKING, compounds=False)).found


def compound_index(tmp_path):
    from qa_service.search.builder import build_index
    from qa_service.search.retrieval import IndexHolder
    from tests.conftest import write_report

    write_report(tmp_path / "content", "a", "The caseload of every social worker doubled within a year.")
    write_report(tmp_path / "content", "b", "Each case was heard by a worker who carried a heavy load of paperwork "
                 "for a family.\n\nSteel workers struck in 1919. The weather was hot; the test came later.",
                 title="Another test report")
    build_index(tmp_path / "content", tmp_path / "index")
    return IndexHolder(tmp_path / "index").get()


def test_words_written_apart_find_the_word_written_as_one(tmp_path) -> None:
    from dataclasses import replace

    from qa_service.answering.ranking import RANKING

    index = compound_index(tmp_path)
    question = "How did the case load of a social worker change?"
    assert "caseload" in ask(index, question).findings[0].text
    assert "caseload" not in ask(index, question, ranking=replace(RANKING, compounds=False)).findings[0].text


def test_an_unknown_word_is_cut_only_into_words_some_passage_writes_side_by_side(tmp_path) -> None:
    from qa_service.answering.query import split_compound

    index = compound_index(tmp_path)
    assert split_compound(index, "steelworkers") == "steel workers"
    assert split_compound(index, "hottest") is None  # "hot" and "test" are known, never side by side
    assert ask(index, "When did steelworkers strike?").findings[0].text == "Steel workers struck in 1919."


def test_known_terms_and_written_words_agree_with_the_index(bundled) -> None:
    from qa_service.search.format import SEARCH_FIELDS

    # known() reads the remembered idf instead of asking Whoosh; both must say the same.
    for term in ["father", "birth", "ofst", "concern", "zzqx", "neverend", "2011"]:
        truth = any(bundled.searcher.doc_frequency(name, term) for name in SEARCH_FIELDS)
        assert bundled.known(term) is truth, term
    assert bundled.starts_a_word("fathe") and bundled.starts_a_word("fathers")
    assert not bundled.starts_a_word("zzqx") and not bundled.starts_a_word("fathersx")


def test_numbers_in_words_find_numbers_in_figures(bundled) -> None:
    from dataclasses import replace

    from qa_service.answering.ranking import RANKING

    question = "What about young people over fourteen?"  # the report writes "over the age of 14"
    assert "over the age of 14" in ask(bundled, question).findings[0].text
    assert "over the age of 14" not in ask(bundled, question, ranking=replace(RANKING, numbers=False)).findings[0].text


def test_number_names_go_both_ways() -> None:
    from qa_service.answering.query import number_names

    assert number_names(["articl", "5"]) == {"5": {"five"}}
    assert number_names(["fifth", "amend"]) == {"fifth": {"5th"}}
    assert number_names(["14", "fourteen"]) == {}  # the question already has both
    assert number_names(["2011"]) == {}  # years stay as they are


def test_at_most_two_capitalised_words_are_looked_up_per_question(bundled) -> None:
    from qa_service.answering.query import SPELLING_MAX_NAMES, correct_spelling

    assert SPELLING_MAX_NAMES == 2
    assert correct_spelling(bundled, "Fathrs Fathrs Fathrs fathrs") == "Fathers Fathers Fathrs fathers"
