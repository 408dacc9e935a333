"""Building a new index version from the content folder, beside the live one."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as dt
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
from whoosh.codec.whoosh3 import W3Codec

from qa_service.ingest.content import ContentError, Passage, Report, content_files, parse_report
from qa_service.search import versions
from qa_service.search.analysis import STOP_WORDS
from qa_service.search.format import (
    CATALOG_FILE,
    MANIFEST,
    REPORTS_DIR,
    SCHEMA_VERSION,
    WORDS_FILE,
    IndexProblem,
    Manifest,
    NoReportsError,
    PassageRecord,
    ReportDetail,
    ReportMeta,
    current_version,
    file_hash,
    make_schema,
    meta_from_json,
    read_catalog,
    read_manifest,
    versions_dir,
)

# Whoosh's two-process writer pays off from about a thousand passages (~500 KB of Markdown).
MULTIPROCESS_FROM_BYTES = 500_000


# Unstemmed words for spelling suggestions. Kept in words.json rather than a TEXT(spelling=True)
# field: that field's hidden part has no length column, and whoosh-reloaded 2.7.5 then checks the
# disk for the column once per posting while committing, which made builds twice as slow.
_WORDS = re.compile(r"[^\W\d_]{3,}")


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
    kept: dict[str, ReportMeta]    # report id → its entry in the previous catalog
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
        "page": passage.page,
        "page_end": passage.page_end,
        "page_label": passage.page_label,
        "in_section": passage.in_section,
    }


def report_detail(report: Report, relpath: str) -> ReportDetail:
    """Return what reports/<id>.json keeps: metadata, page HTML and passages."""
    passages = [PassageRecord(p.id, p.ordinal, p.kind, p.section, p.text, p.page, p.page_end, p.page_label,
                              p.in_section)
                for p in report.passages]
    return ReportDetail(meta_from_json({**report.metadata(), "file": relpath}), report.html, passages)


def report_words(report: Report) -> set[str]:
    """Return a report's distinct unstemmed words, for spelling suggestions."""
    return {w for p in report.passages for w in _WORDS.findall(p.text.lower())} - STOP_WORDS


def plan_build(content_dir: Path, index_dir: Path, full: bool) -> BuildPlan:
    """Compare content files with the live version's manifest and decide what to re-analyse."""
    files = content_files(content_dir)
    live = current_version(index_dir)
    manifest = read_manifest(index_dir, live) if live else None
    if full or not live or manifest is None or manifest.schema != SCHEMA_VERSION:
        return BuildPlan(files, {}, {}, set(), None)
    base = versions_dir(index_dir) / live
    before = manifest.files
    previous = read_catalog(base)
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


@dataclass
class Written:
    """What the build keeps of each analysed report once its detail file is on disk."""

    catalog: dict[str, ReportMeta]   # report id → its catalog entry
    files: dict[str, dict]           # relative path → {"sha256", "report_id"}
    words: set[str]                  # unstemmed words of the analysed reports


def _write_details(folder: Path, content_dir: Path, reports: Iterable[Report], written: Written) -> Iterator[Report]:
    """Write each report's detail and word files as it passes, keeping only its catalog entry."""
    # Written while Whoosh's writer processes index the previous report, and nothing but the
    # catalog entry is kept: holding every parsed report until the end took a gigabyte and a
    # single-core minute after indexing at 510,000 passages (issue 16).
    for report in reports:
        rel = str(Path(report.path).relative_to(content_dir))
        detail = report_detail(report, rel)
        (folder / f"{report.id}.json").write_text(json.dumps(detail.to_dict(), ensure_ascii=False),
                                                  encoding="utf-8")
        own = sorted(report_words(report))
        (folder / f"{report.id}.words").write_text("\n".join(own), encoding="utf-8")
        written.catalog[report.id] = detail.meta
        written.files[rel] = {"sha256": report.sha256, "report_id": report.id}
        written.words.update(own)
        yield report


def _codec() -> W3Codec:
    """Return Whoosh's default codec without per-block length statistics."""
    # Those statistics (each posting block's shortest and longest document) serve only Whoosh's
    # own block-skipping scorers, which the service does not use (search/topk.py scores whole
    # lists; document lengths have their own column). Writing them looked up every posting's
    # document length one Python call at a time: 15% of a build's CPU (issue 16).
    codec = W3Codec()
    codec.length_stats = False
    return codec


def _write_whoosh(staged: Path, plan: BuildPlan, reports: Iterable[Report]) -> None:
    """Write the documents of newly parsed reports, parsing the next while Whoosh indexes the last."""
    if plan.base is None:
        ix = whoosh_index.create_in(str(staged), make_schema())
    else:
        _seed_from(plan.base, staged)
        ix = whoosh_index.open_dir(str(staged))
    if plan.base is None and sum(p.stat().st_size for p in plan.changed) >= MULTIPROCESS_FROM_BYTES:
        # multisegment=True keeps each process's segment separate: merging them the default
        # way skews BM25's field-length statistics in whoosh-reloaded 2.7.5.
        writer = ix.writer(procs=2, multisegment=True, limitmb=256, codec=_codec())
    else:
        writer = ix.writer(limitmb=256, codec=_codec())
    try:
        for report_id in plan.dropped_ids:
            writer.delete_by_term("report_id", report_id)
        for report in reports:
            for passage in report.passages:
                writer.add_document(**passage_document(report, passage))
    except BaseException:
        # Whoosh's parallel writer does not stop its worker processes when cancelled: they would
        # wait for work forever, or still be writing into its temporary folder while cancel()
        # removes it ("Directory not empty" then replaced the real error). End them first; the
        # caller throws the whole staging folder away, so a failed clean-up here loses nothing.
        for task in getattr(writer, "tasks", []):
            task.terminate()
            task.join(timeout=10)
        with contextlib.suppress(OSError):
            writer.cancel()
        raise
    else:
        writer.commit()
    finally:
        ix.close()


def _carry_over(staged: Path, plan: BuildPlan, written: Written) -> None:
    """Link the unchanged reports' detail and word files from the live version."""
    folder = staged / REPORTS_DIR
    for report_id in plan.kept:
        assert plan.base is not None
        # <id>.words sits beside <id>.json so an unchanged report's words are read without
        # parsing its pages.
        for name in (f"{report_id}.json", f"{report_id}.words"):
            _link_or_copy(plan.base / REPORTS_DIR / name, folder / name)
        written.words.update((folder / f"{report_id}.words").read_text(encoding="utf-8").split())


def _write_manifest(staged: Path, version: str, content_dir: Path, plan: BuildPlan, written: Written) -> int:
    """Write the catalog, word list and manifest of the staged version; return its passage count."""
    _carry_over(staged, plan, written)
    catalog = {**plan.kept, **written.catalog}
    (staged / CATALOG_FILE).write_text(json.dumps({rid: m.to_dict() for rid, m in catalog.items()},
                                                  ensure_ascii=False), encoding="utf-8")
    (staged / WORDS_FILE).write_text(json.dumps(sorted(written.words), ensure_ascii=False), encoding="utf-8")
    files = {**plan.kept_files, **written.files}
    passages = sum(entry.passage_count for entry in catalog.values())
    manifest = Manifest(version, SCHEMA_VERSION, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        str(content_dir), len(catalog), passages, files)
    (staged / MANIFEST).write_text(json.dumps(dataclasses.asdict(manifest), indent=1, ensure_ascii=False),
                                   encoding="utf-8")
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
            raise NoReportsError(content_dir)
        version = versions.new_version_name()
        # Everything is written into a hidden staging folder: a bad file found part-way through
        # (or a crash) throws the folder away and the live version never notices.
        staged = versions.staging_dir(index_dir, version)
        try:
            written = Written({}, {}, set())
            (staged / REPORTS_DIR).mkdir(parents=True)
            _write_whoosh(staged, plan, _write_details(staged / REPORTS_DIR, content_dir,
                                                       analyse(plan, content_dir, progress), written))
            passages = _write_manifest(staged, version, content_dir, plan, written)
            versions.publish(index_dir, staged, version)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise IndexProblem(f"could not write index in {index_dir}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        versions.prune(index_dir)
    removed = len(plan.dropped_ids - set(written.catalog))
    return BuildSummary(version, len(plan.kept) + len(written.catalog), passages, time.perf_counter() - started,
                        analysed=len(written.catalog), reused=len(plan.kept), removed=removed)
