"""Read a PDF (pypdfium2 for text and lines, pdfplumber's table finder): pages, labels, footnotes."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pdfplumber
import pypdfium2
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from qa_service.ingest.blocks import FN_CLOSE, FN_OPEN, Block, Extracted, ImportProblem
from qa_service.ingest.pdf_blocks import HEADING_RATIO, BlockBuilder, join_lines, vocabulary
from qa_service.ingest.pdf_chars import page_words
from qa_service.ingest.pdf_lines import Line, page_lines
from qa_service.ingest.pdf_tables import find_tables

ZONE = 0.1  # running headers and footers live in the top and bottom tenth of a page
_PAGE_NO = re.compile(r"^(?:page\s+)?[-–—]?\s*(\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]?(?:\s+(?:of|/)\s+\d+)?$", re.IGNORECASE)
_REF = re.compile(f"{FN_OPEN}([^@{FN_CLOSE}]*)@(\\d+){FN_CLOSE}")
# Values producers write when nobody filled the field in: not a title or an author.
PLACEHOLDERS = {"", "untitled", "anonymous", "unknown", "unspecified", "none", "title", "author"}
XMP = {"dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/",
       "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _in_zone(line: Line, height: float) -> bool:
    return line.bottom <= height * ZONE or line.top >= height * (1 - ZONE)


def drop_running(pages: list[tuple[float, list[Line]]]) -> dict[int, str]:
    """Remove running headers, footers and page numbers in place; return printed page labels."""
    counts: Counter[str] = Counter()
    for height, lines in pages:
        counts.update({_mask(ln.text) for ln in lines if ln.table is None and _in_zone(ln, height)})
    # A line recurring on half the pages (at least 2) is running text; digits masked, so
    # "Page 3" and "Page 4" count as the same line.
    need = max(2, math.ceil(len(pages) / 2))
    printed: dict[int, str] = {}
    for number, (height, lines) in enumerate(pages, start=1):
        keep = []
        for ln in lines:
            if ln.table is None and _in_zone(ln, height):
                m = _PAGE_NO.match(ln.text.strip())
                if m:
                    printed.setdefault(number, m.group(1))
                    continue
                if counts[_mask(ln.text)] >= need:
                    continue
            keep.append(ln)
        lines[:] = keep
    return printed


def take_footnotes(lines: list[Line], body: float) -> list[tuple[str, int, list[str]]]:
    """Remove a page's footnotes (small numbered lines at its foot); return (number, page, lines)."""
    foot: list[Line] = []
    for ln in sorted((ln for ln in lines if ln.table is None), key=lambda ln: ln.top, reverse=True):
        if ln.size > 0.85 * body:
            break
        foot.insert(0, ln)
    notes: list[tuple[str, int, list[str]]] = []
    for ln in foot:
        first = ln.words[0].text if ln.words else ""
        if first.isdigit() and len(first) <= 3 and len(ln.words) > 1:
            notes.append((first, ln.page, [" ".join(w.text for w in ln.words[1:])]))
        elif notes:
            notes[-1][2].append(ln.text)
    if notes:
        taken = {id(ln) for ln in foot[next(i for i, ln in enumerate(foot) if ln.words[0].text == notes[0][0]):]}
        lines[:] = [ln for ln in lines if id(ln) not in taken]
    return notes


def _body_size(pages: list[tuple[float, list[Line]]]) -> float:
    sizes: Counter[float] = Counter()
    for _, lines in pages:
        for ln in lines:
            for w in ln.words:
                sizes[w.size] += len(w.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _metadata(pdf: Any) -> dict[str, str]:
    """Return title, author and date from the PDF's Info dictionary, then its XMP."""
    info = {k: v for k, v in (pdf.metadata or {}).items() if isinstance(v, str)}
    meta = {}
    title = " ".join(info.get("Title", "").split())
    if title.lower() not in PLACEHOLDERS and not re.match(r"(?i)microsoft \w+ - |.*\.(docx?|pdf|odt)$", title):
        meta["title"] = title
    author = " ".join(info.get("Author", "").split())
    if author.lower() not in PLACEHOLDERS:
        meta["author"] = author
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", info.get("CreationDate", ""))
    if m:
        meta["published"] = "-".join(m.groups())
    try:
        stream = pdf.doc.catalog.get("Metadata")
        xml = stream.resolve().get_data() if stream is not None else b""
        root = ElementTree.fromstring(xml) if xml else None
    except Exception:  # noqa: BLE001 - a broken XMP packet just means no XMP metadata
        root = None
    if root is not None:
        for key, path in (("title", ".//dc:title//rdf:li"), ("author", ".//dc:creator//rdf:li"),
                          ("publisher", ".//dc:publisher//rdf:li")):
            el = root.find(path, XMP)
            if key not in meta and el is not None and (el.text or "").strip().lower() not in PLACEHOLDERS:
                meta[key] = " ".join(el.text.split())  # type: ignore[union-attr]
    return meta


def _largest_text(lines: list[Line]) -> str | None:
    sized = [ln for ln in lines if ln.table is None and ln.words]
    if not sized:
        return None
    top = max(ln.size for ln in sized)
    return " ".join(ln.text for ln in sized if ln.size == top) or None


def _problem(exc: Exception) -> ImportProblem:
    """Return the one-line reason a PDF cannot be read (pdfplumber wraps pdfminer's errors)."""
    cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
    if isinstance(cause, PDFPasswordIncorrect):
        return ImportProblem("encrypted PDF: it needs a password to open")
    return ImportProblem(f"not a readable PDF ({type(cause).__name__}: {str(cause)[:80]})".replace(": )", ")"))


def _open(path: Path) -> tuple[Any, Any]:
    try:
        return pypdfium2.PdfDocument(str(path)), pdfplumber.open(path)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ImportProblem("encrypted PDF: it needs a password to open") from None
        raise ImportProblem(f"not a readable PDF ({str(exc).rstrip('.')})") from None
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a damaged file
        raise _problem(exc) from None


def _pages(doc: Any) -> list[tuple[float, list[Line]]]:
    """Return every page's height and its lines in reading order."""
    pages = []
    for n in range(len(doc)):
        page = doc[n]
        try:
            words = page_words(page)
            pages.append((float(page.get_height()),
                          page_lines(words, find_tables(page, words), n + 1, float(page.get_width()))))
        finally:
            page.close()
    return pages


def read_pdf(path: Path) -> Extracted:
    """Return a PDF's blocks with their pages, its metadata and its page count."""
    doc, plumber = _open(path)
    try:
        pages = _pages(doc)
        meta = _metadata(plumber)
        labels = {n: doc.get_page_label(n - 1) for n in range(1, len(doc) + 1)}
    except Exception as exc:  # noqa: BLE001 - a damaged object deep in the file
        raise _problem(exc) from None
    finally:
        plumber.close()
        doc.close()
    empty = [n for n, (_, lines) in enumerate(pages, start=1) if not lines]
    if len(empty) == len(pages):
        raise ImportProblem("no text layer (a scanned PDF?); it needs OCR before it can be imported")
    largest = _largest_text(pages[0][1])
    printed = drop_running(pages)
    labels = {n: lab for n in labels if (lab := labels[n] or printed.get(n, "")) and lab != str(n)}
    body = _body_size(pages)
    notes = [note for _, lines in pages for note in take_footnotes(lines, body)]
    flow = [ln for _, lines in pages for ln in lines]
    sizes = sorted({ln.size for ln in flow if ln.table is None and ln.size >= HEADING_RATIO * body})
    builder = BlockBuilder(body, sizes, labels)
    for ln in flow:
        builder.add(ln)
    vocab = vocabulary(flow)
    blocks = builder.blocks(vocab) + _note_blocks(notes, labels, vocab)
    warnings = [f"page {n}: no text layer (scanned?)" for n in empty]
    return Extracted(_resolve_refs(blocks, notes), meta, len(pages), largest, warnings)


def _note_blocks(notes: list[tuple[str, int, list[str]]], labels: dict[int, str], vocab: set[str]) -> list[Block]:
    seen: set[str] = set()
    out = []
    for number, page, parts in notes:
        label = number if number not in seen else f"{number}-p{page}"
        seen.add(number)
        out.append(Block("footnote", text=join_lines(parts, vocab), page=page, page_label=labels.get(page),
                         label=label))
    return out


def _resolve_refs(blocks: list[Block], notes: list[tuple[str, int, list[str]]]) -> list[Block]:
    """Point each footnote reference at its definition; a number without one stays plain text."""
    defs: dict[str, list[tuple[int, str]]] = {}
    for b in blocks:
        if b.kind == "footnote":
            defs.setdefault(b.label.split("-p")[0], []).append((b.page or 0, b.label))

    def resolve(m: re.Match[str]) -> str:
        number, page = m.group(1), int(m.group(2))
        options = defs.get(number)
        if not options:
            return " " + number
        later = [label for p, label in options if p >= page]
        return f"{FN_OPEN}{later[0] if later else options[-1][1]}{FN_CLOSE}"

    out = []
    for b in blocks:
        if FN_OPEN in b.text:
            b = replace(b, text=_REF.sub(resolve, b.text))
        out.append(b)
    return out
