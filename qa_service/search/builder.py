"""The Whoosh schema and analyzer, and building a new index version from the content folder."""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import multiprocessing.util
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from qa_service.ingest.content import ContentError, Passage, Report, content_files, parse_report
from qa_service.search import versions
from qa_service.search.analysis import STOP_WORDS, make_analyzer
from qa_service.search.versions import MANIFEST

# Field weights for BM25F: passage text counts most; headings and titles give context.
FIELD_BOOSTS = {"text": 1.0, "section": 0.5, "title": 0.4}
CATALOG_FILE = "catalog.json"   # every report's metadata: small, loaded by every worker
REPORTS_DIR = "reports"         # one <id>.json per report (page HTML, passages), read on demand
WORDS_FILE = "words.json"
# Bump when the schema or analyzer changes: an index built otherwise is rebuilt in full.
SCHEMA_VERSION = 6
# Whoosh's two-process writer pays off from about a thousand passages (~500 KB of Markdown).
MULTIPROCESS_FROM_BYTES = 500_000


# Unstemmed words for spelling suggestions. Kept in words.json rather than a TEXT(spelling=True)
# field: that field's hidden part has no length column, and whoosh-reloaded 2.7.5 then checks the
# disk for the column once per posting while committing, which made builds twice as slow.
_WORDS = re.compile(r"[^\W\d_]{3,}")


def make_schema() -> Schema:
    """Return the schema: searchable text, section and title, plus what a citation needs."""
    analyzer = make_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        report_id=ID(stored=True),
        ordinal=NUMERIC(stored=True),
        kind=ID(stored=True),
        text=TEXT(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["text"]),
        section=TEXT(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["section"]),
        title=TEXT(analyzer=analyzer, stored=True, phrase=False, field_boost=FIELD_BOOSTS["title"]),
        source_url=STORED(),
    )


@dataclass(frozen=True)
class BuildSummary:
    """What one build did."""

    version: str
    reports: int
    passages: int
    seconds: float
    analysed: int = 0
    reused: int = 0
    removed: int = 0

    def line(self) -> str:
        """Return the one-line summary printed after a build."""
        return (f"Built index {self.version}: {self.reports} reports ({self.analysed} analysed, "
                f"{self.reused} reused, {self.removed} removed), {self.passages} passages "
                f"in {self.seconds:.2f} s")


@dataclass
class BuildPlan:
    """Which content files must be analysed and which reports carry over from the live version."""

    changed: list[Path]
    kept: dict[str, dict]          # report id → its entry in the previous catalog
    kept_files: dict[str, dict]    # relative path → {"sha256", "report_id"}
    dropped_ids: set[str]          # report ids whose documents leave the index
    base: Path | None              # previous version folder to start from, None for a full build


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


def report_detail(report: Report, relpath: str) -> dict[str, object]:
    """Return what reports/<id>.json keeps: metadata, page HTML and passages."""
    return {**report.metadata(), "file": relpath, "html": report.html, "passages": [
        {"id": p.id, "ordinal": p.ordinal, "kind": p.kind, "section": p.section, "text": p.text}
        for p in report.passages
    ]}


def report_words(report: Report) -> set[str]:
    """Return a report's distinct unstemmed words, for spelling suggestions."""
    return {w for p in report.passages for w in _WORDS.findall(p.text.lower())} - STOP_WORDS


def catalog_entry(detail: dict[str, object]) -> dict[str, object]:
    """Return the catalog's part of a report's detail: everything but page HTML and passages."""
    return {k: v for k, v in detail.items() if k not in ("html", "passages")}


def read_detail(version_dir: Path, report_id: str) -> dict:
    """Return one report's detail from a version folder."""
    return json.loads((version_dir / REPORTS_DIR / f"{report_id}.json").read_text(encoding="utf-8"))


def file_hash(path: Path) -> str:
    """Return a content file's SHA-256, the key that decides whether it is analysed again."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_build(content_dir: Path, index_dir: Path, full: bool) -> BuildPlan:
    """Compare content files with the live version's manifest and decide what to re-analyse."""
    files = content_files(content_dir)
    live = versions.current_version(index_dir)
    manifest = versions.read_manifest(index_dir, live) if live else {}
    if full or not live or manifest.get("schema") != SCHEMA_VERSION:
        return BuildPlan(files, {}, {}, set(), None)
    base = versions.versions_dir(index_dir) / live
    before: dict[str, dict] = manifest["files"]
    previous = json.loads((base / CATALOG_FILE).read_text(encoding="utf-8"))
    changed, kept_files = [], {}
    for path in files:
        rel = str(path.relative_to(content_dir))
        entry = before.get(rel)
        if entry and entry["sha256"] == file_hash(path):
            kept_files[rel] = entry
        else:
            changed.append(path)
    kept_ids = {e["report_id"] for e in kept_files.values()}
    kept = {rid: previous[rid] for rid in kept_ids}
    dropped = {e["report_id"] for e in before.values()} - kept_ids
    return BuildPlan(changed, kept, kept_files, dropped, base)


def analyse(plan: BuildPlan, content_dir: Path,
            progress: Callable[[Iterable], Iterable] = lambda items: items) -> Iterator[Report]:
    """Parse the changed files one by one, refusing ids that clash with each other or kept reports."""
    owners = {e["report_id"]: content_dir / rel for rel, e in plan.kept_files.items()}
    for path in progress(plan.changed):
        report = parse_report(path)
        if report.id in owners:
            raise ContentError(path, f"duplicate report id {report.id!r} (also used by {owners[report.id]})")
        owners[report.id] = path
        yield report


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _seed_from(base: Path, staged: Path) -> None:
    """Start a new version from the live one's segment files (hard links; Whoosh never edits them)."""
    for item in base.iterdir():
        if item.name in (MANIFEST, CATALOG_FILE, WORDS_FILE) or item.suffix == ".lock" or item.is_dir():
            continue
        _link_or_copy(item, staged / item.name)


def _die_with_parent(_: object) -> None:
    """In a forked writer process: ask Linux to end it when the building process dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the writers then outlive a killed build
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


# Whoosh's two-process writer forks with multiprocessing; if the build is killed (SIGKILL), its
# writer processes would otherwise wait for work forever.
PR_SET_PDEATHSIG = 1
multiprocessing.util.register_after_fork(_die_with_parent, _die_with_parent)


def _write_whoosh(staged: Path, plan: BuildPlan, reports: Iterable[Report]) -> list[Report]:
    """Write the documents of newly parsed reports, parsing the next while Whoosh indexes the last."""
    if plan.base is None:
        ix = whoosh_index.create_in(str(staged), make_schema())
    else:
        _seed_from(plan.base, staged)
        ix = whoosh_index.open_dir(str(staged))
    if plan.base is None and sum(p.stat().st_size for p in plan.changed) >= MULTIPROCESS_FROM_BYTES:
        # multisegment=True keeps each process's segment separate: merging them the default
        # way skews BM25's field-length statistics in whoosh-reloaded 2.7.5.
        writer = ix.writer(procs=2, multisegment=True, limitmb=256)
    else:
        writer = ix.writer(limitmb=256)
    written = []
    try:
        with writer:  # commits on success; on any error (a bad file included) cancels
            for report_id in plan.dropped_ids:
                writer.delete_by_term("report_id", report_id)
            for report in reports:
                written.append(report)
                for passage in report.passages:
                    writer.add_document(**passage_document(report, passage))
    except BaseException:
        # Whoosh's parallel writer does not stop its worker processes when cancelled: they
        # would wait for work forever. End them here.
        for task in getattr(writer, "tasks", []):
            task.terminate()
            task.join(timeout=10)
        raise
    finally:
        ix.close()
    return written


def _write_reports(staged: Path, plan: BuildPlan, content_dir: Path, reports: list[Report]) -> dict[str, dict]:
    """Write each report's detail file (carried over when unchanged) and return the catalog."""
    folder = staged / REPORTS_DIR
    folder.mkdir()
    catalog, words = dict(plan.kept), set()
    for report_id in plan.kept:
        assert plan.base is not None
        # <id>.words sits beside <id>.json so an unchanged report's words are read without
        # parsing its pages.
        for name in (f"{report_id}.json", f"{report_id}.words"):
            _link_or_copy(plan.base / REPORTS_DIR / name, folder / name)
        words.update((folder / f"{report_id}.words").read_text(encoding="utf-8").split())
    for report in reports:
        detail = report_detail(report, str(Path(report.path).relative_to(content_dir)))
        (folder / f"{report.id}.json").write_text(json.dumps(detail, ensure_ascii=False), encoding="utf-8")
        own = sorted(report_words(report))
        (folder / f"{report.id}.words").write_text("\n".join(own), encoding="utf-8")
        catalog[report.id] = catalog_entry(detail)
        words.update(own)
    (staged / CATALOG_FILE).write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    (staged / WORDS_FILE).write_text(json.dumps(sorted(words), ensure_ascii=False), encoding="utf-8")
    return catalog


def _write_manifest(staged: Path, version: str, content_dir: Path, plan: BuildPlan,
                    reports: list[Report]) -> int:
    catalog = _write_reports(staged, plan, content_dir, reports)
    files = dict(plan.kept_files)
    for report in reports:
        files[str(Path(report.path).relative_to(content_dir))] = {"sha256": report.sha256, "report_id": report.id}
    passages = sum(entry["passage_count"] for entry in catalog.values())
    manifest = {
        "version": version,
        "schema": SCHEMA_VERSION,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "content_dir": str(content_dir),
        "reports": len(catalog),
        "passages": passages,
        "files": files,
    }
    (staged / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return passages


def _no_progress(items: Iterable) -> Iterable:
    return items


def build_index(content_dir: Path, index_dir: Path, progress: Callable[[Iterable], Iterable] = _no_progress,
                full: bool = False) -> BuildSummary:
    """Build a new index version beside the live one, re-analysing only changed files, then switch."""
    started = time.perf_counter()
    with versions.build_lock(index_dir):
        versions.prune(index_dir)
        plan = plan_build(content_dir, index_dir, full)
        if not plan.changed and not plan.kept:
            raise versions.IndexProblem(f"no reports (*.md files) in {content_dir}")
        version = versions.new_version_name()
        # Everything is written into a hidden staging folder: a bad file found part-way through
        # (or a crash) throws the folder away and the live version never notices.
        staged = versions.staging_dir(index_dir, version)
        try:
            reports = _write_whoosh(staged, plan, analyse(plan, content_dir, progress))
            passages = _write_manifest(staged, version, content_dir, plan, reports)
            versions.publish(index_dir, staged, version)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise versions.IndexProblem(f"could not write index in {index_dir}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        versions.prune(index_dir)
    removed = len(plan.dropped_ids - {r.id for r in reports})
    return BuildSummary(version, len(plan.kept) + len(reports), passages, time.perf_counter() - started,
                        analysed=len(reports), reused=len(plan.kept), removed=removed)
