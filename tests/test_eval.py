"""`qa-service eval`: a team's own gold set scored with the same code as the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service.answering.answer import ask
from qa_service.answering.evaluate import GoldError, evaluate, read_gold
from qa_service.cli import main


def write_gold(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_metrics_on_the_bundled_report(bundled, tmp_path: Path) -> None:
    fathers = next(p.id for p in bundled.report("ages-of-concern").passages if "fathers" in p.text)
    gold = read_gold(write_gold(tmp_path, [
        "# passage, report and answer kinds of gold",
        json.dumps({"question": "What about fathers?", "passage_id": fathers, "answer": "role of the fathers"}),
        json.dumps({"question": "When was it published?", "report_id": "ages-of-concern", "answer": ["26 October 2011"]}),
        json.dumps({"question": "What did the reviews say about tax policy?", "report_id": "ages-of-concern"}),
        json.dumps({"question": "What is the capital of France?", "answerable": False}),
        json.dumps({"question": "Who won the 1966 world cup?", "answerable": False}),
    ]))
    metrics = evaluate(lambda q, limit: ask(bundled, q, limit=limit), gold).metrics()
    assert metrics["questions"] == 5
    assert metrics["recall@1"] == pytest.approx(2 / 3)
    assert metrics["finding@1"] == 1.0
    assert metrics["answerable_refused"] == pytest.approx(1 / 3)
    assert metrics["unanswerable_answered"] == 0.0


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"question": ""}', "'question' must be a non-empty string"),
    ('{"question": "q"}', "give 'passage_id', 'report_id' or 'answer'"),
    ('{"question": "q", "answer": 5}', "'answer' must be a string or a list"),
    ('{"question": "q", "answerable": "no"}', "'answerable' must be true or false"),
    ('{"question": "q", "answr": "typo"}', "unknown field(s) answr"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_gold(tmp_path, ['{"question": "fine", "answer": "x"}', line])
    with pytest.raises(GoldError) as info:
        read_gold(path)
    assert str(info.value).startswith(f"{path}:2: ") and message in str(info.value)


def test_cli_eval(bundled_index: Path, tmp_path: Path) -> None:
    path = write_gold(tmp_path, [json.dumps({"question": "What about fathers?", "answer": "fathers"})])
    result = CliRunner().invoke(main, ["eval", str(path), "--index", str(bundled_index), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["finding@1"] == 1.0
    text = CliRunner().invoke(main, ["eval", str(path), "--index", str(bundled_index)])
    assert "finding@1" in text.output and "1.000" in text.output
    missing = CliRunner().invoke(main, ["eval", str(tmp_path / "none.jsonl"), "--index", str(bundled_index)])
    assert missing.exit_code == 1 and "none.jsonl" in missing.output
