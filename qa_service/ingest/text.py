"""Read plain text (.txt) and Markdown (.md) files: UTF-8, kept as they are written."""

from __future__ import annotations

import re
from pathlib import Path

from qa_service.ingest.blocks import Block, Extracted, ImportProblem
from qa_service.ingest.frontmatter import ContentError, split_front_matter

_ATX = re.compile(r"^#\s+(.+?)\s*#*$", re.MULTILINE)
KEYS = ("title", "publisher", "author", "published", "source_url")


def read_text_file(path: Path) -> tuple[Extracted, str | None]:
    """Return a .txt file's paragraphs, or for .md its front matter and its body unchanged."""
    try:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        raise ImportProblem("not UTF-8 text") from None
    if not text.strip():
        raise ImportProblem("file is empty")
    if path.suffix.lower() == ".md":
        meta: dict[str, object] = {}
        body = text
        if text.startswith("---"):
            try:
                meta, body = split_front_matter(path, text)
            except ContentError as exc:
                raise ImportProblem(exc.message) from None
        heading = _ATX.search(body)
        found = {k: str(meta[k]) for k in KEYS if meta.get(k)}
        return Extracted([], found, None, heading.group(1) if heading else None), body.strip() + "\n"
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return Extracted([Block("paragraph", text=p) for p in paragraphs], {}, None, paragraphs[0][:200]), None
