"""The qa-service command line, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service.answering.answer import ask
from qa_service.cli import main
from qa_service.search.retrieval import IndexHolder


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_build_then_ask(runner: CliRunner, tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    built = runner.invoke(main, ["index", "build", "--content", str(content_copy), "--index", str(index_dir)])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("Built index v") and "2 reports" in built.output
    asked = runner.invoke(main, ["ask", "What about the role of fathers?", "--index", str(index_dir)])
    assert asked.exit_code == 0
    assert "[1] the role of the fathers had been marginalised" in asked.output
    assert "/reports/ages-of-concern#p-" in asked.output


def test_environment_variables_set_the_folders(runner: CliRunner, tmp_path: Path, content_copy: Path) -> None:
    env = {"QA_CONTENT_DIR": str(content_copy), "QA_INDEX_DIR": str(tmp_path / "ix")}
    assert runner.invoke(main, ["index", "build"], env=env).exit_code == 0
    assert (tmp_path / "ix" / "CURRENT").is_file()
    assert "fathers" in runner.invoke(main, ["ask", "fathers"], env=env).output


def test_json_output_is_the_answer_object(runner: CliRunner, bundled_index: Path) -> None:
    result = runner.invoke(main, ["ask", "pre-birth assessments", "--json", "--limit", "2", "--index", str(bundled_index)])
    data = json.loads(result.output)
    expected = ask(IndexHolder(bundled_index).get(), "pre-birth assessments", limit=2).to_dict()
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected
    assert set(data["findings"][0]["citation"]) == {
        "report", "report_id", "section", "paragraph", "passage_id", "url", "source_url",
        "page", "page_end", "page_label", "original_url",  # pages: null for reports without them
        "section_paragraph"}


def test_unanswerable_question_says_so(runner: CliRunner, bundled_index: Path) -> None:
    result = runner.invoke(main, ["ask", "What is the capital of France?", "--index", str(bundled_index)])
    assert result.exit_code == 0
    # Nothing in the reports shares its words, so no topics are suggested.
    assert result.output.strip().splitlines() == ["The reports do not answer this question."]
    near = runner.invoke(main, ["ask", "Which apprenticeships suit lorry drivers in Wales?", "--index", str(bundled_index)])
    assert "Topics these reports do cover: Related publications — Apprenticeships" in near.output


def test_bad_content_file_is_one_line_naming_file_and_line(runner: CliRunner, tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    assert runner.invoke(main, ["index", "build", "--content", str(content_copy), "--index", str(index_dir)]).exit_code == 0
    bad = content_copy / "bad.md"
    bad.write_bytes(b"---\ntitle: t\npublisher: p\n---\nok\n\x80 broken\n")
    result = runner.invoke(main, ["index", "build", "--content", str(content_copy), "--index", str(index_dir)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {bad}:6: not UTF-8 text (byte 0x80)"
    still = runner.invoke(main, ["ask", "fathers", "--index", str(index_dir)])
    assert "marginalised" in still.output


def test_ask_without_index_says_how_to_build(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["ask", "anything", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "qa-service index build" in result.output


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_clear_error(runner: CliRunner, bundled_index: Path, question: str) -> None:
    result = runner.invoke(main, ["ask", question, "--index", str(bundled_index)])
    assert result.exit_code == 1 and "question is empty" in result.output


def test_limit_out_of_range_is_misuse(runner: CliRunner, bundled_index: Path) -> None:
    result = runner.invoke(main, ["ask", "fathers", "--limit", "0", "--index", str(bundled_index)])
    assert result.exit_code == 2


def test_missing_content_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["index", "build", "--content", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1 and "content directory does not exist" in result.output
