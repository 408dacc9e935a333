"""A PDF page's words → lines in reading order, one- or two-column, with tables set apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qa_service.ingest.blocks import FN_CLOSE, FN_OPEN

LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
             "\ufb05": "st", "\ufb06": "st"}
_LIGATURE = re.compile("[\ufb00-\ufb06]")
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_HEADING_TAG = re.compile(r"^H([1-6])?$")
GUTTER_MIN = 8.0  # points: wider than any space between words, narrower than a column gutter


def clean(text: str) -> str:
    """Return extracted text with ligatures expanded and soft hyphens and controls removed."""
    text = _LIGATURE.sub(lambda m: LIGATURES[m.group()], text)
    return "".join(ch for ch in text if ch == "\u00ad" or ch >= " " or ch in "\t")


@dataclass
class Word:
    """A word with the position, size and weight the layout heuristics need."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    tag: str | None = None
    ref: bool = False  # a small raised number: a footnote reference


@dataclass
class Line:
    """A line of one column (or a whole table) on one page."""

    page: int
    words: list[Word]
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    bold: bool
    new_column: bool = False   # the first line of a column after another column on this page
    col_right: float = 0.0     # right edge of the column the line is in
    table: list[list[str]] | None = None
    heading_tag: int | None = None  # heading level from a tagged PDF's marked content
    text: str = field(default="")

    def __post_init__(self) -> None:
        if not self.text and self.words:
            self.text = _line_text(self.words, self.page)


def _line_text(words: list[Word], page: int) -> str:
    out = ""
    for w in words:
        if w.ref:  # kept apart from the word it follows, so "2024.1" never happens
            out += f"{FN_OPEN}{w.text}@{page}{FN_CLOSE}"
        else:
            out += (" " if out else "") + w.text
    return out


def make_line(page: int, words: list[Word], **kw: Any) -> Line:
    """Return a Line over words, its size the size most of its letters have."""
    body = [w for w in words if not w.ref] or words
    sizes: dict[float, int] = {}
    for w in body:
        sizes[w.size] = sizes.get(w.size, 0) + len(w.text)
    size = max(sizes, key=lambda s: (sizes[s], s))
    tags = {w.tag for w in body}
    tag = _HEADING_TAG.match(tags.pop() or "") if len(tags) == 1 else None
    return Line(page, words, min(w.top for w in words), max(w.bottom for w in words),
                min(w.x0 for w in words), max(w.x1 for w in words), size,
                all(w.bold for w in body), heading_tag=int(tag.group(1) or 1) if tag else None, **kw)


def _outside(words: list[Word], tables: list[Any]) -> list[Word]:
    """Return the words that are not in a table (table text is written as the table)."""
    boxes = [t.bbox for t in tables]
    return [w for w in words if not any(b[0] <= (w.x0 + w.x1) / 2 <= b[2] and b[1] <= (w.top + w.bottom) / 2 <= b[3]
                                        for b in boxes)]


def _rows(words: list[Word]) -> list[list[Word]]:
    """Group words into rows by baseline; small raised words join the row they sit on."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.bottom, w.x0)):
        # Same baseline and same size: a superscript level with a line of the other column
        # must not join that line.
        same = next((r for r in reversed(rows[-4:]) if w.bottom - r[0].bottom <= max(1.5, 0.15 * w.size)
                     and 0.85 <= w.size / r[0].size <= 1.18), None)
        if same is not None:
            same.append(w)
        else:
            rows.append([w])
    merged: list[list[Word]] = []
    hosts: dict[int, int] = {}
    for i, row in enumerate(rows):
        small = max(w.size for w in row)
        near = rows[max(i - 3, 0):i] + rows[i + 1:i + 4]
        # A superscript sits right after a word of a larger line whose height it is within; the
        # closeness test keeps body text level with a big heading in the next column apart.
        hosts_near = [r for r in near if small < 0.85 * max(w.size for w in r)
                      and min(w.top for w in r) - 1 <= row[0].bottom <= r[0].bottom + 1
                      and min(abs(row[0].x0 - w.x1) for w in r) <= 0.5 * small]
        host = min(hosts_near, key=lambda r: min(abs(row[0].x0 - w.x1) for w in r), default=None)
        if host is not None:  # superscripts: their baseline is raised, they belong to the line below
            hosts[i] = id(host)
            for w in row:
                w.ref = w.text.rstrip(",").replace(",", "").isdigit() and len(w.text) <= 3
    by_id = {id(r): r for r in rows}
    for i, row in enumerate(rows):
        if i in hosts:
            by_id[hosts[i]].extend(row)
        else:
            merged.append(row)
    for row in merged:
        row.sort(key=lambda w: w.x0)
        if row and row[0].ref:  # a raised number opening a line starts a footnote: not a reference
            row[0].ref = False
    return merged


def _gutter(rows: list[list[Word]], width: float) -> float | None:
    """Return the x of the gap between two columns, or None for a one-column page."""
    if len(rows) < 6:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    cover = [0] * (int(width) + 2)
    for row in rows:
        for w in row:
            cover[max(int(w.x0), 0)] += 1
            cover[min(int(w.x1) + 1, len(cover) - 1)] -= 1
    running, level = 0, []
    for x in range(hi + 1):
        running += cover[x]
        if x >= lo:
            level.append(running)
    best = min(level)
    run = [lo + i for i, n in enumerate(level) if n == best]
    gap = float(run[len(run) // 2])  # the middle of the emptiest stretch
    left = sum(1 for row in rows if max(w.x1 for w in row) <= gap)
    right = sum(1 for row in rows if min(w.x0 for w in row) >= gap)
    both = sum(1 for row in rows if _split_at(row, gap) is not None)
    # Columns: text on both sides of a line that (nearly) nothing crosses; the few lines that do
    # cross are full-width headings or headers.
    if left + both >= 3 and right + both >= 3 and best <= max(1, 0.1 * len(rows)):
        return gap
    return None


def _split_at(row: list[Word], x: float) -> tuple[list[Word], list[Word]] | None:
    """Split a row at x when it has words on both sides of a gutter-wide gap there."""
    left = [w for w in row if w.x1 <= x]
    right = [w for w in row if w.x0 >= x]
    if not left or not right or len(left) + len(right) != len(row):
        return None
    return (left, right) if right[0].x0 - max(w.x1 for w in left) >= GUTTER_MIN else None


def page_lines(words: list[Word], tables: list[Any], number: int, width: float) -> list[Line]:
    """Return a page's lines (and its ruled tables, as one line each) in reading order."""
    rows: list[list[Word] | Any] = list(_rows(_outside(words, tables)))
    items = rows + tables
    items.sort(key=lambda r: r.bbox[1] if not isinstance(r, list) else r[0].top)
    gutter = _gutter([r for r in rows], width)
    out: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush() -> None:
        if right:
            right[0].new_column = True
        for side in (left, right):
            edge = max((ln.x1 for ln in side), default=0.0)
            for ln in side:
                ln.col_right = edge
        out.extend(left + right)
        left.clear()
        right.clear()

    for item in items:
        if not isinstance(item, list):  # a table
            x0, top, x1, bottom = item.bbox
            cells = [[" ".join(clean(c or "").split()) for c in row] for row in item.extract()]
            line = Line(number, [], top, bottom, x0, x1, 0.0, False, table=cells, text="")
        else:
            line = make_line(number, item)
        parts = None
        if gutter is not None:
            if line.table is not None:
                side = left if line.x1 <= gutter else right if line.x0 >= gutter else None
                if side is not None:
                    side.append(line)
                    continue
            elif line.x1 <= gutter:
                left.append(line)
                continue
            elif line.x0 >= gutter:
                right.append(line)
                continue
            else:
                parts = _split_at(item, gutter)
        if parts is not None:
            left.append(make_line(number, parts[0]))
            right.append(make_line(number, parts[1]))
            continue
        flush()  # a line across the gutter ends the two-column band above it
        out.append(line)
    flush()
    edge = max((ln.x1 for ln in out if not ln.col_right and ln.table is None), default=0.0)
    for ln in out:
        ln.col_right = ln.col_right or edge
    return out
