"""The index on disk, defined once: folder layout, Whoosh schema, catalog, details and manifest.

Both sides import this module: the builder writes what it describes and serving reads it.
Nothing here creates or writes an index, so a serving worker never loads index-writing code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.system import pack_uint

from qa_service.search.analysis import make_analyzer, terms_of

POINTER = "CURRENT"            # names the live version
PREVIOUS = "PREVIOUS"          # names the version `rollback` returns to
VERSIONS = "versions"          # one folder per built version
MANIFEST = "manifest.json"     # a version's counts, build time and content hashes
CATALOG_FILE = "catalog.json"  # every report's metadata: small, loaded by every worker
REPORTS_DIR = "reports"        # one <id>.json per report (page HTML, passages), read on demand
WORDS_FILE = "words.json"      # unstemmed words, for spelling suggestions
TMP_PREFIX = ".tmp-"           # staging folders of builds in progress
VERSION_NAME = re.compile(r"^v\d{8}T\d{6}-\d{6}$")
# Bump when the schema, the analyzer or these files change: an older index is rebuilt in full.
SCHEMA_VERSION = 12  # 8: NFKC tokenizer (issue 14); 9: stored page numbers (12); 10: in_section (15);
# 11: id, ordinal and kind stored only, text fields indexed through terms_of (issue 16, build speed);
# 12: title weight 0.4 -> 0.8 (issue 11)
# Field weights for BM25F, applied by Whoosh to posting weights at index time: passage text
# counts most; headings and titles give context. The title's weight was chosen across corpora
# (`benchmarks/field_weights.py`, BENCHMARKS.md): with each of SQuAD, WikiQA and SelQA dev left
# out in turn, the weight best on the other two was 0.8 or 1.2; 0.8 against 0.4, as served, R@1
# SQuAD -0.1, WikiQA +1.6, SelQA +0.2 points; 1.2 gained WikiQA more but only WikiQA.
FIELD_BOOSTS = {"text": 1.0, "section": 0.5, "title": 0.8}
SEARCH_FIELDS = tuple(FIELD_BOOSTS)
# BM25F saturation and length normalisation: the textbook values, and Whoosh's defaults.
BM25_K1 = 1.2
BM25_B = 0.75


class IndexProblem(RuntimeError):
    """Base for index problems a user can fix; the message says how."""


class NoIndexError(IndexProblem):
    """There is no built index where one was expected."""


class BuildLockedError(IndexProblem):
    """Another build holds the lock on this index directory."""


class NoReportsError(IndexProblem):
    """The content folder holds no report files, so there is nothing to index."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"no reports (*.md files) in {folder}")
        self.folder = folder


class PassageText(TEXT):
    """A TEXT field whose words come from terms_of(), the questions' own analysis, counted in C."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield (term bytes, frequency, weight, encoded frequency) for each distinct term."""
        # Whoosh's analyzer chain passes one Python token object per word through four
        # generators; this gives the same terms (tests/test_indexing.py) at a third of the cost.
        # Anything but plain indexing of a string goes the general way.
        if not isinstance(value, str) or set(kwargs) - {"mode"}:
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for term, freq in Counter(terms_of(value)).items():
            yield term.encode("utf-8"), freq, freq * boost, pack_uint(freq)


def make_schema() -> Schema:
    """Return the schema: searchable text, section and title, plus what a citation needs."""
    analyzer = make_analyzer()
    # Only report_id is searched (the report filter, deleting a report's passages); the other
    # facts are stored for citations. Indexing them cost a fifth of a build's postings.
    return Schema(
        id=STORED(),
        report_id=ID(stored=True),
        ordinal=STORED(),
        kind=STORED(),
        text=PassageText(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["text"]),
        section=PassageText(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["section"]),
        title=PassageText(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["title"]),
        source_url=STORED(),
        page=STORED(),
        page_end=STORED(),
        page_label=STORED(),
        in_section=STORED(),
    )


@dataclass(frozen=True)
class ReportMeta:
    """One report's entry in the catalog: its front matter facts and passage count."""

    id: str
    title: str
    publisher: str
    published: str | None
    sha256: str
    passage_count: int
    file: str = ""
    short_title: str | None = None
    publisher_short: str | None = None
    source_url: str | None = None
    source_note: str | None = None
    subjects: list[str] = field(default_factory=list)
    summary: str | None = None
    example_questions: list[str] = field(default_factory=list)
    kind: str = "report"
    source_file: str | None = None
    pages: int | None = None
    needs_review: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Return the short title, or the title when there is none."""
        return self.short_title or self.title

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PassageRecord:
    """One passage as a report page and /api/reports/<id> show it."""

    id: str
    ordinal: int
    kind: str
    section: str
    text: str
    page: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    in_section: int = 0


@dataclass(frozen=True)
class ReportDetail:
    """One report's detail file: its catalog entry, page HTML and passages."""

    meta: ReportMeta
    html: str
    passages: list[PassageRecord]

    def to_dict(self) -> dict[str, Any]:
        """Return the detail file's JSON object."""
        return {**self.meta.to_dict(), "html": self.html,
                # vars() rather than dataclasses.asdict: the fields are flat, and asdict's deep
                # copy was half the time of writing the detail files.
                "passages": [dict(vars(p)) for p in self.passages]}


@dataclass(frozen=True)
class Manifest:
    """What a finished version records about itself."""

    version: str
    schema: int
    built_at: str
    content_dir: str
    reports: int
    passages: int
    files: dict[str, dict[str, str]]  # content file (relative path) → {"sha256", "report_id"}


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    # An index written by an older build may lack newer optional keys; never crash on extras.
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def meta_from_json(data: dict[str, Any]) -> ReportMeta:
    """Return a catalog entry from its JSON object."""
    return ReportMeta(**_known(ReportMeta, data))


def detail_from_json(data: dict[str, Any]) -> ReportDetail:
    """Return a report detail from its JSON object."""
    passages = [PassageRecord(**_known(PassageRecord, p)) for p in data.get("passages", [])]
    return ReportDetail(meta_from_json(data), str(data.get("html", "")), passages)


def versions_dir(index_dir: Path) -> Path:
    """Return the folder that holds one subfolder per built version."""
    return index_dir / VERSIONS


def read_pointer(index_dir: Path, name: str = POINTER) -> str | None:
    """Return the version a pointer file names, or None if there is none."""
    try:
        value = (index_dir / name).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return value if VERSION_NAME.match(value) else None


def current_version(index_dir: Path) -> str | None:
    """Return the live version's name, or None when nothing has been built."""
    version = read_pointer(index_dir)
    if version and (versions_dir(index_dir) / version / MANIFEST).is_file():
        return version
    return None


def require_current(index_dir: Path) -> str:
    """Return the live version or raise NoIndexError explaining how to build one."""
    version = current_version(index_dir)
    if version is None:
        raise NoIndexError(f"no index in {index_dir}: build one with `qa-service index build`")
    return version


def read_manifest(index_dir: Path, version: str) -> Manifest:
    """Return the manifest written with a version."""
    path = versions_dir(index_dir) / version / MANIFEST
    return Manifest(**_known(Manifest, json.loads(path.read_text(encoding="utf-8"))))


def read_catalog(version_dir: Path) -> dict[str, ReportMeta]:
    """Return every report's catalog entry in a version folder, by id."""
    raw = json.loads((version_dir / CATALOG_FILE).read_text(encoding="utf-8"))
    return {rid: meta_from_json(entry) for rid, entry in raw.items()}


def read_detail(version_dir: Path, report_id: str) -> ReportDetail:
    """Return one report's detail from a version folder."""
    path = version_dir / REPORTS_DIR / f"{report_id}.json"
    return detail_from_json(json.loads(path.read_text(encoding="utf-8")))


def read_words(version_dir: Path) -> list[str]:
    """Return the unstemmed words of a version, for spelling suggestions."""
    return list(json.loads((version_dir / WORDS_FILE).read_text(encoding="utf-8")))


def file_hash(path: Path) -> str:
    """Return a content file's SHA-256, the key that decides whether it is analysed again."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
