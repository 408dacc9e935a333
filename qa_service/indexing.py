"""The Whoosh schema and analyzer, and building a new index version from the content folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.lang import stopwords_for_language

from . import versions
from .content import Passage, Report, iter_reports
from .versions import MANIFEST

# Snowball's English stop list, plus words that only carry a question's form ("what did it
# say about …", "tell me …"), which would otherwise count as unmatched content words.
QUESTION_WORDS = frozenset(
    "also could would shall may might must us yes ok please tell say says said saying mention "
    "mentions mentioned describe describes described explain explains anything something "
    "know let like whats else again".split()
)
STOP_WORDS = frozenset(stopwords_for_language("en")) | QUESTION_WORDS
# Field weights for BM25F: passage text counts most; headings and titles give context.
FIELD_BOOSTS = {"text": 1.0, "section": 0.5, "title": 0.4}
REPORTS_FILE = "reports.json"
# Whoosh's multi-process writer pays off only on large builds; small ones stay single-process.
MULTIPROCESS_FROM = 5000


def make_analyzer() -> Analyzer:
    """Return the analyzer used for passages and questions alike: words, lowercase, stop, stem."""
    return (
        RegexTokenizer(r"\w+(?:[.'’]\w+)*")
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(lang="en", cachesize=100_000)
    )


def make_schema() -> Schema:
    """Return the schema: searchable text, section and title, plus what a citation needs."""
    analyzer = make_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        report_id=ID(stored=True),
        ordinal=NUMERIC(stored=True),
        kind=ID(stored=True),
        text=TEXT(analyzer=analyzer, stored=True, field_boost=FIELD_BOOSTS["text"]),
        section=TEXT(analyzer=analyzer, stored=True, field_boost=FIELD_BOOSTS["section"]),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=FIELD_BOOSTS["title"]),
        source_url=STORED(),
    )


@dataclass(frozen=True)
class BuildSummary:
    """What one build did."""

    version: str
    reports: int
    passages: int
    seconds: float

    def line(self) -> str:
        """Return the one-line summary printed after a build."""
        return (f"Built index {self.version}: {self.reports} reports, {self.passages} passages "
                f"in {self.seconds:.2f} s")


def passage_document(report: Report, passage: Passage) -> dict[str, object]:
    """Return the Whoosh document for one passage."""
    return {
        "id": f"{report.id}/{passage.id}",
        "report_id": report.id,
        "ordinal": passage.ordinal,
        "kind": passage.kind,
        "text": passage.text,
        "section": passage.section,
        "title": report.title,
        "source_url": report.source_url or "",
    }


def _write_whoosh(target: Path, reports: list[Report], progress: Callable[[Iterable], Iterable]) -> int:
    total = sum(len(r.passages) for r in reports)
    ix = whoosh_index.create_in(str(target), make_schema())
    if total >= MULTIPROCESS_FROM:
        # multisegment=True keeps each process's segment separate: merging them the default
        # way skews BM25's field-length statistics in whoosh-reloaded 2.7.5.
        writer = ix.writer(procs=2, multisegment=True, limitmb=256)
    else:
        writer = ix.writer(limitmb=256)
    with writer:
        for report in progress(reports):
            for passage in report.passages:
                writer.add_document(**passage_document(report, passage))
    ix.close()
    return total


def _write_manifest(target: Path, version: str, content_dir: Path, reports: list[Report], passages: int) -> None:
    manifest = {
        "version": version,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "content_dir": str(content_dir),
        "reports": len(reports),
        "passages": passages,
        "files": {os.path.relpath(r.path, content_dir): r.sha256 for r in reports},
    }
    detail = {
        r.id: {**r.metadata(), "html": r.html, "passages": [
            {"id": p.id, "ordinal": p.ordinal, "kind": p.kind, "section": p.section, "text": p.text}
            for p in r.passages
        ]}
        for r in reports
    }
    (target / REPORTS_FILE).write_text(json.dumps(detail, ensure_ascii=False), encoding="utf-8")
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def _no_progress(items: Iterable) -> Iterable:
    return items


def build_index(content_dir: Path, index_dir: Path,
                progress: Callable[[Iterable], Iterable] = _no_progress) -> BuildSummary:
    """Parse every report, build a new index version beside the live one, then switch to it."""
    started = time.perf_counter()
    reports = list(iter_reports(content_dir))  # every file is checked before anything is written
    if not reports:
        raise versions.IndexError_(f"no reports (*.md files) in {content_dir}")
    with versions.build_lock(index_dir):
        versions.prune(index_dir)
        version = versions.new_version_name()
        staged = versions.staging_dir(index_dir, version)
        try:
            passages = _write_whoosh(staged, reports, progress)
            _write_manifest(staged, version, content_dir, reports, passages)
            versions.publish(index_dir, staged, version)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise versions.IndexError_(f"could not write index in {index_dir}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        versions.prune(index_dir)
    return BuildSummary(version, len(reports), passages, time.perf_counter() - started)
