"""Findings that read as complete statements, and lists answered as lists."""

from __future__ import annotations

from qa_service.answering.answer import ask
from qa_service.answering.statements import asks_for_several, complete

PASSAGE = ("In the reviews that concerned babies some common recurring errors were seen. These included "
           "late assessments; weak support for young parents; the role of the fathers had been marginalised; "
           "and poor recording of decisions and actions. This report does not cover older children.")


def test_a_sentence_leaning_on_the_one_before_gets_it_too() -> None:
    text, items = complete(PASSAGE, "These included late assessments", several=False)
    assert text == "In the reviews that concerned babies some common recurring errors were seen. These included late assessments"
    assert items == []
    assert text in PASSAGE  # still verbatim


def test_a_sentence_naming_its_subject_stands_alone() -> None:
    assert complete(PASSAGE, "This report does not cover older children.", several=False)[0] == \
        "This report does not cover older children."


def test_a_question_for_several_things_gets_the_items() -> None:
    text, items = complete(PASSAGE, "In the reviews that concerned babies some common recurring errors were seen.",
                           several=True)
    assert items == ["Late assessments", "Weak support for young parents",
                     "The role of the fathers had been marginalised", "Poor recording of decisions and actions"]
    assert text in PASSAGE and text.endswith("and poor recording of decisions and actions.")


def test_which_questions_ask_for_several() -> None:
    assert asks_for_several("What went wrong with pre-birth assessments?")
    assert asks_for_several("What are the key lessons for babies under one?")
    assert not asks_for_several("Which year was it published?")


def test_bundled_lesson_question_lists_the_errors(bundled) -> None:
    answer = ask(bundled, "What are the key lessons for babies under one?")
    first = answer.findings[0]
    assert len(first.items) >= 7 and any("fathers" in item for item in first.items)
    assert first.text.startswith("In the reviews that concerned babies")


def test_bundled_pre_birth_finding_is_a_complete_statement(bundled) -> None:
    text = ask(bundled, "What went wrong with pre-birth assessments?").findings[0].text
    assert not text.startswith("These") and "pre-birth assessments" in text


def test_a_listing_never_outranks_the_report(bundled) -> None:
    first = ask(bundled, "What about teenagers?").findings[0]
    assert first.citation.report_id == "ages-of-concern"


def test_a_word_in_no_report_is_matched_through_its_synonym(bundled) -> None:
    # "dads" appears nowhere; its thesaurus synonym "fathers" stands in for it fully.
    answer = ask(bundled, "What did reviews say about dads?")
    assert answer.findings[0].text == "the role of the fathers had been marginalised"


def test_a_finding_takes_the_next_sentence_when_that_one_leans_on_it() -> None:
    passage = ("On May 21, 2013, the owners awarded the game to the new stadium. It opened in 2014. "
               "Tickets went on sale later.")
    text, _ = complete(passage, "On May 21, 2013, the owners awarded the game to the new stadium.", several=False)
    assert text == "On May 21, 2013, the owners awarded the game to the new stadium. It opened in 2014."
    # Only the one sentence that leans on it, and only when asked to follow on.
    assert complete(passage, "It opened in 2014.", several=False)[0] == \
        "On May 21, 2013, the owners awarded the game to the new stadium. It opened in 2014."
    assert complete(passage, "On May 21, 2013, the owners awarded the game to the new stadium.", several=False,
                    follow=False)[0] == "On May 21, 2013, the owners awarded the game to the new stadium."


def test_a_clause_inside_a_sentence_does_not_take_the_next_sentence() -> None:
    assert complete(PASSAGE, "These included late assessments", several=False)[0].endswith("late assessments")
