"""PDF lines in reading order → headings, paragraphs, list items and tables with their pages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qa_service.ingest.blocks import FN_CLOSE, FN_OPEN, Block
from qa_service.ingest.pdf_lines import Line

BULLETS = {"•", "◼", "▪", "■", "●", "○", "◦", "‣", "–", "-", "*", "\uf0b7", "\uf0a7", "(cid:127)"}
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?$")  # "12." or "3.4" opening a numbered paragraph
# A line that ends a sentence: final punctuation, perhaps inside quotes or brackets, perhaps
# followed by footnote references.
_FINAL = re.compile(f"[.!?:;][\"'”’)\\]]*({FN_OPEN}[^{FN_CLOSE}]*{FN_CLOSE})*$")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
PARA_PITCH = 1.5   # a gap between baselines larger than this × font size starts a paragraph
HEADING_RATIO = 1.15


def ends_sentence(text: str) -> bool:
    """Tell whether a line ends with final punctuation (so a paragraph may end there)."""
    return bool(_FINAL.search(text.rstrip()))


@dataclass
class _Draft:
    kind: str
    first: Line
    last: Line
    parts: list[str] = field(default_factory=list)
    level: int = 0
    indent: float = 0.0  # list items: where the item's text starts, for continuation lines
    extra: list[Line] = field(default_factory=list)  # tables: the pieces continued on later pages


def vocabulary(lines: Sequence[Line]) -> set[str]:
    """Return the document's words, for deciding which line-end hyphens are real."""
    words: set[str] = set()
    for ln in lines:
        tokens = ln.text.split()
        if tokens and tokens[-1].endswith("-"):
            tokens = tokens[:-1]  # a broken word says nothing about how the word is spelt
        words.update(m.group().lower() for t in tokens for m in _WORD.finditer(t))
    return words


def join_lines(parts: Sequence[str], vocab: set[str]) -> str:
    """Join a block's lines into one text, undoing line-end hyphenation."""
    text = ""
    for part in parts:
        if text.endswith("\u00ad"):
            text = text[:-1] + part
        elif len(text) > 1 and text.endswith("-") and text[-2].isalpha() and part[:1].islower():
            head = _WORD.findall(text[:-1])[-1] if _WORD.findall(text[:-1]) else ""
            tail_m = _WORD.match(part)
            tail = tail_m.group() if tail_m else ""
            # Keep the hyphen only for a word the document spells with one ("multi-agency").
            keep = f"{head}-{tail}".lower() in vocab and f"{head}{tail}".lower() not in vocab
            text = (text if keep else text[:-1]) + part
        else:
            text = f"{text} {part}" if text else part
    return text.replace("\u00ad", "")


class BlockBuilder:
    """Turn lines into blocks: the layout rules of the research note, in one place."""

    def __init__(self, body_size: float, heading_sizes: list[float], labels: dict[int, str]) -> None:
        self.body = body_size
        self.levels = {s: n for n, s in enumerate(sorted(heading_sizes, reverse=True), start=1)}
        self.bold_level = min(len(self.levels) + 1, 6)
        self.labels = labels
        self.drafts: list[_Draft] = []
        self.tables: list[Block] = []

    def heading_level(self, line: Line) -> int | None:
        """Return a line's heading level, or None for body text."""
        if line.heading_tag:
            return line.heading_tag
        words = len(line.text.split())
        if line.size in self.levels and words <= 25:
            return self.levels[line.size]
        if (line.bold and words <= 12 and abs(line.size - self.body) < 0.6
                and not ends_sentence(line.text) and not line.text.rstrip().endswith(",")):
            return self.bold_level
        return None

    def _continues(self, d: _Draft, line: Line) -> bool:
        if d.kind not in ("paragraph", "list_item") or abs(line.size - d.last.size) > 0.6:
            return False
        last = d.last
        # A line broke early, by choice, when the next line's first word would have fitted on it:
        # that is the end of a paragraph (the classic test; it needs no gap between paragraphs).
        first = line.words[0] if line.words else None
        room = last.col_right - last.x1
        chosen = first is not None and (first.x1 - first.x0) + 0.3 * line.size < room - 1
        if line.page != last.page or line.new_column or line.top < last.top:
            # Across a page or column break, a paragraph goes on unless its last line had a full
            # stop and was broken by choice.
            return not (ends_sentence(last.text) and chosen)
        if line.bottom - last.bottom > PARA_PITCH * line.size:
            return False
        if d.kind == "list_item" and line.x0 < d.indent - 2:
            return False
        return not (chosen and ends_sentence(last.text))

    def add(self, line: Line) -> None:
        """Add the next line in reading order."""
        d = self.drafts[-1] if self.drafts else None
        if line.table is not None:
            width = len(line.table[0]) if line.table else 0
            if (d and d.kind == "table" and line.page == d.last.page + 1 and d.last.table
                    and len(d.last.table[0]) == width):
                # A table running on from the previous page, with nothing between: the same table.
                d.extra.append(line)
                d.last = line
                return
            self.drafts.append(_Draft("table", line, line))
            return
        level = self.heading_level(line)
        first = line.text.split(maxsplit=1)
        if level is not None:
            if (d and d.kind == "heading" and d.level == level and line.page == d.last.page
                    and 0 <= line.top - d.last.bottom < line.size):
                d.parts.append(line.text)
                d.last = line
            else:
                self.drafts.append(_Draft("heading", line, line, [line.text], level))
        elif first and first[0] in BULLETS and len(first) > 1:
            indent = line.words[1].x0 if len(line.words) > 1 else line.x0
            self.drafts.append(_Draft("list_item", line, line, [first[1]], indent=indent))
        elif d and not _NUMBERED.match(first[0] if first else "") and self._continues(d, line):
            d.parts.append(line.text)
            d.last = line
        else:
            self.drafts.append(_Draft("paragraph", line, line, [line.text]))

    def blocks(self, vocab: set[str]) -> list[Block]:
        """Return the finished blocks."""
        out = []
        for d in self.drafts:
            page, end = d.first.page, d.last.page
            label = self.labels.get(page)
            common = Block("", page=page, page_end=end if end != page else None, page_label=label)
            if d.kind == "table":
                rows: list[tuple[str, ...]] = []
                pages: list[tuple[int, str | None]] = []
                for piece in [d.first, *d.extra]:
                    for r in piece.table or []:
                        if any(r):
                            rows.append(tuple(r))
                            pages.append((piece.page, self.labels.get(piece.page)))
                if len(rows) > 1:
                    out.append(replace(common, kind="table", rows=tuple(rows), row_pages=tuple(pages[1:])))
                elif rows:  # one ruled row is a boxed line of text
                    out.append(replace(common, kind="paragraph", text=" ".join(rows[0])))
                continue
            text = join_lines(d.parts, vocab)
            if text.strip():
                out.append(replace(common, kind=d.kind, text=text, level=d.level))
        return out
