"""The HTML pages: the chat at /, the report list, and each report with anchored passages."""

from __future__ import annotations

import nh3
from flask import Blueprint, render_template

from .api import live_index
from .errors import NotFound

bp = Blueprint("web", __name__)

# Report HTML comes from Markdown written by people: keep structure and passage anchors only.
ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "table", "thead", "tbody",
                "tr", "th", "td", "blockquote", "em", "strong", "code", "pre", "a", "br", "hr"}
ALLOWED_ATTRIBUTES = {"*": {"id", "class", "data-ordinal"}, "a": {"href", "title"}, "th": {"align"},
                      "td": {"align"}}


def sanitise(html: str) -> str:
    """Return report HTML with scripts, handlers and unknown tags removed."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


@bp.get("/")
def chat():  # type: ignore[no-untyped-def]
    """Serve the chat page."""
    return render_template("chat.html")


@bp.get("/reports")
def reports():  # type: ignore[no-untyped-def]
    """List the reports."""
    index = live_index()
    return render_template("reports.html", reports=list(index.reports.values()))


@bp.get("/reports/<report_id>")
def report(report_id: str):  # type: ignore[no-untyped-def]
    """Show one report, every passage anchored for citations to link to."""
    meta = live_index().reports.get(report_id)
    if meta is None:
        raise NotFound(f"There is no report called “{report_id}”.")
    return render_template("report.html", report=meta, body=sanitise(meta["html"]))
