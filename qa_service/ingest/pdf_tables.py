"""Ruled tables: PDFium's drawn lines fed to pdfplumber's table finder, cells filled with our words.

pdfplumber's own `find_tables` parses every character of the page first (most of the import
time); its finder needs only the lines, so the lines come from PDFium and the cell text from the
words already read.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
from pdfplumber.table import TableFinder

from qa_service.ingest.pdf_lines import Word

MIN_EDGES = 4  # fewer drawn lines than this (a header rule, an underline) cannot make a table


@dataclass
class FoundTable:
    """A ruled table: its box (top-left coordinates) and its cells' text, row by row."""

    bbox: tuple[float, float, float, float]
    cells: list[list[str]]

    def extract(self) -> list[list[str]]:
        """Return the rows, as pdfplumber's Table.extract does."""
        return self.cells


def _segments(obj: Any, height: float) -> list[dict[str, Any]]:
    """Return a path object's horizontal and vertical segments as pdfplumber edges."""
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return []
    x, y = ctypes.c_float(), ctypes.c_float()
    points: list[tuple[float, float, int, bool]] = []
    for k in range(pdfium_c.FPDFPath_CountSegments(obj)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, k)
        pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y))
        px, py = m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f
        points.append((px, height - py, pdfium_c.FPDFPathSegment_GetType(seg),
                       bool(pdfium_c.FPDFPathSegment_GetClose(seg))))
    edges = []
    start = prev = None
    for px, py, kind, close in points:
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or prev is None:
            start = prev = (px, py)
            continue
        pairs = [(prev, (px, py))] + ([((px, py), start)] if close and start else [])
        for (x0, y0), (x1, y1) in pairs:
            if kind == pdfium_c.FPDF_SEGMENT_LINETO and (abs(x0 - x1) < 1 or abs(y0 - y1) < 1):
                vertical = abs(x0 - x1) < 1
                left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
                edges.append({"object_type": "line_edge", "orientation": "v" if vertical else "h",
                              "x0": left, "x1": right if not vertical else left, "top": top,
                              "bottom": bottom if vertical else top,
                              "width": right - left, "height": bottom - top})
        prev = (px, py)
    return edges


def find_tables(page: pypdfium2.PdfPage, words: list[Word]) -> list[FoundTable]:
    """Return a page's ruled tables with the words in each cell."""
    height = page.get_height()
    edges: list[dict[str, Any]] = []
    for k in range(pdfium_c.FPDFPage_CountObjects(page)):
        obj = pdfium_c.FPDFPage_GetObject(page, k)
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_PATH:
            edges += _segments(obj, height)
    if len(edges) < MIN_EDGES:
        return []
    v = [e for e in edges if e["orientation"] == "v"]
    h = [e for e in edges if e["orientation"] == "h"]
    finder = TableFinder(None, {"vertical_strategy": "explicit", "horizontal_strategy": "explicit",  # type: ignore[arg-type]
                                "explicit_vertical_lines": v, "explicit_horizontal_lines": h})
    tables = []
    for table in finder.tables:
        rows = []
        for row in table.rows:
            cells = []
            for cell in row.cells:
                inside = [] if cell is None else [
                    w for w in words if cell[0] <= (w.x0 + w.x1) / 2 <= cell[2] and cell[1] <= (w.top + w.bottom) / 2 <= cell[3]]
                cells.append(" ".join(w.text for w in sorted(inside, key=lambda w: (round(w.top), w.x0))))
            rows.append(cells)
        if len(rows) > 1 or len(rows[0]) > 1:  # a single box is a frame around text, not a table
            tables.append(FoundTable(table.bbox, rows))
    return tables
