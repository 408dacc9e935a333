"""The HTML pages: the chat at /, the report list, and each report with anchored passages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import nh3
from flask import Blueprint, Response, current_app, render_template, request, send_file

from qa_service.answering.answer import Citation, page_text
from qa_service.search.format import ReportMeta
from qa_service.web.api import services
from qa_service.web.errors import NotFound

bp = Blueprint("web", __name__)

# Report HTML comes from Markdown written by people: keep structure and passage anchors only.
ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "table", "thead", "tbody",
                "tr", "th", "td", "blockquote", "em", "strong", "code", "pre", "a", "br", "hr", "sup", "div"}
ALLOWED_ATTRIBUTES = {"*": {"id", "class", "data-ordinal", "data-para", "data-page", "data-page-end", "data-page-label"}, "a": {"href", "title"}, "th": {"align"},
                      "td": {"align"}}
# Answers shown on the no-JavaScript fallback page; the chat script asks for the API's default too.
FALLBACK_LIMIT = 5
MARKER = re.compile(r"\[(\d+)\]")


# Ids and classes a report may carry: its passage anchors and footnote links, nothing the page
# itself uses ("main", "skip" …), so report HTML can never restyle or hijack the page.
REPORT_ID = re.compile(r"^(?:p-[0-9a-f]{10}|fn:[\w-]{1,40}|fnref\d*:[\w-]{1,40})$")
REPORT_CLASSES = frozenset({"passage", "footnote", "footnote-ref", "footnote-backref"})


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id":
        return value if REPORT_ID.match(value) else None
    if name == "class":
        kept = [c for c in value.split() if c in REPORT_CLASSES]
        return " ".join(kept) or None
    return value


def sanitise(html: str) -> str:
    """Return report HTML with scripts, handlers, unknown tags and foreign ids or classes removed."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", attribute_filter=_attribute)


@bp.app_template_filter("long_date")
def long_date(value: str | None) -> str:
    """Format an ISO date as '26 October 2011'; pass anything else through unchanged."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%B %Y}"


def _starters(reports: dict[str, ReportMeta]) -> list[str]:
    """Return every report's example questions, in report order, without repeats."""
    seen: dict[str, None] = {}
    for meta in reports.values():
        for question in meta.example_questions:
            seen.setdefault(question, None)
    return list(seen)


def _clean(text: str) -> str:
    """Return a question as typed, minus control characters (a NUL, say), which are never echoed."""
    return "".join(c for c in text if c.isprintable() or c == " ").strip()


@dataclass(frozen=True)
class Turn:
    """One question of a conversation replayed from the address, with its answer or error."""

    question: str
    answer: dict[str, Any] | None
    error: str | None
    shown: tuple[str, ...] = ()


def conversation_from(args: Mapping[str, Any], limit: int) -> tuple[list[str], list[str]]:
    """Return the conversation's questions (oldest first) and chosen reports from the address."""
    getlist = getattr(args, "getlist", lambda key: [args[key]] if key in args else [])
    questions = [q for q in map(_clean, getlist("history")) if q][-limit:]
    question = _clean(args.get("question", "") if hasattr(args, "get") else "")
    return questions + ([question] if question else []), [r for r in getlist("reports") if r]


def replay(questions: list[str], chosen: list[str] | None) -> list[Turn]:
    """Answer a conversation turn by turn, as the chat did: follow-ups in context, never repeating."""
    svc = services()
    index = svc.live()
    most = svc.limits.question_chars
    turns: list[Turn] = []
    shown: set[str] = set()
    for n, question in enumerate(questions):
        if len(question) > most:
            turns.append(Turn(question, None, f"Questions may be at most {most} characters long; "
                                                f"this one has {len(question)}."))
            continue
        answer = svc.ask(question, limit=min(FALLBACK_LIMIT, svc.limits.findings), history=questions[:n],
                         reports=chosen, index=index, shown=frozenset(shown))
        ids = tuple(f.citation.passage_id for f in answer.findings)
        shown.update(ids)
        turns.append(Turn(question, answer.to_dict(), None, ids))
    return turns


def labels(reports: dict[str, ReportMeta]) -> dict[str, str]:
    """Return each report's source label: short title, then publisher and year ("n.d." if undated)."""
    out = {}
    for rid, meta in reports.items():
        year = meta.published[:4] if meta.published else "n.d."
        listing = " · listing" if meta.kind == "listing" else ""
        out[rid] = f"{meta.name} ({meta.publisher_short or meta.publisher}, {year}){listing}"
    return out


@bp.get("/")
def chat() -> str:
    """Serve the chat; the address holds the conversation, so Back, reload and shared links restore it.

    Without JavaScript the page answers here: `?history=…&history=…&question=…&reports=…`.
    """
    svc = services()
    reports = svc.live().reports
    questions, wanted = conversation_from(request.args, svc.limits.history)
    chosen = [r for r in wanted if r in reports] or None
    turns = replay(questions, chosen)
    return render_template("chat.html", starters=_starters(reports), reports=list(reports.values()),
                           names=labels(reports), turns=turns, chosen=chosen or [],
                           max_chars=svc.limits.question_chars, max_history=svc.limits.history,
                           conversation=(chat_address(request.query_string.decode()) or "/?")[2:])


@bp.get("/reports")
def reports() -> str:
    """List the reports."""
    # Dated publications first, then by title, so the reports themselves lead their companions.
    listing = sorted(services().live().reports.values(), key=lambda r: (r.published is None, r.title))
    return render_template("reports.html", reports=listing)


@bp.get("/reports/<report_id>")
def report(report_id: str) -> str:
    """Show one report, every passage anchored for citations to link to."""
    detail = services().live().report(report_id)
    if detail is None:
        raise NotFound(f"There is no report called “{report_id}”.")
    facts = [p for p in detail.passages if p.kind == "fact"]
    back = chat_address(request.args.get("conversation", ""))
    return render_template("report.html", report=detail.meta, facts=facts, body=sanitise(detail.html), back=back)


CONVERSATION_KEYS = ("history", "question", "reports")


def chat_address(query: str) -> str | None:
    """Return the chat address a citation came from (only the conversation's own keys), or None."""
    kept = [(k, v) for k, v in parse_qsl(query[:20_000]) if k in CONVERSATION_KEYS]
    return "/?" + urlencode(kept) if kept else None


@bp.app_template_filter("cited")
def cited(url: str, conversation: str, quote: str) -> str:
    """Return a citation link that carries the conversation (for the way back) and the quoted words."""
    path, _, anchor = url.partition("#")
    query = urlencode([("conversation", conversation)] * bool(conversation) + [("quote", quote)])
    return f"{path}?{query}" + (f"#{anchor}" if anchor else "")


@bp.app_template_filter("page_text")
def page_text_filter(citation: Any) -> str:
    """Format a citation's pages as "p. 12" or "pp. 12–13" ("" without pages)."""
    return page_text(citation) if isinstance(citation, Citation) else page_text(Citation(**citation))


# What an original may be served as; anything else is offered as a download.
SOURCE_TYPES = {".pdf": "application/pdf", ".docx": "application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document", ".html": "text/plain", ".htm": "text/plain", ".txt": "text/plain",
                ".md": "text/plain"}


@bp.get("/reports/<report_id>/source")
def source(report_id: str) -> Response:
    """Serve the original file a report was imported from (open a PDF at a page with #page=N)."""
    meta = services().live().reports.get(report_id)
    if meta is None or not meta.source_file:
        raise NotFound(f"There is no original file for “{report_id}”.")
    content = Path(str(current_app.config["CONTENT_DIR"])).resolve()
    path = (content / meta.source_file).resolve()
    # The name comes from front matter, which anyone may write: serve only files under content/sources.
    if not path.is_relative_to(content / "sources") or not path.is_file():
        raise NotFound(f"There is no original file for “{report_id}”.")
    kind = SOURCE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    response = send_file(path, mimetype=kind, as_attachment=kind == "application/octet-stream" or
                         path.suffix.lower() == ".docx", download_name=path.name, max_age=3600)
    # The browser's own PDF viewer must be allowed to show it; nothing else may run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"
    return response


@bp.app_template_filter("marker_numbers")
def marker_numbers(text: str) -> set[int]:
    """Return the finding numbers an answer text quotes ("… [1] … [3]" → {1, 3})."""
    return {int(n) for n in MARKER.findall(text)}


@bp.app_template_filter("markers")
def markers(text: str, count: int) -> list[tuple[str, int | None]]:
    """Split answer text into (text, None) pieces and (marker, n) pieces for markers [1]..[count]."""
    pieces: list[tuple[str, int | None]] = []
    last = 0
    for match in MARKER.finditer(text):
        number = int(match.group(1))
        if 1 <= number <= count:  # a bracketed number quoted from a report is not a marker
            pieces += [(text[last:match.start()], None), (match.group(0), number)]
            last = match.end()
    pieces.append((text[last:], None))
    return [p for p in pieces if p[0]]
