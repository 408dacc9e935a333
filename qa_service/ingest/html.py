"""Read a web page: trafilatura (Apache-2.0) keeps the main content, without navigation or footers."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import trafilatura
from lxml import etree

from qa_service.ingest.blocks import Block, Extracted, ImportProblem

# <meta> names that hold each front matter value, most specific first.
META = {
    "title": ("citation_title", "dc.title", "og:title"),
    "publisher": ("citation_publisher", "dc.publisher", "og:site_name"),
    "author": ("citation_author", "dc.creator", "author"),
    "published": ("citation_publication_date", "dc.date", "dcterms.issued", "article:published_time", "date"),
}


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def html_metadata(page: lxml.html.HtmlElement) -> tuple[dict[str, str], str | None]:
    """Return front matter values from a page's <meta>, <title> and <h1>, and its first <h1>."""
    metas: dict[str, str] = {}
    for m in page.iter("meta"):
        name = (m.get("name") or m.get("property") or "").strip().lower()
        content = " ".join((m.get("content") or "").split())
        if name and content:
            metas.setdefault(name, content)
    out = {key: next((metas[n] for n in names if n in metas), "") for key, names in META.items()}
    h1 = next((t for t in (_text(h) for h in page.iter("h1")) if t), None)
    title = page.find(".//title")
    out["title"] = out["title"] or h1 or (_text(title) if title is not None else "")
    date = re.match(r"\d{4}-\d{2}-\d{2}", out["published"])
    out["published"] = date.group() if date else ""
    return {k: v for k, v in out.items() if v}, h1


def read_html(path: Path) -> Extracted:
    """Return a web page's main content as blocks (no pages), with its metadata."""
    raw = path.read_bytes()
    try:
        page = lxml.html.fromstring(raw)
    except (etree.ParserError, ValueError) as exc:
        raise ImportProblem(f"not readable HTML ({exc})") from None
    meta, h1 = html_metadata(page)
    xml = trafilatura.extract(raw.decode("utf-8", "replace"), output_format="xml", include_tables=True,
                              include_formatting=False, include_links=False, include_comments=False,
                              include_images=False, deduplicate=False)
    if not xml:
        raise ImportProblem("no main text found in the page")
    blocks: list[Block] = []
    for el in etree.fromstring(xml.encode()).find("main").iter("head", "p", "item", "table"):
        if el.tag == "table":
            rows = tuple(tuple(_text(c) for c in row.iter("cell")) for row in el.iter("row"))
            if rows:
                blocks.append(Block("table", rows=rows))
        elif el.getparent() is not None and el.getparent().tag == "cell":
            continue  # cell text belongs to its table
        elif (text := _text(el)):
            if el.tag == "head":
                level = int(el.get("rend", "h2")[1:] or 2) if el.get("rend", "").startswith("h") else 2
                blocks.append(Block("heading", text=text, level=min(max(level, 1), 6)))
            else:
                blocks.append(Block("list_item" if el.tag == "item" else "paragraph", text=text))
    return Extracted(blocks, meta, None, h1)
