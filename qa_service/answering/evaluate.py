"""Check the service on a gold set of one's own: questions with the passage, report or answer expected."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.answering.answer import Answer

MAX_LINES = 100_000
FIELDS = {"question", "report_id", "passage_id", "answer", "answerable"}


class GoldError(ValueError):
    """A gold-set line that cannot be used; names the file and line."""


@dataclass(frozen=True)
class GoldQuestion:
    """One line of a gold set."""

    question: str
    report_id: str | None = None
    passage_id: str | None = None
    answers: tuple[str, ...] = ()
    answerable: bool = True


@dataclass
class EvalResult:
    """Outcomes over a gold set, and the metrics derived from them."""

    ranks: list[int | None] = field(default_factory=list)   # gold rank among findings (ranked questions)
    finding_ok: list[bool] = field(default_factory=list)    # first finding holds an expected answer
    refused: list[bool] = field(default_factory=list)       # answerable questions refused
    wrongly_answered: list[bool] = field(default_factory=list)  # unanswerable questions answered
    ms: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float | int | None]:
        """Return Recall@1, Recall@5, MRR@10, Finding@1, refusal shares and timing."""
        def share(flags: list[bool]) -> float | None:
            return sum(flags) / len(flags) if flags else None

        ranked = self.ranks
        return {
            "questions": len(self.ms),
            "recall@1": share([r is not None and r <= 1 for r in ranked]),
            "recall@5": share([r is not None and r <= 5 for r in ranked]),
            "mrr@10": sum(1 / r for r in ranked if r is not None and r <= 10) / len(ranked) if ranked else None,
            "finding@1": share(self.finding_ok),
            "answerable_refused": share(self.refused),
            "unanswerable_answered": share(self.wrongly_answered),
            "median_ms": statistics.median(self.ms) if self.ms else None,
            "p95_ms": sorted(self.ms)[int(0.95 * (len(self.ms) - 1))] if self.ms else None,
        }


def _parse_line(path: Path, n: int, line: str) -> GoldQuestion:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise GoldError(f"{path}:{n}: not valid JSON ({getattr(exc, 'msg', 'unreadable')})") from None
    if not isinstance(item, dict):
        raise GoldError(f"{path}:{n}: each line must be a JSON object")
    unknown = set(item) - FIELDS
    if unknown:
        raise GoldError(f"{path}:{n}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(FIELDS))}")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise GoldError(f"{path}:{n}: 'question' must be a non-empty string")
    answers = item.get("answer", [])
    answers = [answers] if isinstance(answers, str) else answers
    if not isinstance(answers, list) or not all(isinstance(a, str) and a for a in answers):
        raise GoldError(f"{path}:{n}: 'answer' must be a string or a list of strings")
    for key in ("report_id", "passage_id"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise GoldError(f"{path}:{n}: '{key}' must be a string")
    answerable = item.get("answerable", True)
    if not isinstance(answerable, bool):
        raise GoldError(f"{path}:{n}: 'answerable' must be true or false")
    gold = GoldQuestion(question, item.get("report_id"), item.get("passage_id"), tuple(answers), answerable)
    if answerable and not (gold.report_id or gold.passage_id or gold.answers):
        raise GoldError(f"{path}:{n}: give 'passage_id', 'report_id' or 'answer' (or \"answerable\": false)")
    return gold


def read_gold(path: Path) -> list[GoldQuestion]:
    """Read a JSON Lines gold set, one question per line; blank lines and '#' lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GoldError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise GoldError(f"{path}: {exc.strerror}") from None
    gold = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            gold.append(_parse_line(path, n, line))
            if len(gold) > MAX_LINES:
                raise GoldError(f"{path}:{n}: more than {MAX_LINES} questions")
    if not gold:
        raise GoldError(f"{path}: no questions")
    return gold


def _rank(gold: GoldQuestion, keys: list[tuple[str, str]]) -> int | None:
    for n, (report_id, passage_id) in enumerate(keys, start=1):
        if (gold.passage_id or passage_id) == passage_id and (gold.report_id or report_id) == report_id:
            return n
    return None


def evaluate(ask: Callable[..., Answer], gold: list[GoldQuestion], limit: int = 10) -> EvalResult:
    """Ask every gold question through `ask` (the service's own, as the API uses) and score the answers."""
    result = EvalResult()
    for g in gold:
        answer = ask(g.question, limit=limit)
        result.ms.append(answer.took_ms)
        if not g.answerable:
            result.wrongly_answered.append(answer.found)
            continue
        result.refused.append(not answer.found)
        if g.report_id or g.passage_id:
            result.ranks.append(_rank(g, [(f.citation.report_id, f.citation.passage_id) for f in answer.findings]))
        if g.answers:
            first = answer.findings[0].text.lower() if answer.findings else ""
            result.finding_ok.append(any(a.lower() in first for a in g.answers))
    return result


def format_metrics(metrics: dict[str, float | int | None]) -> str:
    """Return the metrics as an aligned two-column table."""
    lines = []
    for key, value in metrics.items():
        shown = "n/a" if value is None else (f"{value}" if isinstance(value, int) else f"{value:.3f}")
        lines.append(f"{key:<24}{shown:>10}")
    return "\n".join(lines)
