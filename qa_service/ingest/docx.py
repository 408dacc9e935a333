"""Read a Word .docx with python-docx (MIT): headings from styles, lists, tables; no pages."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from qa_service.ingest.blocks import Block, Extracted, ImportProblem

_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)


def _metadata(document: Document) -> dict[str, str]:
    props = document.core_properties
    meta = {"title": " ".join((props.title or "").split()), "author": " ".join((props.author or "").split())}
    when = props.created
    if when is not None and when.year > 1980:  # Word writes 1900/1601 dates for "never set"
        meta["published"] = when.date().isoformat()
    return {k: v for k, v in meta.items() if v}


def _paragraph(p: Paragraph) -> Block | None:
    text = " ".join(p.text.split())
    if not text:
        return None
    style = (p.style.name if p.style is not None else "") or ""
    if style.lower() == "title":
        return Block("heading", text=text, level=1)
    if m := _HEADING.match(style):
        return Block("heading", text=text, level=min(int(m.group(1)), 6))
    # Word marks list paragraphs with a numbering property (w:numPr) or a "List …" style.
    numbered = p._p.pPr is not None and p._p.pPr.numPr is not None
    if numbered or style.lower().startswith("list"):
        return Block("list_item", text=text)
    return Block("paragraph", text=text)


def _titles(document: Document) -> set[str]:
    return {" ".join(p.text.split()) for p in document.paragraphs
            if p.style is not None and (p.style.name or "").lower() == "title"}


def read_docx(path: Path) -> Extracted:
    """Return a Word document's blocks in order, with its core properties as metadata."""
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImportProblem(f"not a readable Word .docx file ({type(exc).__name__})") from None
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = tuple(tuple(" ".join(c.text.split()) for c in row.cells) for row in item.rows)
            if rows:
                blocks.append(Block("table", rows=rows))
        elif (block := _paragraph(item)) is not None:
            blocks.append(block)
    if any(b.kind == "heading" and b.level == 1 and b.text == t for b in blocks for t in _titles(document)):
        # A "Title" paragraph is the top level, so "Heading 1" is the level below it.
        blocks = [replace(b, level=min(b.level + 1, 6)) if b.kind == "heading" and b.text not in
                  _titles(document) else b for b in blocks]
    first_heading = next((b.text for b in blocks if b.kind == "heading"), None)
    return Extracted(blocks, _metadata(document), None, first_heading)
