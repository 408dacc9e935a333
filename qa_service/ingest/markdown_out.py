"""Write blocks as report Markdown: front matter, escaped text and page attributes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence

from qa_service.ingest.blocks import FN_CLOSE, FN_OPEN, Block

# Characters Python-Markdown gives a meaning anywhere in a line; the backslash makes them literal.
_INLINE = re.compile(r"([\\`*_\[\]{}|])")
# Openings that would turn a paragraph into a heading, quote, list or code block.
_LINE_START = re.compile(r"^(#|>|[-+*](?=\s))")
_NUMBERED = re.compile(r"^(\d+)([.)])(?=\s|$)")
_FN_REF = re.compile(f"{FN_OPEN}([^{FN_CLOSE}]*){FN_CLOSE}")


def escape(text: str) -> str:
    """Return text that Markdown renders as exactly these words."""
    text = " ".join(text.split())
    text = _INLINE.sub(r"\\\1", text)
    text = _NUMBERED.sub(r"\1\\\2", text)  # "12. The panel" stays paragraph 12, not a list item
    text = _LINE_START.sub(r"\\\1", text)
    return _FN_REF.sub(lambda m: f"[^{m.group(1)}]", text)


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, dt.date)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(v if re.fullmatch(r"[a-z_]+", str(v)) else _yaml_value(v) for v in value) + "]"
    # JSON's double-quoted strings are valid YAML and need no judgement about when to quote.
    return json.dumps(str(value), ensure_ascii=False)


def front_matter(fields: Iterable[tuple[str, object]]) -> str:
    """Return a YAML front matter block for the fields that have a value, in the given order."""
    lines = ["---"]
    lines += [f"{key}: {_yaml_value(value)}" for key, value in fields if value not in (None, "", [], ())]
    return "\n".join(lines + ["---", ""])


def page_attrs(block: Block) -> str:
    """Return the attr_list marker carrying a block's pages, or '' for a document without pages."""
    if block.page is None:
        return ""
    parts = [f'data-page="{block.page}"']
    if block.page_end is not None and block.page_end != block.page:
        parts.append(f'data-page-end="{block.page_end}"')
    if block.page_label:
        parts.append(f'data-page-label="{block.page_label}"')
    return "{: " + " ".join(parts) + " }"


def _table(block: Block) -> str:
    width = max(len(r) for r in block.rows)
    rows = [list(r) + [""] * (width - len(r)) for r in block.rows]
    lines = ["| " + " | ".join(escape(c) for c in rows[0]) + " |", "|" + " --- |" * width]
    marker = page_attrs(block)
    pages = block.row_pages or ((block.page, block.page_label),) * (len(rows) - 1)
    for row, (page, label) in zip(rows[1:], pages):
        cells = [escape(c) for c in row]
        marker = page_attrs(Block("row", page=page, page_label=label))
        if marker:  # attr_list on the last cell puts the page on that row's cell
            cells[-1] = f"{cells[-1]} {marker}".strip()
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_block(block: Block) -> str:
    """Return one block as Markdown."""
    marker = page_attrs(block)
    if block.kind == "heading":
        return f"{'#' * min(max(block.level, 1), 6)} {escape(block.text)}" + (f" {marker}" if marker else "")
    if block.kind == "list_item":
        return f"- {escape(block.text)}" + (f"\n    {marker}" if marker else "")
    if block.kind == "table":
        return _table(block)
    if block.kind == "footnote":
        return f"[^{block.label}]: {escape(block.text)}" + (f"\n    {marker}" if marker else "")
    return escape(block.text) + (f"\n{marker}" if marker else "")


def render(fields: Sequence[tuple[str, object]], blocks: Sequence[Block]) -> str:
    """Return a whole report file: front matter, then the blocks in order."""
    parts: list[str] = []
    for prev, block in zip([None, *blocks], blocks):
        text = render_block(block)
        # Consecutive list items form one list; anything else is separated by a blank line.
        joiner = "\n" if prev is not None and prev.kind == block.kind == "list_item" else "\n\n"
        parts.append((joiner if parts else "") + text)
    return front_matter(fields) + "\n" + "".join(parts) + "\n"
