"""The JSON API: /api/ask, /api/reports, /api/health, /api/openapi.json."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, request

from qa_service.answering.answer import ask
from qa_service.search.retrieval import OpenIndex
from qa_service.web.errors import APIError, InvalidField, NotFound
from qa_service.web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_REPORT_FILTER = 100


@dataclass(frozen=True)
class AskRequest:
    """A validated /api/ask body."""

    question: str
    limit: int
    history: list[str]
    reports: list[str] | None


def live_index() -> OpenIndex:
    """Return the live index version for this request."""
    return current_app.extensions["qa_index"].get()


def _json_body() -> object:
    if request.mimetype != "application/json":
        raise APIError(f"send the body as application/json, not {request.mimetype or 'nothing'}",
                       415, "Unsupported media type", "unsupported-media-type")
    raw = request.get_data(cache=False)  # MAX_CONTENT_LENGTH makes this raise 413 when too big
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise APIError(f"the body is not valid JSON: {exc}", 400, "Malformed JSON", "malformed-json") from None


def _text_list(body: dict, key: str, most: int, longest: int) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidField(f"'{key}' must be a list of strings")
    if len(value) > most:
        raise InvalidField(f"'{key}' may hold at most {most} items, got {len(value)}")
    if any(len(v) > longest for v in value):
        raise InvalidField(f"each item of '{key}' must be at most {longest} characters")
    return value


def parse_ask(body: object, index: OpenIndex) -> AskRequest:
    """Validate an /api/ask body against the documented rules."""
    cfg = current_app.config
    if not isinstance(body, dict):
        raise InvalidField("the body must be a JSON object with a 'question'")
    unknown = sorted(set(body) - {"question", "limit", "history", "reports"})
    if unknown:
        raise InvalidField(f"unknown field(s): {', '.join(unknown)}")
    question = body.get("question")
    if not isinstance(question, str):
        raise InvalidField("'question' is required and must be a string")
    if not question.strip():
        raise InvalidField("'question' is empty")
    if len(question) > cfg["MAX_QUESTION_CHARS"]:
        raise InvalidField(f"'question' must be at most {cfg['MAX_QUESTION_CHARS']} characters, got {len(question)}")
    limit = body.get("limit", 5)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= cfg["MAX_LIMIT"]:
        raise InvalidField(f"'limit' must be a whole number from 1 to {cfg['MAX_LIMIT']}")
    history = _text_list(body, "history", cfg["MAX_HISTORY"], cfg["MAX_QUESTION_CHARS"]) or []
    reports = _text_list(body, "reports", MAX_REPORT_FILTER, 100)
    if reports is not None:
        missing = sorted(set(reports) - set(index.reports))
        if missing:
            raise InvalidField(f"unknown report id(s): {', '.join(missing)}")
        if not reports:
            raise InvalidField("'reports' must name at least one report, or be left out")
    return AskRequest(question, limit, history, reports)


@bp.post("/ask")
def ask_view():  # type: ignore[no-untyped-def]
    """Answer a question with cited findings."""
    body = _json_body()
    index = live_index()
    req = parse_ask(body, index)
    answer = ask(index, req.question, limit=req.limit, history=req.history, reports=req.reports,
                 groups=current_app.extensions["qa_thesaurus"])
    return jsonify(answer.to_dict())


@bp.get("/reports")
def reports_view():  # type: ignore[no-untyped-def]
    """List every report with its metadata and passage count."""
    index = live_index()
    return jsonify({"index_version": index.version, "reports": list(index.reports.values())})


@bp.get("/reports/<report_id>")
def report_view(report_id: str):  # type: ignore[no-untyped-def]
    """Return one report's metadata and passages."""
    index = live_index()
    meta = index.report(report_id)
    if meta is None:
        raise NotFound(f"no report with id {report_id!r}")
    passages = [{**p, "anchor": p["id"], "url": f"/reports/{report_id}#{p['id']}"} for p in meta["passages"]]
    return jsonify({**index.reports[report_id], "index_version": index.version, "passages": passages})


@bp.get("/health")
def health_view():  # type: ignore[no-untyped-def]
    """Say whether an index is loaded, which version, and how big."""
    index = live_index()
    manifest = index.manifest
    return jsonify({"status": "ok", "index_version": index.version, "built_at": manifest["built_at"],
                    "reports": manifest["reports"], "passages": manifest["passages"]})


@bp.get("/openapi.json")
def openapi_view():  # type: ignore[no-untyped-def]
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
