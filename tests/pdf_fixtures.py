"""Test documents made at test time from a specification that is also the expected output.

Each `Item` is one passage or heading as the importer should give it back; `build_pdf` renders
the items with reportlab and records the physical page every item starts and ends on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

FONTS = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
pdfmetrics.registerFont(TTFont("Vera", os.path.join(FONTS, "Vera.ttf")))  # has the ﬁ and ﬂ ligatures
pdfmetrics.registerFont(TTFont("VeraBd", os.path.join(FONTS, "VeraBd.ttf")))

BODY = ParagraphStyle("body", fontName="Vera", fontSize=10, leading=13, spaceAfter=7)
BULLET = ParagraphStyle("bullet", parent=BODY, leftIndent=18, bulletIndent=6, spaceAfter=4)
HEADINGS = {1: ParagraphStyle("h1", fontName="VeraBd", fontSize=20, leading=24, spaceAfter=12),
            2: ParagraphStyle("h2", fontName="VeraBd", fontSize=14, leading=18, spaceBefore=6, spaceAfter=8),
            3: ParagraphStyle("h3", fontName="VeraBd", fontSize=10, leading=13, spaceBefore=4, spaceAfter=5)}
NOTE_SIZE = 7
LIGATURES = {"\ufb01": "fi", "\ufb02": "fl"}


@dataclass
class Item:
    """One heading or passage: its expected text, and the markup that renders it."""

    kind: str                      # heading | paragraph | list_item | table | columns | pagebreak
    text: str = ""                 # the passage text the importer must give back, word for word
    markup: str = ""               # reportlab markup, when it differs from the text
    level: int = 0
    rows: tuple[tuple[str, ...], ...] = ()
    notes: tuple[tuple[str, str], ...] = ()  # footnotes this item refers to: (number, text)
    page: int | None = None        # filled in by build_pdf
    page_end: int | None = None
    row_pages: list[int] = field(default_factory=list)  # tables: the page of each body row
    drawn_from: int | None = None  # tables: the page the table (its header) starts on

    @property
    def source(self) -> str:
        return self.markup or self.text


@dataclass
class DocSpec:
    """A whole document: items, running header, footer style and front matter pages."""

    items: list[Item]
    header: str = "Marlowe Review: final report"
    footer: str = "page-of"        # "page-of" → "Page N of M"; "label" → the printed page label
    roman_pages: int = 0           # that many front matter pages numbered i, ii, …
    title: str | None = None       # PDF Info title
    author: str | None = None
    notes_by_page: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def label(self, page: int) -> str:
        """Return the printed label of a physical page."""
        if page <= self.roman_pages:
            return ["i", "ii", "iii", "iv", "v", "vi"][page - 1]
        return str(page - self.roman_pages)


def _plain(markup: str) -> str:
    return "".join(unescape(re.sub(r"<[^>]+>", "", markup)).split())


class _Doc(BaseDocTemplate):
    def __init__(self, path: Path, spec: DocSpec, total: int) -> None:
        super().__init__(str(path), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                         topMargin=25 * mm, bottomMargin=35 * mm, invariant=1,
                         title=spec.title or "untitled", author=spec.author or "anonymous")
        self.spec, self.total = spec, total
        self.pending = [it for it in spec.items if it.kind not in ("columns", "pagebreak")]
        self.remaining = _plain(self.pending[0].source) if self.pending else ""
        self.in_pieces = False  # the current item was split into pieces that carry no text
        full = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="full")
        col = (self.width - 8 * mm) / 2
        left = Frame(self.leftMargin, self.bottomMargin, col, self.height, id="left")
        right = Frame(self.leftMargin + col + 8 * mm, self.bottomMargin, col, self.height, id="right")
        self.addPageTemplates([PageTemplate("one", [full], onPage=self._decorate, onPageEnd=self._notes),
                               PageTemplate("two", [left, right], onPage=self._decorate, onPageEnd=self._notes)])

    def _decorate(self, canv, doc) -> None:
        page = canv.getPageNumber()
        if page == 1 and self.spec.roman_pages:
            canv.addPageLabel(0, "ROMAN_LOWER")
            canv.addPageLabel(self.spec.roman_pages, "ARABIC", start=1)
        w, h = A4
        canv.setFont("Vera", 8)
        canv.drawString(self.leftMargin, h - 15 * mm, self.spec.header)
        footer = (f"Page {page} of {self.total}" if self.spec.footer == "page-of" else self.spec.label(page))
        canv.drawCentredString(w / 2, 12 * mm, footer)

    def _notes(self, canv, doc) -> None:
        notes = self.spec.notes_by_page.get(canv.getPageNumber(), [])
        y = self.bottomMargin - 6 * mm
        for number, text in notes:
            canv.setFont("Vera", NOTE_SIZE)
            canv.drawString(self.leftMargin, y, f"{number} {text}")
            y -= NOTE_SIZE * 1.4

    def afterFlowable(self, flowable) -> None:  # reportlab's callback name
        if not self.pending or not isinstance(flowable, (Table, Paragraph)):
            return
        item, page = self.pending[0], self.page
        drawn = "" if isinstance(flowable, Table) else _plain(flowable.getPlainText())
        if isinstance(flowable, Paragraph) and not drawn:
            # The pieces of a paragraph split across a frame have no plain text of their own.
            item.page = item.page or page
            item.page_end = page
            self.in_pieces = True
            return
        if self.in_pieces:
            self._next()  # the split paragraph before this flowable is complete
            if not self.pending:
                return
            item = self.pending[0]
        if isinstance(flowable, Table):
            if item.kind == "table":  # a table split across pages: each row is on its own page
                item.drawn_from = item.drawn_from or page
                for row in flowable._cellvalues:
                    key = tuple(str(c) for c in row)
                    if len(item.row_pages) < len(item.rows) - 1 and key == item.rows[len(item.row_pages) + 1]:
                        item.row_pages.append(page)
                if item.row_pages:
                    item.page, item.page_end = item.row_pages[0], item.row_pages[-1]
                if len(item.row_pages) == len(item.rows) - 1:
                    self._next()
            return
        if self.remaining.startswith(drawn):
            if item.page is None:
                item.page = page
            item.page_end = page
            self.remaining = self.remaining[len(drawn):]
            if not self.remaining:
                self._next()

    def _next(self) -> None:
        self.in_pieces = False
        item = self.pending.pop(0)
        for number, text in item.notes:
            self.spec.notes_by_page.setdefault(item.page_end or 0, []).append((number, text))
        self.remaining = _plain(self.pending[0].source) if self.pending else ""


def _flowables(items: list[Item]) -> list:
    out: list = []
    for it in items:
        if it.kind == "heading":
            out.append(Paragraph(it.source, HEADINGS[it.level]))
        elif it.kind == "paragraph":
            out.append(Paragraph(it.source, BODY))
        elif it.kind == "list_item":
            out.append(Paragraph(it.source, BULLET, bulletText="\u2022"))
        elif it.kind == "table":
            t = Table([list(r) for r in it.rows], hAlign="LEFT")
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"),
                                   ("FONT", (0, 0), (-1, -1), "Vera", 9)]))
            out += [t, Spacer(1, 8)]
        elif it.kind == "columns":
            out += [NextPageTemplate("two"), PageBreak()]
        elif it.kind == "pagebreak":
            out.append(PageBreak())
    return out


def build_pdf(path: Path, spec: DocSpec) -> DocSpec:
    """Render the spec to path (twice: the footer needs the page count) and fill in its pages."""
    total = 0
    for _ in range(2):
        for it in spec.items:
            it.page = it.page_end = None
            it.row_pages, it.drawn_from = [], None
        spec.notes_by_page = {}
        doc = _Doc(path, spec, total)
        doc.build(_flowables(spec.items))
        total = doc.page
    return spec


def expected_passages(spec: DocSpec) -> list[tuple[str, str, int, int | None]]:
    """Return (kind, text, page, page_end or None) for every passage a built spec describes."""
    out: list[tuple[str, str, int, int | None]] = []
    for it in spec.items:
        if it.kind in ("heading", "columns", "pagebreak"):
            continue
        assert it.page is not None and it.page_end is not None, f"not placed: {it}"
        end = it.page_end if it.page_end != it.page else None
        if it.kind in ("paragraph", "list_item"):
            out.append((it.kind, it.text, it.page, end))
        elif it.kind == "table":
            out += [("table_row", " | ".join(row), page, None) for row, page in zip(it.rows[1:], it.row_pages)]
        out += [("footnote", text, it.page_end, None) for _, text in it.notes]
    return out


def bad_files(folder: Path) -> dict[str, Path]:
    """Write the files import must refuse: encrypted, corrupt, empty, and scanned (image only)."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in ("encrypted.pdf", "corrupt.pdf", "empty.pdf", "scanned.pdf")}
    c = canvas.Canvas(str(files["encrypted.pdf"]), encrypt="secret", invariant=1)
    c.setFont("Vera", 10)
    c.drawString(72, 700, "Words nobody can read without the password.")
    c.save()
    files["corrupt.pdf"].write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog \x00\xff broken" * 20)
    files["empty.pdf"].write_bytes(b"")
    c = canvas.Canvas(str(files["scanned.pdf"]), invariant=1)
    c.drawImage(ImageReader(Image.new("L", (200, 100), 128)), 72, 600, width=400, height=200)
    c.save()
    return files
