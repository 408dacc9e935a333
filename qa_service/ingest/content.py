"""Reports on disk: Markdown with YAML front matter → Report and Passage dataclasses."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as etree

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from qa_service.ingest.frontmatter import (
    ContentError,
    date_field,
    meta_line,
    read_text,
    split_front_matter,
    text_field,
    text_list,
    url_field,
)
from qa_service.ingest.slug import slugify

REPORT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Python-Markdown leaves placeholders (STX…ETX) for raw HTML it stashed and for the footnotes
# extension's spaces and back-links; they are never report text.
PLACEHOLDER = re.compile("\x02[^\x03]*\x03")
SECTION_SEP = " › "
SOURCES_DIR = "sources"  # content/sources/: originals kept by `qa-service import`
FACTS_SECTION = "About this report"  # the section that front matter facts are cited under
# Page attributes an imported file puts on a passage with attr_list (see qa_service/ingest/).
PAGE_ATTR = re.compile(r'(data-page(?:-end|-label)?)="([^"]*)"')
# Python-Markdown's footnotes extension appends its back-links after a definition's text, so
# attr_list never sees the marker there: the collector reads and removes it itself.
NOTE_ATTRS = re.compile(r'\s*\{:\s*((?:data-page[\w-]*="[^"]*"\s*)+)\}')


@dataclass(frozen=True)
class Passage:
    """One citable unit of a report: a paragraph, list item, table row, quote or fact."""

    id: str
    report_id: str
    ordinal: int
    kind: str
    headings: tuple[str, ...]
    text: str
    # Where the passage is in the original document, for imported PDFs (None for other reports):
    # the physical page it starts on, the page it ends on when it runs on, and the printed label.
    page: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    # The passage's number within its section (1 for the first under its heading), as a reader
    # counts paragraphs; `ordinal` counts through the whole report.
    in_section: int = 0

    @property
    def anchor(self) -> str:
        """Return the HTML id that links to this passage."""
        return self.id

    @property
    def section(self) -> str:
        """Return the heading path as one readable string."""
        return SECTION_SEP.join(self.headings)


@dataclass(frozen=True)
class Report:
    """A parsed report: its front matter facts, passages and rendered HTML body."""

    id: str
    path: str
    sha256: str
    title: str
    publisher: str
    published: dt.date | None
    source_url: str | None = None
    short_title: str | None = None
    publisher_short: str | None = None
    source_note: str | None = None
    subjects: tuple[str, ...] = ()
    summary: str | None = None
    example_questions: tuple[str, ...] = ()
    source_file: str | None = None           # the original, relative to the content folder
    pages: int | None = None                 # the original's page count
    needs_review: tuple[str, ...] = ()       # front matter values an import read from the document
    kind: str = "report"                     # "listing" (secondary): ranked below reports' passages
    passages: tuple[Passage, ...] = ()
    html: str = field(default="", repr=False)

    def metadata(self) -> dict[str, object]:
        """Return the front matter facts as JSON-ready values."""
        return {
            "id": self.id,
            "title": self.title,
            "short_title": self.short_title,
            "publisher": self.publisher,
            "publisher_short": self.publisher_short,
            "published": self.published.isoformat() if self.published else None,
            "source_url": self.source_url,
            "source_note": self.source_note,
            "subjects": list(self.subjects),
            "summary": self.summary,
            "example_questions": list(self.example_questions),
            "sha256": self.sha256,
            "passage_count": len(self.passages),
            "source_file": self.source_file,
            "pages": self.pages,
            "needs_review": list(self.needs_review),
            "kind": self.kind,
        }


def passage_id(report_id: str, text: str) -> str:
    """Return a stable id: the same text in the same report always gets the same id."""
    norm = " ".join(text.split()).lower()
    digest = hashlib.sha1(f"{report_id}\x00{norm}".encode()).hexdigest()[:10]
    return f"p-{digest}"


def _text_of(el: etree.Element, skip: tuple[str, ...] = ()) -> str:
    """Return the visible text of an element, leaving out child elements named in skip."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if child.tag not in skip and not _is_note_mark(child):
            parts.append(_text_of(child, skip))
        parts.append(child.tail or "")
    return PLACEHOLDER.sub("", "".join(parts))


def _is_note_mark(el: etree.Element) -> bool:
    """Tell whether an element is a footnote reference or back-link, which is not passage text."""
    return (el.tag == "sup" and el.get("id", "").startswith("fnref")) or el.get("class") == "footnote-backref"


def _pages(el: etree.Element) -> dict[str, object]:
    """Return the page fields set on an element (or, for a table row, on one of its cells)."""
    found = el.attrib if "data-page" in el.attrib else next(
        (c.attrib for c in el if "data-page" in c.attrib), {})
    out: dict[str, object] = {}
    for attr, key in (("data-page", "page"), ("data-page-end", "page_end"), ("data-page-label", "page_label")):
        value = found.get(attr)
        if value:
            out[key] = value if key == "page_label" else int(value) if value.isdigit() else None
    return {k: v for k, v in out.items() if v is not None}


class _Collector(Treeprocessor):
    """Walk the parsed tree in reading order, tag passages with ids, and record them."""

    def __init__(self, md: markdown.Markdown, report_id: str, first_ordinal: int) -> None:
        super().__init__(md)
        self.report_id = report_id
        self.next_ordinal = first_ordinal
        self.headings: list[tuple[int, str]] = []
        self.in_section: dict[tuple[str, ...], int] = {}
        self.passages: list[Passage] = []
        self.seen: dict[str, int] = {}

    def run(self, root: etree.Element) -> None:
        self._walk(root)

    def _walk(self, parent: etree.Element) -> None:
        for el in parent:
            tag = el.tag
            if tag in HEADINGS:
                level = HEADINGS[tag]
                self.headings = [h for h in self.headings if h[0] < level]
                self.headings.append((level, " ".join(_text_of(el).split())))
            elif tag == "p":
                self._add(el, "paragraph", _text_of(el))
            elif tag in ("ul", "ol"):
                self._walk_list(el)
            elif tag == "table":
                for tr in el.iter("tr"):
                    if tr.find("th") is None:
                        cells = [" ".join(_text_of(td).split()) for td in tr.findall("td")]
                        self._add(tr, "table_row", " | ".join(cells))
            elif tag == "blockquote":
                paras = [_text_of(p) for p in el.iter("p")] or [_text_of(el)]
                self._add(el, "quote", " ".join(paras))
            elif tag == "div" and el.get("class") == "footnote":
                self._walk_footnotes(el)
            elif tag == "div":
                self._walk(el)

    def _walk_footnotes(self, div: etree.Element) -> None:
        for li in div.iter("li"):
            for p in li.iter("p"):
                if p.text and (m := NOTE_ATTRS.search(p.text)):
                    p.text = p.text[: m.start()] + p.text[m.end():]
                    li.attrib.update(PAGE_ATTR.findall(m.group(1)))
            self._add(li, "footnote", _text_of(li))

    def _walk_list(self, lst: etree.Element) -> None:
        for li in lst.findall("li"):
            self._add(li, "list_item", _text_of(li, skip=("ul", "ol")))
            for nested in li:
                if nested.tag in ("ul", "ol"):
                    self._walk_list(nested)

    def _add(self, el: etree.Element, kind: str, text: str) -> None:
        text = " ".join(text.split())  # soft line breaks are spaces, as the page shows them
        if not text:
            return
        pid = passage_id(self.report_id, text)
        self.seen[pid] = self.seen.get(pid, 0) + 1
        if self.seen[pid] > 1:  # the same text twice in one report: keep both, distinctly
            pid = f"{pid}-{self.seen[pid]}"
        el.set("id", pid)
        el.set("class", (el.get("class", "") + " passage").strip())
        el.set("data-ordinal", str(self.next_ordinal))
        headings = tuple(h[1] for h in self.headings)
        self.in_section[headings] = self.in_section.get(headings, 0) + 1
        el.set("data-para", str(self.in_section[headings]))
        self.passages.append(Passage(pid, self.report_id, self.next_ordinal, kind, headings, text,
                                     **_pages(el), in_section=self.in_section[headings]))  # type: ignore[arg-type]
        self.next_ordinal += 1


class _CollectorExtension(Extension):
    def __init__(self, collector_factory) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.factory = collector_factory

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        self.collector = self.factory(md)
        # Priority -1: after inline parsing (20) and unescaping (0), so text is final.
        md.treeprocessors.register(self.collector, "qa_passages", -1)


def fact_passages(report_id: str, publisher: str, published: dt.date | None,
                  subjects: tuple[str, ...]) -> list[Passage]:
    """Return the front matter facts as passages, so questions about them can be answered."""
    facts = []
    if published:  # a listing without a date is not "published by" whoever keeps the list
        facts.append(f"Published by {publisher} on {published.day} {published:%B %Y} ({published.isoformat()}).")
    if subjects:
        facts.append("Subjects: " + "; ".join(subjects) + ".")
    return [
        Passage(passage_id(report_id, text), report_id, n, "fact", (FACTS_SECTION,), text, in_section=n)
        for n, text in enumerate(facts, start=1)
    ]


def parse_report(path: Path, report_id: str | None = None) -> Report:
    """Parse one Markdown file into a Report with its passages and rendered HTML."""
    raw, data = read_text(path)
    meta, body = split_front_matter(path, raw)
    rid = str(meta.get("id") or report_id or slugify(path.stem))  # "Report-A.md" → "report-a"
    if not REPORT_ID.match(rid):
        raise ContentError(path, f"report id {rid!r} must be lowercase letters, digits, '-' or '_'",
                           meta_line(path, raw, "id"))
    title = text_field(path, raw, meta, "title")
    if not title:
        raise ContentError(path, "front matter needs a 'title'", 2)
    publisher = text_field(path, raw, meta, "publisher") or text_field(path, raw, meta, "author")
    if not publisher:
        raise ContentError(path, "front matter needs a 'publisher' (or 'author')", 2)
    publisher_short = text_field(path, raw, meta, "publisher_short")
    published = date_field(path, raw, meta)
    subjects = text_list(path, raw, meta, "subjects")
    named = f"{publisher_short} ({publisher})" if publisher_short else publisher
    facts = fact_passages(rid, named, published, subjects)
    ext = _CollectorExtension(lambda md: _Collector(md, rid, len(facts) + 1))
    # attr_list and footnotes cost a third of a build's parsing; a file without their markers
    # (hand-written reports, most imports' prose) renders the same without them.
    extras = (["attr_list"] if "{:" in body else []) + (["footnotes"] if "[^" in body else [])
    html = markdown.Markdown(extensions=["tables", "sane_lists", *extras, ext]).convert(body)
    passages = tuple(facts + ext.collector.passages)
    if len(passages) == len(facts):
        raise ContentError(path, "the report has no text after its front matter")
    return Report(
        id=rid, path=str(path), sha256=hashlib.sha256(data).hexdigest(), title=title,
        publisher=publisher, published=published,
        source_url=url_field(path, raw, meta, "source_url"),
        short_title=text_field(path, raw, meta, "short_title"),
        publisher_short=publisher_short,
        source_note=text_field(path, raw, meta, "source_note"),
        subjects=subjects, summary=text_field(path, raw, meta, "summary"),
        example_questions=text_list(path, raw, meta, "example_questions"),
        source_file=text_field(path, raw, meta, "source_file"),
        pages=_page_count(path, raw, meta),
        needs_review=text_list(path, raw, meta, "needs_review"),
        kind=_kind(path, raw, meta),
        passages=passages, html=html,
    )


KINDS = ("report", "listing")


def _kind(path: Path, raw: str, meta: dict[str, object]) -> str:
    """Return the front matter's `kind`: a report (the default) or a listing of other publications."""
    kind = text_field(path, raw, meta, "kind") or "report"
    if kind not in KINDS:
        raise ContentError(path, f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}",
                           meta_line(path, raw, "kind"))
    return kind


def _page_count(path: Path, raw: str, meta: dict[str, object]) -> int | None:
    """Return the front matter's `pages` (written by `qa-service import`), checked."""
    value = meta.get("pages")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ContentError(path, "'pages' must be a whole number", meta_line(path, raw, "pages"))
    return value


def content_files(content_dir: Path) -> list[Path]:
    """Return the Markdown files of a content directory, in a stable order."""
    if not content_dir.is_dir():
        raise ContentError(content_dir, "content directory does not exist")
    # sources/ holds the originals of imported reports (qa-service import), never reports.
    return sorted(p for p in content_dir.rglob("*.md") if p.is_file() and not p.name.startswith(".")
                  and p.relative_to(content_dir).parts[0] != SOURCES_DIR)
