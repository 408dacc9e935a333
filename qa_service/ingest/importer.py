"""Import documents into the content folder: one report Markdown file each, original kept beside."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qa_service.ingest.blocks import Extracted, ImportProblem
from qa_service.ingest.content import REPORT_ID, SOURCES_DIR
from qa_service.ingest.docx import read_docx
from qa_service.ingest.html import read_html
from qa_service.ingest.markdown_out import render
from qa_service.ingest.pdf import read_pdf
from qa_service.ingest.slug import slugify
from qa_service.ingest.text import read_text_file

SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".txt")


@dataclass(frozen=True)
class Options:
    """What the user said on the command line: where to write, and values that beat the document's."""

    content_dir: Path
    id: str | None = None
    title: str | None = None
    publisher: str | None = None
    published: dt.date | None = None
    source_url: str | None = None
    force: bool = False


@dataclass
class Outcome:
    """What happened to one file."""

    path: Path
    status: str                  # "imported" | "skipped" | "failed"
    message: str = ""
    target: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the one line the command prints for this file."""
        if self.status == "failed":
            return f"error: {self.path}: {self.message}"
        text = f"{self.status} {self.path} → {self.target}" + (f" ({self.message})" if self.message else "")
        return "\n".join([text] + [f"warning: {self.path}: {w}" for w in self.warnings])


def collect(paths: Iterable[Path]) -> list[Path]:
    """Return the files to import: files as given, folders searched recursively for known types."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                          and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            out.append(path)
    return out


def _existing(target: Path) -> tuple[str, str] | None:
    """Return (source_sha256, source_file) of an imported report, ('', '') for a hand-written one."""
    if not target.exists():
        return None
    head = target.read_text(encoding="utf-8", errors="replace").split("\n---", 1)[0]
    sha = re.search(r"^source_sha256:\s*\"?([0-9a-f]{64})", head, re.MULTILINE)
    source = re.search(r"^source_file:\s*\"?([^\"\n]*)", head, re.MULTILINE)
    return (sha.group(1) if sha else "", source.group(1).strip() if source else "")


def _iso_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _fields(ex: Extracted, opts: Options, source: str, sha: str, name: str) -> list[tuple[str, object]]:
    """Return the front matter: flags first, then the document's metadata, then its largest text."""
    review: list[str] = []

    def pick(key: str, flag: object, *found: object) -> object:
        if flag:
            return flag
        value = next((v for v in found if v), None)
        if value:
            review.append(key)
        return value

    title = pick("title", opts.title, ex.meta.get("title"), ex.largest_text)
    if not title:
        raise ImportProblem("no title found in the document; pass --title")
    publisher = pick("publisher", opts.publisher, ex.meta.get("publisher"))
    author = None if publisher else pick("author", None, ex.meta.get("author"))
    if not publisher and not author:
        raise ImportProblem("no publisher or author found in the document; pass --publisher")
    published = pick("published", opts.published, _iso_date(ex.meta.get("published")))
    return [("title", title), ("publisher", publisher), ("author", author), ("published", published),
            ("source_url", opts.source_url), ("source_note", f"Imported from {name}"),
            ("source_file", source), ("source_sha256", sha), ("pages", ex.pages), ("needs_review", review)]


def _read(path: Path) -> tuple[Extracted, str | None]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return read_pdf(path), None
    if suffix == ".docx":
        return read_docx(path), None
    if suffix in (".html", ".htm"):
        return read_html(path), None
    return read_text_file(path)


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def import_file(path: Path, opts: Options, taken: dict[str, Path]) -> Outcome:
    """Import one file into the content folder, or say in one line why it cannot be."""
    if path.suffix.lower() not in SUFFIXES:
        return Outcome(path, "failed", f"unsupported file type {path.suffix or '(none)'!r}")
    slug = opts.id or slugify(path.stem)
    if not REPORT_ID.match(slug):
        return Outcome(path, "failed", f"cannot make a report id from the name (got {slug!r}); pass --id")
    if slug in taken:
        return Outcome(path, "failed", f"report id {slug!r} is also the id of {taken[slug]}; pass --id")
    taken[slug] = path
    target = opts.content_dir / f"{slug}.md"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Outcome(path, "failed", f"cannot read the file ({exc.strerror})")
    if not data.strip():
        return Outcome(path, "failed", "file is empty")
    sha = hashlib.sha256(data).hexdigest()
    source = f"{SOURCES_DIR}/{slug}{path.suffix.lower()}"
    existing = _existing(target)
    if existing is not None and not opts.force:
        if existing == (sha, source):
            return Outcome(path, "skipped", "unchanged; --force to import again", target)
        if not existing[0]:
            return Outcome(path, "failed", f"{target} exists and was not imported; pass --force or --id")
        if existing[1] != source:
            return Outcome(path, "failed", f"report id {slug!r} is taken by {target} (from {existing[1]}); "
                                           "pass --id or --force")
    try:
        extracted, markdown_body = _read(path)
        fields = _fields(extracted, opts, source, sha, path.name)
        if markdown_body is not None:
            text = render(fields, []).rstrip("\n") + "\n\n" + markdown_body
        elif not any(b.kind != "heading" for b in extracted.blocks):
            raise ImportProblem("no text found in the document")
        else:
            text = render(fields, extracted.blocks)
        yaml.safe_load(text.split("\n---\n", 1)[0].lstrip("-"))  # the front matter must parse back
    except ImportProblem as exc:
        return Outcome(path, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop a batch; name it and go on
        return Outcome(path, "failed", f"could not import ({type(exc).__name__}: {str(exc)[:100]})")
    _write(opts.content_dir / source, data)
    _write(target, text.encode("utf-8"))
    pages = f"{extracted.pages} pages, " if extracted.pages else ""
    count = sum(1 for b in extracted.blocks if b.kind != "heading")
    detail = pages + (f"{count} blocks" if markdown_body is None else "Markdown kept as written")
    return Outcome(path, "imported", detail, target, extracted.warnings)


def import_paths(paths: Iterable[Path], opts: Options,
                 progress: Callable[[list[Path]], Iterable[Path]] = lambda xs: xs,
                 report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Import every file under paths; a bad file is reported and the others still imported."""
    taken: dict[str, Path] = {}
    outcomes = []
    for path in progress(collect(paths)):
        outcome = import_file(path, opts, taken)
        report(outcome)
        outcomes.append(outcome)
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    """Return the closing line: how many files were imported, skipped and failed."""
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("imported", "skipped", "failed")}
    return (f"{counts['imported']} imported, {counts['skipped']} skipped, {counts['failed']} failed "
            f"({len(outcomes)} file{'' if len(outcomes) == 1 else 's'})")
