"""A curated thesaurus: groups of words and acronyms that mean the same, read from plain text files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUNDLED = Path(__file__).parent / "data" / "thesaurus.txt"
MAX_GROUPS = 10_000
_SPLIT = re.compile(r"\s*[,=]\s*")


class ThesaurusError(ValueError):
    """A thesaurus file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class Entry:
    """One member of a group: how it is written, and whether it only matches in capitals."""

    text: str
    acronym: bool


def parse(text: str, source: str = "<thesaurus>") -> list[tuple[Entry, ...]]:
    """Return the groups in a thesaurus text."""
    groups = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        members = [m for m in _SPLIT.split(line) if m]
        if len(members) < 2:
            raise ThesaurusError(f"{source}:{n}: a group needs at least two members, separated by ',' or '='")
        groups.append(tuple(Entry(m, m.isupper() and len(m) > 1) for m in members))
        if len(groups) > MAX_GROUPS:
            raise ThesaurusError(f"{source}:{n}: more than {MAX_GROUPS} groups")
    return groups


@lru_cache(maxsize=8)
def load(extra: str = "") -> tuple[tuple[Entry, ...], ...]:
    """Return the bundled groups plus those of an extra file (the QA_THESAURUS setting)."""
    groups = parse(BUNDLED.read_text(encoding="utf-8"), str(BUNDLED))
    if extra:
        path = Path(extra)
        try:
            groups += parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise ThesaurusError(f"{path}: cannot read thesaurus ({exc})") from None
    return tuple(groups)
