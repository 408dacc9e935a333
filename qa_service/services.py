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
from qa_service.store import Store
from qa_service.store.ratelimit import Rate


@dataclass
class Services:
    """Everything a request needs, created once per process and handed out from here."""

    settings: Mapping[str, object]
    limits: Limits
    index: IndexHolder
    thesaurus: tuple[tuple[Entry, ...], ...]
    store: Store
    ranking: Ranking = field(default=RANKING)

    def live(self) -> OpenIndex:
        """Return the live index version (reopened when a rebuild switched it)."""
        return self.index.get()

    def ask(self, question: str, limit: int = 5, history: list[str] | None = None,
            reports: list[str] | None = None, index: OpenIndex | None = None,
            shown: frozenset[str] = frozenset()) -> Answer:
        """Answer a question from the live index (or the given version) with these settings."""
        return ask(index or self.live(), question, limit=limit, history=history, reports=reports,
                   groups=self.thesaurus, ranking=self.ranking, shown=shown)


def build_services(settings: Mapping[str, object]) -> Services:
    """Return the wired parts for a settings mapping; a bad thesaurus or limit fails here, at start."""
    return Services(
        settings=settings,
        limits=Limits.from_settings(settings),
        index=IndexHolder(Path(str(settings["INDEX_DIR"]))),
        thesaurus=thesaurus.load(str(settings.get("THESAURUS") or "")),
        store=build_store(settings),
    )


def _flag(settings: Mapping[str, object], name: str) -> bool:
    value = settings[name]
    if isinstance(value, str):
        value = config.convert(name, value)
    return bool(value)


def build_store(settings: Mapping[str, object]) -> Store:
    """Return the database store the settings name; nothing is opened until `Store.start()`."""
    days = settings["LOG_DAYS"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ValueError(f"QA_LOG_DAYS must be a whole number of at least 1, got {days!r}")
    return Store(str(settings.get("DATABASE_URL") or ""), Path(str(settings.get("INSTANCE_PATH") or "instance")),
                 log_questions=_flag(settings, "LOG_QUESTIONS"), log_days=days,
                 rate=Rate.parse(str(settings["FEEDBACK_RATE"])),
                 admin_rate=Rate.parse(str(settings["ADMIN_RATE"]), "QA_ADMIN_RATE"))


def services_from_env(**overrides: object) -> Services:
    """Return the wired parts for the QA_* environment, with overrides (CLI options) applied."""
    settings = config.from_env()
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return build_services(settings)
