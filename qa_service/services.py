"""The app's parts wired in one place: settings, limits, the live index, thesaurus and ranking.

The API, the chat page, `qa-service ask` and `qa-service eval` all answer through
`Services.ask`, so a question gets the same answer whichever way it arrives, under any settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qa_service import config
from qa_service.answering import thesaurus
from qa_service.answering.answer import Answer, ask
from qa_service.answering.ranking import RANKING, Ranking
from qa_service.answering.thesaurus import Entry
from qa_service.config import Limits
from qa_service.search.retrieval import IndexHolder, OpenIndex


@dataclass
class Services:
    """Everything a request needs, created once per process and handed out from here."""

    settings: Mapping[str, object]
    limits: Limits
    index: IndexHolder
    thesaurus: tuple[tuple[Entry, ...], ...]
    ranking: Ranking = field(default=RANKING)

    def live(self) -> OpenIndex:
        """Return the live index version (reopened when a rebuild switched it)."""
        return self.index.get()

    def ask(self, question: str, limit: int = 5, history: list[str] | None = None,
            reports: list[str] | None = None, index: OpenIndex | None = None) -> Answer:
        """Answer a question from the live index (or the given version) with these settings."""
        return ask(index or self.live(), question, limit=limit, history=history, reports=reports,
                   groups=self.thesaurus, ranking=self.ranking)


def build_services(settings: Mapping[str, object]) -> Services:
    """Return the wired parts for a settings mapping; a bad thesaurus or limit fails here, at start."""
    return Services(
        settings=settings,
        limits=Limits.from_settings(settings),
        index=IndexHolder(Path(str(settings["INDEX_DIR"]))),
        thesaurus=thesaurus.load(str(settings.get("THESAURUS") or "")),
    )


def services_from_env(**overrides: object) -> Services:
    """Return the wired parts for the QA_* environment, with overrides (CLI options) applied."""
    settings = config.from_env()
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return build_services(settings)
